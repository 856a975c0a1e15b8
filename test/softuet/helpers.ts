// Shared plumbing for the softuet provider tests: where the built provider and native
// test programs live, and a bounded child-process runner.
import { execFile, spawn } from 'node:child_process';
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// A control port for fi_pingpong unlikely to collide with a concurrent test.
export function freshPort(): number {
  return 40000 + ((process.pid * 131 + Date.now()) % 9000);
}
