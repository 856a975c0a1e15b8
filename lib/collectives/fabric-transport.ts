// Ranks over libfabric RDM endpoints with tagged messages. The sender's rank rides in
// the top 16 bits of the 64-bit tag, so matching needs no FI_DIRECTED_RECV support.
//
// The binding is loaded lazily: the collectives stay usable (over sockets or in-process)
// on machines where the native addon is not built.

import { Matcher } from './matcher.js';
import { CollectiveError, checkPeer, type RmaOps, type Transport } from './transport.js';

// The slice of the lib/fabric API this transport uses (see the binding's contract).
interface FInfo {
  provider: string; fabric: string; domain: string; progress: 'auto' | 'manual' | 'unspec'; threading: string;
  mrMode: string[]; caps: string[]; mode: string[];
  limits: { maxMsgSize: number; injectSize: number; txSize: number; rxSize: number; cqDataSize: number };
}
interface FRemote { addr: bigint; key: bigint; length: number }
interface FMemoryRegion { close(): void; remote(offset?: number, length?: number): FRemote }
type FLocal = ArrayBufferView | { mr: FMemoryRegion; offset?: number; length?: number };
interface FEndpoint {
  readonly address: Buffer;
  tsend(buf: FLocal, dest: bigint, tag: bigint): Promise<void>;
  trecv(buf: FLocal, tag: bigint, opts?: { ignore?: bigint }): Promise<{ length: number; tag?: bigint }>;
  writedata(buf: FLocal, dest: bigint, remote: FRemote, data: bigint, remoteOffset?: number): Promise<void>;
  stats?(): Record<string, bigint | number>;
  softuetSettings?(): { mtu: number; cc: SoftuetCc };
  close(): void;
}
interface FCompletionQueue {
  remoteData(): Promise<{ data: bigint; length: number }>;
  close(): void;
}
interface FDomain {
  addressVector(opts?: { type?: 'map' | 'table'; count?: number }): { insertMany(a: Buffer[]): bigint[]; close(): void };
  completionQueue(opts?: { size?: number; wait?: 'fd' | 'thread' }): FCompletionQueue;
  register(buf: ArrayBufferView, access?: string[]): FMemoryRegion;
  allocBuffer(size: number): Buffer;
  endpoint(opts: { cq: unknown; av: unknown; softuet?: SoftuetSettings }): FEndpoint;
  close(): void;
}
interface FabricModule {
  pickInfo(hints?: Record<string, unknown>): FInfo;
  libfabricVersion(): string;
  Fabric: new (info: FInfo) => { domain(): FDomain; close(): void };
}

const RANK_SHIFT = 48n;
const TAG_MASK = (1n << RANK_SHIFT) - 1n;
const HANDLE_BYTES = 24;
const PEER_ERROR_GRACE_MS = 1000;
/**
 * softuet congestion management for the collectives' endpoints, unless FI_SOFTUET_CC
 * says otherwise: NSCC's window without RCCC's receiver credit. Under RCCC every write
 * beyond the first 8 packets waits for grants the target sends only when its thread
 * next reads its CQ; in a collective that thread is busy posting and folding its own
 * share, so a 512 KiB write crossed the two busy ranks a dozen times. The collectives
 * bound their own incast (one writer per target in a ring, at most 7 in the pairwise
 * algorithms), which is what the credit is for.
 */
export const SOFTUET_COLLECTIVE_CC: SoftuetCc = 'nscc';
/** Registrations kept for reuse (benchmarks and training loops reuse the same buffers). */
const EXPOSED_KEEP = 8;

let loaded: Promise<FabricModule> | undefined;

/** The binding's module; rejects with the reason it cannot load. */
export function loadFabric(): Promise<FabricModule> {
  if (!loaded) {
    // Computed specifiers: this file must compile before the binding exists.
    const candidates = ['../index.js', '../fabric/index.js'];
    loaded = (async () => {
      const why: string[] = [];
      for (const c of candidates) {
        const url = new URL(c, import.meta.url);
        try {
          const m = (await import(url.href)) as Partial<FabricModule>;
          if (typeof m.pickInfo === 'function' && typeof m.Fabric === 'function') return m as FabricModule;
          why.push(`${url.pathname} exports no pickInfo/Fabric`);
        } catch (e) {
          why.push(`${url.pathname}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      throw new CollectiveError(`the libfabric binding cannot be loaded (${why.join('; ')})`, 'UNAVAILABLE');
    })();
  }
  return loaded;
}

export interface FabricTransportOptions {
  /** Provider name, e.g. 'tcp;ofi_rxm' or 'softuet'; default: the binding's pickInfo order. */
  provider?: string;
  /** Local address to bind (always a loopback address in tests). */
  node?: string;
  /**
   * Carry RMA writes on a second endpoint whose completions a blocking thread collects
   * (see "bulk endpoint" below), when the provider offers a thread-safe domain. Default
   * off: measured against polling, the thread hand-off cost more than it saved, with a
   * core per rank and with more ranks than cores alike. `fromEnv` maps NLF_BULK_THREAD
   * here.
   */
  bulkThread?: boolean;
  /**
   * softuet payload bytes per packet on this transport's endpoints. Default: the
   * provider's (FI_SOFTUET_MTU when set, else what the bound interface carries whole,
   * 16000 on loopback). Ignored by other providers.
   */
  softuetMtu?: number;
  /**
   * softuet congestion management on this transport's endpoints ('nscc+rccc', 'nscc',
   * 'rccc', 'off'). Default: FI_SOFTUET_CC when set, else SOFTUET_COLLECTIVE_CC.
   * Ignored by other providers.
   */
  softuetCc?: SoftuetCc;
  /**
   * Carry RMA writes on an endpoint of this other provider (a second fabric), for
   * example 'tcp;ofi_rxm' beside softuet: the kernel's TCP moves bulk data for less CPU
   * than softuet's user-space UDP path, while small tagged messages keep softuet's
   * latency. Takes precedence over bulkThread. Default: none ('' alike; `fromEnv` maps
   * NLF_BULK_PROVIDER here).
   * Every rank must make the same choice; connect() fails clearly when they do not.
   */
  bulkProvider?: string;
  /**
   * Data progress to ask the provider for: 'manual' leaves all progress to the rank's
   * own reads (softuet then runs no progress thread). A preference: a provider without
   * that mode is taken as it is. Default: the provider's (init.ts decides when not).
   */
  progress?: 'auto' | 'manual';
}

/** The endpoint RMA writes use when it is not the main one. */
interface BulkEndpoint {
  cq: FCompletionQueue;
  ep: FEndpoint;
  /** 'thread': same domain, CQ read by a blocking thread; else the name of the second fabric's provider. */
  kind: 'thread' | string;
  /** The second fabric's objects, when kind is a provider. */
  own?: { fabric: { close(): void }; domain: FDomain; av: { insertMany(a: Buffer[]): bigint[]; close(): void }; info: FInfo };
}

/** softuet's congestion management (lib/fabric's SoftuetCc). */
type SoftuetCc = 'nscc+rccc' | 'nscc' | 'rccc' | 'off';
/**
 * softuet settings this transport's endpoints open with (undefined: the environment's).
 * They are each endpoint's own (fi_setopt), so other endpoints of the process keep the
 * user's settings.
 */
interface SoftuetSettings { mtu?: number; cc?: SoftuetCc }

/**
 * An endpoint name, or two (main, bulk) behind a marker; peers with or without a bulk
 * endpoint on the main provider interoperate. A bulk endpoint on another provider (marker
 * 2) carries that provider's name, so ranks that chose differently are told so.
 */
function packAddresses(main: Buffer, bulk: Buffer | undefined, bulkProvider?: string): Buffer {
  if (!bulk) return Buffer.concat([Buffer.from([0]), main]);
  const name = Buffer.from(bulkProvider ?? '');
  const head = Buffer.alloc(bulkProvider ? 4 : 3);
  head[0] = bulkProvider ? 2 : 1;
  head.writeUInt16LE(main.byteLength, 1);
  if (bulkProvider) head[3] = name.byteLength;
  return Buffer.concat([head, ...(bulkProvider ? [name] : []), main, bulk]);
}

function unpackAddresses(a: Buffer, rank: number): { main: Buffer; bulk: Buffer | undefined; bulkProvider?: string } {
  if (a.byteLength >= 1 && a[0] === 0) return { main: a.subarray(1), bulk: undefined };
  if (a.byteLength >= 3 && a[0] === 1) {
    const n = a.readUInt16LE(1);
    if (3 + n < a.byteLength) return { main: a.subarray(3, 3 + n), bulk: a.subarray(3 + n) };
  }
  if (a.byteLength >= 4 && a[0] === 2) {
    const n = a.readUInt16LE(1), k = a[3]!;
    if (4 + k + n < a.byteLength) {
      return { bulkProvider: a.subarray(4, 4 + k).toString(), main: a.subarray(4 + k, 4 + k + n), bulk: a.subarray(4 + k + n) };
    }
  }
  throw new CollectiveError(`rank ${rank}'s endpoint address is malformed (${a.byteLength} bytes)`, 'PROTOCOL');
}

/** Registered bounce buffers for providers that require FI_MR_LOCAL. */
class BouncePool {
  private readonly free = new Map<number, { buf: Buffer; mr: FMemoryRegion }[]>();
  private readonly all: FMemoryRegion[] = [];
  constructor(private readonly domain: FDomain) {}
  get(len: number): { buf: Buffer; mr: FMemoryRegion; cls: number } {
    const cls = Math.max(4096, 2 ** Math.ceil(Math.log2(Math.max(1, len))));
    const hit = this.free.get(cls)?.pop();
    if (hit) return { ...hit, cls };
    const buf = this.domain.allocBuffer(cls);
    const mr = this.domain.register(buf, ['send', 'recv']);
    this.all.push(mr);
    return { buf, mr, cls };
  }
  put(e: { buf: Buffer; mr: FMemoryRegion; cls: number }): void {
    const l = this.free.get(e.cls) ?? [];
    l.push({ buf: e.buf, mr: e.mr });
    this.free.set(e.cls, l);
  }
  close(): void { for (const mr of this.all.splice(0)) mr.close(); this.free.clear(); }
}

function handleOf(mr: FMemoryRegion): Uint8Array {
  const r = mr.remote();
  const handle = new Uint8Array(HANDLE_BYTES);
  const dv = new DataView(handle.buffer);
  dv.setBigUint64(0, r.addr, true);
  dv.setBigUint64(8, r.key, true);
  dv.setBigUint64(16, BigInt(r.length), true);
  return handle;
}

/**
 * RMA through libfabric: exposed memory is registered for remote writes (registrations
 * are cached, as registering is costly); a put is fi_writedata whose remote CQ data
 * carries (source rank, tag), so the target learns of it only once the bytes are placed.
 */
class FabricRma implements RmaOps {
  readonly handleBytes = HANDLE_BYTES;
  private readonly notes = new Matcher();
  private readonly exposed: { mem: Uint8Array; mr: FMemoryRegion; handle: Uint8Array }[] = [];
  private readonly retired: FMemoryRegion[] = [];
  private kept: { mem: Uint8Array; mr: FMemoryRegion; handle: Uint8Array } | undefined;
  private pumping = false;

  constructor(private readonly t: FabricTransport, private readonly domain: FDomain, private readonly ep: FEndpoint,
              private readonly cq: FCompletionQueue) {}

  expose(mem: Uint8Array, opts: { keep?: boolean } = {}): Uint8Array {
    if (opts.keep) {
      const k = this.kept;
      if (k && k.mem === mem) return k.handle;
      const mr = this.domain.register(mem, ['remote-write']);
      this.kept = { mem, mr, handle: handleOf(mr) };
      // The replaced region is no longer a target: every write into it has landed.
      if (k) { try { k.mr.close(); } catch { this.retired.push(k.mr); } }
      return this.kept.handle;
    }
    const i = this.exposed.findIndex((e) => e.mem.buffer === mem.buffer && e.mem.byteOffset === mem.byteOffset
      && e.mem.byteLength === mem.byteLength);
    if (i >= 0) {
      const [hit] = this.exposed.splice(i, 1);
      this.exposed.push(hit!);
      return hit!.handle;
    }
    const mr = this.domain.register(mem, ['remote-write']);
    const handle = handleOf(mr);
    this.exposed.push({ mem, mr, handle });
    if (this.exposed.length > EXPOSED_KEEP) {
      const old = this.exposed.shift()!;
      try { old.mr.close(); } catch { this.retired.push(old.mr); }
    }
    return handle;
  }

  put(peer: number, tag: number, data: Uint8Array, handle: Uint8Array, offset: number): Promise<void> {
    checkPeer(this.t, peer);
    if (handle.byteLength !== HANDLE_BYTES) return Promise.reject(new RangeError(`an RMA handle has ${HANDLE_BYTES} bytes`));
    const dv = new DataView(handle.buffer, handle.byteOffset, HANDLE_BYTES);
    const remote = { addr: dv.getBigUint64(0, true), key: dv.getBigUint64(8, true), length: Number(dv.getBigUint64(16, true)) };
    const wire = (BigInt(this.t.rank) << RANK_SHIFT) | BigInt(tag);
    return this.t.track(this.ep.writedata(data, this.t.bulkAddr(peer), remote, wire, offset));
  }

  landed(peer: number, tag: number): Promise<void> {
    checkPeer(this.t, peer);
    this.pump();
    return this.notes.post(peer, tag, new Uint8Array(0));
  }

  abort(reason: Error): void { this.notes.abort(reason); }

  close(): void {
    for (const e of this.exposed.splice(0)) { try { e.mr.close(); } catch { /* closed with the domain */ } }
    if (this.kept) { try { this.kept.mr.close(); } catch { /* closed with the domain */ } this.kept = undefined; }
    for (const mr of this.retired.splice(0)) { try { mr.close(); } catch { /* closed with the domain */ } }
  }

  /** Hands each arriving write notification to its waiter; runs from the first wait until the CQ closes. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const none = new Uint8Array(0);
    const next = (): void => {
      this.cq.remoteData().then((d) => {
        this.notes.deliver(Number(d.data >> RANK_SHIFT), Number(d.data & TAG_MASK), none, true);
        if (!this.notes.aborted) next();
      }, () => { /* the CQ closed */ });
    };
    next();
  }
}

function rmaCapable(info: FInfo): boolean {
  return info.caps.includes('rma') && info.limits.cqDataSize >= 8 && !info.mode.includes('rx-cq-data');
}

/**
 * An RDM endpoint on `provider` for RMA writes, in a fabric of its own. Undefined (the
 * main endpoint then carries RMA) when the provider is missing or lacks RMA with remote
 * CQ data.
 */
function openForeignBulk(mod: FabricModule, hints: Record<string, unknown>, provider: string, size: number): BulkEndpoint | undefined {
  let info: FInfo;
  try {
    info = mod.pickInfo({ ...hints, provider, caps: ['msg', 'rma'] });
  } catch {
    return undefined;
  }
  if (!rmaCapable(info) || info.mrMode.some((m) => /local/i.test(m))) return undefined;
  const fabric = new mod.Fabric(info);
  try {
    const domain = fabric.domain();
    const cq = domain.completionQueue({ size: 4096 });
    const av = domain.addressVector({ type: 'map', count: size });
    const ep = domain.endpoint({ cq, av });
    return { cq, ep, kind: info.provider, own: { fabric, domain, av, info } };
  } catch {
    fabric.close();
    return undefined;
  }
}

export class FabricTransport implements Transport {
  readonly name: string;
  readonly info: FInfo;
  readonly libfabricVersion: string;
  private fiAddrs: bigint[] = [];
  /** Where RMA writes to each rank go: its bulk endpoint when it has one, else its main one. */
  private bulkAddrs: bigint[] = [];
  private failure: Error | undefined;
  private readonly pending = new Set<(e: Error) => void>();
  private readonly bounce: BouncePool | undefined;
  private closed = false;
  /** One-sided puts, when the provider offers RMA with remote CQ data. */
  readonly rma: FabricRma | undefined;
  /** softuet's payload bytes per packet on these endpoints (undefined for other providers). */
  readonly softuetMtu: number | undefined;
  /** softuet's congestion management on these endpoints (undefined for other providers). */
  readonly softuetCc: SoftuetCc | undefined;

  private constructor(readonly rank: number, readonly size: number, mod: FabricModule, info: FInfo,
                      private readonly fabric: { close(): void }, private readonly domain: FDomain,
                      private readonly cq: FCompletionQueue, private readonly av: { insertMany(a: Buffer[]): bigint[]; close(): void },
                      private readonly ep: FEndpoint,
                      private readonly bulk: BulkEndpoint | undefined) {
    this.info = info;
    const settings = info.provider === 'softuet' ? ep.softuetSettings?.() : undefined;
    this.softuetMtu = settings?.mtu;
    this.softuetCc = settings?.cc;
    this.name = `fabric:${info.provider}`;
    this.libfabricVersion = mod.libfabricVersion();
    const needsLocal = info.mrMode.some((m) => /local/i.test(m));
    this.bounce = needsLocal ? new BouncePool(domain) : undefined;
    const rmaInfo = bulk?.own?.info ?? info;
    this.rma = rmaCapable(rmaInfo) ? new FabricRma(this, bulk?.own?.domain ?? domain, bulk?.ep ?? ep, bulk?.cq ?? cq) : undefined;
  }

  static async open(rank: number, size: number, opts: FabricTransportOptions = {}): Promise<FabricTransport> {
    if (size > 65536) throw new RangeError('at most 65536 ranks fit the tag layout');
    const mod = await loadFabric();
    const node = opts.node ?? '127.0.0.1';
    const hints: Record<string, unknown> = { endpointType: 'rdm', node, source: true };
    if (opts.provider) hints.provider = opts.provider;
    const bulkProvider = opts.bulkProvider || undefined;
    const wantBulk = !bulkProvider && opts.bulkThread === true;
    const pick = (h: Record<string, unknown>): FInfo => {
      if (opts.progress) { try { return mod.pickInfo({ ...h, progress: opts.progress }); } catch { /* as it is */ } }
      return mod.pickInfo(h);
    };
    let info: FInfo | undefined;
    if (wantBulk) {
      try { info = pick({ ...hints, caps: ['msg', 'tagged', 'rma'], threading: 'safe' }); } catch { /* below */ }
    }
    try {
      info ??= pick({ ...hints, caps: ['msg', 'tagged', 'rma'] });
    } catch {
      // Without RMA the rings move every segment as a tagged message.
      info = pick({ ...hints, caps: ['msg', 'tagged'] });
    }
    const fabric = new mod.Fabric(info);
    const softuet: SoftuetSettings | undefined = info.provider !== 'softuet' ? undefined : {
      mtu: opts.softuetMtu,
      cc: opts.softuetCc ?? (process.env.FI_SOFTUET_CC ? undefined : SOFTUET_COLLECTIVE_CC),
    };
    try {
      const domain = fabric.domain();
      const cq = domain.completionQueue({ size: 4096 });
      const av = domain.addressVector({ type: 'map', count: 2 * size });
      const ep = domain.endpoint({ cq, av, softuet });
      // Bulk endpoint: RMA ring traffic completes on a CQ read by a blocking thread, so
      // while a large collective waits for data the event loop sleeps instead of polling,
      // and the provider's own progress thread (kept off while the application polls)
      // moves data alongside the JS thread posting and folding. Small messages stay on
      // the polled main endpoint, whose completions arrive without a thread hand-off.
      let bulk: BulkEndpoint | undefined;
      if (bulkProvider && bulkProvider !== info.provider && size > 1) bulk = openForeignBulk(mod, hints, bulkProvider, size);
      // Only under automatic progress: with manual progress (tcp;ofi_rxm) the target of a
      // write must be driven by its own reads, which a thread blocked in sread does not
      // do for the writes into this rank (they stalled).
      if (!bulk && wantBulk && info.threading === 'safe' && info.progress === 'auto' && info.caps.includes('rma')) {
        const bcq = domain.completionQueue({ size: 4096, wait: 'thread' });
        bulk = { cq: bcq, ep: domain.endpoint({ cq: bcq, av, softuet }), kind: 'thread' };
      }
      return new FabricTransport(rank, size, mod, info, fabric, domain, cq, av, ep, bulk);
    } catch (e) {
      fabric.close();
      throw e;
    }
  }

  /** This rank's endpoint name(s), for the bootstrap table. */
  get address(): Buffer {
    return packAddresses(this.ep.address, this.bulk?.ep.address, this.bulk?.own ? this.bulk.kind : undefined);
  }

  /** Largest message the provider accepts. */
  get maxMessageBytes(): number { return this.info.limits.maxMsgSize; }

  connect(table: Buffer[]): void {
    if (table.length !== this.size) throw new RangeError(`address table has ${table.length} entries, job has ${this.size} ranks`);
    const parts = table.map((a, r) => unpackAddresses(a, r));
    this.fiAddrs = this.av.insertMany(parts.map((p) => p.main));
    const own = this.bulk?.own;
    if (own) {
      // A write leaves from the other provider's endpoint, so every target needs one there.
      const odd = parts.findIndex((p) => p.bulkProvider !== this.bulk!.kind);
      if (odd >= 0) {
        throw new CollectiveError(`rank ${odd} carries RMA on ${parts[odd]!.bulkProvider ?? 'its main provider'}, this rank on ` +
          `${this.bulk!.kind}: set NLF_BULK_PROVIDER alike on every rank`, 'PROTOCOL');
      }
      this.bulkAddrs = own.av.insertMany(parts.map((p) => p.bulk!));
      return;
    }
    const foreign = parts.findIndex((p) => p.bulkProvider !== undefined);
    if (foreign >= 0) {
      throw new CollectiveError(`rank ${foreign} carries RMA on ${parts[foreign]!.bulkProvider}, this rank on ` +
        `${this.info.provider}: set NLF_BULK_PROVIDER alike on every rank`, 'PROTOCOL');
    }
    const withBulk = parts.map((p, r) => (p.bulk ? r : -1)).filter((r) => r >= 0);
    const bulkFi = withBulk.length ? this.av.insertMany(withBulk.map((r) => parts[r]!.bulk!)) : [];
    this.bulkAddrs = [...this.fiAddrs];
    withBulk.forEach((r, i) => { this.bulkAddrs[r] = bulkFi[i]!; });
  }

  get aborted(): Error | undefined { return this.failure; }

  send(peer: number, tag: number, data: Uint8Array): Promise<void> {
    checkPeer(this, peer);
    const wire = (BigInt(this.rank) << RANK_SHIFT) | BigInt(tag);
    if (!this.bounce) return this.track(this.ep.tsend(data, this.fiAddrs[peer]!, wire));
    const b = this.bounce.get(data.byteLength);
    b.buf.set(data);
    return this.track(this.ep.tsend({ mr: b.mr, offset: 0, length: data.byteLength }, this.fiAddrs[peer]!, wire)
      .finally(() => this.bounce!.put(b)));
  }

  recv(peer: number, tag: number, into: Uint8Array): Promise<void> {
    checkPeer(this, peer);
    const wire = (BigInt(peer) << RANK_SHIFT) | BigInt(tag);
    const check = (c: { length: number }) => {
      if (c.length !== into.byteLength) {
        throw new CollectiveError(`message from rank ${peer} tag ${tag} has ${c.length} bytes, receive expects ${into.byteLength}`, 'PROTOCOL');
      }
    };
    if (!this.bounce) return this.track(this.ep.trecv(into, wire).then(check));
    const b = this.bounce.get(into.byteLength);
    return this.track(this.ep.trecv({ mr: b.mr, offset: 0, length: into.byteLength }, wire).then((c) => {
      check(c);
      into.set(b.buf.subarray(0, into.byteLength));
    }).finally(() => this.bounce!.put(b)));
  }

  /** @internal The fi_addr of a rank. */
  fiAddr(peer: number): bigint { return this.fiAddrs[peer]!; }

  /** @internal The fi_addr RMA writes to a rank go to. */
  bulkAddr(peer: number): bigint { return this.bulkAddrs[peer]!; }

  /** @internal Provider counters of the endpoint RMA writes leave from (softuet's stats extension), if any. */
  rmaEndpointStats(): Record<string, bigint | number> | undefined {
    const ep = this.bulk?.ep ?? this.ep;
    try { return ep.stats?.(); } catch { return undefined; }
  }

  /** Whether RMA writes travel on the bulk endpoint with a completion thread. */
  get bulkThread(): boolean { return this.bulk?.kind === 'thread'; }

  /** The provider RMA writes travel on, when it is not the main one. */
  get bulkProvider(): string | undefined { return this.bulk?.own ? this.bulk.kind : undefined; }

  abort(reason: Error): void {
    if (this.failure) return;
    this.failure = reason;
    this.rma?.abort(reason);
    for (const reject of [...this.pending]) reject(reason);
    this.pending.clear();
    // Posted receives would otherwise still land in user memory after the failure.
    setImmediate(() => this.teardown());
  }

  async close(): Promise<void> {
    if (!this.failure) this.failure = new CollectiveError('transport closed', 'CLOSED');
    this.rma?.abort(this.failure);
    for (const reject of [...this.pending]) reject(this.failure);
    this.pending.clear();
    this.teardown();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    const own = this.bulk?.own;
    for (const c of [this.ep, this.bulk?.ep, this.rma, this.bounce, this.av, own?.av, this.cq, this.bulk?.cq, own?.domain,
                     own?.fabric, this.domain, this.fabric]) {
      try { c?.close(); } catch { /* already closed by its parent */ }
    }
  }

  /** @internal Ties an op to the abort path: it rejects as soon as the transport fails. */
  track(p: Promise<unknown>): Promise<void> {
    if (this.failure) { p.catch(() => undefined); return Promise.reject(this.failure); }
    return new Promise<void>((resolve, reject) => {
      this.pending.add(reject);
      p.then(() => { this.pending.delete(reject); resolve(); },
             (e: unknown) => {
               if (this.failure || e instanceof CollectiveError) {
                 this.pending.delete(reject);
                 reject(this.failure ?? e);
                 return;
               }
               // A provider error toward a peer usually means the peer died; the job's
               // abort, naming the rank and how it ended, gets a moment to arrive first.
               setTimeout(() => { this.pending.delete(reject); reject(this.failure ?? e); }, PEER_ERROR_GRACE_MS);
             });
    });
  }
}
