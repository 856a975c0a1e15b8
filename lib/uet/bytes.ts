// Big-endian field access on plain byte arrays. Callers check the length once per
// header, so these skip the per-call bounds checks of Buffer.readUInt*BE.

import { UetEncodeError } from './errors.js';

export function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function rd24(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}
export function rd32(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
export function rdS16(b: Uint8Array, o: number): number {
  return (((b[o]! << 8) | b[o + 1]!) << 16) >> 16;
}
// 64-bit fields go through one shared 8-byte scratch so that each read or write costs a
// single BigInt conversion instead of several BigInt shifts and ORs.
const S8 = new Uint8Array(8);
const S64 = new BigUint64Array(S8.buffer);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function rd64(b: Uint8Array, o: number): bigint {
  if (LE) {
    S8[0] = b[o + 7]!; S8[1] = b[o + 6]!; S8[2] = b[o + 5]!; S8[3] = b[o + 4]!;
    S8[4] = b[o + 3]!; S8[5] = b[o + 2]!; S8[6] = b[o + 1]!; S8[7] = b[o]!;
  } else {
    for (let i = 0; i < 8; i++) S8[i] = b[o + i]!;
  }
  return S64[0]!;
}

export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function wr24(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 16;
  b[o + 1] = v >>> 8;
  b[o + 2] = v;
}
export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
export function wr64(b: Uint8Array, o: number, v: bigint): void {
  S64[0] = v;
  if (LE) {
    b[o] = S8[7]!; b[o + 1] = S8[6]!; b[o + 2] = S8[5]!; b[o + 3] = S8[4]!;
    b[o + 4] = S8[3]!; b[o + 5] = S8[2]!; b[o + 6] = S8[1]!; b[o + 7] = S8[0]!;
  } else {
    for (let i = 0; i < 8; i++) b[o + i] = S8[i]!;
  }
}

// Encode-side range checks: a value that does not fit is an error, never silently masked.
const UMAX: number[] = Array.from({ length: 33 }, (_, i) => 2 ** i - 1);
const WMAX: bigint[] = Array.from({ length: 65 }, (_, i) => (1n << BigInt(i)) - 1n);

export function uint(v: number, bits: number, field: string): number {
  // v >>> 0 === v holds exactly for the integers 0..2^32-1 (false for NaN, fractions, non-numbers)
  if (v >>> 0 !== v || v > UMAX[bits]!) badValue(field, v, `an unsigned ${bits}-bit integer`);
  return v;
}
export function sint16(v: number, field: string): number {
  if (((v << 16) >> 16) !== v) badValue(field, v, 'a signed 16-bit integer');
  return v & 0xffff;
}
export function wide(v: bigint, bits: number, field: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > WMAX[bits]!) badValue(field, v, `an unsigned ${bits}-bit bigint`);
  return v;
}
export function room(b: Uint8Array, o: number, n: number, what: string): void {
  if (o >>> 0 !== o || b.length - o < n) noRoom(b, o, n, what);
}
// Throw paths live apart so the checks above stay small enough to inline.
function badValue(field: string, v: unknown, what: string): never {
  throw new UetEncodeError(field, `${String(v)} is not ${what}`);
}
function noRoom(b: Uint8Array, o: number, n: number, what: string): never {
  throw new UetEncodeError('length', `${what} needs ${n} bytes at offset ${o}, buffer has ${b.length}`);
}
