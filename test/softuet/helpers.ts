// Shared plumbing for the softuet provider tests: where the built provider and native
// test programs live, and a bounded child-process runner.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binDir = process.env.NLF_BIN_DIR ?? join(root, 'build/native/bin');
export const testsDir = join(binDir, 'tests');
export const provDir = process.env.NLF_PROV_DIR ?? join(binDir, '..', 'prov');

export interface RunResult {
  code: number | string | null;
  out: string;
  ms: number;
}

export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FI_PROVIDER_PATH: provDir, FI_TCP_IFACE: 'lo', FI_SOCKETS_IFACE: 'lo' };
  // Fault injection must only come from the test itself.
  for (const k of Object.keys(env)) if (k.startsWith('FI_SOFTUET_FAULT_')) delete env[k];
  return { ...env, ...extra };
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((done) => {
    execFile(cmd, args, { cwd: root, env: opts.env ?? baseEnv(), timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        done({ code: e ? (e.code ?? e.message) : 0, out: `${stdout}\n${stderr}`, ms: Date.now() - t0 });
      });
  });
}

// Starts a long-running child (e.g. a server) and returns a handle that resolves on exit.
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  const t0 = Date.now();
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = setTimeout(() => { if (child.pid) child.kill('SIGKILL'); }, timeoutMs);
  const done = new Promise<RunResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveDone({ code: code ?? signal, out, ms: Date.now() - t0 });
    });
  });
  return { child, done, output: () => out };
}

// Resolves once the process `pid` has a TCP socket listening on `port`, read from its own
// /proc/<pid>/net tables so it also works inside a network namespace. A probe connection
// would be taken by fi_pingpong as its one client, hence the tables. False if the process
// exits or the time runs out first.
export async function waitListening(pid: number, port: number, timeoutMs = 30_000): Promise<boolean> {
  const want = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const table of ['tcp', 'tcp6']) {
      let text: string;
      try {
        text = await readFile(`/proc/${pid}/net/${table}`, 'utf8');
      } catch {
        return false; // the process is gone
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length > 3 && `${f[1]} `.endsWith(want) && f[3] === '0A') return true;
      }
    }
    await sleep(20);
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// A control port for fi_pingpong unlikely to collide with a concurrent test.
export function freshPort(): number {
  return 40000 + ((process.pid * 131 + Date.now()) % 9000);
}
