/**
 * RCCC: receiver credit-based congestion control (EQDS-style pull), digest §5.3.
 *
 * Sender: starts speculating (sends up to `speculativeBytes` without credit), states its
 * demand as a cumulative credit target carried on each data packet, and after the first
 * grant sends only against credit. Receiver: a pacer hands out grants of `pullQuantum`
 * bytes at its link rate, round robin over senders with outstanding demand; bytes that
 * arrived speculatively are charged to the pacer so the last hop is never oversubscribed.
 *
 * Both sides are pure: time only enters through the `nowNs` arguments.
 */
import { CmsError, requireFinite } from './errors.js';

export interface RcccSenderConfig {
  mtu: number;
  /** Bytes the sender may send before its first grant. Default: one MTU. */
  speculativeBytes?: number;
}

export type RcccSenderEvent =
  | { kind: 'enqueue'; bytes: number }
  | { kind: 'send'; bytes: number }
  | { kind: 'grant'; bytes: number }
  | { kind: 'idle' };

export interface RcccSenderSnapshot {
  credit: number;
  backlog: number;
  speculating: boolean;
  specRemaining: number;
  creditTarget: number;
}

export class RcccSender {
  private creditBytes = 0;
  private backlogBytes = 0;
  private usedTotal = 0;
  private grantedTotal = 0;
  private spec: boolean;
  private specLeft: number;
  private readonly specBytes: number;

  constructor(cfg: RcccSenderConfig) {
    const mtu = requireFinite('mtu', cfg.mtu, 1);
    this.specBytes = requireFinite('speculativeBytes', cfg.speculativeBytes ?? mtu, 0);
    this.specLeft = this.specBytes;
    this.spec = this.specLeft > 0;
  }

  get credit(): number {
    return this.creditBytes;
  }
  get backlog(): number {
    return this.backlogBytes;
  }
  get speculating(): boolean {
    return this.spec;
  }
  get specRemaining(): number {
    return this.specLeft;
  }
  get granted(): number {
    return this.grantedTotal;
  }

  /**
   * Cumulative bytes of credit this sender needs over its life so far: the credit it has
   * used plus the part of its backlog that speculation will not cover. Monotonic, so a
   * lost or reordered request is harmless.
   */
  creditTarget(): number {
    const uncovered = this.backlogBytes - (this.spec ? this.specLeft : 0);
    return this.usedTotal + (uncovered > 0 ? uncovered : 0);
  }

  /** New data (or a retransmission) to send. */
  enqueue(bytes: number): void {
    requireFinite('bytes', bytes, 0);
    this.backlogBytes += bytes;
  }

  canSend(pkt: number): boolean {
    if (pkt > this.backlogBytes) return false;
    if (this.spec && this.specLeft >= pkt) return true;
    return this.creditBytes >= pkt;
  }

  /** Accounts one packet; returns whether it went out speculatively. */
  onSend(pkt: number): boolean {
    requireFinite('pkt', pkt, 0);
    if (!this.canSend(pkt)) throw new CmsError(`RCCC sender has no credit or backlog for ${pkt} bytes`);
    this.backlogBytes -= pkt;
    if (this.spec && this.specLeft >= pkt) {
      this.specLeft -= pkt;
      return true;
    }
    this.creditBytes -= pkt;
    this.usedTotal += pkt;
    return false;
  }

  onGrant(bytes: number): void {
    requireFinite('bytes', bytes, 0);
    this.creditBytes += bytes;
    this.grantedTotal += bytes;
    this.spec = false;
    this.specLeft = 0;
  }

  /**
   * The sender went quiet: nothing queued and (the caller's part) nothing unacknowledged.
   * Its next burst may speculate again, as a new flow would; the receiver only learns of
   * new demand from packets, so without this a sender whose credit ran out exactly with
   * its backlog would have to ask before every burst. Leftover credit is kept. Returns
   * whether speculation was re-armed (false while backlog remains).
   */
  idle(): boolean {
    if (this.backlogBytes > 0 || this.specBytes <= 0) return false;
    this.spec = true;
    this.specLeft = this.specBytes;
    return true;
  }

  handle(ev: RcccSenderEvent): void {
    switch (ev.kind) {
      case 'enqueue':
        this.enqueue(ev.bytes);
        return;
      case 'send':
        this.onSend(ev.bytes);
        return;
      case 'grant':
        this.onGrant(ev.bytes);
        return;
      case 'idle':
        this.idle();
        return;
      default:
        throw new CmsError(`unknown RCCC sender event: ${(ev as { kind: unknown }).kind as string}`);
    }
  }

  snapshot(): RcccSenderSnapshot {
    return {
      credit: this.creditBytes,
      backlog: this.backlogBytes,
      speculating: this.spec,
      specRemaining: this.specLeft,
      creditTarget: this.creditTarget(),
    };
  }
}

export interface RcccReceiverConfig {
  linkRateGbps: number;
  mtu: number;
  /** Bytes per grant; default 4 MTUs as in the UEC reference simulator. */
  pullQuantum?: number;
  /** Fraction of the link rate the pacer hands out (headroom for headers and ACKs). */
  rateFraction?: number;
}

export interface Grant {
  sender: number;
  bytes: number;
}

export type RcccReceiverEvent =
  | { kind: 'request'; sender: number; creditTarget: number; nowNs: number }
  | { kind: 'data'; sender: number; bytes: number; speculative: boolean; nowNs: number }
  | { kind: 'tick'; nowNs: number };

interface Peer {
  requested: number;
  granted: number;
}

export class RcccReceiver {
  readonly pullQuantum: number;
  readonly rateBytesPerNs: number;
  private readonly peers = new Map<number, Peer>();
  private readonly order: number[] = [];
  private rr = 0;
  private nextGrant = 0;
  private idle = true;

  constructor(cfg: RcccReceiverConfig) {
    const rate = requireFinite('linkRateGbps', cfg.linkRateGbps, 0);
    const mtu = requireFinite('mtu', cfg.mtu, 1);
    const frac = requireFinite('rateFraction', cfg.rateFraction ?? 1, 0);
    if (rate <= 0 || frac <= 0 || frac > 1) throw new CmsError('link rate must be > 0 and rateFraction in (0, 1]');
    this.pullQuantum = requireFinite('pullQuantum', cfg.pullQuantum ?? 4 * mtu, 1);
    this.rateBytesPerNs = (rate / 8) * frac;
  }

  /** Sender reports its cumulative credit target (carried on each data packet). */
  onRequest(sender: number, creditTarget: number, nowNs: number): void {
    requireFinite('creditTarget', creditTarget, 0);
    requireFinite('nowNs', nowNs);
    if (!Number.isInteger(sender) || sender < 0) throw new CmsError(`bad sender id ${sender}`);
    let p = this.peers.get(sender);
    if (!p) {
      p = { requested: 0, granted: 0 };
      this.peers.set(sender, p);
      this.order.push(sender);
    }
    if (creditTarget > p.requested) p.requested = creditTarget;
    if (this.idle && p.requested > p.granted) {
      this.idle = false;
      if (this.nextGrant < nowNs) this.nextGrant = nowNs;
    }
  }

  /** Speculative bytes occupy the last hop just like granted ones, so they push the pacer back. */
  onData(sender: number, bytes: number, speculative: boolean, nowNs: number): void {
    requireFinite('bytes', bytes, 0);
    requireFinite('nowNs', nowNs);
    if (!speculative) return;
    if (this.nextGrant < nowNs) this.nextGrant = nowNs;
    this.nextGrant += bytes / this.rateBytesPerNs;
  }

  /** The sender's context is gone (PDC closed): drop it and its outstanding demand. */
  forget(sender: number): boolean {
    const idx = this.order.indexOf(sender);
    if (idx < 0) return false;
    this.order.splice(idx, 1);
    this.peers.delete(sender);
    if (idx < this.rr) this.rr--;
    if (this.rr >= this.order.length) this.rr = 0;
    return true;
  }

  demand(sender: number): number {
    const p = this.peers.get(sender);
    return p ? p.requested - p.granted : 0;
  }

  /** Grants due at `nowNs`, in issue order. */
  poll(nowNs: number): Grant[] {
    requireFinite('nowNs', nowNs);
    const out: Grant[] = [];
    while (this.nextGrant <= nowNs) {
      const g = this.pick();
      if (!g) {
        this.idle = true;
        break;
      }
      out.push(g);
      this.nextGrant += g.bytes / this.rateBytesPerNs;
    }
    return out;
  }

  /** When the pacer next has something to do, or undefined while no sender wants credit. */
  nextWakeNs(): number | undefined {
    for (const p of this.peers.values()) if (p.requested > p.granted) return this.nextGrant;
    return undefined;
  }

  handle(ev: RcccReceiverEvent): Grant[] {
    switch (ev.kind) {
      case 'request':
        this.onRequest(ev.sender, ev.creditTarget, ev.nowNs);
        return [];
      case 'data':
        this.onData(ev.sender, ev.bytes, ev.speculative, ev.nowNs);
        return [];
      case 'tick':
        return this.poll(ev.nowNs);
      default:
        throw new CmsError(`unknown RCCC receiver event: ${(ev as { kind: unknown }).kind as string}`);
    }
  }

  private pick(): Grant | undefined {
    const n = this.order.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const id = this.order[idx]!;
      const p = this.peers.get(id)!;
      const want = p.requested - p.granted;
      if (want > 0) {
        const bytes = want < this.pullQuantum ? want : this.pullQuantum;
        p.granted += bytes;
        this.rr = (idx + 1) % n;
        return { sender: id, bytes };
      }
    }
    return undefined;
  }
}
