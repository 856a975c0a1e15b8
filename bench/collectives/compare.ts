// Node allreduce beside OpenMPI's MPI_Allreduce over TCP on loopback, same sizes,
// same run, same checking: prints both busbw columns and their ratio.
//
//   node dist/bench/collectives/compare.js [-n 2,4] [-b 8] [-e 64M] [-f 2] [-W 0.2] [--reps R]
//                                          [--provider P | --providers LIST] [--transport T]
//
// --providers measures several Node configurations in the same run, each beside the same
// MPI figures: a comma list of providers, where `A+B` carries messages over A and RMA
// writes over B (NLF_BULK_PROVIDER), e.g. `softuet,tcp;ofi_rxm,softuet+tcp;ofi_rxm`.
//
// Both sides warm each size up the same way: 5 iterations, and more until every rank
// has spent -W seconds on it (default 0.2), so Node is measured with its code optimised.
//
// With --reps R each side runs R times, alternating, and the table shows each side's best
// time per size: on a shared host one run of either side can lose a core to a stranger.
//
// Installs openmpi-bin and libopenmpi-dev with apt-get when mpicc/mpirun are missing and
// this runs as root; otherwise prints the command to run.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compareTable, parseConfigs, parseSize, type ComparePoint as Point, type NodeConfig } from './format.js';
import type { BenchReport } from './run.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const source = `${root}bench/collectives/mpi_allreduce.c`;
const binary = `${root}build/collectives/mpi_allreduce`;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureOpenMpi(): void {
  if (have('mpicc') && have('mpirun')) return;
  const cmd = 'apt-get install -y openmpi-bin libopenmpi-dev';
  if (process.getuid?.() !== 0) {
    process.stderr.write(`OpenMPI is missing; install it with:\n  sudo ${cmd}\n`);
    process.exit(1);
  }
  process.stderr.write(`# installing OpenMPI: ${cmd}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('sh', ['-c', cmd], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('sh', ['-c', cmd], { stdio: 'inherit', env });
  }
  if (r.status !== 0 || !have('mpicc')) {
    process.stderr.write(`installing OpenMPI failed; run: ${cmd}\n`);
    process.exit(1);
  }
}

function compile(): void {
  mkdirSync(`${root}build/collectives`, { recursive: true });
  execFileSync('mpicc', ['-O2', '-o', binary, source], { stdio: 'inherit' });
}

function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... failed (${signal ?? `code ${code}`})`));
    });
  });
}

async function mpiRun(n: number, b: number, e: number, f: number, warmupSeconds: number): Promise<Point[]> {
  const args = [
    '--allow-run-as-root', '--oversubscribe', '-n', String(n),
    '--mca', 'pml', 'ob1', '--mca', 'btl', 'tcp,self',
    '--mca', 'btl_tcp_if_include', 'lo', '--mca', 'oob_tcp_if_include', 'lo',
    binary, '-b', String(b), '-e', String(e), '-f', String(f), '-W', String(warmupSeconds),
  ];
  const out = await runProcess('mpirun', args, { ...process.env, OMPI_MCA_plm_rsh_agent: '' }, 600_000);
  return out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => {
    const j = JSON.parse(l) as { size: number; busbw: number; time_us: number; wrong: number };
    return { size: j.size, busbw: j.busbw, timeUs: j.time_us, wrong: j.wrong };
  });
}

async function nodeRun(n: number, b: number, e: number, f: number, extra: string[], cfg: NodeConfig): Promise<{ points: Point[]; transport: string }> {
  const script = fileURLToPath(new URL('./run.js', import.meta.url));
  const env = cfg.bulk === undefined ? process.env : { ...process.env, NLF_BULK_PROVIDER: cfg.bulk };
  const args = [script, '-n', String(n), '-b', String(b), '-e', String(e), '-f', String(f), '--json', ...extra];
  if (cfg.provider) args.push('--provider', cfg.provider);
  const out = await runProcess(process.execPath, args, env, 600_000);
  const line = out.trim().split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error('the Node benchmark printed no report');
  const rep = JSON.parse(line) as BenchReport;
  return {
    transport: `${String(rep.header.transport)} (${String(rep.header.datapath)}; progress ${String(rep.header.progress)})`,
    points: rep.rows.map((r) => ({ size: r.size, busbw: r.outOfPlace.busbw, timeUs: r.outOfPlace.timeUs, wrong: r.outOfPlace.wrong + r.inPlace.wrong })),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let ranks = [2, 4], b = 8, e = 64 * 1024 * 1024, f = 2, reps = 1, warmupSeconds = 0.2;
  const extra: string[] = [];
  let configs: NodeConfig[] = [{ label: 'node' }];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, v = argv[i + 1];
    if (v === undefined) throw new RangeError(`${a} needs a value`);
    if (a === '-n') ranks = v.split(',').map(Number);
    else if (a === '-b') b = parseSize(v);
    else if (a === '-e') e = parseSize(v);
    else if (a === '-f') f = Number(v);
    else if (a === '-W') {
      warmupSeconds = Number(v);
      if (!(warmupSeconds >= 0 && warmupSeconds <= 60)) throw new RangeError('-W takes seconds from 0 to 60');
    }
    else if (a === '--reps') {
      reps = Number(v);
      if (!Number.isInteger(reps) || reps < 1) throw new RangeError('--reps takes a positive integer');
    }
    else if (a === '--provider') configs = [{ label: 'node', provider: v }];
    else if (a === '--providers') configs = parseConfigs(v);
    else if (a === '--transport') extra.push(a, v);
    else throw new RangeError(`unknown option ${a}`);
    i++;
  }
  ensureOpenMpi();
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs || process.env.NLF_REBUILD_MPI) compile();
  const mpiVersion = execFileSync('mpirun', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  let failed = false;
  // Per size, the run with the shortest time; wrong results of any run count.
  const best = (runs: Point[][]): Point[] => {
    const by = new Map<number, Point>();
    for (const run of runs) {
      for (const p of run) {
        const q = by.get(p.size);
        if (!q) by.set(p.size, { ...p });
        else by.set(p.size, { ...(p.timeUs < q.timeUs ? p : q), wrong: p.wrong + q.wrong });
      }
    }
    return [...by.values()].sort((x, y) => x.size - y.size);
  };
  for (const n of ranks) {
    const mpiRuns: Point[][] = [];
    const nodeRuns: Point[][][] = configs.map(() => []);
    const transports: string[] = configs.map(() => '');
    const load = loadavg()[0]!.toFixed(1);
    for (let rep = 1; rep <= reps; rep++) {
      const of = reps > 1 ? ` (run ${rep} of ${reps})` : '';
      process.stderr.write(`# ${n} ranks: OpenMPI${of}\n`);
      mpiRuns.push(await mpiRun(n, b, e, f, warmupSeconds));
      for (const [k, cfg] of configs.entries()) {
        process.stderr.write(`# ${n} ranks: node-libfabric${cfg.label === 'node' ? '' : ` over ${cfg.label}`}${of}\n`);
        const r = await nodeRun(n, b, e, f, [...extra, '-W', String(warmupSeconds)], cfg);
        transports[k] = r.transport;
        nodeRuns[k]!.push(r.points);
      }
    }
    const mpi = best(mpiRuns);
    const sides = configs.map((cfg, k) => ({ label: cfg.label, points: best(nodeRuns[k]!) }));
    const over = configs.length === 1 ? [`node-libfabric over ${transports[0]}`]
      : configs.map((cfg, k) => `${cfg.label}: node-libfabric over ${transports[k]}`);
    const lines = [
      `# allreduce float sum, ${n} ranks, loopback | ${over.join(' | ')} | ${mpiVersion} (pml ob1, btl tcp,self, lo)`,
      `# ${reps > 1 ? `best of ${reps} alternating runs per side` : 'one run per side'} | warm-up >= ${warmupSeconds} s per size on all sides | load average ${load} at start`,
      ...compareTable(mpi, sides),
    ];
    if ([...mpi, ...sides.flatMap((s) => s.points)].some((p) => p.wrong)) failed = true;
    process.stdout.write(lines.join('\n') + '\n#\n');
  }
  if (failed) process.exitCode = 1;
}

await main();
