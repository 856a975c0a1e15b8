// Element types and reduction kernels. Everything here is pure and works on typed
// arrays of one element type; the communicator never touches element values otherwise.

import { simdReduce } from './simd.js';

export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bf16' | 'fp16';
export type ReduceOp = 'sum' | 'prod' | 'min' | 'max';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bf16', 'fp16'];
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'prod', 'min', 'max'];

export type CollectiveArray =
  | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, bf16: 2, fp16: 2,
};

/** nccl-tests spelling of each type, for the benchmark table. */
export const DTYPE_NAME: Readonly<Record<DType, string>> = {
  float32: 'float', float64: 'double', int32: 'int32', int64: 'int64', uint8: 'uint8',
  bf16: 'bfloat16', fp16: 'half',
};

export class CollectiveTypeError extends TypeError {}

/**
 * The element type of an array. A Uint16Array carries 16-bit floats, so its format
 * must be named ('bf16' or 'fp16'); every other array type names itself.
 */
export function dtypeOf(a: ArrayBufferView, declared?: DType): DType {
  let inferred: DType | undefined;
  if (a instanceof Float32Array) inferred = 'float32';
  else if (a instanceof Float64Array) inferred = 'float64';
  else if (a instanceof Int32Array) inferred = 'int32';
  else if (a instanceof BigInt64Array) inferred = 'int64';
  else if (a instanceof Uint8Array) inferred = 'uint8';
  else if (a instanceof Uint16Array) {
    if (declared === 'bf16' || declared === 'fp16') return declared;
    throw new CollectiveTypeError("a Uint16Array needs { dtype: 'bf16' } or { dtype: 'fp16' }");
  } else {
    throw new CollectiveTypeError(
      `unsupported array type ${a.constructor.name}: use Float32Array, Float64Array, Int32Array, ` +
      'BigInt64Array, Uint8Array, or Uint16Array with dtype bf16/fp16');
  }
  if (declared !== undefined && declared !== inferred) {
    throw new CollectiveTypeError(`dtype '${declared}' does not match a ${a.constructor.name}`);
  }
  return inferred;
}

export function isReduceOp(op: string): op is ReduceOp {
  return (REDUCE_OPS as readonly string[]).includes(op);
}

/** A typed view over raw bytes; byteOffset must be element aligned. */
export function viewAs(dtype: DType, bytes: Uint8Array): CollectiveArray {
  const n = bytes.byteLength / DTYPE_SIZE[dtype];
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, n);
    case 'float64': return new Float64Array(buffer, byteOffset, n);
    case 'int32': return new Int32Array(buffer, byteOffset, n);
    case 'int64': return new BigInt64Array(buffer, byteOffset, n);
    case 'uint8': return new Uint8Array(buffer, byteOffset, n);
    case 'bf16': case 'fp16': return new Uint16Array(buffer, byteOffset, n);
  }
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// ---- 16-bit floats -------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

/** Round to nearest even; NaN stays a (quiet) NaN. */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fp16ToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Round to nearest even, overflow to infinity, gradual underflow. */
export function floatToFp16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m !== 0 ? 0x200 : 0);
  let he = e - 127 + 15;
  if (he >= 31) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    m |= 0x800000;
    const shift = 14 - he;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let hm = m >>> shift;
    if (rest > half || (rest === half && (hm & 1))) hm++;
    return sign | hm;
  }
  let hm = m >>> 13;
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (hm & 1))) {
    hm++;
    if (hm === 0x400) { hm = 0; he++; if (he >= 31) return sign | 0x7c00; }
  }
  return sign | (he << 10) | hm;
}

// ---- reduction kernels -----------------------------------------------------------

type Num = number;

function combine(op: ReduceOp): (a: Num, b: Num) => Num {
  switch (op) {
    case 'sum': return (a, b) => a + b;
    case 'prod': return (a, b) => a * b;
    case 'min': return (a, b) => (a < b ? a : b);
    case 'max': return (a, b) => (a > b ? a : b);
  }
}

// Specialised loops, one function per element type and op so each stays monomorphic,
// unrolled by four: the reduction is the hot loop of every reducing collective and the
// generic closure version runs several times slower on large float arrays. Float min
// and max propagate NaN, so a poisoned input stays visible in the result.
function sumFloat32(d: Float32Array, s: Float32Array): void {
  const n = d.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    d[i] = d[i]! + s[i]!; d[i + 1] = d[i + 1]! + s[i + 1]!;
    d[i + 2] = d[i + 2]! + s[i + 2]!; d[i + 3] = d[i + 3]! + s[i + 3]!;
  }
  for (; i < n; i++) d[i] = d[i]! + s[i]!;
}
function prodFloat32(d: Float32Array, s: Float32Array): void {
  const n = d.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    d[i] = d[i]! * s[i]!; d[i + 1] = d[i + 1]! * s[i + 1]!;
    d[i + 2] = d[i + 2]! * s[i + 2]!; d[i + 3] = d[i + 3]! * s[i + 3]!;
  }
  for (; i < n; i++) d[i] = d[i]! * s[i]!;
}
function minFloat32(d: Float32Array, s: Float32Array): void {
  const n = d.length;
  for (let i = 0; i < n; i++) { const x = s[i]!; if (x < d[i]! || x !== x) d[i] = x; }
}
function maxFloat32(d: Float32Array, s: Float32Array): void {
  const n = d.length;
  for (let i = 0; i < n; i++) { const x = s[i]!; if (x > d[i]! || x !== x) d[i] = x; }
}
function sumFloat64(d: Float64Array, s: Float64Array): void {
  const n = d.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    d[i] = d[i]! + s[i]!; d[i + 1] = d[i + 1]! + s[i + 1]!;
    d[i + 2] = d[i + 2]! + s[i + 2]!; d[i + 3] = d[i + 3]! + s[i + 3]!;
  }
  for (; i < n; i++) d[i] = d[i]! + s[i]!;
}
function prodFloat64(d: Float64Array, s: Float64Array): void {
  const n = d.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    d[i] = d[i]! * s[i]!; d[i + 1] = d[i + 1]! * s[i + 1]!;
    d[i + 2] = d[i + 2]! * s[i + 2]!; d[i + 3] = d[i + 3]! * s[i + 3]!;
  }
  for (; i < n; i++) d[i] = d[i]! * s[i]!;
}
function minFloat64(d: Float64Array, s: Float64Array): void {
  const n = d.length;
  for (let i = 0; i < n; i++) { const x = s[i]!; if (x < d[i]! || x !== x) d[i] = x; }
}
function maxFloat64(d: Float64Array, s: Float64Array): void {
  const n = d.length;
  for (let i = 0; i < n; i++) { const x = s[i]!; if (x > d[i]! || x !== x) d[i] = x; }
}
function reduceFloat32(dst: Float32Array, src: Float32Array, op: ReduceOp): void {
  switch (op) {
    case 'sum': return sumFloat32(dst, src);
    case 'prod': return prodFloat32(dst, src);
    case 'min': return minFloat32(dst, src);
    case 'max': return maxFloat32(dst, src);
  }
}

function reduceFloat64(dst: Float64Array, src: Float64Array, op: ReduceOp): void {
  switch (op) {
    case 'sum': return sumFloat64(dst, src);
    case 'prod': return prodFloat64(dst, src);
    case 'min': return minFloat64(dst, src);
    case 'max': return maxFloat64(dst, src);
  }
}

function reduceUint8(dst: Uint8Array, src: Uint8Array, op: ReduceOp): void {
  const n = dst.length;
  // Uint8 stores truncate modulo 256, which is the wrap-around C gives unsigned char.
  switch (op) {
    case 'sum': for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]!; return;
    case 'prod': for (let i = 0; i < n; i++) dst[i] = dst[i]! * src[i]!; return;
    case 'min': for (let i = 0; i < n; i++) if (src[i]! < dst[i]!) dst[i] = src[i]!; return;
    case 'max': for (let i = 0; i < n; i++) if (src[i]! > dst[i]!) dst[i] = src[i]!; return;
  }
}

function reduceInt32(dst: Int32Array, src: Int32Array, op: ReduceOp): void {
  const n = dst.length;
  switch (op) {
    case 'sum': for (let i = 0; i < n; i++) dst[i] = (dst[i]! + src[i]!) | 0; return;
    case 'prod': for (let i = 0; i < n; i++) dst[i] = Math.imul(dst[i]!, src[i]!); return;
    case 'min': for (let i = 0; i < n; i++) if (src[i]! < dst[i]!) dst[i] = src[i]!; return;
    case 'max': for (let i = 0; i < n; i++) if (src[i]! > dst[i]!) dst[i] = src[i]!; return;
  }
}

function reduceInt64(dst: BigInt64Array, src: BigInt64Array, op: ReduceOp): void {
  const n = dst.length;
  switch (op) {
    // BigInt64Array stores wrap modulo 2^64, as C int64 arithmetic does in practice.
    case 'sum': for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]!; return;
    case 'prod': for (let i = 0; i < n; i++) dst[i] = dst[i]! * src[i]!; return;
    case 'min': for (let i = 0; i < n; i++) if (src[i]! < dst[i]!) dst[i] = src[i]!; return;
    case 'max': for (let i = 0; i < n; i++) if (src[i]! > dst[i]!) dst[i] = src[i]!; return;
  }
}

function reduceHalf(dst: Uint16Array, src: Uint16Array, op: ReduceOp,
                    toF: (h: number) => number, fromF: (x: number) => number): void {
  const f = combine(op);
  for (let i = 0; i < dst.length; i++) dst[i] = fromF(f(toF(dst[i]!), toF(src[i]!)));
}

/** dst[i] = dst[i] op src[i]; both views of one dtype and equal length. */
export function reduceInto(dtype: DType, op: ReduceOp, dst: CollectiveArray, src: CollectiveArray): void {
  if (dst.length !== src.length) throw new RangeError(`reduce length mismatch ${dst.length} vs ${src.length}`);
  switch (dtype) {
    case 'float32': return reduceFloat32(dst as Float32Array, src as Float32Array, op);
    case 'float64': return reduceFloat64(dst as Float64Array, src as Float64Array, op);
    case 'uint8': return reduceUint8(dst as Uint8Array, src as Uint8Array, op);
    case 'int32': return reduceInt32(dst as Int32Array, src as Int32Array, op);
    case 'int64': return reduceInt64(dst as BigInt64Array, src as BigInt64Array, op);
    case 'bf16': return reduceHalf(dst as Uint16Array, src as Uint16Array, op, bf16ToFloat, floatToBf16);
    case 'fp16': return reduceHalf(dst as Uint16Array, src as Uint16Array, op, fp16ToFloat, floatToFp16);
  }
}

/**
 * Reduces raw byte ranges holding elements of `dtype`: dst op= src, or with `a`,
 * dst = a op src (a and dst the same length; a may be dst), which spares copying a into
 * dst first: the vector kernel stages its operands anyway.
 */
export function reduceBytes(dtype: DType, op: ReduceOp, dst: Uint8Array, src: Uint8Array, a: Uint8Array = dst): void {
  if (dst.byteLength === 0) return;
  const apart = a !== dst;
  const done = simdReduce(dtype, op, dst, src, a);
  if (done > 0) {
    if (done === dst.byteLength) return;
    dst = dst.subarray(done);
    src = src.subarray(done);
    a = a.subarray(done);
  }
  if (apart) dst.set(a);
  const aligned = (dst.byteOffset % DTYPE_SIZE[dtype]) === 0 && (src.byteOffset % DTYPE_SIZE[dtype]) === 0;
  if (aligned) {
    reduceInto(dtype, op, viewAs(dtype, dst), viewAs(dtype, src));
    return;
  }
  // Unaligned views (a Buffer slice, say) are reduced through aligned copies.
  const d = new Uint8Array(dst);
  reduceInto(dtype, op, viewAs(dtype, d), viewAs(dtype, new Uint8Array(src)));
  dst.set(d);
}
