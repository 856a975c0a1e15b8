// A rank program that runs every collective and compares each result with the serial
// reference: `node-libfabric-run -n 4 dist/bench/collectives/check.js`.
// Exits 0 when all match; prints one JSON line per rank to stdout.
//   --counts 0,1,7,5000   element counts      --large N  also one allreduce of N floats
//   --loop                after the checks, allreduce until the job aborts (failure tests)
//   --colls allreduce,allgather   only these collectives (default: all)

import { Communicator, REDUCE_OPS, DTYPES, type CollectiveArray, type DType } from '../../lib/collectives/index.js';
import { alloc, concat, countWrong, expectedReduce, fill } from './data.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const counts = (arg('--counts') ?? '0,1,7,5001').split(',').map(Number);
const large = Number(arg('--large') ?? 0);
const loop = process.argv.includes('--loop');
const ALL = ['allreduce', 'reduce', 'broadcast', 'allgather', 'reducescatter', 'alltoall'];
const colls = new Set((arg('--colls') ?? ALL.join(',')).toLowerCase().split(','));
for (const c of colls) if (!ALL.includes(c)) throw new RangeError(`--colls: unknown collective '${c}' (use ${ALL.join(', ')})`);

const comm = await Communicator.init({ timeoutMs: Number(process.env.NLF_TIMEOUT_MS) || 20_000, smallBytes: 1024, segmentBytes: 16 * 1024 });
const { rank, size } = comm;
const failures: string[] = [];
let checks = 0;
const expect = (what: string, got: CollectiveArray, want: CollectiveArray) => {
  checks++;
  const wrong = countWrong(got, want);
  if (wrong) failures.push(`${what}: ${wrong} wrong`);
};

try {
  await comm.barrier();
  for (const count of counts) {
    for (const dtype of colls.has('allreduce') ? DTYPES : []) {
      for (const op of REDUCE_OPS) {
        const out = await comm.allreduce(fill(dtype, rank, count), alloc(dtype, count), { op, dtype });
        expect(`allreduce ${dtype} ${op} ${count}`, out, expectedReduce(dtype, op, size, count));
      }
    }
    const root = count % size;
    const dtype: DType = 'int64';
    if (colls.has('reduce')) {
      const red = await comm.reduce(fill(dtype, rank, count, 2), rank === root ? alloc(dtype, count) : null, { op: 'max', root });
      if (rank === root) expect(`reduce ${count}`, red, expectedReduce(dtype, 'max', size, count, 2));
    }
    if (colls.has('broadcast')) {
      const b = await comm.broadcast(rank === root ? fill('float64', root, count, 4) : alloc('float64', count), root);
      expect(`broadcast ${count}`, b, fill('float64', root, count, 4));
    }
    if (colls.has('allgather')) {
      const g = await comm.allgather(fill('uint8', rank, count, 6), alloc('uint8', count * size));
      expect(`allgather ${count}`, g, concat('uint8', Array.from({ length: size }, (_, r) => fill('uint8', r, count, 6))));
    }
    if (colls.has('reducescatter')) {
      const rs = await comm.reduceScatter(fill('float32', rank, count * size, 8), alloc('float32', count), { op: 'sum' });
      expect(`reduceScatter ${count}`, rs, expectedReduce('float32', 'sum', size, count * size, 8).subarray(rank * count, (rank + 1) * count) as CollectiveArray);
    }
    if (colls.has('alltoall')) {
      const a2a = await comm.alltoall(Int32Array.from({ length: count * size }, (_, x) => rank * 100_000 + x), new Int32Array(count * size));
      expect(`alltoall ${count}`, a2a, Int32Array.from({ length: count * size }, (_, x) =>
        Math.floor(x / count) * 100_000 + rank * count + (x % count)));
    }
  }
  if (large && colls.has('allreduce')) {
    const out = await comm.allreduce(fill('float32', rank, large));
    expect(`allreduce float32 sum ${large}`, out, expectedReduce('float32', 'sum', size, large));
  }
  if (large && colls.has('allgather')) {
    const per = Math.ceil(large / size);
    const g = await comm.allgather(fill('float32', rank, per, 3), alloc('float32', per * size));
    expect(`allgather float32 ${per}`, g, concat('float32', Array.from({ length: size }, (_, r) => fill('float32', r, per, 3))));
  }
  process.stdout.write(JSON.stringify({ rank, size, transport: comm.transport.name, rma: comm.transport.rma !== undefined && comm.useRma,
    bulkThread: (comm.transport as { bulkThread?: boolean }).bulkThread === true,
    bulkProvider: (comm.transport as { bulkProvider?: string }).bulkProvider ?? null,
    progress: (comm.transport as { info?: { progress?: string } }).info?.progress ?? null, checks, failures }) + '\n');
  if (loop) {
    process.stdout.write(`looping ${rank}\n`);
    const buf = new Float32Array(1 << 18);
    for (;;) await comm.allreduce(buf);
  }
} catch (e) {
  process.stderr.write(`rank ${rank}: ${(e as Error).message}\n`);
  process.exitCode = 3;
}
await comm.close();
if (failures.length) process.exitCode = 1;
