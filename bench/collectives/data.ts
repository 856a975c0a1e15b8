// Deterministic per-rank data and the serial reference every collective result is
// checked against (by the benchmark, the rank self-check and the tests).

import {
  DTYPE_SIZE, floatToBf16, floatToFp16, reduceInto, viewAs,
  type CollectiveArray, type DType, type ReduceOp,
} from '../../lib/collectives/index.js';

export function alloc(dtype: DType, count: number): CollectiveArray {
  return viewAs(dtype, new Uint8Array(count * DTYPE_SIZE[dtype]));
}

/**
 * Rank r's input. Floats are small integers so that any reduction order gives the same
 * bits; integers span their range so that wrap-around is exercised.
 */
export function fill(dtype: DType, rank: number, count: number, salt = 0, into?: CollectiveArray): CollectiveArray {
  const a = into ?? alloc(dtype, count);
  for (let i = 0; i < count; i++) {
    const v = ((rank * 7 + i * 3 + salt) % 5) - 2;         // -2..2
    switch (dtype) {
      case 'float32': case 'float64': (a as Float64Array)[i] = v; break;
      case 'int32': (a as Int32Array)[i] = (rank * 1_000_000_007 + i * 7919 + salt) | 0; break;
      case 'int64': (a as BigInt64Array)[i] = BigInt(rank + 1) * 0x1234_5678_9abcn * BigInt(i + 1 + salt) - 99n; break;
      case 'uint8': (a as Uint8Array)[i] = (rank * 61 + i * 7 + salt) & 0xff; break;
      case 'bf16': (a as Uint16Array)[i] = floatToBf16(v); break;
      case 'fp16': (a as Uint16Array)[i] = floatToFp16(v); break;
    }
  }
  return a;
}

/** The reduction of the given inputs done serially, first to last. */
export function serialReduce(dtype: DType, op: ReduceOp, inputs: CollectiveArray[]): CollectiveArray {
  const acc = inputs[0]!.slice() as CollectiveArray;
  for (let r = 1; r < inputs.length; r++) reduceInto(dtype, op, acc, inputs[r]!);
  return acc;
}

/** The reduction of fill(dtype, r, count, salt) over ranks 0..size-1. */
export function expectedReduce(dtype: DType, op: ReduceOp, size: number, count: number, salt = 0): CollectiveArray {
  const acc = fill(dtype, 0, count, salt);
  const tmp = alloc(dtype, count);
  for (let r = 1; r < size; r++) reduceInto(dtype, op, acc, fill(dtype, r, count, salt, tmp));
  return acc;
}

/** Elements whose bytes differ (nccl-tests' #wrong). */
export function countWrong(got: CollectiveArray, want: CollectiveArray): number {
  if (got.length !== want.length) return Math.max(got.length, want.length);
  const esize = got.BYTES_PER_ELEMENT;
  const x = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const y = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  let wrong = 0;
  for (let i = 0; i < got.length; i++) {
    for (let b = 0; b < esize; b++) {
      if (x[i * esize + b] !== y[i * esize + b]) { wrong++; break; }
    }
  }
  return wrong;
}

export function concat(dtype: DType, parts: CollectiveArray[]): CollectiveArray {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) { out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off); off += p.byteLength; }
  return viewAs(dtype, out);
}
