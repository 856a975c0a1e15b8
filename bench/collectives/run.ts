// Collective benchmark in nccl-tests format.
//
//   node dist/bench/collectives/run.js [-n 4] [--op allreduce|...|all] [-b 8] [-e 64M] [-f 2]
//        [-o sum] [-d float] [-r 0] [-w 5] [--iters 20] [--provider P] [--transport T] [--json]
//
// Started directly it launches itself as -n local ranks; started by node-libfabric-run,
// mpirun or Slurm (see lib/collectives/init.ts) it is one rank of that job. Rank 0 shows
// progress on stderr and prints the table at the end. Every result is checked.
//
// The data path is libfabric unless --transport socket asks for plain TCP: a benchmark
// that quietly measured something else than it claims would be worse than none.

import { fileURLToPath } from 'node:url';
import {
  Communicator, DTYPE_NAME, DTYPE_SIZE, DTYPES, FabricTransport, isReduceOp, placementFromEnv,
  type CollectiveArray, type DType, type ReduceOp,
} from '../../lib/collectives/index.js';
import { launch } from '../../lib/collectives/launch.js';
import { loadFabric } from '../../lib/collectives/fabric-transport.js';
import { alloc, concat, countWrong, expectedReduce, fill } from './data.js';
import {
  COLLECTIVES, bandwidth, parseSize, sizeList, tableHeader, tableRow,
  type CollectiveName, type Result, type Row,
} from './format.js';

export interface BenchOptions {
  ranks: number; colls: CollectiveName[]; minBytes: number; maxBytes: number; factor: number;
  op: ReduceOp; dtype: DType; root: number; warmup: number; warmupSeconds: number; iters: number;
  provider?: string; transport: 'fabric' | 'socket'; json: boolean;
  segmentBytes?: number; smallBytes?: number; window?: number; rma?: boolean;
}

const USAGE = `usage: run.js [-n ranks=4] [--op ${COLLECTIVES.join('|')}|all] [-b 8] [-e 64M] [-f 2]
              [-o sum|prod|min|max] [-d float|double|int32|int64|uint8|bfloat16|half] [-r root=0]
              [-w warmup=5] [-W warmup-seconds=0.2] [--iters 20] [--provider P]
              [--transport fabric|socket] [--json]
              [--segment BYTES] [--small BYTES] [--window N] [--no-rma]
  --op (or -c) picks the collective; -o/--redop the reduction, as in nccl-tests.
  Sizes take K, M, G suffixes; iterations shrink above 1 MiB so the sweep stays short.
  Each size warms up for -w iterations and until every rank has spent -W seconds on it.`;

function dtypeByName(s: string): DType {
  for (const d of DTYPES) if (d === s || DTYPE_NAME[d] === s) return d;
  throw new RangeError(`unknown type '${s}'`);
}

export function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    ranks: 4, colls: ['allreduce'], minBytes: 8, maxBytes: 64 * 1024 * 1024, factor: 2, op: 'sum', dtype: 'float32',
    root: 0, warmup: 5, warmupSeconds: 0.2, iters: 20, json: false, transport: 'fabric',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new RangeError(`${a} needs a value\n${USAGE}`);
      return x;
    };
    const int = (min: number) => {
      const n = Number(v());
      if (!Number.isInteger(n) || n < min) throw new RangeError(`${a} takes an integer >= ${min}`);
      return n;
    };
    switch (a) {
      case '-n': o.ranks = int(1); break;
      case '-c': case '--op': {
        const c = v().toLowerCase().replace(/[_-]/g, '');
        if (c === 'all') { o.colls = [...COLLECTIVES]; break; }
        if (!COLLECTIVES.includes(c as CollectiveName)) {
          throw new RangeError(`${a} must be one of ${COLLECTIVES.join(', ')}, all`);
        }
        o.colls = [c as CollectiveName]; break;
      }
      case '-b': o.minBytes = parseSize(v()); break;
      case '-e': o.maxBytes = parseSize(v()); break;
      case '-f': o.factor = Number(v()); if (!(o.factor > 1)) throw new RangeError('-f takes a factor > 1'); break;
      case '-o': case '--redop': { const op = v(); if (!isReduceOp(op)) throw new RangeError('-o must be sum, prod, min or max'); o.op = op; break; }
      case '-d': o.dtype = dtypeByName(v()); break;
      case '-r': o.root = int(0); break;
      case '-w': o.warmup = int(0); break;
      case '-W': {
        o.warmupSeconds = Number(v());
        if (!(o.warmupSeconds >= 0 && o.warmupSeconds <= 60)) throw new RangeError('-W takes seconds from 0 to 60');
        break;
      }
      case '--iters': o.iters = int(1); break;
      case '--provider': o.provider = v(); break;
      case '--transport': {
        const t = v();
        if (t !== 'fabric' && t !== 'socket') throw new RangeError('--transport must be fabric or socket');
        o.transport = t; break;
      }
      case '--json': o.json = true; break;
      case '--segment': o.segmentBytes = parseSize(v()); break;
      case '--small': o.smallBytes = parseSize(v()); break;
      case '--window': o.window = int(1); break;
      case '--no-rma': o.rma = false; break;
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0);
      // falls through (exit never returns)
      default: throw new RangeError(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (o.root >= o.ranks) throw new RangeError(`-r ${o.root} is not a rank of ${o.ranks}`);
  return o;
}

/** One timed configuration: buffers, the op, and the reference result for this rank. */
interface Case {
  run(): Promise<void>;
  /** Fresh inputs, one untimed op, wrong elements against the reference. */
  checkFresh(): Promise<number>;
  /** Wrong elements in the last timed op's output (out-of-place outputs do not drift). */
  checkLast(): number;
}

function makeCase(comm: Communicator, o: BenchOptions, coll: CollectiveName, bytes: number, inPlace: boolean): Case {
  const { rank, size: n } = comm;
  const { dtype, op, root } = o;
  const count = bytes / DTYPE_SIZE[dtype];
  const block = count / n;
  const nothing = () => 0;
  switch (coll) {
    case 'allreduce': {
      const send = fill(dtype, rank, count);
      const recv = inPlace ? send : alloc(dtype, count);
      const want = expectedReduce(dtype, op, n, count);
      return {
        run: async () => { await comm.allreduce(send, recv, { op, dtype }); },
        checkLast: inPlace ? nothing : () => countWrong(recv, want),
        checkFresh: async () => { fill(dtype, rank, count, 0, send); return countWrong(await comm.allreduce(send, recv, { op, dtype }), want); },
      };
    }
    case 'reducescatter': {
      const send = fill(dtype, rank, count);
      const recv = inPlace ? send : alloc(dtype, block);
      const want = expectedReduce(dtype, op, n, count).subarray(rank * block, (rank + 1) * block) as CollectiveArray;
      let last: CollectiveArray = recv;
      return {
        run: async () => { last = await comm.reduceScatter(send, recv, { op, dtype }); },
        checkLast: inPlace ? nothing : () => countWrong(last, want),
        checkFresh: async () => { fill(dtype, rank, count, 0, send); return countWrong(await comm.reduceScatter(send, recv, { op, dtype }), want); },
      };
    }
    case 'allgather': {
      const mine = fill(dtype, rank, block);
      const recv = alloc(dtype, count);
      const send = inPlace ? recv : mine;
      const want = concat(dtype, Array.from({ length: n }, (_, r) => fill(dtype, r, block)));
      const prep = () => { if (inPlace) recv.set(mine as never, rank * block); };
      prep();
      return {
        run: async () => { await comm.allgather(send, recv, { dtype }); },
        checkLast: () => countWrong(recv, want),
        checkFresh: async () => { recv.fill(0 as never); prep(); return countWrong(await comm.allgather(send, recv, { dtype }), want); },
      };
    }
    case 'alltoall': {
      const send = fill(dtype, rank, count);
      const recv = inPlace ? send : alloc(dtype, count);
      const want = concat(dtype, Array.from({ length: n }, (_, j) =>
        fill(dtype, j, count).subarray(rank * block, (rank + 1) * block) as CollectiveArray));
      return {
        run: async () => { await comm.alltoall(send, recv, { dtype }); },
        checkLast: inPlace ? nothing : () => countWrong(recv, want),
        checkFresh: async () => { fill(dtype, rank, count, 0, send); return countWrong(await comm.alltoall(send, recv, { dtype }), want); },
      };
    }
    case 'broadcast': {
      const src = fill(dtype, root, count);
      const buf = rank === root ? src.slice() as CollectiveArray : alloc(dtype, count);
      return {
        // Out of place, the root first moves its send buffer into the receive buffer.
        run: async () => { if (!inPlace && rank === root) buf.set(src as never); await comm.broadcast(buf, { root, dtype }); },
        checkLast: () => countWrong(buf, src),
        checkFresh: async () => {
          if (rank === root) buf.set(src as never); else buf.fill(0 as never);
          return countWrong(await comm.broadcast(buf, { root, dtype }), src);
        },
      };
    }
    case 'reduce': {
      const send = fill(dtype, rank, count);
      const recv = inPlace ? send : (rank === root ? alloc(dtype, count) : null);
      const want = expectedReduce(dtype, op, n, count);
      const check = (got: CollectiveArray) => (rank === root ? countWrong(got, want) : 0);
      return {
        run: async () => { await comm.reduce(send, recv, { op, dtype, root }); },
        checkLast: inPlace ? nothing : () => check(recv ?? send),
        checkFresh: async () => { fill(dtype, rank, count, 0, send); return check(await comm.reduce(send, recv, { op, dtype, root })); },
      };
    }
  }
}

function itersFor(o: BenchOptions, bytes: number): { warmup: number; iters: number } {
  // Fewer repetitions for large messages keep the default sweep to a few minutes.
  const scale = Math.min(1, (1 << 20) / bytes);
  return { warmup: Math.max(1, Math.round(o.warmup * scale)), iters: Math.max(3, Math.round(o.iters * scale)) };
}

async function measure(comm: Communicator, o: BenchOptions, coll: CollectiveName, bytes: number,
                       inPlace: boolean): Promise<Result> {
  const c = makeCase(comm, o, coll, bytes, inPlace);
  const { warmup, iters } = itersFor(o, bytes);
  const w0 = performance.now(), flag = new Float64Array(1);
  for (let i = 0; i < warmup; i++) await c.run();
  // V8 optimises the collective's functions only once they have run for a while, and
  // compiles them on background threads that take CPU from the ranks: a few iterations
  // measure the interpreter and the compiler, not the steady state a service runs in.
  // Warm up until every rank has spent the time (the ranks agree by a MIN reduction, so
  // all of them run the same number of iterations).
  for (;;) {
    flag[0] = performance.now() - w0 >= o.warmupSeconds * 1e3 ? 1 : 0;
    if ((await comm.allreduce(flag, null, { op: 'min' }))[0] === 1) break;
    for (let i = 0; i < Math.max(1, warmup); i++) await c.run();
  }
  await comm.barrier();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) await c.run();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / iters;
  let wrong = c.checkLast();
  wrong += await c.checkFresh();
  // nccl-tests style: the slowest rank's time, the job's total of wrong elements.
  const agg = await comm.allreduce(new Float64Array([us]), null, { op: 'max' });
  const bad = await comm.allreduce(new Float64Array([wrong]), null, { op: 'sum' });
  const bw = bandwidth(coll, comm.size, bytes, agg[0]!);
  return { timeUs: agg[0]!, ...bw, wrong: bad[0]! };
}

export interface BenchReport { header: Record<string, string | number>; rows: Row[]; avgBusbw: number; wrong: number }

const fmtBytes = (b: number) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : b >= 1024 ? `${b / 1024} KiB` : `${b} B`);

/** One rank's part of the sweep; rank 0 gets the reports (one per collective). */
export async function runRank(o: BenchOptions): Promise<BenchReport[] | undefined> {
  const comm = await Communicator.init({
    transport: o.transport, provider: o.provider,
    segmentBytes: o.segmentBytes, smallBytes: o.smallBytes, window: o.window, rma: o.rma,
  });
  const n = comm.size, esize = DTYPE_SIZE[o.dtype];
  const t = comm.transport;
  const lead = comm.rank === 0;
  const tty = process.stderr.isTTY;
  const reports: BenchReport[] = [];
  try {
    await comm.barrier();
    for (const coll of o.colls) {
      const perRank = ['allreduce', 'broadcast', 'reduce'].includes(coll) ? 1 : n;
      const sizes = sizeList(o.minBytes, o.maxBytes, o.factor, esize * perRank);
      const header = {
        collective: coll, ranks: n, transport: t.name,
        provider: t instanceof FabricTransport ? t.info.provider : 'none (TCP sockets, no libfabric)',
        progress: t instanceof FabricTransport ? t.info.progress : 'n/a',
        libfabric: t instanceof FabricTransport ? t.libfabricVersion : 'n/a',
        datapath: (t.rma && o.rma !== false ? 'ring segments by RMA write (fi_writedata), small messages tagged' : 'tagged send/recv') +
          (t instanceof FabricTransport && t.bulkThread ? '; RMA on a second endpoint whose completions a thread waits for' : '') +
          (t instanceof FabricTransport && t.bulkProvider ? `; RMA on a second fabric over ${t.bulkProvider}` : '') +
          (t instanceof FabricTransport && t.softuetMtu ? `; softuet MTU ${t.softuetMtu}, CC ${t.softuetCc ?? 'default'}` : ''),
        node: process.version,
      };
      if (lead) {
        process.stderr.write(`# ${coll} on ${n} ranks over ${t.name}: ${sizes.length} sizes, ` +
          `${fmtBytes(sizes[0] ?? 0)} .. ${fmtBytes(sizes[sizes.length - 1] ?? 0)}\n`);
      }
      const rows: Row[] = [];
      const t0 = Date.now();
      for (const [i, bytes] of sizes.entries()) {
        if (lead) {
          const el = ((Date.now() - t0) / 1000).toFixed(0);
          process.stderr.write(`${tty ? '\r\x1b[K' : ''}# [${i + 1}/${sizes.length}] ${coll} ${fmtBytes(bytes)}` +
            ` (${el} s)${rows.length ? `, last busbw ${rows[rows.length - 1]!.outOfPlace.busbw.toFixed(2)} GB/s` : ''}` +
            `${tty ? '' : '\n'}`);
        }
        const outOfPlace = await measure(comm, o, coll, bytes, false);
        const inPlace = await measure(comm, o, coll, bytes, true);
        const reduces = ['allreduce', 'reducescatter', 'reduce'].includes(coll);
        rows.push({
          size: bytes, count: bytes / esize, type: DTYPE_NAME[o.dtype], redop: reduces ? o.op : 'none',
          root: ['broadcast', 'reduce'].includes(coll) ? o.root : -1, outOfPlace, inPlace,
        });
      }
      if (lead && tty) process.stderr.write('\r\x1b[K');
      const avgBusbw = rows.reduce((s, r) => s + r.outOfPlace.busbw + r.inPlace.busbw, 0) / Math.max(1, 2 * rows.length);
      const wrong = rows.reduce((s, r) => s + r.outOfPlace.wrong + r.inPlace.wrong, 0);
      reports.push({ header, rows, avgBusbw, wrong });
    }
  } finally {
    await comm.close();
  }
  return lead ? reports : undefined;
}

export function printReport(r: BenchReport, o: BenchOptions): void {
  const h = r.header;
  const out = [
    `# node-libfabric collectives benchmark: ${h.collective}`,
    `# ranks ${h.ranks} | transport ${h.transport} | provider ${h.provider} | progress ${h.progress} | libfabric ${h.libfabric} | node ${h.node}`,
    `# data path: ${h.datapath}`,
    `# type ${DTYPE_NAME[o.dtype]} | warmup ${o.warmup} iters and >= ${o.warmupSeconds} s, iters ${o.iters} (scaled down above 1 MiB) | time: mean per op, slowest rank`,
    '#',
    tableHeader(),
    ...r.rows.map(tableRow),
    `# Out of bounds values : ${r.wrong} ${r.wrong === 0 ? 'OK' : 'FAILED'}`,
    `# Avg bus bandwidth    : ${r.avgBusbw.toFixed(4)}`,
    '#',
  ];
  process.stdout.write(out.join('\n') + '\n');
}

/**
 * The provider every rank will use, chosen once in the launching process so that all
 * ranks agree. Exits with a clear message when the binding cannot load.
 */
async function chooseProvider(o: BenchOptions): Promise<string> {
  let mod: Awaited<ReturnType<typeof loadFabric>>;
  try {
    mod = await loadFabric();
  } catch (e) {
    process.stderr.write(`node-libfabric bench: ${(e as Error).message}\n` +
      '  Build it with `npm run setup` (needs libfabric-dev), or measure the pure TypeScript TCP transport\n' +
      '  instead with `node dist/bench/collectives/run.js --transport socket`.\n');
    process.exit(1);
  }
  const hints = { endpointType: 'rdm', caps: ['msg', 'tagged'], node: '127.0.0.1', source: true };
  const wanted = o.provider ? [o.provider] : ['softuet', 'tcp;ofi_rxm'];
  const why: string[] = [];
  for (const provider of wanted) {
    try {
      return mod.pickInfo({ ...hints, provider }).provider;
    } catch (e) { why.push(`${provider}: ${(e as Error).message}`); }
  }
  process.stderr.write(`node-libfabric bench: no usable provider (${why.join('; ')})\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let o: BenchOptions;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  if (placementFromEnv().source === 'none') {
    // Not inside a job: become the launcher of one.
    const provider = o.transport === 'fabric' ? await chooseProvider(o) : undefined;
    const args = process.argv.slice(2);
    if (provider && !o.provider) args.push('--provider', provider);
    const job = await launch({
      ranks: o.ranks, script: fileURLToPath(import.meta.url), args,
      provider, transport: o.transport, stdio: 'inherit',
      env: { FI_TCP_IFACE: 'lo', FI_SOCKETS_IFACE: 'lo' },
    });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => job.abort(`benchmark received ${sig}`));
    const res = await job.done;
    if (res.abortReason) process.stderr.write(`# job aborted: ${res.abortReason}\n`);
    process.exit(res.code);
  }
  const reports = await runRank(o);
  if (reports) {
    for (const r of reports) {
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else printReport(r, o);
    }
    const wrong = reports.reduce((s, r) => s + r.wrong, 0);
    if (wrong > 0) {
      process.stderr.write(`# ${wrong} wrong elements: results do not match the serial reference\n`);
      process.exitCode = 1;
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
