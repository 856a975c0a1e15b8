// The Node side of the bench: two child processes (node-peer.js), one per side, like
// fi_bench's client and server processes; this parent only relays their messages.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchEnv } from './native.js';
import type { PeerConfig, PeerMessage } from './node-peer.js';
import type { Impl, Row, Run } from './report.js';

export type NodeRunOptions = Omit<PeerConfig, 'role'> & { timeoutMs?: number };

export function nodeRun(o: NodeRunOptions): Promise<Run> {
  const impl: Impl = o.batch ? 'node-batch' : 'node';
  const run: Run = { impl, provider: o.provider, op: o.op, pairs: 1, window: o.window, rows: [] };
  const script = fileURLToPath(new URL('./node-peer.js', import.meta.url));
  const timeoutMs = o.timeoutMs ?? 60_000 + o.sizes.length * o.reps * 20_000;
  const { timeoutMs: _t, ...config } = o;

  return new Promise((resolve) => {
    const spawnPeer = (role: 'client' | 'server'): ChildProcess =>
      fork(script, [role], { env: benchEnv(), stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    const server = spawnPeer('server');
    const client = spawnPeer('client');
    const hellos = new Map<ChildProcess, PeerMessage & { type: 'hello' }>();
    let stderr = '';
    let finished = false;
    let clientDone = false;

    const finish = (error?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (error && !run.error) run.error = error;
      for (const c of [client, server]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      resolve(run);
    };
    const timer = setTimeout(() => finish(`timed out after ${timeoutMs} ms`), timeoutMs);

    const relay = (from: ChildProcess, to: ChildProcess) => (m: PeerMessage): void => {
      switch (m.type) {
        case 'hello': {
          hellos.set(from, m);
          if (hellos.size === 2) {
            const s = hellos.get(server)!;
            const c = hellos.get(client)!;
            run.progress = c.progress;
            run.mrMode = c.mrMode;
            server.send({ type: 'peer', address: c.address, remote: c.remote } satisfies PeerMessage);
            client.send({ type: 'peer', address: s.address, remote: s.remote } satisfies PeerMessage);
          }
          break;
        }
        case 'row':
          run.rows.push(m.row as Row);
          break;
        case 'done':
          if (from === client) clientDone = true;
          break;
        case 'error':
          finish(`${from === client ? 'client' : 'server'}: ${m.message}`);
          break;
        default:
          if (to.connected) to.send(m);
      }
    };
    for (const [c, role] of [[client, 'client'], [server, 'server']] as const) {
      c.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      c.on('message', relay(c, c === client ? server : client));
      c.on('exit', (code, signal) => {
        if (c === client && (clientDone || code === 0)) finish();
        else if (code !== 0) finish(`${role} exited with ${signal ?? code}: ${stderr.trim().split('\n')[0] ?? ''}`);
      });
      c.send({ type: 'config', config: { ...config, role } } satisfies PeerMessage);
    }
  });
}
