// Endpoints and their ops. Every op returns a Promise settled by its completion; an error
// completion rejects with a FabricError carrying the provider's text.
import type { AddressVector } from './av.js';
import type { CounterEvent } from './counter.js';
import type { CompletionQueue } from './cq.js';
import { newEndpointId, type Domain, type EndpointOptions, type SoftuetCc, type SoftuetEndpointOptions } from './domain.js';
import { fabricError } from './errors.js';
import type { EventQueue } from './eq.js';
import type { Fabric } from './fabric.js';
import type { Info } from './info.js';
import { checkRemote, MemoryRegion, type RemoteRegion } from './mr.js';
import { constant, native, type NativeEndpoint, type NativeEpOption, type NativeLocal, type NativeOpArgs, type NativePep } from './native.js';

/** A local buffer: any view (registered by the binding when the provider needs it) or part of a MemoryRegion. */
export type Local = ArrayBufferView | ArrayBuffer | { mr: MemoryRegion; offset?: number; length?: number };

export interface Completion {
  /** Bytes received. */
  length: number;
  /** Remote CQ data (senddata/writedata), when the message carried some. */
  data?: bigint;
  /** Tag of a tagged receive. */
  tag?: bigint;
  /** Sender's fi_addr when the provider reports the source (FI_SOURCE). */
  src?: bigint;
}

export type AtomicOp = 'min' | 'max' | 'sum' | 'prod' | 'lor' | 'land' | 'bor' | 'band' | 'lxor' | 'bxor'
  | 'read' | 'write' | 'cswap' | 'cswap-ne' | 'cswap-le' | 'cswap-lt' | 'cswap-ge' | 'cswap-gt' | 'mswap';
const ATOMIC_OPS: Record<AtomicOp, string> = {
  min: 'FI_MIN', max: 'FI_MAX', sum: 'FI_SUM', prod: 'FI_PROD', lor: 'FI_LOR', land: 'FI_LAND', bor: 'FI_BOR',
  band: 'FI_BAND', lxor: 'FI_LXOR', bxor: 'FI_BXOR', read: 'FI_ATOMIC_READ', write: 'FI_ATOMIC_WRITE',
  cswap: 'FI_CSWAP', 'cswap-ne': 'FI_CSWAP_NE', 'cswap-le': 'FI_CSWAP_LE', 'cswap-lt': 'FI_CSWAP_LT',
  'cswap-ge': 'FI_CSWAP_GE', 'cswap-gt': 'FI_CSWAP_GT', mswap: 'FI_MSWAP',
};

export type AtomicArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

function datatypeOf(a: unknown, what: string): { dt: number; name: string } {
  const t: Array<[new (...x: never[]) => unknown, string]> = [
    [Int8Array, 'FI_INT8'], [Uint8Array, 'FI_UINT8'], [Uint8ClampedArray, 'FI_UINT8'], [Int16Array, 'FI_INT16'],
    [Uint16Array, 'FI_UINT16'], [Int32Array, 'FI_INT32'], [Uint32Array, 'FI_UINT32'], [BigInt64Array, 'FI_INT64'],
    [BigUint64Array, 'FI_UINT64'], [Float32Array, 'FI_FLOAT'], [Float64Array, 'FI_DOUBLE'],
  ];
  for (const [ctor, name] of t) if (a instanceof ctor) return { dt: constant(name), name };
  throw new TypeError(`${what} must be a TypedArray (Int8Array ... Float64Array, BigInt64Array, BigUint64Array)`);
}

const K = {
  send: 0, senddata: 1, recv: 2, tsend: 3, tsenddata: 4, trecv: 5, write: 6, writedata: 7, read: 8,
  atomic: 9, fetch: 10, compare: 11,
} as const;

const EVENTS: Record<CounterEvent, string> = {
  send: 'FI_SEND', recv: 'FI_RECV', read: 'FI_READ', write: 'FI_WRITE', 'remote-read': 'FI_REMOTE_READ',
  'remote-write': 'FI_REMOTE_WRITE',
};

function local(l: Local, what = 'buffer'): [NativeLocal, number | undefined, number | undefined] {
  if (ArrayBuffer.isView(l) || l instanceof ArrayBuffer) return [l, undefined, undefined];
  if (l && typeof l === 'object' && (l as { mr?: unknown }).mr instanceof MemoryRegion) {
    const { mr, offset, length } = l as { mr: MemoryRegion; offset?: number; length?: number };
    if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0)) throw new RangeError(`${what}.offset must be a non-negative integer`);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new RangeError(`${what}.length must be a non-negative integer`);
    if (mr.isClosed) throw fabricError('FI_EINVAL', `${what}: MemoryRegion is closed`);
    return [mr.native.handle, offset, length];
  }
  throw new TypeError(`${what} must be an ArrayBufferView, an ArrayBuffer or { mr: MemoryRegion, offset?, length? }`);
}

function localLength(l: Local): number {
  if (ArrayBuffer.isView(l) || l instanceof ArrayBuffer) return l.byteLength;
  const x = l as { mr: MemoryRegion; offset?: number; length?: number };
  return x.length ?? x.mr.length - (x.offset ?? 0);
}

function addr(v: bigint, what: string): bigint {
  if (typeof v !== 'bigint') throw new TypeError(`${what} must be a bigint fi_addr (from AddressVector.insert)`);
  return v;
}

function tagOf(v: bigint | undefined, what: string): bigint | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw new TypeError(`${what} must be a bigint in [0, 2^64)`);
  return v;
}

/** Remote address for `len` bytes at `offset` of `remote`, checked against its length. */
function remoteAddr(remote: RemoteRegion, offset: number, len: number, op: string): bigint {
  checkRemote(remote, 'remote');
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('remoteOffset must be a non-negative integer');
  if (offset + len > remote.length) {
    throw fabricError('FI_EINVAL', `${op} of ${len} bytes at remote offset ${offset} exceeds the remote region's ${remote.length} bytes`);
  }
  return offset === 0 ? remote.addr : remote.addr + BigInt(offset);
}

function remoteAt(remote: RemoteRegion, offset: number, len: number, op: string): [bigint, bigint] {
  return [remoteAddr(remote, offset, len, op), remote.key];
}

function reject(e: unknown): Promise<never> { return Promise.reject(e); }

export interface BatchOp {
  op: 'send' | 'senddata' | 'tsend' | 'write' | 'writedata' | 'read' | 'recv' | 'trecv';
  buf: Local;
  dest?: bigint;
  tag?: bigint;
  ignore?: bigint;
  data?: bigint;
  remote?: RemoteRegion;
  remoteOffset?: number;
}

const CC_BITS: Record<SoftuetCc, string[]> = {
  'nscc+rccc': ['FI_SOFTUET_CC_NSCC', 'FI_SOFTUET_CC_RCCC'], nscc: ['FI_SOFTUET_CC_NSCC'],
  rccc: ['FI_SOFTUET_CC_RCCC'], off: [],
};

/** EndpointOptions.softuet as the fi_setopt calls the addon makes before fi_enable. */
function softuetOptions(o: SoftuetEndpointOptions | undefined, provider: string): NativeEpOption[] | undefined {
  if (o === undefined) return undefined;
  if (o === null || typeof o !== 'object') throw new TypeError('softuet options must be an object { mtu?, cc? }');
  if (provider !== 'softuet' && (o.mtu !== undefined || o.cc !== undefined)) {
    throw fabricError('FI_ENOPROTOOPT', `softuet options need the softuet provider; this endpoint's is ${provider}`);
  }
  const out: NativeEpOption[] = [];
  if (o.mtu !== undefined) {
    if (!Number.isInteger(o.mtu) || o.mtu < 256 || o.mtu > 16000) throw new RangeError(`softuet.mtu must be an integer from 256 to 16000, got ${String(o.mtu)}`);
    out.push([constant('FI_OPT_SOFTUET_MTU'), 'size', o.mtu, 'softuet.mtu']);
  }
  if (o.cc !== undefined) {
    const bits = Object.hasOwn(CC_BITS, o.cc) ? CC_BITS[o.cc] : undefined;
    if (!bits) throw new RangeError(`softuet.cc must be one of ${Object.keys(CC_BITS).join(', ')}, got ${String(o.cc)}`);
    out.push([constant('FI_OPT_SOFTUET_CC'), 'int', bits.reduce((a, b) => a | constant(b), 0), 'softuet.cc']);
  }
  return out;
}

export class Endpoint {
  readonly domain: Domain;
  /** Identifies this endpoint in EventQueue events. */
  readonly id: number;
  readonly type: Info['endpointType'];
  readonly cq: CompletionQueue;
  readonly av: AddressVector | undefined;
  /** @internal */
  declare readonly native: NativeEndpoint;
  private closed = false;
  private addrCache: Buffer | undefined;

  /** @internal */
  constructor(domain: Domain, opts: EndpointOptions & { cq: CompletionQueue }, private readonly ownCq: CompletionQueue | undefined,
              private readonly ownAv: AddressVector | undefined, private readonly onClose: (ep: Endpoint) => void) {
    this.domain = domain;
    this.id = newEndpointId();
    this.type = (opts.info ?? domain.info).endpointType;
    const counters: Array<[import('./native.js').NativeCntr, bigint]> = (opts.counters ?? []).map(({ counter, events }) => {
      let flags = 0n;
      for (const e of events) {
        const c = EVENTS[e];
        if (!c) throw new RangeError(`unknown counter event '${String(e)}'`);
        flags |= BigInt(native().constants[c]!);
      }
      return [counter.native, flags];
    });
    const n = new (native().NativeEndpoint)(domain.native, opts.info?.handle ?? null, opts.cq.native, opts.av?.native ?? null,
      counters, opts.eq?.native ?? null, this.id, softuetOptions(opts.softuet, (opts.info ?? domain.info).provider));
    Object.defineProperty(this, 'native', { value: n, enumerable: false });
    this.cq = opts.cq;
    this.av = opts.av;
  }

  /** MSG endpoints have one peer: their ops take `undefined` as destination. */
  private dst(dest: bigint | undefined): bigint | undefined {
    if (dest === undefined && this.type === 'msg') return undefined;
    return addr(dest as bigint, 'dest');
  }

  /** This endpoint's name (fi_getname), to hand to peers for AddressVector.insert. */
  get address(): Buffer {
    if (!this.addrCache) this.addrCache = this.native.address();
    return this.addrCache;
  }

  private post(kind: number, buf: Local, dest: bigint | undefined, tag?: bigint, ignore?: bigint,
               raddr?: bigint, rkey?: bigint, data?: bigint): Promise<unknown> {
    // the per-op path: no intermediate array for the buffer's parts
    if (ArrayBuffer.isView(buf) || buf instanceof ArrayBuffer) {
      return this.native.post(kind, buf, undefined, undefined, dest, tag, ignore, raddr, rkey, data);
    }
    const x = buf as { mr?: unknown; offset?: number; length?: number };
    if (x && typeof x === 'object' && x.mr instanceof MemoryRegion && !x.mr.isClosed) {
      const { offset, length } = x;
      if ((offset === undefined || (Number.isSafeInteger(offset) && offset >= 0))
          && (length === undefined || (Number.isSafeInteger(length) && length >= 0))) {
        return this.native.post(kind, x.mr.native.handle, offset, length, dest, tag, ignore, raddr, rkey, data);
      }
    }
    const [l, o, n] = local(buf);
    return this.native.post(kind, l, o, n, dest, tag, ignore, raddr, rkey, data);
  }

  send(buf: Local, dest: bigint | undefined): Promise<void> {
    try { return this.post(K.send, buf, this.dst(dest)) as Promise<void>; } catch (e) { return reject(e); }
  }

  /** Send with remote CQ data: the receiver's completion carries `data`. */
  senddata(buf: Local, dest: bigint | undefined, data: bigint): Promise<void> {
    try { return this.post(K.senddata, buf, this.dst(dest), undefined, undefined, undefined, undefined, tagOf(data, 'data')) as Promise<void>; } catch (e) { return reject(e); }
  }

  recv(buf: Local, opts: { src?: bigint } = {}): Promise<Completion> {
    try { return this.post(K.recv, buf, opts.src === undefined ? undefined : addr(opts.src, 'src')) as Promise<Completion>; } catch (e) { return reject(e); }
  }

  tsend(buf: Local, dest: bigint | undefined, tag: bigint): Promise<void> {
    try { return this.post(K.tsend, buf, this.dst(dest), tagOf(tag, 'tag')) as Promise<void>; } catch (e) { return reject(e); }
  }

  tsenddata(buf: Local, dest: bigint | undefined, tag: bigint, data: bigint): Promise<void> {
    try { return this.post(K.tsenddata, buf, this.dst(dest), tagOf(tag, 'tag'), undefined, undefined, undefined, tagOf(data, 'data')) as Promise<void>; } catch (e) { return reject(e); }
  }

  /** Receives a message whose tag matches `tag` on every bit not set in `ignore`. */
  trecv(buf: Local, tag: bigint, opts: { ignore?: bigint; src?: bigint } = {}): Promise<Completion> {
    try {
      return this.post(K.trecv, buf, opts.src === undefined ? undefined : addr(opts.src, 'src'), tagOf(tag, 'tag'),
        tagOf(opts.ignore ?? 0n, 'ignore')) as Promise<Completion>;
    } catch (e) { return reject(e); }
  }

  write(buf: Local, dest: bigint | undefined, remote: RemoteRegion, remoteOffset = 0): Promise<void> {
    try {
      const ra = remoteAddr(remote, remoteOffset, localLength(buf), 'write');
      return this.post(K.write, buf, this.dst(dest), undefined, undefined, ra, remote.key) as Promise<void>;
    } catch (e) { return reject(e); }
  }

  /** RMA write that also raises a completion with `data` at the target (CompletionQueue.remoteData). */
  writedata(buf: Local, dest: bigint | undefined, remote: RemoteRegion, data: bigint, remoteOffset = 0): Promise<void> {
    try {
      const ra = remoteAddr(remote, remoteOffset, localLength(buf), 'writedata');
      return this.post(K.writedata, buf, this.dst(dest), undefined, undefined, ra, remote.key, tagOf(data, 'data')) as Promise<void>;
    } catch (e) { return reject(e); }
  }

  read(buf: Local, dest: bigint | undefined, remote: RemoteRegion, remoteOffset = 0): Promise<void> {
    try {
      const ra = remoteAddr(remote, remoteOffset, localLength(buf), 'read');
      return this.post(K.read, buf, this.dst(dest), undefined, undefined, ra, remote.key) as Promise<void>;
    } catch (e) { return reject(e); }
  }

  /** Sends without a completion; the buffer is free on return. At most info.limits.injectSize bytes. */
  inject(buf: Local, dest: bigint | undefined): void {
    const [l, o, n] = local(buf);
    this.native.inject(K.send, l, o, n, this.dst(dest), undefined, undefined, undefined, undefined, undefined);
  }

  injectData(buf: Local, dest: bigint | undefined, data: bigint): void {
    const [l, o, n] = local(buf);
    this.native.inject(K.senddata, l, o, n, this.dst(dest), undefined, undefined, undefined, undefined, tagOf(data, 'data'));
  }

  tinject(buf: Local, dest: bigint | undefined, tag: bigint): void {
    const [l, o, n] = local(buf);
    this.native.inject(K.tsend, l, o, n, this.dst(dest), tagOf(tag, 'tag'), undefined, undefined, undefined, undefined);
  }

  injectWrite(buf: Local, dest: bigint | undefined, remote: RemoteRegion, remoteOffset = 0): void {
    const [ra, rk] = remoteAt(remote, remoteOffset, localLength(buf), 'injectWrite');
    const [l, o, n] = local(buf);
    this.native.inject(K.write, l, o, n, this.dst(dest), undefined, undefined, ra, rk, undefined);
  }

  private atomicArgs(kind: number, a: unknown, op: AtomicOp, remote: RemoteRegion, remoteOffset: number, what: string) {
    const { dt, name } = datatypeOf(a, 'buffer');
    const c = ATOMIC_OPS[op];
    if (!c) throw new RangeError(`unknown atomic op '${String(op)}' (known: ${Object.keys(ATOMIC_OPS).join(', ')})`);
    const arr = a as AtomicArray;
    const count = arr.length;
    const max = this.native.atomicValid(kind, dt, constant(c));
    if (max === 0) throw fabricError('FI_EOPNOTSUPP', `${what} '${op}' on ${name} is not supported by provider ${this.domain.info.provider}`);
    if (count > max) throw fabricError('FI_EINVAL', `${what} of ${count} elements exceeds the provider's ${max}`);
    const [ra, rk] = remoteAt(remote, remoteOffset, arr.byteLength, what);
    return { dt, op: constant(c), count, ra, rk, arr };
  }

  /** remote[i] = remote[i] (op) buf[i]; datatype from the TypedArray. */
  atomic(buf: AtomicArray, dest: bigint | undefined, remote: RemoteRegion, op: AtomicOp, remoteOffset = 0): Promise<void> {
    try {
      const x = this.atomicArgs(K.atomic, buf, op, remote, remoteOffset, 'atomic');
      return this.native.atomic(K.atomic, x.arr, undefined, undefined, this.dst(dest), x.ra, x.rk, x.dt, x.op, x.count);
    } catch (e) { return reject(e); }
  }

  /** Like atomic, and `result` receives the remote values from before the op. */
  fetchAtomic(buf: AtomicArray, result: AtomicArray, dest: bigint | undefined, remote: RemoteRegion, op: AtomicOp, remoteOffset = 0): Promise<void> {
    try {
      const x = this.atomicArgs(K.fetch, buf, op, remote, remoteOffset, 'fetchAtomic');
      if (datatypeOf(result, 'result').dt !== x.dt || result.length !== buf.length) throw new TypeError('result must be a TypedArray of the same type and length as buf');
      return this.native.atomic(K.fetch, x.arr, undefined, undefined, this.dst(dest), x.ra, x.rk, x.dt, x.op, x.count, result, undefined);
    } catch (e) { return reject(e); }
  }

  /** Compare-and-swap family: where remote (op) compare holds, remote = buf; result gets the old values. */
  compareAtomic(buf: AtomicArray, compare: AtomicArray, result: AtomicArray, dest: bigint | undefined, remote: RemoteRegion,
                op: AtomicOp = 'cswap', remoteOffset = 0): Promise<void> {
    try {
      const x = this.atomicArgs(K.compare, buf, op, remote, remoteOffset, 'compareAtomic');
      for (const [v, w] of [[compare, 'compare'], [result, 'result']] as const) {
        if (datatypeOf(v, w).dt !== x.dt || v.length !== buf.length) throw new TypeError(`${w} must be a TypedArray of the same type and length as buf`);
      }
      return this.native.atomic(K.compare, x.arr, undefined, undefined, this.dst(dest), x.ra, x.rk, x.dt, x.op, x.count,
        result, undefined, compare, undefined);
    } catch (e) { return reject(e); }
  }

  /** Maximum element count the provider accepts for an atomic (0: unsupported). */
  atomicValid(kind: 'atomic' | 'fetch' | 'compare', datatype: AtomicArray, op: AtomicOp): number {
    const k = kind === 'atomic' ? K.atomic : kind === 'fetch' ? K.fetch : K.compare;
    return this.native.atomicValid(k, datatypeOf(datatype, 'datatype').dt, constant(ATOMIC_OPS[op]));
  }

  /**
   * Posts many ops with one crossing into the binding; resolves when all completed,
   * rejects with the first error once all settled. Every op is checked before any is posted.
   * All but the last go with FI_MORE, so a provider that honours it (softuet) sends the
   * whole batch at once.
   */
  batch(ops: BatchOp[]): Promise<void> {
    try {
      if (!Array.isArray(ops)) throw new TypeError('ops must be an array');
      const args: NativeOpArgs[] = new Array(ops.length);
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i]!;
        const kind = (K as Record<string, number>)[o.op];
        if (kind === undefined || kind >= K.atomic) throw new RangeError(`ops[${i}].op '${String(o.op)}' is not a batchable op`);
        const [l, off, len] = local(o.buf, `ops[${i}].buf`);
        let ra: bigint | undefined;
        let rk: bigint | undefined;
        if (o.op === 'write' || o.op === 'writedata' || o.op === 'read') {
          [ra, rk] = remoteAt(o.remote as RemoteRegion, o.remoteOffset ?? 0, localLength(o.buf), `ops[${i}].${o.op}`);
        }
        const isRecv = o.op === 'recv' || o.op === 'trecv';
        const dest = o.dest === undefined ? (isRecv ? undefined : addr(o.dest as unknown as bigint, `ops[${i}].dest`)) : addr(o.dest, `ops[${i}].dest`);
        args[i] = [kind, l, off, len, dest, tagOf(o.tag, `ops[${i}].tag`), tagOf(o.ignore, `ops[${i}].ignore`), ra, rk, tagOf(o.data, `ops[${i}].data`)];
      }
      return this.native.batch(args);
    } catch (e) { return reject(e); }
  }

  /** Per-endpoint statistics of the softuet provider (FI_ENOSYS on other providers). */
  stats(): Record<string, bigint | number> { return this.native.stats(); }

  /** The MTU and congestion management this softuet endpoint runs with (fi_getopt). */
  softuetSettings(): Required<SoftuetEndpointOptions> {
    const mtu = this.native.getopt(constant('FI_OPT_SOFTUET_MTU'), 'size');
    const bits = this.native.getopt(constant('FI_OPT_SOFTUET_CC'), 'int');
    const nscc = (bits & constant('FI_SOFTUET_CC_NSCC')) !== 0, rccc = (bits & constant('FI_SOFTUET_CC_RCCC')) !== 0;
    return { mtu, cc: nscc && rccc ? 'nscc+rccc' : nscc ? 'nscc' : rccc ? 'rccc' : 'off' };
  }

  /** MSG: orderly disconnect. */
  shutdown(): void { this.native.shutdown(); }

  /** Pending ops reject with FI_ECANCELED. Closes the CQ/AV the endpoint created for itself. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    this.ownCq?.close();
    this.ownAv?.close();
    this.onClose(this);
  }

  get isClosed(): boolean { return this.closed; }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}

/** A listening MSG endpoint: connection requests arrive on its EventQueue. */
export class PassiveEndpoint {
  readonly id: number;
  readonly eq: EventQueue;
  /** @internal */
  declare readonly native: NativePep;
  private closed = false;

  /** @internal */
  constructor(fabric: Fabric, info: Info, eq: EventQueue, private readonly ownEq: boolean, private readonly onClose: (p: PassiveEndpoint) => void) {
    this.id = newEndpointId();
    this.eq = eq;
    Object.defineProperty(this, 'native', { value: new (native().NativePep)(fabric.native, info.handle, eq.native, this.id), enumerable: false });
  }

  get address(): Buffer { return this.native.address(); }

  /** Waits for the next connection request and accepts it with a new endpoint on `domain`. */
  async accept(domain: Domain, opts: { cq?: CompletionQueue; eq?: EventQueue; timeoutMs?: number } = {}): Promise<Endpoint> {
    const req = await this.eq.waitFor(this.id, 'connreq', opts.timeoutMs);
    const eq = opts.eq ?? this.eq;
    const ep = domain.endpoint({ cq: opts.cq, eq, info: req.info });
    try {
      ep.native.accept();
      await eq.waitFor(ep.id, 'connected', opts.timeoutMs);
      return ep;
    } catch (e) {
      ep.close();
      throw e;
    }
  }

  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    if (this.ownEq) this.eq.close();
    this.onClose(this);
  }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
