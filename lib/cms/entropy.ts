/**
 * Entropy value (EV) selection, digest §1.2: the sender picks a 16-bit EV per packet and
 * switches hash it to choose among equal-cost paths. ACK/NACK feedback carries the EV back.
 *
 * - ecmp: one EV per connection; every packet takes the same path.
 * - oblivious: cycles through `paths` EVs in a fresh random order each round.
 * - bitmap: oblivious, but an EV with a penalty (ECN +1, NACK +4, timeout = max) is skipped;
 *   each selection decrements the first penalty it skips, so paths recover.
 * - reps: recycles EVs whose ACK came back unmarked (each once, oldest first); explores
 *   random EVs otherwise. A timeout freezes the cache: for `freezePackets` selections it
 *   cycles over the last good EVs seen (consumed or not) and accepts no new ones, then
 *   sends `exploreCount` random EVs.
 *
 * Deterministic given `seed` (xorshift32, same stream as the C++ port).
 */
import { CmsError } from './errors.js';
import { Xorshift32 } from './prng.js';

export type EntropyMode = 'ecmp' | 'oblivious' | 'bitmap' | 'reps';
export const ENTROPY_MODES: readonly EntropyMode[] = ['ecmp', 'oblivious', 'bitmap', 'reps'];

export interface EntropyConfig {
  mode: EntropyMode;
  seed: number;
  /** Power of two; oblivious and bitmap spray over this many EVs. */
  paths?: number;
  maxPenalty?: number;
  repsBufferSize?: number;
  freezePackets?: number;
  exploreCount?: number;
}

export type EntropyEvent =
  | { kind: 'next' }
  | { kind: 'ack'; ev: number; ecn: boolean }
  | { kind: 'nack'; ev: number }
  | { kind: 'timeout'; ev: number };

export interface EntropySnapshot {
  ev: number;
  penalties?: number[];
  cached?: number;
  frozen?: boolean;
}

export class EntropySelector {
  readonly mode: EntropyMode;
  readonly paths: number;
  private readonly rng: Xorshift32;
  private readonly base: number;
  private readonly maxPenalty: number;
  // oblivious / bitmap
  private idx = 0;
  private xorMask = 0;
  private readonly penalty: number[];
  // reps
  private readonly ring: number[];
  private head = 0;
  private count = 0;
  /** Ring slots ever written; a freeze reuses these even after they were consumed. */
  private filled = 0;
  private frozen = false;
  private frozenSent = 0;
  private cyclePos = 0;
  private exploreLeft = 0;
  private readonly freezePackets: number;
  private readonly exploreCount: number;
  private lastEv = 0;

  constructor(cfg: EntropyConfig) {
    if (!ENTROPY_MODES.includes(cfg.mode)) throw new CmsError(`unknown entropy mode: ${String(cfg.mode)}`);
    if (!Number.isInteger(cfg.seed)) throw new CmsError('seed must be an integer');
    const paths = cfg.paths ?? 8;
    if (!Number.isInteger(paths) || paths < 1 || paths > 65536 || (paths & (paths - 1)) !== 0) {
      throw new CmsError(`paths must be a power of two in [1, 65536], got ${paths}`);
    }
    const ints: [string, number][] = [
      ['maxPenalty', cfg.maxPenalty ?? 15],
      ['repsBufferSize', cfg.repsBufferSize ?? 8],
      ['freezePackets', cfg.freezePackets ?? 256],
      ['exploreCount', cfg.exploreCount ?? 16],
    ];
    for (const [k, v] of ints) {
      if (!Number.isInteger(v) || v < 0 || (k === 'repsBufferSize' && v < 1)) {
        throw new CmsError(`${k} must be a non-negative integer, got ${v}`);
      }
    }
    this.mode = cfg.mode;
    this.paths = paths;
    this.rng = new Xorshift32(cfg.seed);
    this.base = this.rng.nextU32() & 0xffff & ~(paths - 1);
    this.maxPenalty = ints[0]![1];
    this.ring = new Array<number>(ints[1]![1]).fill(0);
    this.freezePackets = ints[2]![1];
    this.exploreCount = ints[3]![1];
    this.penalty = new Array<number>(paths).fill(0);
    if (this.mode === 'ecmp') this.lastEv = this.rng.nextU32() & 0xffff;
    else this.xorMask = this.rng.below(paths);
  }

  next(): number {
    let ev: number;
    switch (this.mode) {
      case 'ecmp':
        ev = this.lastEv;
        break;
      case 'oblivious':
        ev = this.nextOblivious();
        break;
      case 'bitmap':
        ev = this.nextBitmap();
        break;
      case 'reps':
        ev = this.nextReps();
        break;
    }
    this.lastEv = ev;
    return ev;
  }

  onAck(ev: number, ecn: boolean): void {
    checkEv(ev);
    if (this.mode === 'bitmap') {
      if (ecn) this.bump(ev, 1);
    } else if (this.mode === 'reps') {
      if (ecn || this.frozen) return;
      const tail = (this.head + this.count) % this.ring.length;
      this.ring[tail] = ev;
      if (this.filled < this.ring.length) this.filled++;
      if (this.count < this.ring.length) this.count++;
      else this.head = (this.head + 1) % this.ring.length;
    }
  }

  onNack(ev: number): void {
    checkEv(ev);
    if (this.mode === 'bitmap') this.bump(ev, 4);
  }

  onTimeout(ev: number): void {
    checkEv(ev);
    if (this.mode === 'bitmap') {
      this.penalty[ev & (this.paths - 1)] = this.maxPenalty;
    } else if (this.mode === 'reps' && !this.frozen) {
      this.frozen = true;
      this.frozenSent = 0;
      this.cyclePos = 0;
    }
  }

  handle(e: EntropyEvent): number | undefined {
    switch (e.kind) {
      case 'next':
        return this.next();
      case 'ack':
        this.onAck(e.ev, e.ecn);
        return undefined;
      case 'nack':
        this.onNack(e.ev);
        return undefined;
      case 'timeout':
        this.onTimeout(e.ev);
        return undefined;
      default:
        throw new CmsError(`unknown entropy event: ${(e as { kind: unknown }).kind as string}`);
    }
  }

  snapshot(): EntropySnapshot {
    const s: EntropySnapshot = { ev: this.lastEv };
    if (this.mode === 'bitmap') s.penalties = [...this.penalty];
    if (this.mode === 'reps') {
      s.cached = this.count;
      s.frozen = this.frozen;
    }
    return s;
  }

  private bump(ev: number, by: number): void {
    const i = ev & (this.paths - 1);
    const v = this.penalty[i]! + by;
    this.penalty[i] = v > this.maxPenalty ? this.maxPenalty : v;
  }

  private nextOblivious(): number {
    const ev = this.base | ((this.idx ^ this.xorMask) & (this.paths - 1));
    this.idx++;
    if (this.idx === this.paths) {
      this.idx = 0;
      this.xorMask = this.rng.below(this.paths);
    }
    return ev;
  }

  private nextBitmap(): number {
    let firstSkipped = -1;
    let ev = 0;
    for (let i = 0; i < this.paths; i++) {
      ev = this.nextOblivious();
      const p = ev & (this.paths - 1);
      if (this.penalty[p] === 0) return ev;
      if (firstSkipped < 0) {
        firstSkipped = p;
        this.penalty[p] = this.penalty[p]! - 1;
      }
    }
    return ev;
  }

  private nextReps(): number {
    if (this.frozen) {
      if (this.frozenSent >= this.freezePackets) {
        this.frozen = false;
        this.exploreLeft = this.exploreCount;
      } else {
        this.frozenSent++;
        if (this.filled > 0) {
          // Most recent good EVs first, cycling without consuming them.
          const n = this.ring.length;
          const tail = (this.head + this.count) % n;
          const ev = this.ring[(tail + n - 1 - (this.cyclePos % this.filled)) % n]!;
          this.cyclePos++;
          return ev;
        }
        return this.rng.nextU32() & 0xffff;
      }
    }
    if (this.exploreLeft > 0) {
      this.exploreLeft--;
      return this.rng.nextU32() & 0xffff;
    }
    if (this.count > 0) {
      const ev = this.ring[this.head]!;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
      return ev;
    }
    return this.rng.nextU32() & 0xffff;
  }
}

function checkEv(ev: number): void {
  if (!Number.isInteger(ev) || ev < 0 || ev > 0xffff) throw new CmsError(`EV must be a 16-bit integer, got ${ev}`);
}
