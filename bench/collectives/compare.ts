// Node allreduce beside OpenMPI's MPI_Allreduce over TCP on loopback, same sizes,
// same run, same checking: prints both busbw columns and their ratio.
//
//   node dist/bench/collectives/compare.js [-n 2,4] [-b 8] [-e 64M] [-f 2] [-W 0.2] [--reps R] [--provider P] [--transport T]
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
import { parseSize } from './format.js';
import type { BenchReport } from './run.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const source = `${root}bench/collectives/mpi_allreduce.c`;
const binary = `${root}build/collectives/mpi_allreduce`;

interface Point { size: number; busbw: number; timeUs: number; wrong: number }

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

async function nodeRun(n: number, b: number, e: number, f: number, extra: string[]): Promise<{ points: Point[]; transport: string }> {
  const script = fileURLToPath(new URL('./run.js', import.meta.url));
  const out = await runProcess(process.execPath,
    [script, '-n', String(n), '-b', String(b), '-e', String(e), '-f', String(f), '--json', ...extra], process.env, 600_000);
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
    else if (a === '--provider' || a === '--transport') extra.push(a, v);
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
    const mpiRuns: Point[][] = [], nodeRuns: Point[][] = [];
    let transport = '';
    const load = loadavg()[0]!.toFixed(1);
    for (let rep = 1; rep <= reps; rep++) {
      const of = reps > 1 ? ` (run ${rep} of ${reps})` : '';
      process.stderr.write(`# ${n} ranks: OpenMPI${of}\n`);
      mpiRuns.push(await mpiRun(n, b, e, f, warmupSeconds));
      process.stderr.write(`# ${n} ranks: node-libfabric${of}\n`);
      const r = await nodeRun(n, b, e, f, [...extra, '-W', String(warmupSeconds)]);
      transport = r.transport;
      nodeRuns.push(r.points);
    }
    const mpi = best(mpiRuns);
    const node = { transport, points: best(nodeRuns) };
    const lines = [
      `# allreduce float sum, ${n} ranks, loopback | node-libfabric over ${node.transport} | ${mpiVersion} (pml ob1, btl tcp,self, lo)`,
      `# ${reps > 1 ? `best of ${reps} alternating runs per side` : 'one run per side'} | warm-up >= ${warmupSeconds} s per size on both sides | load average ${load} at start`,
      '#       size   mpi time(us)  mpi busbw   node time(us)  node busbw   node/mpi  #wrong',
    ];
    const bySize = new Map(mpi.map((p) => [p.size, p]));
    for (const p of node.points) {
      const m = bySize.get(p.size);
      if (!m) continue;
      const ratio = m.busbw > 0 ? p.busbw / m.busbw : NaN;
      if (p.wrong || m.wrong) failed = true;
      lines.push(`${String(p.size).padStart(12)}  ${m.timeUs.toFixed(1).padStart(12)}  ${m.busbw.toFixed(3).padStart(9)}  ` +
        `${p.timeUs.toFixed(1).padStart(14)}  ${p.busbw.toFixed(3).padStart(10)}  ${ratio.toFixed(2).padStart(9)}  ${String(p.wrong + m.wrong).padStart(6)}`);
    }
    const big = node.points.filter((p) => p.size >= 1 << 20 && bySize.has(p.size));
    if (big.length) {
      const geo = Math.exp(big.reduce((s, p) => s + Math.log(p.busbw / bySize.get(p.size)!.busbw), 0) / big.length);
      const won = big.filter((p) => p.busbw >= bySize.get(p.size)!.busbw).length;
      lines.push(`# at >= 1 MiB: node busbw >= mpi busbw at ${won} of ${big.length} sizes; geometric mean of node/mpi ${geo.toFixed(2)}`);
    }
    process.stdout.write(lines.join('\n') + '\n#\n');
  }
  if (failed) process.exitCode = 1;
}

await main();
