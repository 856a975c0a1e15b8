// Ranks inside one process: used by unit tests to run every algorithm on any rank count
// quickly, and by services that want collective semantics between workers of one process.

import { Matcher } from './matcher.js';
import { CollectiveError, checkPeer, type RmaOps, type Transport } from './transport.js';

const HANDLE_BYTES = 8;
/** Exposed regions kept per rank; older ones are forgotten (their memory is no longer reachable). */
const EXPOSED_KEEP = 16;

/** In-process RMA: a handle names an exposed view in the group's table. */
function handleOfId(id: number): Uint8Array {
  const h = new Uint8Array(HANDLE_BYTES);
  new DataView(h.buffer).setFloat64(0, id);
  return h;
}

class LocalRma implements RmaOps {
  readonly handleBytes = HANDLE_BYTES;
  readonly notes = new Matcher();
  private readonly mine: { mem: Uint8Array; id: number }[] = [];
  private kept: { mem: Uint8Array; id: number } | undefined;

  constructor(private readonly owner: LocalTransport, private readonly table: Map<number, Uint8Array>,
              private readonly nextId: () => number) {}

  expose(mem: Uint8Array, opts: { keep?: boolean } = {}): Uint8Array {
    if (opts.keep) {
      if (!this.kept || this.kept.mem !== mem) {
        if (this.kept) this.table.delete(this.kept.id);
        this.kept = { mem, id: this.nextId() };
        this.table.set(this.kept.id, mem);
      }
      return handleOfId(this.kept.id);
    }
    let hit = this.mine.find((e) => e.mem.buffer === mem.buffer && e.mem.byteOffset === mem.byteOffset
      && e.mem.byteLength === mem.byteLength);
    if (!hit) {
      hit = { mem, id: this.nextId() };
      this.table.set(hit.id, mem);
      this.mine.push(hit);
      if (this.mine.length > EXPOSED_KEEP) this.table.delete(this.mine.shift()!.id);
    }
    return handleOfId(hit.id);
  }

  put(peer: number, tag: number, data: Uint8Array, handle: Uint8Array, offset: number): Promise<void> {
    checkPeer(this.owner, peer);
    const t = this.owner;
    if (t.aborted) return Promise.reject(t.aborted);
    const id = new DataView(handle.buffer, handle.byteOffset, handle.byteLength).getFloat64(0);
    const target = this.table.get(id);
    if (!target || offset < 0 || offset + data.byteLength > target.byteLength) {
      return Promise.reject(new CollectiveError(`put of ${data.byteLength} bytes at ${offset} outside rank ${peer}'s exposed region`, 'PROTOCOL'));
    }
    // The bytes are read and land on a later turn, like a real one-sided write, so ordering
    // bugs (a source changed before its put completed, a target read before it landed)
    // surface here; the target hears of it later still when it lags, as a descheduled
    // process would.
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        const dst = t.peer(peer);
        if (t.aborted) { reject(t.aborted); return; }
        if (dst.isClosed) { reject(new CollectiveError(`rank ${peer} has closed`, 'PEER_EXIT')); return; }
        const copy = new Uint8Array(data);
        target.set(copy, offset);
        t.later(t.rank, resolve);
        t.later(peer, () => (dst.rma as LocalRma).notes.deliver(t.rank, tag, copy.subarray(0, 0), true));
      });
    });
  }

  landed(peer: number, tag: number): Promise<void> {
    checkPeer(this.owner, peer);
    return this.notes.post(peer, tag, new Uint8Array(0));
  }
}

class LocalTransport implements Transport {
  readonly name = 'local';
  readonly matcher = new Matcher();
  readonly rma: LocalRma | undefined;
  private closed = false;

  constructor(readonly rank: number, readonly size: number, private readonly group: LocalTransport[],
              rma: { table: Map<number, Uint8Array>; nextId: () => number } | undefined,
              private readonly lag: { rank: number; ms: number } | undefined) {
    this.rma = rma ? new LocalRma(this, rma.table, rma.nextId) : undefined;
  }

  /** Runs something `peer` will notice on a later turn (later still when that rank lags). */
  later(peer: number, fn: () => void): void {
    if (this.lag && this.lag.rank === peer) setTimeout(fn, this.lag.ms);
    else setImmediate(fn);
  }

  get isClosed(): boolean { return this.closed; }
  peer(rank: number): LocalTransport { return this.group[rank]!; }

  get aborted(): Error | undefined { return this.matcher.aborted; }

  send(peer: number, tag: number, data: Uint8Array): Promise<void> {
    checkPeer(this, peer);
    if (this.matcher.aborted) return Promise.reject(this.matcher.aborted);
    const target = this.group[peer]!;
    // Delivery happens on a later turn, so algorithms cannot lean on synchronous delivery.
    const copy = new Uint8Array(data);
    return new Promise((resolve, reject) => {
      this.later(peer, () => {
        if (this.matcher.aborted) { reject(this.matcher.aborted); return; }
        if (target.closed) { reject(new CollectiveError(`rank ${peer} has closed`, 'PEER_EXIT')); return; }
        target.matcher.deliver(this.rank, tag, copy, true);
        resolve();
      });
    });
  }

  recv(peer: number, tag: number, into: Uint8Array): Promise<void> {
    checkPeer(this, peer);
    return this.matcher.post(peer, tag, into);
  }

  abort(reason: Error): void {
    this.matcher.abort(reason);
    this.rma?.notes.abort(reason);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort(new CollectiveError('transport closed', 'CLOSED'));
  }
}

export interface LocalTransportOptions {
  /** Offer one-sided puts (default true), so the RMA algorithms run in-process too. */
  rma?: boolean;
  /**
   * Delays everything delivered to one rank by `ms`, as a descheduled process would see
   * it: the others run ahead as far as the algorithm lets them (tests of ordering).
   */
  lag?: { rank: number; ms: number };
}

/** `size` connected in-process transports, index = rank. */
export function createLocalTransports(size: number, opts: LocalTransportOptions = {}): Transport[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`group size must be a positive integer, got ${size}`);
  const group: LocalTransport[] = [];
  let id = 0;
  const rma = opts.rma === false ? undefined : { table: new Map<number, Uint8Array>(), nextId: () => ++id };
  for (let r = 0; r < size; r++) group.push(new LocalTransport(r, size, group, rma, opts.lag));
  return group;
}
