import { describe, expect, it } from 'vitest';
import {
  CollectiveError, Communicator, createLocalTransports, DTYPES, REDUCE_OPS, viewAs, DTYPE_SIZE, reduceInto, reduceBytes,
  bf16ToFloat, floatToBf16, fp16ToFloat, floatToFp16,
  type Algorithm, type CollectiveArray, type CommunicatorOptions, type DType,
} from '../../lib/collectives/index.js';
import { concat, input, same, serialReduce, withGroup } from './helpers.js';
import { simdArena, simdAvailable } from '../../lib/collectives/simd.js';

const RANKS = [1, 2, 3, 4, 5];
// Tiny thresholds so modest counts already take the chunked, pipelined paths.
const PIPE = { smallBytes: 64, segmentBytes: 96, window: 3 };
const COUNTS = [0, 1, 7, 301];

async function allreduceMatrix(n: number, dtypes: readonly DType[], opts: CommunicatorOptions): Promise<void> {
  for (const dtype of dtypes) {
    for (const op of REDUCE_OPS) {
      for (const count of COUNTS) {
        const inputs = Array.from({ length: n }, (_, r) => input(dtype, r, count));
        const expected = serialReduce(dtype, op, inputs);
        for (const algorithm of ['recursive-doubling', 'direct', 'ring', 'pairwise', 'auto'] as Algorithm[]) {
          const inPlace = count % 2 === 1;
          const outs = await withGroup(n, opts, (c) => {
            const send = inputs[c.rank]!.slice() as CollectiveArray;
            const recv = inPlace ? send : viewAs(dtype, new Uint8Array(send.byteLength));
            return c.allreduce(send, recv, { op, dtype, algorithm });
          });
          for (let r = 0; r < n; r++) {
            expect(same(outs[r]!, expected), `${dtype} ${op} count ${count} ${algorithm} rank ${r}`).toBe(true);
          }
        }
      }
    }
  }
}

describe('allreduce equals a serial reduction', () => {
  for (const n of RANKS) {
    it(`${n} ranks: every dtype, op, count, algorithm, in and out of place`, async () => {
      await allreduceMatrix(n, DTYPES, PIPE);
    });
  }
  for (const n of [2, 3, 5]) {
    it(`${n} ranks without RMA (tagged messages only)`, async () => {
      await allreduceMatrix(n, ['float32', 'int64', 'fp16'], { ...PIPE, rma: false });
    });
  }

  it('large arrays with default thresholds (recursive doubling, pair exchange and many ring chunks)', async () => {
    for (const n of [2, 3, 4]) {
      for (const count of [5000, 300_001]) {
        const inputs = Array.from({ length: n }, (_, r) => input('float32', r, count));
        const expected = serialReduce('float32', 'sum', inputs);
        const outs = await withGroup(n, { segmentBytes: 16 * 1024 }, (c) => c.allreduce(inputs[c.rank]!.slice() as Float32Array));
        for (const o of outs) expect(same(o, expected)).toBe(true);
      }
    }
  });

  it('leaves the send buffer alone out of place, and fills every element of recv', async () => {
    for (const n of [2, 3, 4]) {
      for (const algorithm of ['ring', 'pairwise', 'auto'] as const) {
        const outs = await withGroup(n, PIPE, async (c) => {
          const send = new Int32Array(50).fill(c.rank + 1);
          const recv = new Int32Array(50).fill(-7);
          await c.allreduce(send, recv, { algorithm });
          return [send, recv] as const;
        });
        for (const [send, recv] of outs) {
          expect(recv.every((v) => v === (n * (n + 1)) / 2), `${n} ranks ${algorithm}`).toBe(true);
          expect(new Set(send).size).toBe(1);
        }
      }
    }
  });
});

describe('broadcast, reduce', () => {
  for (const n of RANKS) {
    it(`${n} ranks, every root, tree and chain`, async () => {
      for (const count of COUNTS) {
        for (const root of Array.from({ length: n }, (_, i) => i)) {
          for (const algorithm of ['tree', 'ring'] as Algorithm[]) {
            const data = input('float64', root, count, 11);
            const outs = await withGroup(n, PIPE, (c) => {
              const buf = c.rank === root ? data.slice() as Float64Array : new Float64Array(count);
              return c.broadcast(buf, { root, algorithm });
            });
            for (const o of outs) expect(same(o, data)).toBe(true);

            for (const dtype of ['int32', 'bf16', 'int64'] as DType[]) {
              const op = REDUCE_OPS[(root + count) % 4]!;
              const inputs = Array.from({ length: n }, (_, r) => input(dtype, r, count, 3));
              const expected = serialReduce(dtype, op, inputs);
              const res = await withGroup(n, PIPE, async (c) => {
                const send = inputs[c.rank]!.slice() as CollectiveArray;
                const recv = c.rank === root ? viewAs(dtype, new Uint8Array(count * DTYPE_SIZE[dtype])) : null;
                const out = await c.reduce(send, recv, { op, dtype, root, algorithm });
                return { out, send };
              });
              expect(same(res[root]!.out, expected), `${dtype} ${op} root ${root} ${algorithm}`).toBe(true);
              for (let r = 0; r < n; r++) expect(same(res[r]!.send, inputs[r]!)).toBe(true);
            }
          }
        }
      }
    });
  }
});

describe('allgather, reduceScatter, alltoall', () => {
  for (const [n, rma] of [...RANKS.map((n) => [n, true] as const), [3, false] as const, [4, false] as const]) {
    const PIPE = { smallBytes: 64, segmentBytes: 96, window: 3, rma };
    it(`${n} ranks${rma ? '' : ' without RMA'}`, async () => {
      for (const count of COUNTS) {
        for (const inPlace of [false, true]) {
          // allgather
          const parts = Array.from({ length: n }, (_, r) => input('uint8', r, count, 5) as Uint8Array);
          const gathered = await withGroup(n, PIPE, (c) => {
            const recv = new Uint8Array(count * n);
            if (inPlace) {
              recv.set(parts[c.rank]!, c.rank * count);
              return c.allgather(recv, recv);
            }
            return c.allgather(parts[c.rank]!.slice() as Uint8Array, recv);
          });
          const all = concat('uint8', parts);
          for (const g of gathered) expect(same(g, all), `allgather count ${count}`).toBe(true);

          // reduceScatter
          for (const [dtype, op] of [...REDUCE_OPS.map((op) => ['float32', op] as const),
                                     ['int64', REDUCE_OPS[(count + n) % 4]!] as const,
                                     ['fp16', REDUCE_OPS[(count + n + 1) % 4]!] as const]) {
            const inputs = Array.from({ length: n }, (_, r) => input(dtype, r, count * n, 1));
            const full = serialReduce(dtype, op, inputs);
            const outs = await withGroup(n, PIPE, (c) => {
              const send = inputs[c.rank]!.slice() as CollectiveArray;
              const recv = inPlace ? send : viewAs(dtype, new Uint8Array(count * DTYPE_SIZE[dtype]));
              return c.reduceScatter(send, recv, { op, dtype });
            });
            for (let r = 0; r < n; r++) {
              expect(same(outs[r]!, full.subarray(r * count, (r + 1) * count) as CollectiveArray),
                `reduceScatter ${dtype} ${op} count ${count} rank ${r}`).toBe(true);
            }
          }

          // alltoall: block j of rank i is i*1000 + j*10 + k
          const make = (i: number) => Float64Array.from({ length: n * count }, (_, x) =>
            i * 1000 + Math.floor(x / count) * 10 + (x % count));
          const outs = await withGroup(n, PIPE, (c) => {
            const send = make(c.rank);
            return c.alltoall(send, inPlace ? send : new Float64Array(n * count));
          });
          for (let j = 0; j < n; j++) {
            const want = Float64Array.from({ length: n * count }, (_, x) =>
              Math.floor(x / count) * 1000 + j * 10 + (x % count));
            expect(same(outs[j]!, want), `alltoall count ${count} rank ${j}`).toBe(true);
          }
        }
      }
    });
  }
});

describe('large counts with the default thresholds', () => {
  for (const n of [3, 5]) {
    it(`${n} ranks: every collective on 100003 elements per block`, async () => {
      const count = 100_003;
      const outs = await withGroup(n, { segmentBytes: 32 * 1024 }, async (c) => {
        const r = c.rank;
        const bc = await c.broadcast(c.rank === 1 ? input('float32', 1, count, 2) : new Float32Array(count), 1);
        const red = await c.reduce(input('int32', r, count, 3), r === n - 1 ? new Int32Array(count) : null, { op: 'max', root: n - 1 });
        const ag = await c.allgather(input('float64', r, count, 4), new Float64Array(count * n));
        const rs = await c.reduceScatter(input('float32', r, count * n, 5), new Float32Array(count), { op: 'sum' });
        const a2a = await c.alltoall(input('int32', r, count * n, 6), new Int32Array(count * n));
        return { bc, red, ag, rs, a2a };
      });
      const rsFull = serialReduce('float32', 'sum', Array.from({ length: n }, (_, r) => input('float32', r, count * n, 5)));
      const redFull = serialReduce('int32', 'max', Array.from({ length: n }, (_, r) => input('int32', r, count, 3)));
      const agFull = concat('float64', Array.from({ length: n }, (_, r) => input('float64', r, count, 4)));
      const sends = Array.from({ length: n }, (_, r) => input('int32', r, count * n, 6) as Int32Array);
      for (let r = 0; r < n; r++) {
        const o = outs[r]!;
        expect(same(o.bc, input('float32', 1, count, 2))).toBe(true);
        if (r === n - 1) expect(same(o.red, redFull)).toBe(true);
        expect(same(o.ag, agFull)).toBe(true);
        expect(same(o.rs, rsFull.subarray(r * count, (r + 1) * count) as CollectiveArray)).toBe(true);
        const want = concat('int32', sends.map((s) => s.subarray(r * count, (r + 1) * count)));
        expect(same(o.a2a, want)).toBe(true);
      }
    });
  }
});

describe('vector reduction kernels', () => {
  // reduceBytes hands large float and int32 ranges to SIMD kernels; they must agree with
  // the scalar kernels bit for bit, at any alignment and any tail length.
  it('are in use on this engine', () => {
    expect(simdAvailable() || process.env.NLF_SIMD === '0').toBe(true);
    expect(simdArena(1 << 20) !== undefined || process.env.NLF_SIMD === '0').toBe(true);
  });
  const rnd = (() => { let x = 777; return () => { x = (x * 1103515245 + 12345) >>> 0; return x; }; })();
  for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
    for (const op of REDUCE_OPS) {
      it(`${dtype} ${op}`, () => {
        const es = DTYPE_SIZE[dtype];
        for (const count of [600, 4099, 70001]) {
          const mk = () => {
            const v = viewAs(dtype, new Uint8Array(count * es));
            for (let k = 0; k < count; k++) {
              (v as Float64Array)[k] = dtype === 'int32' ? rnd() | 0 : ((rnd() % 200001) - 100000) / 64 * (1 + (rnd() % 3) * 1e-7);
            }
            return v;
          };
          const a = mk(), b = mk();
          const want = a.slice() as CollectiveArray;
          reduceInto(dtype, op, want, b);
          // Offsets 0 and 3 give aligned and unaligned byte views.
          for (const shift of [0, 3]) {
            const dst = new Uint8Array(count * es + shift).subarray(shift);
            dst.set(new Uint8Array(a.buffer));
            const src = new Uint8Array(count * es + 5).subarray(5 - shift);
            src.set(new Uint8Array(b.buffer));
            reduceBytes(dtype, op, dst, src);
            expect(Buffer.compare(Buffer.from(dst), Buffer.from(new Uint8Array(want.buffer))), `${count} shift ${shift}`).toBe(0);
          }
          // An operand in a kernel arena (the communicator's scratch) is read in place.
          for (const at of [8, 3]) {
            const arena = simdArena(count * es + 16);
            if (!arena) continue;
            const src = arena.subarray(at, at + count * es);
            src.set(new Uint8Array(b.buffer));
            const dst = new Uint8Array(count * es);
            reduceBytes(dtype, op, dst, src, new Uint8Array(a.buffer));
            expect(Buffer.compare(Buffer.from(dst), Buffer.from(new Uint8Array(want.buffer))), `${count} arena at ${at}`).toBe(0);
          }
        }
      });
    }
  }
});

describe('reduction kernels against scalar arithmetic', () => {
  // The serial reference above shares reduceInto with the communicator; these checks
  // pin the kernels themselves to plain per-element arithmetic.
  const n = 1031;
  const rnd = (() => { let x = 12345; return () => { x = (x * 1103515245 + 12345) >>> 0; return x; }; })();
  const a32 = Float32Array.from({ length: n }, () => (rnd() % 2001 - 1000) / 8);
  const b32 = Float32Array.from({ length: n }, () => (rnd() % 2001 - 1000) / 8);
  const ai = Int32Array.from({ length: n }, () => rnd() | 0);
  const bi = Int32Array.from({ length: n }, () => rnd() | 0);
  const a64 = BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, BigInt(rnd()) * BigInt(rnd()) * 977n));
  const b64 = BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, BigInt(rnd()) * BigInt(rnd()) * 131n));
  const a8 = Uint8Array.from({ length: n }, () => rnd() & 255);
  const b8 = Uint8Array.from({ length: n }, () => rnd() & 255);
  const scalar = {
    sum: (x: number, y: number) => x + y, prod: (x: number, y: number) => x * y,
    min: (x: number, y: number) => Math.min(x, y), max: (x: number, y: number) => Math.max(x, y),
  };
  const big = {
    sum: (x: bigint, y: bigint) => x + y, prod: (x: bigint, y: bigint) => x * y,
    min: (x: bigint, y: bigint) => (x < y ? x : y), max: (x: bigint, y: bigint) => (x > y ? x : y),
  };
  for (const op of REDUCE_OPS) {
    it(op, () => {
      const f = a32.slice(); reduceInto('float32', op, f, b32);
      const d = Float64Array.from(a32); reduceInto('float64', op, d, Float64Array.from(b32));
      const i = ai.slice(); reduceInto('int32', op, i, bi);
      const l = a64.slice(); reduceInto('int64', op, l, b64);
      const u = a8.slice(); reduceInto('uint8', op, u, b8);
      for (let k = 0; k < n; k++) {
        expect(f[k]).toBe(Math.fround(scalar[op](a32[k]!, b32[k]!)));
        expect(d[k]).toBe(scalar[op](a32[k]!, b32[k]!));
        expect(i[k]).toBe(op === 'prod' ? Math.imul(ai[k]!, bi[k]!) : scalar[op](ai[k]!, bi[k]!) | 0);
        expect(l[k]).toBe(BigInt.asIntN(64, big[op](a64[k]!, b64[k]!)));
        expect(u[k]).toBe(scalar[op](a8[k]!, b8[k]!) & 255);
      }
      const h = Uint16Array.from([floatToBf16(1.5), floatToBf16(-3)]);
      reduceInto('bf16', op, h, Uint16Array.from([floatToBf16(2.25), floatToBf16(0.5)]));
      expect([bf16ToFloat(h[0]!), bf16ToFloat(h[1]!)]).toEqual([scalar[op](1.5, 2.25), scalar[op](-3, 0.5)]);
      const g = Uint16Array.from([floatToFp16(1.5), floatToFp16(-3)]);
      reduceInto('fp16', op, g, Uint16Array.from([floatToFp16(2.25), floatToFp16(0.5)]));
      expect([fp16ToFloat(g[0]!), fp16ToFloat(g[1]!)]).toEqual([scalar[op](1.5, 2.25), scalar[op](-3, 0.5)]);
    });
  }
  it('16-bit float conversions round to nearest even and keep specials', () => {
    expect(floatToFp16(65504)).toBe(0x7bff);
    expect(floatToFp16(65520)).toBe(0x7c00);           // rounds up to infinity
    expect(floatToFp16(2 ** -24)).toBe(1);             // smallest subnormal
    expect(fp16ToFloat(floatToFp16(0.1))).toBeCloseTo(0.0999755859375, 12);
    expect(Number.isNaN(fp16ToFloat(floatToFp16(NaN)))).toBe(true);
    expect(bf16ToFloat(floatToBf16(1 + 2 ** -8))).toBe(1);          // tie to even
    expect(bf16ToFloat(floatToBf16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
    expect(Number.isNaN(bf16ToFloat(floatToBf16(NaN)))).toBe(true);
  });
});

describe('RMA offers that differ between ranks', () => {
  it('each link follows its receiver: ranks that do not offer memory get messages', async () => {
    for (const n of [2, 3, 4, 5]) {
      const comms = createLocalTransports(n).map((t) => new Communicator(t, { ...PIPE, rma: t.rank % 2 === 0 }));
      const count = 257;
      try {
        const outs = await Promise.all(comms.map(async (c) => {
          const ar = await c.allreduce(input('float64', c.rank, count * n, 1), null, { algorithm: 'ring' });
          const ag = await c.allgather(input('int32', c.rank, count, 2), new Int32Array(count * n));
          const rs = await c.reduceScatter(input('float32', c.rank, count * n, 3), new Float32Array(count), { op: 'max' });
          return { ar, ag, rs };
        }));
        const ar = serialReduce('float64', 'sum', Array.from({ length: n }, (_, r) => input('float64', r, count * n, 1)));
        const ag = concat('int32', Array.from({ length: n }, (_, r) => input('int32', r, count, 2)));
        const rs = serialReduce('float32', 'max', Array.from({ length: n }, (_, r) => input('float32', r, count * n, 3)));
        for (const [r, o] of outs.entries()) {
          expect(same(o.ar, ar)).toBe(true);
          expect(same(o.ag, ag)).toBe(true);
          expect(same(o.rs, rs.subarray(r * count, (r + 1) * count) as CollectiveArray)).toBe(true);
        }
      } finally {
        await Promise.all(comms.map((c) => c.close()));
      }
    }
  });
});

describe('a lagging rank', () => {
  it('is not overwritten by gather writes while it still reduces (RMA rings and pairwise)', async () => {
    for (const n of [3, 4, 5]) {
      for (const lagRank of [0, 1, n - 1]) {
        for (const algorithm of ['ring', 'pairwise'] as const) {
          const comms = createLocalTransports(n, { lag: { rank: lagRank, ms: 3 } })
            .map((t) => new Communicator(t, { smallBytes: 64, segmentBytes: 256, window: 2 }));
          const count = 1001;
          try {
            const outs = await Promise.all(comms.map((c) => c.allreduce(input('float32', c.rank, count, 7), null, { algorithm })));
            const want = serialReduce('float32', 'sum', Array.from({ length: n }, (_, r) => input('float32', r, count, 7)));
            for (const o of outs) expect(same(o, want), `${n} ranks, rank ${lagRank} lagging, ${algorithm}`).toBe(true);
          } finally {
            await Promise.all(comms.map((c) => c.close()));
          }
        }
      }
    }
  });
});

describe('back-to-back ring collectives into kept scratch', () => {
  it('a fast neighbour never writes into scratch a lagging rank still reads', async () => {
    for (const n of [2, 4]) {
      for (const lagRank of [0, n - 1]) {
        const comms = createLocalTransports(n, { lag: { rank: lagRank, ms: 2 } })
          .map((t) => new Communicator(t, { smallBytes: 64, segmentBytes: 256, window: 2 }));
        try {
          // Issued without waiting, so the fast ranks run ahead; sizes grow to move the scratch.
          const runs = comms.map((c) => {
            const jobs: Promise<{ what: string; got: CollectiveArray; want: CollectiveArray }>[] = [];
            for (const [i, count] of [501, 501, 900, 900, 1700, 501].entries()) {
              const seed = 11 + i;
              for (const algorithm of ['ring', 'pairwise', 'auto'] as const) {
                jobs.push(c.allreduce(input('float32', c.rank, count, seed), null, { algorithm }).then((got) => ({
                  what: `allreduce ${algorithm} ${count}`, got,
                  want: serialReduce('float32', 'sum', Array.from({ length: n }, (_, r) => input('float32', r, count, seed))),
                })));
              }
              const all = serialReduce('int32', 'sum', Array.from({ length: n }, (_, r) => input('int32', r, count * n, seed)));
              jobs.push(c.reduceScatter(input('int32', c.rank, count * n, seed), new Int32Array(count)).then((got) => ({
                what: `reduceScatter ${count}`, got, want: all.subarray(c.rank * count, (c.rank + 1) * count) as CollectiveArray,
              })));
              jobs.push(c.allgather(input('float64', c.rank, count, seed), new Float64Array(count * n)).then((got) => ({
                what: `allgather ${count}`, got,
                want: concat('float64', Array.from({ length: n }, (_, r) => input('float64', r, count, seed))),
              })));
            }
            return Promise.all(jobs);
          });
          for (const [r, results] of (await Promise.all(runs)).entries()) {
            for (const x of results) expect(same(x.got, x.want), `${n} ranks, rank ${lagRank} lagging, rank ${r}: ${x.what}`).toBe(true);
          }
        } finally {
          await Promise.all(comms.map((c) => c.close()));
        }
      }
    }
  });
});

describe('barrier and ordering', () => {
  it('no rank leaves a barrier before the last one enters', async () => {
    for (const n of RANKS) {
      const entered: number[] = [];
      let minLeftAfter = Infinity;
      await withGroup(n, {}, async (c) => {
        await new Promise((r) => setTimeout(r, c.rank * 15));
        entered.push(c.rank);
        await c.barrier();
        minLeftAfter = Math.min(minLeftAfter, entered.length);
      });
      expect(minLeftAfter).toBe(n);
    }
  });

  it('collectives issued without awaiting run in issue order', async () => {
    const outs = await withGroup(4, PIPE, async (c) => {
      const a = c.allreduce(new Int32Array([c.rank]));
      const b = c.broadcast(new Int32Array([c.rank * 10]), 2);
      const d = c.allreduce(new Float32Array(1000).fill(1));
      return [(await a)[0], (await b)[0], (await d)[999]];
    });
    for (const o of outs) expect(o).toEqual([6, 20, 4]);
  });
});

describe('errors', () => {
  it('rejects bad arguments clearly without touching the communicator', async () => {
    const [c] = createLocalTransports(1).map((t) => new Communicator(t));
    expect(() => c!.allreduce(new Uint16Array(4))).toThrow(/bf16/);
    expect(() => c!.allreduce(new Float32Array(4), null, { op: 'avg' as never })).toThrow(/unknown reduce op 'avg'/);
    expect(() => c!.allreduce(new Float32Array(4), new Float32Array(5))).toThrow(/5 elements/);
    expect(() => c!.allreduce(new Float32Array(4), new Float64Array(4) as never)).toThrow(/Float64Array/);
    expect(() => c!.broadcast(new Float32Array(4), 3)).toThrow(/root 3/);
    expect(() => c!.allreduce(new Int16Array(4) as never)).toThrow(/unsupported array type Int16Array/);
    await expect(c!.allreduce(new Float32Array([2]))).resolves.toEqual(new Float32Array([2]));
    await c!.close();
    await expect(c!.barrier()).rejects.toThrow(/closed/);
  });

  it('a peer that never joins makes the others fail with a timeout, not a hang', async () => {
    const comms = createLocalTransports(3).map((t) => new Communicator(t, { timeoutMs: 300 }));
    const t0 = Date.now();
    const results = await Promise.allSettled([comms[0]!.allreduce(new Float32Array(10)), comms[1]!.allreduce(new Float32Array(10))]);
    expect(Date.now() - t0).toBeLessThan(3000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason;
      expect(e).toBeInstanceOf(CollectiveError);
      expect(e.code).toBe('TIMEOUT');
      expect(String(e.message)).toMatch(/did not complete within 300 ms/);
    }
    // A communicator that failed stays failed: its peers are out of step.
    await expect(comms[0]!.barrier()).rejects.toThrow(/did not complete/);
    await Promise.all(comms.map((c) => c.close()));
  });

  it('the timeout bounds each collective, also after many quick ones and idle spells', async () => {
    const comms = createLocalTransports(2).map((t) => new Communicator(t, { timeoutMs: 250 }));
    for (let i = 0; i < 50; i++) {
      const outs = await Promise.all(comms.map((c) => c.allreduce(Float32Array.from([c.rank + 1]))));
      expect(outs.map((o) => o[0])).toEqual([3, 3]);
    }
    // Idle for longer than the bound: nothing may fire on a communicator with no collective.
    await new Promise((r) => setTimeout(r, 400));
    const again = await Promise.all(comms.map((c) => c.allreduce(Float32Array.from([c.rank + 1]))));
    expect(again.map((o) => o[0])).toEqual([3, 3]);
    // Quick collectives just before one that stalls must not extend its bound.
    for (let i = 0; i < 20; i++) await Promise.all(comms.map((c) => c.barrier()));
    const t0 = Date.now();
    const stalled = comms[0]!.allreduce(new Float32Array(4));
    await expect(stalled).rejects.toMatchObject({ code: 'TIMEOUT' });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(2000);
    await Promise.all(comms.map((c) => c.close()));
  });

  it('mismatched collectives across ranks fail with a protocol error', async () => {
    const comms = createLocalTransports(2).map((t) => new Communicator(t, { timeoutMs: 2000 }));
    const results = await Promise.allSettled([comms[0]!.allreduce(new Float32Array(10)), comms[1]!.allreduce(new Float32Array(12))]);
    expect(results.some((r) => r.status === 'rejected' && /has 48 bytes, receive expects 40|has 40 bytes, receive expects 48/.test(String(r.reason)))).toBe(true);
    await Promise.all(comms.map((c) => c.close()));
  });

  it('an abort reaches every pending operation', async () => {
    const ts = createLocalTransports(2);
    const comms = ts.map((t) => new Communicator(t, { timeoutMs: 10_000 }));
    const p = comms[0]!.allreduce(new Float64Array(100_000));
    setTimeout(() => ts[0]!.abort(new CollectiveError('rank 1 exited with code 9', 'PEER_EXIT')), 20);
    await expect(p).rejects.toThrow(/rank 1 exited with code 9/);
    await Promise.all(comms.map((c) => c.close()));
  });
});
