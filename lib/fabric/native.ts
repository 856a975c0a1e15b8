// Loads the addon (prebuilds/ first, then build/Release) and prepares libfabric before its
// first call: FI_PROVIDER_PATH gains the directory of the softuet provider.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FabricError, setErrnoTable } from './errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface NativeInfo { readonly __nativeInfo?: never }
export interface NativeInfoDescription {
  provider: string; fabric: string; domain: string; epType: number; caps: bigint; mode: bigint;
  addrFormat: number; mrMode?: number; progress?: number; threading?: number; mrKeySize?: number;
  cqDataSize?: number; maxMsgSize?: number; injectSize?: number; txSize?: number; rxSize?: number;
  srcAddr?: Buffer; msgOrder?: bigint; tclass?: number; handle: NativeInfo;
}
export interface NativeFabric { close(): void }
export interface NativeDomain {
  close(): void; allocBuffer(size: number): Buffer; describe(): Omit<NativeInfoDescription, 'handle'>;
  queryAtomic(datatype: number, op: number, kind: number): number;
}
export interface NativeCq { close(): void; progress(): number; mode(): 'fd' | 'poll' | 'thread'; remoteData(): Promise<{ data: bigint; length: number }> }
export interface NativeAv {
  close(): void; insert(addr: Uint8Array): bigint; insertMany(addrs: Uint8Array[]): bigint[];
  insertSvc(node: string, service: string): bigint; lookup(a: bigint): Buffer; remove(a: bigint): void;
  straddr(addr: Uint8Array): string;
}
export interface NativeCntr {
  close(): void; read(): bigint; readErr(): bigint; add(v: bigint): void; set(v: bigint): void;
  addErr(v: bigint): void; setErr(v: bigint): void;
}
export interface NativeEq { close(): void; read(): null | { event: string; id: number; info?: NativeInfoDescription; error?: FabricError } }
export interface NativeMr { readonly handle: number; close(): void; key(): bigint; addr(offset?: number): bigint; bind(ep: NativeEndpoint): void }
/** A view, a region, or a region's handle (the cheapest form for ops). */
export type NativeLocal = ArrayBufferView | ArrayBuffer | NativeMr | number;
export type NativeOpArgs = [kind: number, local: NativeLocal, offset: number | undefined, length: number | undefined,
  addr: bigint | undefined, tag: bigint | undefined, ignore: bigint | undefined, raddr: bigint | undefined,
  rkey: bigint | undefined, data: bigint | undefined];
export interface NativeEndpoint {
  post(...a: NativeOpArgs): Promise<unknown>;
  inject(...a: NativeOpArgs): void;
  batch(ops: NativeOpArgs[]): Promise<void>;
  atomic(kind: number, local: NativeLocal, offset: number | undefined, length: number | undefined, addr: bigint | undefined,
    raddr: bigint, rkey: bigint, datatype: number, op: number, count: number,
    result?: NativeLocal, resultOffset?: number, compare?: NativeLocal, compareOffset?: number): Promise<void>;
  atomicValid(kind: number, datatype: number, op: number): number;
  close(): void; address(): Buffer; stats(): Record<string, bigint>;
  getopt(name: number, kind: 'size' | 'int'): number;
  connect(addr: Uint8Array): void; accept(): void; shutdown(): void;
}
/** An FI_OPT_ENDPOINT option set before fi_enable; the label names it in errors. */
export type NativeEpOption = [name: number, kind: 'size' | 'int', value: number, label: string];
export interface NativePep { close(): void; address(): Buffer; reject(info: NativeInfo): void }

export interface Addon {
  init(providerDir: string): string;
  setErrorClass(c: typeof FabricError): void;
  setCompletionMaker(f: (length: number, tag?: bigint, data?: bigint, src?: bigint) => object): void;
  strerror(e: number): string;
  codeName(e: number): string;
  getInfo(hints: Record<string, unknown>): NativeInfoDescription[];
  errnoTable: Record<string, number>;
  constants: Record<string, bigint | number>;
  NativeFabric: new (info: NativeInfo) => NativeFabric;
  NativeDomain: new (fabric: NativeFabric, info: NativeInfo) => NativeDomain;
  NativeCq: new (domain: NativeDomain, size: number | undefined, wait: number) => NativeCq;
  NativeAv: new (domain: NativeDomain, type: number | undefined, count: number | undefined) => NativeAv;
  NativeCntr: new (domain: NativeDomain) => NativeCntr;
  NativeEq: new (fabric: NativeFabric, size: number | undefined) => NativeEq;
  NativeMr: new (domain: NativeDomain, mem: ArrayBufferView | ArrayBuffer, access: bigint) => NativeMr;
  NativeEndpoint: new (domain: NativeDomain, info: NativeInfo | null, cq: NativeCq, av: NativeAv | null,
    counters: Array<[NativeCntr, bigint]>, eq: NativeEq | null, id: number, options?: NativeEpOption[]) => NativeEndpoint;
  NativePep: new (fabric: NativeFabric, info: NativeInfo, eq: NativeEq, id: number) => NativePep;
}

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'node-libfabric') return dir;
      } catch { /* not ours */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('node-libfabric: package root not found above ' + start);
    dir = up;
  }
}

/** Directory holding package.json (works from lib/ sources and from dist/). */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** A receive's completion as the binding resolves it: only the fields that apply. */
function makeCompletion(length: number, tag?: bigint, data?: bigint, src?: bigint): object {
  const c: { length: number; tag?: bigint; data?: bigint; src?: bigint } = { length };
  if (data !== undefined) c.data = data;
  if (tag !== undefined) c.tag = tag;
  if (src !== undefined) c.src = src;
  return c;
}

let addon: Addon | undefined;
let version = '';

/** The addon, loaded and initialised on first use. */
export function native(): Addon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as (dir: string) => Addon;
  const a = load(packageRoot);
  a.setErrorClass(FabricError);
  a.setCompletionMaker(makeCompletion);
  setErrnoTable(a.errnoTable);
  const providerDir = process.env.NODE_LIBFABRIC_PROVIDER_DIR ?? join(packageRoot, 'build', 'native', 'prov');
  version = a.init(providerDir);
  addon = a;
  return a;
}

/** libfabric's version as "major.minor" (fi_version()). */
export function libfabricVersion(): string {
  native();
  return version;
}

export function constant(name: string): number {
  const v = native().constants[name];
  if (v === undefined) throw new Error(`unknown libfabric constant ${name}`);
  return Number(v);
}

export function constant64(name: string): bigint {
  const v = native().constants[name];
  if (v === undefined) throw new Error(`unknown libfabric constant ${name}`);
  return BigInt(v);
}
