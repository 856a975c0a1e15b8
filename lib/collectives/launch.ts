// Starting a job of N local ranks: spawns (never forks: fabric state and registered
// memory do not survive fork) one Node process per rank, hosts their bootstrap, and
// turns any rank's abnormal exit into an abort for the others, then a bounded teardown.

import { spawn, type ChildProcess } from 'node:child_process';
import { BootstrapServer } from './bootstrap.js';

export interface LaunchOptions {
  ranks: number;
  /** Script run by `node` in every rank, and its arguments. */
  script: string;
  args?: string[];
  provider?: string;
  transport?: string;
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  /** Node flags placed before the script. */
  nodeArgs?: string[];
  /** After an abort, how long ranks get to exit on their own before SIGTERM. Default 10 s. */
  graceMs?: number;
  /** Kill the whole job after this long (0 = never). */
  timeoutMs?: number;
  stdio?: 'inherit' | 'pipe';
  /** Called with each rank's process right after it is spawned. */
  onSpawn?: (rank: number, child: ChildProcess) => void;
}

export interface RankExit { rank: number; code: number | null; signal: NodeJS.Signals | null }

export interface LaunchResult {
  /** 0 when every rank exited 0, else the first failure's code (128 + n for signals). */
  code: number;
  exits: RankExit[];
  abortReason?: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };

export function describeExit(e: RankExit): string {
  return e.signal ? `rank ${e.rank} was killed by ${e.signal}` : `rank ${e.rank} exited with code ${e.code}`;
}

export interface Job {
  readonly children: ChildProcess[];
  readonly bootstrap: string;
  /** Settles when every rank has exited. */
  readonly done: Promise<LaunchResult>;
  /** Aborts the job: ranks get the reason, then the grace period, then signals. */
  abort(reason: string): void;
}

export async function launch(o: LaunchOptions): Promise<Job> {
  if (!Number.isInteger(o.ranks) || o.ranks < 1) throw new RangeError(`-n must be a positive integer, got ${o.ranks}`);
  const server = await BootstrapServer.listen(o.ranks, { host: '127.0.0.1', port: 0 });
  const grace = o.graceMs ?? 10_000;
  const children: ChildProcess[] = [];
  const exits: RankExit[] = [];
  let firstFailure: RankExit | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let jobTimer: NodeJS.Timeout | undefined;
  let alive = o.ranks;

  const killAll = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill(sig);
  };
  const scheduleKill = () => {
    if (killTimer) return;
    killTimer = setTimeout(() => {
      killAll('SIGTERM');
      killTimer = setTimeout(() => killAll('SIGKILL'), 2000);
    }, grace);
  };
  server.onAbort = () => scheduleKill();
  server.lostGraceMs = 500;

  let finish!: (r: LaunchResult) => void;
  const done = new Promise<LaunchResult>((resolve) => { finish = resolve; });

  for (let rank = 0; rank < o.ranks; rank++) {
    const env: NodeJS.ProcessEnv = {
      ...process.env, ...o.env,
      NLF_RANK: String(rank), NLF_SIZE: String(o.ranks), NLF_BOOTSTRAP: server.address, NLF_LAUNCHER: '1',
      NLF_LOCAL_SIZE: String(o.ranks),
      // Local jobs stay on loopback whatever interfaces the machine has.
      FI_TCP_IFACE: process.env.FI_TCP_IFACE ?? 'lo', FI_SOCKETS_IFACE: process.env.FI_SOCKETS_IFACE ?? 'lo',
    };
    if (o.provider) env.NLF_PROVIDER = o.provider;
    if (o.transport) env.NLF_TRANSPORT = o.transport;
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), o.script, ...(o.args ?? [])], {
      env, stdio: o.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    children.push(child);
    o.onSpawn?.(rank, child);
    child.on('error', (err) => {
      server.abort(`rank ${rank} could not start: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      const e: RankExit = { rank, code, signal };
      exits.push(e);
      if ((code !== 0 || signal) && !firstFailure) {
        firstFailure = e;
        server.abort(describeExit(e));
      }
      if (--alive === 0) {
        clearTimeout(killTimer);
        clearTimeout(jobTimer);
        void server.close(0).then(() => {
          const f = firstFailure;
          finish({
            code: f ? (f.signal ? 128 + (SIGNALS[f.signal] ?? 1) : (f.code ?? 1)) : 0,
            exits: exits.sort((a, b) => a.rank - b.rank),
            abortReason: server.aborted,
          });
        });
      }
    });
  }
  if (o.timeoutMs) {
    jobTimer = setTimeout(() => server.abort(`job exceeded its ${o.timeoutMs} ms time limit`), o.timeoutMs);
  }
  return {
    children, bootstrap: server.address, done,
    abort: (reason: string) => server.abort(reason),
  };
}
