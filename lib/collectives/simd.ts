// Vector reduction kernels. Scalar typed-array loops in V8 run at a few ns per element,
// which made the reduction step of a ring as slow as the transfer it should hide behind.
// A tiny WebAssembly module with 128-bit SIMD adds 4 floats per instruction; inputs are
// staged through its memory in cache-sized blocks (a copy is far cheaper than a scalar
// add). Only element-wise ops whose results are bit-identical to the scalar kernels are
// offered: IEEE add and multiply of float32/float64 (float32 through float64 and back
// rounds the same as a float32 op), and wrapping int32 add.

import type { DType, ReduceOp } from './dtypes.js';

/** Bytes of each staging block; two of them (dst, src) live in the module's memory. */
const BLOCK = 64 * 1024;
/** Below this many bytes the staging overhead outweighs the vector loop. */
export const SIMD_MIN_BYTES = 2048;

type Kernel = (dst: number, src: number, bytes: number) => void;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const str = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

/**
 * (dst, src, bytes): dst[i] = dst[i] op src[i] over `bytes`, `lanes` 128-bit lane groups
 * per iteration; `bytes` is a multiple of 16 * lanes. Four groups per iteration for the
 * bulk: with one, the loop's pointer and counter updates cost as much as the loads,
 * adds and stores themselves.
 */
function body(simdOp: number, lanes: number): number[] {
  const step = 16 * lanes;
  const group = (k: number) => [
    0x20, 0x00,                                    //     dst (store address)
    0x20, 0x00, 0xfd, 0x00, 0x04, ...uleb(16 * k), //     v128.load dst+16k
    0x20, 0x01, 0xfd, 0x00, 0x04, ...uleb(16 * k), //     v128.load src+16k
    0xfd, ...uleb(simdOp),                         //     lane-wise op
    0xfd, 0x0b, 0x04, ...uleb(16 * k),             //     v128.store dst+16k
  ];
  const code = [
    0x00,                                     // no locals
    0x02, 0x40,                               // block
    0x20, 0x02, 0x45, 0x0d, 0x00,             //   br_if (bytes == 0) out
    0x03, 0x40,                               //   loop
    ...Array.from({ length: lanes }, (_, k) => group(k)).flat(),
    0x20, 0x00, 0x41, ...sleb(step), 0x6a, 0x21, 0x00, //     dst += step
    0x20, 0x01, 0x41, ...sleb(step), 0x6a, 0x21, 0x01, //     src += step
    0x20, 0x02, 0x41, ...sleb(step), 0x6b, 0x22, 0x02, //     bytes -= step
    0x0d, 0x00,                               //     br_if (bytes != 0) loop
    0x0b,                                     //   end
    0x0b,                                     // end
    0x0b,                                     // end of function
  ];
  return [...uleb(code.length), ...code];
}

/** Signed LEB128 of a small non-negative constant (i32.const takes signed immediates). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if (n === 0 && (b & 0x40) === 0) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

/** Lane groups per iteration of the bulk kernels; the tail kernels take one. */
const UNROLL = 4;
const BULK = 16 * UNROLL;

// SIMD opcodes (after the 0xfd prefix).
const OPS = { f32add: 228, f32mul: 230, f64add: 240, f64mul: 242, i32add: 174 } as const;
type OpName = keyof typeof OPS;
const NAMES = Object.keys(OPS) as OpName[];

/** The module; its memory is imported, so that every arena (see simdArena) gets an instance of its own. */
function moduleBytes(): Uint8Array {
  const pages = Math.ceil((2 * BLOCK) / 65536);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]),
    ...section(2, [0x01, ...str('env'), ...str('mem'), 0x02, 0x00, ...uleb(pages)]),
    // Per op two functions: the bulk kernel (index 2i) and the one-group tail (2i + 1).
    ...section(3, [...uleb(2 * NAMES.length), ...NAMES.flatMap(() => [0x00, 0x00])]),
    ...section(7, [...uleb(2 * NAMES.length),
      ...NAMES.flatMap((n, i) => [...str(n), 0x00, ...uleb(2 * i), ...str(`${n}_tail`), 0x00, ...uleb(2 * i + 1)])]),
    ...section(10, [...uleb(2 * NAMES.length), ...NAMES.flatMap((n) => [...body(OPS[n], UNROLL), ...body(OPS[n], 1)])]),
  ];
  return new Uint8Array(bytes);
}

/** One instance: its memory (staging blocks first) and its kernels, which address that memory. */
interface Simd { mem: Uint8Array; kernels: Record<OpName, { bulk: Kernel; tail: Kernel }> }

// The compile settings carry no DOM typings, so the slice of the WebAssembly API used here is spelled out.
interface WasmMemory { readonly buffer: ArrayBuffer }
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: { env: { mem: WasmMemory } }) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
}
const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;

let module: object | null | undefined;
let simd: Simd | null | undefined;
/** Arenas by their memory, so that a reduction whose operand lies in one reads it in place. */
const arenas = new WeakMap<ArrayBuffer, Simd>();

function instantiate(pages: number): Simd {
  const memory = new wasm!.Memory({ initial: pages, maximum: pages });
  const ex = new wasm!.Instance(module!, { env: { mem: memory } }).exports;
  const kernels = Object.fromEntries(NAMES.map((n) => [n, { bulk: ex[n] as Kernel, tail: ex[`${n}_tail`] as Kernel }])) as Simd['kernels'];
  return { mem: new Uint8Array(memory.buffer), kernels };
}

function load(): Simd | null {
  if (simd !== undefined) return simd;
  simd = null;
  module = null;
  if (process.env.NLF_SIMD === '0' || !wasm) return simd;
  try {
    module = new wasm.Module(moduleBytes());
    simd = instantiate(Math.ceil((2 * BLOCK) / 65536));
  } catch {
    // No SIMD support in this engine: the scalar kernels serve.
    module = null;
  }
  return simd;
}

/** Whether this engine runs the vector kernels (false when NLF_SIMD=0 or without WebAssembly SIMD). */
export function simdAvailable(): boolean { return load() !== null; }

/** Arenas above this stay ordinary memory: wasm32 addresses 4 GiB, and V8 may refuse large memories. */
const ARENA_MAX = 1 << 30;

/**
 * `bytes` of memory inside a vector kernel instance of their own, or undefined (no SIMD
 * support, too large, or the engine refused). A reduction whose `src` lies in an arena
 * reads it where it is instead of copying it into the staging block first: the
 * communicator's scratch, where incoming data lands, is one, which spares one of the
 * three copies per folded byte. The memory never grows, so views of it stay valid
 * (growing would detach them, and RMA registrations point into it).
 */
export function simdArena(bytes: number): Uint8Array | undefined {
  if (bytes > ARENA_MAX || !load()) return undefined;
  try {
    const s = instantiate(Math.ceil((2 * BLOCK + bytes) / 65536));
    arenas.set(s.mem.buffer as ArrayBuffer, s);
    return s.mem.subarray(2 * BLOCK, 2 * BLOCK + bytes);
  } catch {
    return undefined;
  }
}

function pick(dtype: DType, op: ReduceOp): OpName | undefined {
  if (dtype === 'float32') return op === 'sum' ? 'f32add' : op === 'prod' ? 'f32mul' : undefined;
  if (dtype === 'float64') return op === 'sum' ? 'f64add' : op === 'prod' ? 'f64mul' : undefined;
  if (dtype === 'int32') return op === 'sum' ? 'i32add' : undefined;
  return undefined;
}

/**
 * dst = a op src over byte ranges of `dtype` elements (a defaults to dst), when a vector
 * kernel covers the op. Returns how many leading bytes it reduced (a multiple of 16); the
 * caller finishes the rest. The ops offered are commutative bit for bit, so staging `a`
 * and reading `src` in place (when it lies in an arena) gives the same result.
 */
export function simdReduce(dtype: DType, op: ReduceOp, dst: Uint8Array, src: Uint8Array, a: Uint8Array = dst): number {
  if (dst.byteLength < SIMD_MIN_BYTES) return 0;
  const name = pick(dtype, op);
  if (!name) return 0;
  const common = load();
  if (!common) return 0;
  const arena = arenas.get(src.buffer as ArrayBuffer);
  const s = arena ?? common;
  const k = s.kernels[name];
  const mem = s.mem;
  const total = dst.byteLength & ~15;
  for (let off = 0; off < total; off += BLOCK) {
    const len = Math.min(BLOCK, total - off);
    mem.set(a.subarray(off, off + len), 0);
    let from = BLOCK;
    if (arena) from = src.byteOffset + off;
    else mem.set(src.subarray(off, off + len), BLOCK);
    const bulk = len - (len % BULK);
    if (bulk > 0) k.bulk(0, from, bulk);
    if (bulk < len) k.tail(bulk, from + bulk, len - bulk);
    dst.set(mem.subarray(0, len), off);
  }
  return total;
}
