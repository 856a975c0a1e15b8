// Runs the C programs of bench/native (fi_bench, udp_limit) and reads their --json.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LatencyRow, Op, Row, Run, UdpRow } from './report.js';

/** The repository root, from dist/bench/p2p/*.js or bench/p2p/*.ts alike. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the repository root above ' + fileURLToPath(import.meta.url));
}

/** Where the C programs are: $NLF_BIN_DIR, else build/native/bin (scripts/setup's build). */
export function binDir(): string {
  return resolve(process.env.NLF_BIN_DIR ?? join(repoRoot(), 'build', 'native', 'bin'));
}

/** The environment every bench process runs in: providers pinned to loopback. */
export function benchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FI_TCP_IFACE: 'lo', FI_SOCKETS_IFACE: 'lo' };
  const prov = process.env.NODE_LIBFABRIC_PROVIDER_DIR ?? join(dirname(binDir()), 'prov');
  if (!env.FI_PROVIDER_PATH && existsSync(prov)) env.FI_PROVIDER_PATH = prov;
  return env;
}

export interface Exec { code: number; stdout: string; stderr: string }

export function exec(file: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { env: benchEnv(), timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? -9 : -1) : 0;
        resolvePromise({ code, stdout, stderr });
      });
  });
}

export interface Probe { libfabric: string; provider: string; fabric: string; progress: string; mr_mode: string[] }

/** Whether fi_bench can open the provider (RDM, msg+tagged+rma, on 127.0.0.1). */
export async function probe(provider: string): Promise<Probe | { error: string }> {
  const r = await exec(join(binDir(), 'fi_bench'), ['-p', provider, '--probe'], 20_000);
  if (r.code !== 0) return { error: firstLine(r.stderr) || `exit ${r.code}` };
  return JSON.parse(r.stdout) as Probe;
}

export interface FiBenchOptions {
  provider: string; op: Op; sizes: number[]; window?: number; pairs?: number;
  iters?: number; seconds?: number; reps?: number; timeoutMs?: number;
}

export function fiBenchArgs(o: FiBenchOptions): string[] {
  const args = ['-p', o.provider, '-e', 'rdm', '-t', o.op, '-S', o.sizes.join(','), '--json'];
  if (o.window !== undefined) args.push('-w', String(o.window));
  if (o.pairs !== undefined) args.push('-P', String(o.pairs));
  if (o.iters !== undefined) args.push('-I', String(o.iters));
  if (o.seconds !== undefined) args.push('-T', String(o.seconds));
  if (o.reps !== undefined) args.push('-r', String(o.reps));
  return args;
}

interface FiBenchJson {
  provider: string; op: Op; pairs: number; window: number; progress: string; mr_mode: string[]; rows: Row[];
}

export async function fiBench(o: FiBenchOptions): Promise<Run> {
  const base: Run = { impl: 'native', provider: o.provider, op: o.op, pairs: o.pairs ?? 1, window: o.window ?? 64, rows: [] };
  const timeoutMs = o.timeoutMs ?? 60_000 + o.sizes.length * (o.reps ?? 1) * 20_000;
  const r = await exec(join(binDir(), 'fi_bench'), [...fiBenchArgs(o), '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5_000);
  let parsed: FiBenchJson | undefined;
  try {
    parsed = JSON.parse(r.stdout) as FiBenchJson;
  } catch {
    parsed = undefined;
  }
  if (!parsed) return { ...base, error: firstLine(r.stderr) || `exit ${r.code}, no output` };
  const out: Run = { ...base, pairs: parsed.pairs, window: parsed.window, progress: parsed.progress, mrMode: parsed.mr_mode, rows: parsed.rows };
  if (r.code !== 0) out.error = firstLine(r.stderr) || `exit ${r.code}`;
  return out;
}

export interface UdpOptions { dgrams: number[]; message: number; batch?: number; seconds?: number; modes?: string[]; reps?: number }

export async function udpLimit(o: UdpOptions): Promise<{ rows: UdpRow[]; error?: string }> {
  const args = ['-s', o.dgrams.join(','), '-m', String(o.message), '--json'];
  if (o.batch !== undefined) args.push('-b', String(o.batch));
  if (o.seconds !== undefined) args.push('-T', String(o.seconds));
  if (o.modes) args.push('-M', o.modes.join(','));
  if (o.reps !== undefined) args.push('-r', String(o.reps));
  return runUdpLimit<UdpRow>(args, 120_000);
}

/** The largest message udp_limit's ping-pong sends as one datagram. */
export const PINGPONG_MAX = 65000;

export interface FloorOptions { sizes: number[]; seconds?: number; reps?: number; tcp?: boolean }

/** The ping-pong floor: udp_limit -M pingpong[,pingpong-tcp] at sizes of one datagram. */
export async function udpFloor(o: FloorOptions): Promise<{ rows: LatencyRow[]; error?: string }> {
  const args = ['-s', o.sizes.join(','), '-M', o.tcp ? 'pingpong,pingpong-tcp' : 'pingpong', '--json'];
  if (o.seconds !== undefined) args.push('-T', String(o.seconds));
  if (o.reps !== undefined) args.push('-r', String(o.reps));
  // each run is a tenth of warm-up and -T of round trips, per mode, size and rep
  const runs = o.sizes.length * (o.tcp ? 2 : 1) * (o.reps ?? 1);
  return runUdpLimit<LatencyRow>(args, 60_000 + runs * Math.ceil((o.seconds ?? 0.5) * 1.1 * 1000 + 2000));
}

async function runUdpLimit<T>(args: string[], timeoutMs: number): Promise<{ rows: T[]; error?: string }> {
  const r = await exec(join(binDir(), 'udp_limit'), [...args, '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5_000);
  try {
    const j = JSON.parse(r.stdout) as { rows: T[] };
    return r.code === 0 ? { rows: j.rows } : { rows: j.rows, error: firstLine(r.stderr) || `exit ${r.code}` };
  } catch {
    return { rows: [], error: firstLine(r.stderr) || `exit ${r.code}, no output` };
  }
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).filter((l) => l.length > 0)[0] ?? '';
}
