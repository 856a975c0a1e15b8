// Collective algorithms over a Transport. Pure message logic: no sockets, no fabric.
//
// Latency-bound sizes use recursive doubling (allreduce, with the fold-in/fold-out
// fix-up for rank counts that are not powers of two) and binomial trees (broadcast,
// reduce); bandwidth-bound sizes use rings (allreduce = reduce-scatter + allgather,
// broadcast = chain), cut into chunks that travel the ring independently so the
// reduction of one chunk overlaps the transfer of the next. When the transport offers
// RMA, ring segments are written straight into the neighbour's memory (its kept
// scratch, or for very large messages its result buffer while gathering) instead of
// being sent as messages: no receive to match, no rendezvous round trip per segment.
// Few ranks exchanging a few bytes skip the rounds: everyone sends to everyone once.

import {
  DTYPE_SIZE, bytesOf, dtypeOf, isReduceOp, reduceBytes,
  type CollectiveArray, type DType, type ReduceOp,
} from './dtypes.js';
import { simdArena } from './simd.js';
import { CollectiveError, type RmaOps, type Transport } from './transport.js';

export interface CommunicatorOptions {
  /** Bound on one collective; on expiry the communicator aborts. Default 60 s or NLF_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Messages up to this many bytes take the latency algorithms. Default 32 KiB. */
  smallBytes?: number;
  /** Largest message in the pipelined bandwidth algorithms. Default 4 MiB. */
  segmentBytes?: number;
  /** Chunks in flight at once in pipelined algorithms. Default 4. */
  window?: number;
  /**
   * Offer this rank's memory to RMA writes from its ring neighbour when the transport
   * supports RMA. Default true; env NLF_RMA=0 turns it off. With it off on every rank,
   * rings use tagged messages only.
   */
  rma?: boolean;
}

export type Algorithm = 'auto' | 'ring' | 'recursive-doubling' | 'tree' | 'direct' | 'pairwise';

export interface ReduceOptions { op?: ReduceOp; dtype?: DType; root?: number; algorithm?: Algorithm }
export interface RootOptions { root?: number; dtype?: DType; algorithm?: Algorithm }
export interface TypeOptions { dtype?: DType }

interface Seg { off: number; len: number }   // bytes

const TAG_SEQ = 2 ** 32;
// Measured on loopback tcp;ofi_rxm: below ~1 MiB per message, per-message costs (posting,
// completion wake-ups) outweigh what pipelining overlaps.
const MIN_PIPELINED_SEGMENT = 1024 * 1024;
const TAG_CHUNK = 2 ** 16;
// Chunk of the two-rank exchange: large enough that per-write costs stay small, small
// enough that folding a chunk hides behind the transfer of the next ones.
const PAIR_CHUNK = 256 * 1024;
// Above this the exchange has no edge left over the two-step ring on softuet, and on
// tcp;ofi_rxm (manual progress) its writes posted back to back delay reading the
// peer's, which made it slower than the ring from 1 MiB on.
const PAIR_MAX_BYTES = 512 * 1024;
// Latency-bound allreduce among few ranks: one round in which every rank sends its data
// to every other beats log2(n) dependent rounds, since each round costs a wake-up of the
// slowest peer; the extra bytes are negligible at these sizes.
const DIRECT_MAX_RANKS = 8;
const DIRECT_MAX_BYTES = 4096;
// Bandwidth-bound allreduce among few ranks: the reduce-scatter and the allgather each
// take one hop, every rank writing its blocks to all others at once, instead of the
// ring's n-1 dependent hops per phase: the same bytes, but each hop waits for a peer to
// be scheduled, which on ranks sharing cores costs more than the transfer. Beyond a few
// ranks the n-1 concurrent incoming writes per rank (incast) favour the ring.
const PAIRWISE_MAX_RANKS = 8;
// Ring messages up to this size land in a kept scratch of four times their size (two
// halves used in turn), which spares the per-collective offer round trip; above it the copy out of scratch costs more than
// that round trip, and the memory would be large.
const KEPT_SCRATCH_MAX = 16 * 1024 * 1024;

function defaultTimeout(): number {
  const v = Number(process.env.NLF_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

/** Splits `count` elements (of `esize` bytes) at byte offset `base` into `parts` near-equal segments. */
export function splitSegments(base: number, count: number, parts: number, esize: number): Seg[] {
  const out: Seg[] = [];
  const q = Math.floor(count / parts), rem = count % parts;
  let off = base;
  for (let i = 0; i < parts; i++) {
    const len = (q + (i < rem ? 1 : 0)) * esize;
    out.push({ off, len });
    off += len;
  }
  return out;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Pieces of at most `per` units covering `total`; capped so a piece index fits its 16 tag bits. */
function pieceCount(total: number, per: number): number {
  return Math.min(0xffff, Math.max(1, Math.ceil(total / per)));
}

/** Marks a promise awaited later as handled, so an early rejection is not reported as unhandled. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Runs fn(0..n-1) with at most `window` in flight, started in index order. */
async function pipelined(n: number, window: number, fn: (c: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => { while (next < n) await fn(next++); };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(window, n); w++) workers.push(worker());
  await Promise.all(workers);
}

/**
 * Writes whose completion matters only at the end of a collective: a step waits for its
 * incoming data, not for the acknowledgement of its outgoing one. Safe because no source
 * of a write is changed before its bytes were needed downstream (see ringReduceScatter),
 * and the first failure fails whatever waits at once.
 */
class Outgoing {
  private readonly all: Promise<void>[] = [];
  private failFirst: (e: unknown) => void = () => undefined;
  private readonly failed = quiet(new Promise<never>((_, reject) => { this.failFirst = reject; }));
  add(p: Promise<void> | undefined): Promise<void> | undefined {
    if (!p) return p;
    this.all.push(p);
    p.catch((e: unknown) => this.failFirst(e));
    return p;
  }
  /** `p`, unless an outgoing write fails first. */
  guard<T>(p: Promise<T>): Promise<T> { return Promise.race([p, this.failed]); }
  async done(): Promise<void> { await Promise.all(this.all); }
}

export class Communicator {
  readonly rank: number;
  readonly size: number;
  readonly timeoutMs: number;
  readonly smallBytes: number;
  readonly segmentBytes: number;
  readonly window: number;
  readonly useRma: boolean;
  private readonly segmentFixed: boolean;
  private scratchBuf: Uint8Array | undefined;
  /** Collectives so far that used the kept scratch; its parity picks the scratch half (see ringWire). */
  private keptUses = 0;
  /** The RMA offers exchanged for the kept scratch, valid while the scratch stays. */
  private offer: { scratch: Uint8Array; leftPuts: boolean; right: Uint8Array | undefined } | undefined;
  /** The same for algorithms that write to every peer: whether peers write here, and their scratch handles. */
  private peerOffer: { scratch: Uint8Array; peersPut: boolean; scratches: (Uint8Array | undefined)[] } | undefined;
  private seq = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** True when no collective is queued or running, so the next one may start synchronously. */
  private idle = true;
  private active: { name: string; seq: number; fail: (e: unknown) => void } | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private onClose: (() => Promise<void> | void)[] = [];
  private beforeClose: (() => Promise<void> | void)[] = [];
  /** Called once with the error that broke this communicator (the bootstrap spreads it to the job). */
  reportFailure: ((e: Error) => void) | undefined;

  /** A communicator for this process from launcher environment variables (see init.ts). */
  static async init(opts?: import('./init.js').InitOptions): Promise<Communicator> {
    const { fromEnv } = await import('./init.js');
    return fromEnv(opts);
  }

  constructor(readonly transport: Transport, opts: CommunicatorOptions = {}) {
    this.rank = transport.rank;
    this.size = transport.size;
    this.timeoutMs = opts.timeoutMs ?? defaultTimeout();
    const cap = transport.maxMessageBytes ?? Infinity;
    this.smallBytes = Math.min(cap, opts.smallBytes ?? 32 * 1024);
    this.segmentBytes = Math.min(cap, Math.max(64, opts.segmentBytes ?? 4 * 1024 * 1024));
    this.window = Math.max(1, opts.window ?? 4);
    this.useRma = opts.rma ?? process.env.NLF_RMA !== '0';
    this.segmentFixed = opts.segmentBytes !== undefined;
  }

  /** Registers cleanup run by close() after the transport closes (bootstrap sockets, fabric objects). */
  addCloseHook(fn: () => Promise<void> | void): void { this.onClose.push(fn); }
  /** Registers work run by close() before the transport closes (a final rendezvous). */
  addPreCloseHook(fn: () => Promise<void> | void): void { this.beforeClose.push(fn); }

  // ---- public collectives ----------------------------------------------------------

  barrier(): Promise<void> {
    return this.run('barrier', async (seq) => {
      const n = this.size, r = this.rank;
      const none = new Uint8Array(0);
      // Dissemination: after round k every rank has heard, transitively, from 2^(k+1) ranks.
      for (let k = 1, step = 0; k < n; k <<= 1, step++) {
        await Promise.all([
          this.transport.send(mod(r + k, n), this.tag(seq, 0, step), none),
          this.transport.recv(mod(r - k, n), this.tag(seq, 0, step), none),
        ]);
      }
    });
  }

  /** Root's buffer is copied into every rank's buffer (in place). */
  broadcast<T extends CollectiveArray>(buf: T, opts: RootOptions | number = {}): Promise<T> {
    const o = typeof opts === 'number' ? { root: opts } : opts;
    dtypeOf(buf, o.dtype);
    const root = this.checkRoot(o.root ?? 0);
    return this.run('broadcast', async (seq) => {
      const bytes = bytesOf(buf);
      const large = o.algorithm === 'ring' || (o.algorithm !== 'tree' && bytes.byteLength > this.smallBytes);
      if (large) await this.chainBroadcast(seq, bytes, root);
      else await this.treeBroadcast(seq, bytes, root);
      return buf;
    });
  }

  /**
   * Reduces every rank's `send` into `recv` at the root (`recv` may be omitted off-root).
   * In place at the root when recv is omitted or is send. Non-root buffers stay unchanged.
   */
  reduce<T extends CollectiveArray>(send: T, recv?: T | null, opts: ReduceOptions = {}): Promise<T> {
    const dtype = dtypeOf(send, opts.dtype);
    const op = this.checkOp(opts.op);
    const root = this.checkRoot(opts.root ?? 0);
    const out = (recv ?? send) as T;
    if (this.rank === root) this.checkSame(send, out, 'recv');
    return this.run('reduce', async (seq) => {
      const esize = DTYPE_SIZE[dtype];
      const src = bytesOf(send);
      const work = new Uint8Array(src);            // non-root inputs must survive
      const count = src.byteLength / esize;
      const large = opts.algorithm === 'ring' || (opts.algorithm !== 'tree' && src.byteLength > this.smallBytes);
      if (this.size > 1) {
        if (large) await this.ringReduce(seq, work, count, dtype, op, root);
        else await this.treeReduce(seq, work, dtype, op, root);
      }
      if (this.rank === root) bytesOf(out).set(work);
      return out;
    });
  }

  /** Every rank gets the reduction of all `send` buffers; in place when recv is omitted or is send. */
  allreduce<T extends CollectiveArray>(send: T, recv?: T | null, opts: ReduceOptions = {}): Promise<T> {
    const dtype = dtypeOf(send, opts.dtype);
    const op = this.checkOp(opts.op);
    const out = (recv ?? send) as T;
    this.checkSame(send, out, 'recv');
    return this.run('allreduce', async (seq) => {
      const work = bytesOf(out), src = out === send ? work : bytesOf(send);
      const count = out.length;
      // The bandwidth algorithms read the send buffer themselves and write every byte of
      // the result, so out of place they need no copy of the input first.
      const copyIn = () => { if (out !== send) work.set(src); };
      if (this.size === 1 || count === 0) { copyIn(); return out; }
      const alg = opts.algorithm ?? 'auto';
      const small = work.byteLength <= this.smallBytes;
      const direct = alg === 'direct'
        || (alg === 'auto' && this.size > 2 && this.size <= DIRECT_MAX_RANKS && work.byteLength <= Math.min(DIRECT_MAX_BYTES, this.smallBytes));
      const rd = alg === 'recursive-doubling' || (alg === 'auto' && small) || count < this.size;
      const pairwise = alg === 'pairwise' || (alg === 'auto' && this.size > 2 && this.size <= PAIRWISE_MAX_RANKS);
      if (direct) { copyIn(); await this.directAllreduce(seq, work, dtype, op); }
      else if (rd) { copyIn(); await this.recursiveDoubling(seq, work, dtype, op); }
      else if (this.size === 2 && alg === 'auto' && work.byteLength <= PAIR_MAX_BYTES) await this.pairAllreduce(seq, work, src, dtype, op);
      else if (pairwise) await this.pairwiseAllreduce(seq, work, src, count, dtype, op);
      else await this.ringAllreduce(seq, work, src, count, dtype, op);
      return out;
    });
  }

  /**
   * recv (size * send.length elements) gets every rank's send, in rank order. In place
   * when send is recv: this rank's contribution is then already in block `rank`.
   */
  allgather<T extends CollectiveArray>(send: T, recv: T, opts: TypeOptions = {}): Promise<T> {
    const dtype = dtypeOf(send, opts.dtype);
    const inPlace = send === recv;
    this.checkSameType(send, recv);
    const count = inPlace ? recv.length / this.size : send.length;
    if (!Number.isInteger(count) || recv.length !== count * this.size) {
      throw new RangeError(`allgather: recv has ${recv.length} elements, needs size (${this.size}) x ${count}`);
    }
    return this.run('allgather', async (seq) => {
      const esize = DTYPE_SIZE[dtype];
      const out = bytesOf(recv);
      const blockBytes = count * esize;
      if (!inPlace) out.set(bytesOf(send), this.rank * blockBytes);
      if (this.size === 1 || count === 0) return recv;
      await this.ringBlocks(seq, out, count, esize, 'gather', dtype, 'sum');
      return recv;
    });
  }

  /**
   * Reduces size * n elements across ranks; rank r gets block r (n elements) in recv.
   * In place when send is recv: the result lands in block `rank` of it, returned as a view.
   */
  reduceScatter<T extends CollectiveArray>(send: T, recv: T, opts: ReduceOptions = {}): Promise<T> {
    const dtype = dtypeOf(send, opts.dtype);
    const op = this.checkOp(opts.op);
    this.checkSameType(send, recv);
    const inPlace = send === recv;
    const count = send.length / this.size;
    if (!Number.isInteger(count)) {
      throw new RangeError(`reduceScatter: send has ${send.length} elements, not a multiple of size ${this.size}`);
    }
    if (!inPlace && recv.length !== count) {
      throw new RangeError(`reduceScatter: recv has ${recv.length} elements, needs ${count}`);
    }
    return this.run('reduceScatter', async (seq) => {
      const esize = DTYPE_SIZE[dtype];
      const work = inPlace ? bytesOf(send) : new Uint8Array(bytesOf(send));
      if (this.size > 1 && count > 0) await this.ringBlocks(seq, work, count, esize, 'reduce', dtype, op);
      const mine = work.subarray(this.rank * count * esize, (this.rank + 1) * count * esize);
      if (inPlace) return send.subarray(this.rank * count, (this.rank + 1) * count) as T;
      bytesOf(recv).set(mine);
      return recv;
    });
  }

  /** Block j of rank i's send goes to block i of rank j's recv. In place when send is recv. */
  alltoall<T extends CollectiveArray>(send: T, recv: T, opts: TypeOptions = {}): Promise<T> {
    const dtype = dtypeOf(send, opts.dtype);
    this.checkSameType(send, recv);
    this.checkSame(send, recv, 'recv');
    const count = send.length / this.size;
    if (!Number.isInteger(count)) {
      throw new RangeError(`alltoall: send has ${send.length} elements, not a multiple of size ${this.size}`);
    }
    return this.run('alltoall', async (seq) => {
      const esize = DTYPE_SIZE[dtype];
      const out = bytesOf(recv);
      // In place, a block may be overwritten before it is sent: work from a copy.
      const src = send === recv ? new Uint8Array(out) : bytesOf(send);
      const b = count * esize;
      const n = this.size, r = this.rank;
      out.set(src.subarray(r * b, (r + 1) * b), r * b);
      if (n === 1 || b === 0) return recv;
      const pieces = pieceCount(b, this.segmentBytes);
      const exchange = (s: number) => {
        const dst = mod(r + s, n), from = mod(r - s, n);
        const ops: Promise<void>[] = [];
        for (let p = 0; p < pieces; p++) {
          const lo = Math.floor((b * p) / pieces), hi = Math.floor((b * (p + 1)) / pieces);
          ops.push(this.transport.send(dst, this.tag(seq, p, s), src.subarray(dst * b + lo, dst * b + hi)));
          ops.push(this.transport.recv(from, this.tag(seq, p, s), out.subarray(from * b + lo, from * b + hi)));
        }
        return Promise.all(ops);
      };
      if (b <= this.smallBytes) {
        const all: Promise<unknown>[] = [];
        for (let s = 1; s < n; s++) all.push(exchange(s));
        await Promise.all(all);
      } else {
        // Pairwise exchange keeps one peer pair busy at a time, avoiding incast.
        for (let s = 1; s < n; s++) await exchange(s);
      }
      return recv;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => undefined);
    clearTimeout(this.watchdog);
    for (const fn of this.beforeClose.splice(0)) await fn();
    await this.transport.close();
    for (const fn of this.onClose.splice(0)) await fn();
  }

  // ---- machinery ------------------------------------------------------------------

  private tag(seq: number, chunk: number, step: number): number {
    return seq * TAG_SEQ + (chunk & 0xffff) * TAG_CHUNK + (step & 0xffff);
  }

  private checkOp(op: string | undefined): ReduceOp {
    const o = op ?? 'sum';
    if (!isReduceOp(o)) throw new RangeError(`unknown reduce op '${o}': use sum, prod, min or max`);
    return o;
  }

  private checkRoot(root: number): number {
    if (!Number.isInteger(root) || root < 0 || root >= this.size) {
      throw new RangeError(`root ${root} outside 0..${this.size - 1}`);
    }
    return root;
  }

  private checkSameType(a: CollectiveArray, b: CollectiveArray): void {
    if (a.constructor !== b.constructor) {
      throw new TypeError(`send is a ${a.constructor.name} but recv is a ${b.constructor.name}`);
    }
  }

  private checkSame(a: CollectiveArray, b: CollectiveArray, what: string): void {
    this.checkSameType(a, b);
    if (a.length !== b.length) throw new RangeError(`${what} has ${b.length} elements, send has ${a.length}`);
  }

  /** Serialises collectives (all ranks must issue them in one order) and bounds each one. */
  private run<T>(name: string, body: (seq: number) => Promise<T>): Promise<T> {
    // Back to back collectives (the common case) start at once instead of after an extra hop.
    const job = this.idle ? this.exec(name, body) : this.tail.then(() => this.exec(name, body));
    this.idle = false;
    const settled = job.then(() => { if (this.tail === settled) this.idle = true; },
                             () => { if (this.tail === settled) this.idle = true; });
    this.tail = settled;
    return job;
  }

  private exec<T>(name: string, body: (seq: number) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new CollectiveError(`${name}: communicator is closed`, 'CLOSED'));
    const failed = this.transport.aborted;
    if (failed) return Promise.reject(failed);
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    // One timer per communicator, re-armed per collective: creating and clearing a timer
    // for every collective costs more than the small collectives themselves.
    return new Promise<T>((resolve, reject) => {
      const fail = (e: unknown) => {
        if (this.active?.seq === seq) this.active = undefined;
        this.disarm();
        // A collective that failed part-way leaves peers out of step: nothing after it can be trusted.
        const first = !this.transport.aborted;
        this.transport.abort(e instanceof Error ? e : new Error(String(e)));
        const err = this.transport.aborted ?? (e as Error);
        if (first) this.reportFailure?.(err);
        reject(err);
      };
      this.active = { name, seq, fail };
      this.arm();
      let p: Promise<T>;
      try { p = body(seq); } catch (e) { fail(e); return; }
      p.then((v) => {
        if (this.active?.seq !== seq) return;        // timed out already
        this.active = undefined;
        this.disarm();
        resolve(v);
      }, (e: unknown) => { if (this.active?.seq === seq) fail(e); });
    });
  }

  private arm(): void {
    if (!this.watchdog) {
      this.watchdog = setTimeout(() => {
        const a = this.active;
        if (!a) return;
        a.fail(new CollectiveError(
          `${a.name} on rank ${this.rank} of ${this.size} did not complete within ${this.timeoutMs} ms ` +
          `over ${this.transport.name}: a peer is stuck or gone`, 'TIMEOUT'));
      }, this.timeoutMs);
    } else {
      this.watchdog.refresh();
      this.watchdog.ref();
    }
  }

  /** An idle communicator keeps no process alive; the timer fires harmlessly if it ever does. */
  private disarm(): void { this.watchdog?.unref(); }

  private async treeBroadcast(seq: number, bytes: Uint8Array, root: number): Promise<void> {
    const n = this.size, vr = mod(this.rank - root, n);
    const real = (v: number) => mod(v + root, n);
    let mask = 1;
    while (mask < n) {
      if (vr & mask) { await this.transport.recv(real(vr - mask), this.tag(seq, 0, 0), bytes); break; }
      mask <<= 1;
    }
    const sends: Promise<void>[] = [];
    for (mask >>= 1; mask > 0; mask >>= 1) {
      if (vr + mask < n) sends.push(this.transport.send(real(vr + mask), this.tag(seq, 0, 0), bytes));
    }
    await Promise.all(sends);
  }

  private async chainBroadcast(seq: number, bytes: Uint8Array, root: number): Promise<void> {
    const n = this.size, vr = mod(this.rank - root, n);
    if (n === 1 || bytes.byteLength === 0) return;
    const prev = mod(this.rank - 1, n), next = mod(this.rank + 1, n);
    const pieces = pieceCount(bytes.byteLength, this.segmentBytes);
    const piece = (c: number) => bytes.subarray(Math.floor((bytes.byteLength * c) / pieces),
                                                Math.floor((bytes.byteLength * (c + 1)) / pieces));
    // Receives are posted up front so data never waits for this rank's forwarding pace.
    const recvs: Promise<void>[] = [];
    if (vr > 0) for (let c = 0; c < pieces; c++) recvs.push(quiet(this.transport.recv(prev, this.tag(seq, c, 0), piece(c))));
    const sends: Promise<void>[] = [];
    for (let c = 0; c < pieces; c++) {
      if (vr > 0) await recvs[c];
      if (vr < n - 1) {
        sends.push(quiet(this.transport.send(next, this.tag(seq, c, 0), piece(c))));
        if (sends.length >= this.window) await sends[sends.length - this.window];
      }
    }
    await Promise.all([...sends, ...recvs]);
  }

  private async treeReduce(seq: number, work: Uint8Array, dtype: DType, op: ReduceOp, root: number): Promise<void> {
    const n = this.size, vr = mod(this.rank - root, n);
    const real = (v: number) => mod(v + root, n);
    const tmp = new Uint8Array(work.byteLength);
    for (let mask = 1; mask < n; mask <<= 1) {
      if (vr & mask) {
        await this.transport.send(real(vr - mask), this.tag(seq, 0, 0), work);
        return;
      }
      if (vr + mask < n) {
        await this.transport.recv(real(vr + mask), this.tag(seq, 0, 0), tmp);
        reduceBytes(dtype, op, work, tmp);
      }
    }
  }

  /** Reduce-scatter along the ring, then every segment owner sends its piece to the root. */
  private async ringReduce(seq: number, work: Uint8Array, count: number, dtype: DType, op: ReduceOp,
                           root: number): Promise<void> {
    const n = this.size, r = this.rank, esize = DTYPE_SIZE[dtype];
    const chunks = pieceCount(count, this.segmentElems(Math.ceil(count / n), esize) * n);
    const wire = await this.ringWire(seq, work, { reduce: true, gather: false });
    const sent = new Outgoing();
    await pipelined(chunks, this.window, async (c) => {
      const lo = Math.floor((count * c) / chunks), hi = Math.floor((count * (c + 1)) / chunks);
      const segs = splitSegments(lo * esize, hi - lo, n, esize);
      // The root's receives land in segments it wrote out during the reduce-scatter: each
      // arrives only after its owner's reduction, which needed the root's write.
      await this.ringReduceScatter(wire, sent, seq, c, work, segs, 0, dtype, op);
      if (r !== root) {
        const s = segs[r]!;
        if (s.len > 0) await this.transport.send(root, this.tag(seq, c, 2 * n), work.subarray(s.off, s.off + s.len));
      } else {
        await Promise.all(segs.map((s, i) => (i === r || s.len === 0) ? undefined
          : this.transport.recv(i, this.tag(seq, c, 2 * n), work.subarray(s.off, s.off + s.len))));
      }
    });
    await sent.done();
  }

  /** Everyone sends to everyone, then each rank folds the inputs in rank order (so all ranks agree bit for bit). */
  private async directAllreduce(seq: number, work: Uint8Array, dtype: DType, op: ReduceOp): Promise<void> {
    const n = this.size, r = this.rank, b = work.byteLength;
    const all = new Uint8Array(b * n);
    all.set(work, r * b);
    const tag = this.tag(seq, 0, 0);
    const ops: Promise<void>[] = [];
    for (let k = 1; k < n; k++) {
      const from = mod(r - k, n);
      ops.push(this.transport.recv(from, tag, all.subarray(from * b, (from + 1) * b)));
    }
    for (let k = 1; k < n; k++) ops.push(this.transport.send(mod(r + k, n), tag, work));
    await Promise.all(ops);
    work.set(all.subarray(0, b));
    for (let i = 1; i < n; i++) reduceBytes(dtype, op, work, all.subarray(i * b, (i + 1) * b));
  }

  private async recursiveDoubling(seq: number, work: Uint8Array, dtype: DType, op: ReduceOp): Promise<void> {
    const n = this.size, r = this.rank;
    let p = 1;
    while (p * 2 <= n) p *= 2;
    const rem = n - p;
    const tmp = new Uint8Array(work.byteLength);
    const t = (step: number) => this.tag(seq, 0, step);
    // Fold-in: of the first 2*rem ranks, each even rank hands its data to the odd one
    // above it and sits out; the remaining p ranks form a power-of-two group.
    let vr: number;
    if (r < 2 * rem) {
      if (r % 2 === 0) {
        await this.transport.send(r + 1, t(0), work);
        await this.transport.recv(r + 1, t(0xffff), work);
        return;
      }
      await this.transport.recv(r - 1, t(0), tmp);
      reduceBytes(dtype, op, work, tmp);
      vr = r >> 1;
    } else {
      vr = r - rem;
    }
    const real = (v: number) => (v < rem ? v * 2 + 1 : v + rem);
    for (let mask = 1, step = 1; mask < p; mask <<= 1, step++) {
      const peer = real(vr ^ mask);
      await Promise.all([
        this.transport.send(peer, t(step), work),
        this.transport.recv(peer, t(step), tmp),
      ]);
      reduceBytes(dtype, op, work, tmp);
    }
    if (r < 2 * rem) await this.transport.send(r - 1, t(0xffff), work);
  }

  /**
   * Two ranks: each writes its whole input into the other's scratch and folds it in as it
   * lands, in chunks so that folding one overlaps the transfer of the next. One exchange
   * instead of the ring's two dependent steps, for the same bytes on the wire; the price,
   * folding all of the message rather than half, is far below a step's synchronisation.
   * Out of place the chunks leave from the untouched send buffer, so a chunk is folded
   * (send op incoming, into the result) as soon as it lands; in place only once this
   * rank's own write of it has completed.
   */
  private async pairAllreduce(seq: number, work: Uint8Array, src: Uint8Array, dtype: DType, op: ReduceOp): Promise<void> {
    const esize = DTYPE_SIZE[dtype], count = work.byteLength / esize;
    const per = this.segmentFixed ? Math.max(1, Math.floor(this.segmentBytes / esize)) : Math.ceil(PAIR_CHUNK / esize);
    const pieces = pieceCount(count, per);
    const wire = await this.ringWire(seq, work, { reduce: true, gather: false }, src);
    const sent = new Outgoing();
    const puts: Promise<void>[] = [];
    const lands: Promise<void>[] = [];
    const segs: Seg[] = [];
    for (let c = 0; c < pieces; c++) {
      const lo = Math.floor((count * c) / pieces), hi = Math.floor((count * (c + 1)) / pieces);
      const seg = { off: lo * esize, len: (hi - lo) * esize };
      segs.push(seg);
      lands.push(quiet(wire.fromLeft(this.tag(seq, c, 0), seg, 'scratch')));
      puts.push(sent.add(wire.toRight(this.tag(seq, c, 0), seg, 'scratch'))!);
    }
    const inPlace = src === work;
    for (let c = 0; c < pieces; c++) {
      const s = segs[c]!;
      await sent.guard(lands[c]!);
      if (inPlace) await puts[c];
      reduceBytes(dtype, op, work.subarray(s.off, s.off + s.len), wire.scratch.subarray(s.off, s.off + s.len),
                  src.subarray(s.off, s.off + s.len));
    }
    await sent.done();
  }

  private async ringAllreduce(seq: number, work: Uint8Array, src: Uint8Array, count: number, dtype: DType,
                              op: ReduceOp): Promise<void> {
    const n = this.size, esize = DTYPE_SIZE[dtype];
    const chunks = pieceCount(count, this.segmentElems(Math.ceil(count / n), esize) * n);
    const wire = await this.ringWire(seq, work, { reduce: true, gather: true });
    const sent = new Outgoing();
    await pipelined(chunks, this.window, async (c) => {
      const lo = Math.floor((count * c) / chunks), hi = Math.floor((count * (c + 1)) / chunks);
      const segs = splitSegments(lo * esize, hi - lo, n, esize);
      await this.ringReduceScatter(wire, sent, seq, c, work, segs, 1, dtype, op, src);
      await this.ringAllgather(wire, sent, seq, c, work, segs, 1);
    });
    await sent.done();
  }

  /**
   * Reduce-scatter then allgather, each one hop: rank r writes block q of its input to
   * every rank q, folds the n-1 contributions to its own block as they land (its input
   * is read from `src`, so out of place nothing is copied first), then writes the reduced
   * block to every rank. Chunked like the ring so folding overlaps the next transfers.
   * Writes go out in the order r+1, r+2, ... so that no rank is everyone's first target.
   */
  private async pairwiseAllreduce(seq: number, work: Uint8Array, src: Uint8Array, count: number, dtype: DType,
                                  op: ReduceOp): Promise<void> {
    const n = this.size, r = this.rank, esize = DTYPE_SIZE[dtype];
    const chunks = pieceCount(count, this.segmentElems(Math.ceil(count / n), esize) * n);
    // Contributions to this rank's block land in n-1 slots per chunk, one per sender.
    const slot = Math.ceil(Math.ceil(count / chunks) / n) * esize;
    const slots = (n - 1) * slot;
    const wire = await this.peerWire(seq, work, chunks * slots);
    const sent = new Outgoing();
    const view = (m: Uint8Array, s: Seg) => m.subarray(s.off, s.off + s.len);
    await pipelined(chunks, this.window, async (c) => {
      const lo = Math.floor((count * c) / chunks), hi = Math.floor((count * (c + 1)) / chunks);
      const segs = splitSegments(lo * esize, hi - lo, n, esize);
      const mine = segs[r]!;
      const scatter = this.tag(seq, c, 0), gather = this.tag(seq, c, 1);
      // The sender at distance d (rank r+d... seen from the receiver, r-d... seen from the sender) uses slot d-1.
      const slotOf = (sender: number, receiver: number) => c * slots + (mod(sender - receiver, n) - 1) * slot;
      const contributions: { at: number; landed: Promise<void> }[] = [];
      const gathered: Promise<void>[] = [];
      for (let d = 1; d < n; d++) {
        const p = mod(r - d, n);
        if (mine.len > 0) {
          const at = slotOf(p, r);
          contributions.push({ at, landed: quiet(wire.fromPeer(p, scatter, { off: at, len: mine.len }, 'scratch')) });
        }
        if (segs[p]!.len > 0) gathered.push(quiet(wire.fromPeer(p, gather, segs[p]!, 'work')));
      }
      for (let d = 1; d < n; d++) {
        const q = mod(r + d, n), s = segs[q]!;
        if (s.len > 0) sent.add(wire.toPeer(q, scatter, view(src, s), slotOf(r, q), 'scratch'));
      }
      if (mine.len > 0) {
        const out = view(work, mine);
        let acc = view(src, mine);
        for (const { at, landed } of contributions) {
          await sent.guard(landed);
          reduceBytes(dtype, op, out, wire.scratch.subarray(at, at + mine.len), acc);
          acc = out;
        }
        for (let d = 1; d < n; d++) sent.add(wire.toPeer(mod(r + d, n), gather, out, mine.off, 'work'));
      }
      for (const g of gathered) await sent.guard(g);
    });
    await sent.done();
  }

  /**
   * Ring over `size` blocks of `count` elements each (block i at i*count): 'reduce'
   * leaves rank r with block r fully reduced; 'gather' fills every block from its owner.
   * Large blocks are cut into chunks that circulate independently.
   */
  private async ringBlocks(seq: number, work: Uint8Array, count: number, esize: number, mode: 'reduce' | 'gather',
                           dtype: DType, op: ReduceOp): Promise<void> {
    const n = this.size;
    const chunks = pieceCount(count, this.segmentElems(count, esize));
    const wire = await this.ringWire(seq, work, { reduce: mode === 'reduce', gather: mode === 'gather' });
    const sent = new Outgoing();
    await pipelined(chunks, this.window, async (c) => {
      const lo = Math.floor((count * c) / chunks), hi = Math.floor((count * (c + 1)) / chunks);
      const segs: Seg[] = [];
      for (let i = 0; i < n; i++) segs.push({ off: (i * count + lo) * esize, len: (hi - lo) * esize });
      if (mode === 'reduce') await this.ringReduceScatter(wire, sent, seq, c, work, segs, 0, dtype, op);
      else await this.ringAllgather(wire, sent, seq, c, work, segs, 0);
    });
    await sent.done();
  }

  /**
   * After it, rank r holds segment (r + shift) mod n reduced over all ranks. Steps 0..n-2.
   * Writes are not waited for step by step: a segment sent here is never folded into
   * again, and the one sent first is only overwritten by the gather of its reduced value,
   * which arrives after the whole ring (starting with this write) has passed over it.
   * Rank r's own data is read from `from`: every segment is folded at most once, so with
   * a separate input the fold writes `from op incoming` into `work` and no copy of the
   * input is needed; the segment sent first leaves straight from `from`.
   */
  private async ringReduceScatter(wire: RingWire, sent: Outgoing, seq: number, chunk: number, work: Uint8Array,
                                  segs: Seg[], shift: number, dtype: DType, op: ReduceOp,
                                  from: Uint8Array = work): Promise<void> {
    const n = this.size, r = this.rank;
    for (let step = 0; step < n - 1; step++) {
      const out = segs[mod(r + shift - 1 - step, n)]!;
      const inn = segs[mod(r + shift - 2 - step, n)]!;
      const tag = this.tag(seq, chunk, step);
      if (out.len > 0) sent.add(wire.toRight(tag, out, 'scratch', step === 0 ? from : work));
      if (inn.len > 0) {
        await sent.guard(wire.fromLeft(tag, inn, 'scratch'));
        reduceBytes(dtype, op, work.subarray(inn.off, inn.off + inn.len), wire.scratch.subarray(inn.off, inn.off + inn.len),
                    from.subarray(inn.off, inn.off + inn.len));
      }
    }
  }

  /**
   * Given rank r holds segment (r + shift) mod n, fills all segments. Steps n-1..2n-3.
   * A segment sent here is never received into later, so writes are not waited for.
   */
  private async ringAllgather(wire: RingWire, sent: Outgoing, seq: number, chunk: number, work: Uint8Array,
                              segs: Seg[], shift: number): Promise<void> {
    const n = this.size, r = this.rank;
    for (let step = 0; step < n - 1; step++) {
      const out = segs[mod(r + shift - step, n)]!;
      const inn = segs[mod(r + shift - 1 - step, n)]!;
      const tag = this.tag(seq, chunk, n - 1 + step);
      if (out.len > 0) sent.add(wire.toRight(tag, out, 'work'));
      if (inn.len > 0) await sent.guard(wire.fromLeft(tag, inn, 'work'));
    }
  }

  /**
   * Elements per ring segment for `perRank` elements per rank: at most segmentBytes, and
   * small enough that the message is cut into `window` chunks whose transfers overlap
   * each other's reductions, but not below MIN_PIPELINED_SEGMENT.
   * An explicit segmentBytes is taken as given.
   */
  private segmentElems(perRank: number, esize: number): number {
    const most = Math.max(1, Math.floor(this.segmentBytes / esize));
    if (this.segmentFixed) return most;
    const spread = Math.ceil(perRank / this.window);
    return Math.max(1, Math.min(most, Math.max(Math.ceil(MIN_PIPELINED_SEGMENT / esize), spread)));
  }

  /**
   * Scratch memory for incoming ring segments, kept between collectives (and its
   * registration with it). It lives in a vector kernel arena when the engine has one, so
   * folding what landed there reads it in place (see simdArena).
   */
  private scratchFor(bytes: number): Uint8Array {
    if (!this.scratchBuf || this.scratchBuf.byteLength < bytes) {
      const size = Math.max(1 << 20, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
      this.scratchBuf = simdArena(size) ?? new Uint8Array(size);
      // Touch every page now: the halves alternate, so the second would otherwise take
      // its page faults in the middle of the next collective of this size.
      this.scratchBuf.fill(1);
    }
    return this.scratchBuf;
  }

  /**
   * Decides how ring segments travel: when both ends of a link can, the sender writes
   * straight into the right neighbour's memory; otherwise by tagged messages. Each rank
   * offers memory to its left neighbour, so both ends of a link agree.
   *
   * Up to KEPT_SCRATCH_MAX bytes the target is this rank's kept scratch. Its handle is
   * offered once per scratch allocation (every rank allocates at the same collectives, as
   * sizes match across ranks). Collectives alternate between its two halves, and within
   * a half the first len bytes take reduce-phase segments, the next len gather-phase
   * ones, copied into the result as they land. Alternating halves is what makes writing
   * without asking safe: a writer in collective j has finished j-1, whose result needs
   * the target's input to j-1, so the target has finished j-2, the last user of the half
   * j writes into. Larger messages go straight into the neighbour's result buffer, with
   * handles exchanged afresh by every collective; that exchange also orders them (and
   * a collective that used the scratch this way drops the kept offer).
   *
   * A gather write needs no extra handshake although it lands whenever it arrives: the
   * write of segment X into rank R at gather step s depends, around the ring, on R having
   * finished reduce step s-1 (the one that folds into X) and on R+1 having received R's
   * reduce step s (R's last read of X). Scratch slots are written once per chunk.
   */
  private async ringWire(seq: number, work: Uint8Array, phases: { reduce: boolean; gather: boolean },
                         from: Uint8Array = work): Promise<RingWire> {
    const t = this.transport, n = this.size, r = this.rank;
    const right = mod(r + 1, n), left = mod(r - 1, n);
    const rma = t.rma;
    const len = work.byteLength;
    const kept = rma !== undefined && len <= KEPT_SCRATCH_MAX;
    const scratch = kept ? this.scratchFor(4 * len) : phases.reduce ? this.scratchFor(len) : work;
    const base = kept ? (this.keptUses++ & 1) * (scratch.byteLength / 2) : 0;
    let leftPuts = false;
    let rightWork: Uint8Array | undefined;
    let rightScratch: Uint8Array | undefined;
    if (rma && kept && this.offer?.scratch === scratch) {
      leftPuts = this.offer.leftPuts;
      rightScratch = this.offer.right;
    } else if (rma) {
      const hb = rma.handleBytes;
      // Each rank only decides whether to offer its own memory; the writer follows the
      // offer, so a link is RMA or messages on both of its ends.
      const mine = this.offerOf(rma, kept, scratch, phases.gather ? work : undefined, !!phases.reduce);
      const theirs = new Uint8Array(1 + 2 * hb);
      const ctl = this.tag(seq, 0xffff, 0);
      await Promise.all([t.send(left, ctl, mine), t.recv(right, ctl, theirs)]);
      leftPuts = mine[0] === 1;
      if (theirs[0] === 1) {
        rightWork = theirs.slice(1, 1 + hb);
        rightScratch = theirs.slice(1 + hb);
      }
      this.offer = kept ? { scratch, leftPuts, right: rightScratch } : undefined;
    }
    const view = (m: Uint8Array, s: Seg) => m.subarray(s.off, s.off + s.len);
    if (kept) {
      const half = scratch.subarray(base, base + 2 * len);
      return {
        scratch: half,
        toRight: (tag, seg, dst, src = from) => (rightScratch
          ? rma.put(right, tag, view(src, seg), rightScratch, base + (dst === 'work' ? len : 0) + seg.off)
          : t.send(right, tag, view(src, seg))),
        fromLeft: (tag, seg, dst) => {
          if (!leftPuts) return t.recv(left, tag, view(dst === 'work' ? work : half, seg));
          const landed = rma.landed(left, tag);
          if (dst === 'scratch') return landed;
          return landed.then(() => { work.set(half.subarray(len + seg.off, len + seg.off + seg.len), seg.off); });
        },
      };
    }
    return {
      scratch,
      toRight: (tag, seg, dst, src = from) => (rma && rightWork
        ? rma.put(right, tag, view(src, seg), dst === 'work' ? rightWork : rightScratch!, seg.off)
        : t.send(right, tag, view(src, seg))),
      fromLeft: (tag, seg, dst) => (rma && leftPuts
        ? rma.landed(left, tag)
        : t.recv(left, tag, view(dst === 'work' ? work : scratch, seg))),
    };
  }

  /**
   * This rank's offer of its memory to writers: [1, work handle, scratch handle], or all
   * zeros when RMA is off or the memory cannot be exposed (writers then send messages).
   * A kept scratch is exposed for good and offered alone.
   */
  private offerOf(rma: RmaOps, kept: boolean, scratch: Uint8Array, work: Uint8Array | undefined,
                  withScratch: boolean): Uint8Array {
    const hb = rma.handleBytes;
    const mine = new Uint8Array(1 + 2 * hb);
    if (!this.useRma) return mine;
    try {
      if (kept) mine.set(rma.expose(scratch, { keep: true }), 1 + hb);
      else {
        if (work) mine.set(rma.expose(work), 1);
        if (withScratch) mine.set(rma.expose(scratch), 1 + hb);
      }
      mine[0] = 1;
    } catch {
      mine.fill(0);
    }
    return mine;
  }

  /**
   * ringWire for algorithms in which every rank writes to every other: each rank offers
   * its memory to all peers, and a writer follows each target's offer. The kept scratch
   * and the alternation of its halves work as in ringWire: a writer in collective j has
   * the result of j-1, which needed every target's input to j-1, so every target has
   * finished j-2, the last user of the half j writes into. Within a half the first
   * `rsBytes` take reduce-phase blocks, the next len bytes gather-phase ones, copied into
   * the result as they land. Above KEPT_SCRATCH_MAX the offers (scratch and result) are
   * exchanged afresh by every collective, and gather writes land in the result itself.
   */
  private async peerWire(seq: number, work: Uint8Array, rsBytes: number): Promise<PeerWire> {
    const t = this.transport, n = this.size, r = this.rank;
    const rma = t.rma;
    const len = work.byteLength;
    const kept = rma !== undefined && len <= KEPT_SCRATCH_MAX;
    const scratch = this.scratchFor(kept ? 2 * (rsBytes + len) : rsBytes);
    const base = kept ? (this.keptUses++ & 1) * (scratch.byteLength / 2) : 0;
    let peersPut = false;
    let theirWork: (Uint8Array | undefined)[] = [];
    let theirScratch: (Uint8Array | undefined)[] = [];
    if (rma && kept && this.peerOffer?.scratch === scratch) {
      peersPut = this.peerOffer.peersPut;
      theirScratch = this.peerOffer.scratches;
    } else if (rma) {
      const hb = rma.handleBytes;
      const mine = this.offerOf(rma, kept, scratch, work, true);
      const theirs = Array.from({ length: n }, () => new Uint8Array(1 + 2 * hb));
      const ctl = this.tag(seq, 0xffff, 1);
      const ops: Promise<void>[] = [];
      for (let d = 1; d < n; d++) {
        ops.push(t.send(mod(r + d, n), ctl, mine));
        ops.push(t.recv(mod(r - d, n), ctl, theirs[mod(r - d, n)]!));
      }
      await Promise.all(ops);
      peersPut = mine[0] === 1;
      theirWork = theirs.map((h, q) => (q !== r && h[0] === 1 ? h.slice(1, 1 + hb) : undefined));
      theirScratch = theirs.map((h, q) => (q !== r && h[0] === 1 ? h.slice(1 + hb) : undefined));
      this.peerOffer = kept ? { scratch, peersPut, scratches: theirScratch } : undefined;
    }
    const rs = scratch.subarray(base, base + rsBytes);
    if (kept) {
      const ag = scratch.subarray(base + rsBytes, base + rsBytes + len);
      return {
        scratch: rs,
        toPeer: (q, tag, data, off, dst) => {
          const h = theirScratch[q];
          return h ? rma.put(q, tag, data, h, base + (dst === 'work' ? rsBytes : 0) + off) : t.send(q, tag, data);
        },
        fromPeer: (p, tag, seg, dst) => {
          if (!peersPut) return t.recv(p, tag, (dst === 'work' ? work : rs).subarray(seg.off, seg.off + seg.len));
          const landed = rma.landed(p, tag);
          if (dst === 'scratch') return landed;
          return landed.then(() => { work.set(ag.subarray(seg.off, seg.off + seg.len), seg.off); });
        },
      };
    }
    return {
      scratch: rs,
      toPeer: (q, tag, data, off, dst) => {
        const h = dst === 'work' ? theirWork[q] : theirScratch[q];
        return rma && h ? rma.put(q, tag, data, h, off) : t.send(q, tag, data);
      },
      fromPeer: (p, tag, seg, dst) => (rma && peersPut
        ? rma.landed(p, tag)
        : t.recv(p, tag, (dst === 'work' ? work : rs).subarray(seg.off, seg.off + seg.len))),
    };
  }
}

/** How one collective's pairwise blocks travel (see Communicator.peerWire). */
interface PeerWire {
  /** Where reduce-phase blocks arrive before they are folded in. */
  readonly scratch: Uint8Array;
  /** Writes `data` to `peer`: at `off` of its scratch, or of its result ('work'). */
  toPeer(peer: number, tag: number, data: Uint8Array, off: number, dst: 'scratch' | 'work'): Promise<void>;
  /** Resolves once `seg` from `peer` is in place here (in scratch, or in the result). */
  fromPeer(peer: number, tag: number, seg: Seg, dst: 'scratch' | 'work'): Promise<void>;
}

/** How one collective's ring segments travel (see Communicator.ringWire). */
interface RingWire {
  /** Where reduce-phase segments arrive before they are folded in. */
  readonly scratch: Uint8Array;
  /** Sends `seg` of `src` (default: the buffer the wire was made for). */
  toRight(tag: number, seg: Seg, dst: 'scratch' | 'work', src?: Uint8Array): Promise<void>;
  fromLeft(tag: number, seg: Seg, dst: 'scratch' | 'work'): Promise<void>;
}

