/**
 * NSCC: the UET sender-side, window-based congestion control driven by ECN and delay.
 *
 * Pure state machine: it is fed events carrying their own timestamps (ns) and never reads
 * a clock. The parameter derivation and the per-ACK "four quadrant" logic follow the UEC
 * reference simulator as summarised in the UET digest §5.2. The arithmetic order here is
 * mirrored operation for operation by native/softuet/cms/nscc.cc so traces agree.
 */
import { CmsError, requireFinite } from './errors.js';

/** UEC reference point: 100 Gb/s x 12 us. */
export const REFERENCE_BDP_BYTES = 150_000;
export const REFERENCE_RTT_NS = 12_000;

export interface NsccParams {
  mss: number;
  /** Bytes per ns of the sender's NIC. */
  rateBytesPerNs: number;
  networkRttNs: number;
  bdp: number;
  scalingA: number;
  scalingB: number;
  targetQdelayNs: number;
  /** Proportional gain in bytes per ns of delay headroom per acked byte. */
  alpha: number;
  /** Fair increase per acked byte (scaled by 1/cwnd when applied). */
  fi: number;
  /** Additive bump applied once per adjust period. */
  eta: number;
  gamma: number;
  mdFloor: number;
  fiScale: number;
  ewmaGain: number;
  qaThresholdNs: number;
  qaGate: number;
  adjustPeriodNs: number;
  adjustBytes: number;
  maxwnd: number;
  minCwnd: number;
  initialCwnd: number;
  /** Delay below which acked bytes count toward fast increase. */
  fastIncreaseDelayNs: number;
  /** When true, last-hop trims are left to RCCC and do not shrink cwnd. */
  rcccActive: boolean;
}

export interface NsccConfig {
  /** Link rate in Gb/s (= bits per ns). */
  linkRateGbps: number;
  baseRttNs: number;
  mtu: number;
  targetQdelayNs?: number;
  trimming?: boolean;
  rcccActive?: boolean;
  overrides?: Partial<NsccParams>;
}

export function deriveNsccParams(cfg: NsccConfig): NsccParams {
  const rate = requireFinite('linkRateGbps', cfg.linkRateGbps, 0) / 8;
  const rtt = requireFinite('baseRttNs', cfg.baseRttNs, 0);
  const mtu = requireFinite('mtu', cfg.mtu, 1);
  if (rate <= 0 || rtt <= 0) throw new CmsError('linkRateGbps and baseRttNs must be positive');
  const target =
    cfg.targetQdelayNs !== undefined
      ? requireFinite('targetQdelayNs', cfg.targetQdelayNs, 0)
      : cfg.trimming
        ? 0.75 * rtt
        : rtt;
  if (target <= 0) throw new CmsError('targetQdelayNs must be positive');
  const bdp = rate * rtt;
  const a = bdp / REFERENCE_BDP_BYTES;
  const b = target / REFERENCE_RTT_NS;
  const maxwnd = 1.5 * bdp;
  const p: NsccParams = {
    mss: mtu,
    rateBytesPerNs: rate,
    networkRttNs: rtt,
    bdp,
    scalingA: a,
    scalingB: b,
    targetQdelayNs: target,
    alpha: (4.0 * mtu * a * b) / target,
    fi: 5 * mtu * a,
    eta: 0.15 * mtu * a,
    gamma: 0.8,
    mdFloor: 0.5,
    fiScale: 0.25 * a,
    ewmaGain: 0.0125,
    qaThresholdNs: 4 * target,
    qaGate: 3,
    adjustPeriodNs: rtt,
    adjustBytes: 8 * mtu,
    maxwnd,
    minCwnd: mtu,
    initialCwnd: maxwnd,
    fastIncreaseDelayNs: 1000,
    rcccActive: cfg.rcccActive ?? false,
  };
  const o = cfg.overrides ?? {};
  for (const [k, v] of Object.entries(o)) {
    if (!(k in p)) throw new CmsError(`unknown NSCC parameter override: ${k}`);
    if (k === 'rcccActive') {
      if (typeof v !== 'boolean') throw new CmsError('rcccActive must be a boolean');
    } else {
      requireFinite(k, v, 0);
    }
    (p as unknown as Record<string, number | boolean>)[k] = v as number | boolean;
  }
  if (o.maxwnd !== undefined && o.initialCwnd === undefined) p.initialCwnd = p.maxwnd;
  if (p.minCwnd > p.maxwnd) throw new CmsError('minCwnd exceeds maxwnd');
  return p;
}

export type NsccAction =
  | 'qa'
  | 'ignored'
  | 'fair'
  | 'proportional'
  | 'fast'
  | 'md'
  | 'md_hold'
  | 'noop'
  | 'nack'
  | 'timeout'
  | 'tick';

export type NsccEvent =
  | { kind: 'ack'; nowNs: number; bytes: number; rttNs: number; ecn: boolean; inFlight?: number }
  | { kind: 'nack'; nowNs: number; bytes: number; lastHop?: boolean; inFlight?: number }
  | { kind: 'timeout'; nowNs: number; bytes: number; inFlight?: number }
  | { kind: 'tick'; nowNs: number };

export interface NsccSnapshot {
  cwnd: number;
  baseRttNs: number;
  avgDelayNs: number;
  incBytes: number;
  bytesToIgnore: number;
  action: NsccAction;
}

export class Nscc {
  readonly params: NsccParams;
  private readonly maxwndFromConfig: boolean;
  private cwndBytes: number;
  private baseRtt: number;
  private avgDelay = 0;
  private incBytes = 0;
  private sawIncrease = false;
  private receivedBytes = 0;
  private lastAdjustNs = 0;
  private lastDecreaseNs = 0;
  private hasDecreased = false;
  private qaWindowStartNs = 0;
  private qaAchieved = 0;
  private qaTrigger = false;
  private bytesToIgnore = 0;
  private fastBytes = 0;
  private last: NsccAction = 'tick';

  constructor(cfg: NsccConfig) {
    this.params = deriveNsccParams(cfg);
    this.maxwndFromConfig = cfg.overrides?.maxwnd !== undefined;
    this.cwndBytes = Math.min(this.params.initialCwnd, this.params.maxwnd);
    this.baseRtt = this.params.networkRttNs;
  }

  get cwnd(): number {
    return this.cwndBytes;
  }

  get lastAction(): NsccAction {
    return this.last;
  }

  snapshot(): NsccSnapshot {
    return {
      cwnd: this.cwndBytes,
      baseRttNs: this.baseRtt,
      avgDelayNs: this.avgDelay,
      incBytes: this.incBytes,
      bytesToIgnore: this.bytesToIgnore,
      action: this.last,
    };
  }

  /** Send permission for one packet of `pkt` bytes with `inFlight` bytes unacknowledged. */
  canSend(inFlight: number, pkt: number): boolean {
    return this.cwndBytes >= inFlight + pkt;
  }

  handle(ev: NsccEvent): NsccAction {
    switch (ev.kind) {
      case 'ack':
        return this.onAck(ev.bytes, ev.rttNs, ev.ecn, ev.nowNs, ev.inFlight ?? 0);
      case 'nack':
        return this.onNack(ev.bytes, ev.nowNs, ev.lastHop ?? false, ev.inFlight ?? 0);
      case 'timeout':
        return this.onTimeout(ev.bytes, ev.nowNs, ev.inFlight ?? 0);
      case 'tick':
        return this.onTick(ev.nowNs);
      default:
        throw new CmsError(`unknown NSCC event kind: ${(ev as { kind: unknown }).kind as string}`);
    }
  }

  onAck(bytes: number, rttNs: number, ecn: boolean, nowNs: number, inFlight = 0): NsccAction {
    requireFinite('bytes', bytes, 0);
    requireFinite('rttNs', rttNs, 0);
    requireFinite('nowNs', nowNs);
    requireFinite('inFlight', inFlight, 0);
    const p = this.params;
    if (rttNs < this.baseRtt) {
      this.baseRtt = rttNs;
      if (!this.maxwndFromConfig) p.maxwnd = 1.5 * p.rateBytesPerNs * this.baseRtt;
    }
    const delay = rttNs - this.baseRtt;
    this.updateAvgDelay(delay, ecn);
    this.qaAchieved += bytes;
    this.receivedBytes += bytes;
    if (delay > p.qaThresholdNs) this.qaTrigger = true;
    if (this.quickAdapt(nowNs, inFlight)) return this.finish('qa');
    if (this.bytesToIgnore > 0) {
      this.bytesToIgnore = Math.max(0, this.bytesToIgnore - bytes);
      return this.finish('ignored');
    }
    const target = p.targetQdelayNs;
    let action: NsccAction;
    if (!ecn) {
      if (delay >= target) {
        this.fastBytes = 0;
        this.incBytes += p.fi * bytes;
        this.sawIncrease = true;
        action = 'fair';
      } else {
        let fast = false;
        if (delay < p.fastIncreaseDelayNs) {
          this.fastBytes += bytes;
          if (this.fastBytes >= this.cwndBytes) {
            this.cwndBytes += bytes * p.fiScale;
            fast = true;
          }
        } else {
          this.fastBytes = 0;
        }
        if (fast) {
          action = 'fast';
        } else {
          this.incBytes += p.alpha * bytes * (target - delay);
          action = 'proportional';
        }
        this.sawIncrease = true;
      }
    } else {
      this.fastBytes = 0;
      if (delay >= target) {
        const due = !this.hasDecreased || nowNs - this.lastDecreaseNs >= this.baseRtt;
        if (due && this.avgDelay > target) {
          const f = Math.max(1 - (p.gamma * (this.avgDelay - target)) / this.avgDelay, p.mdFloor);
          this.cwndBytes *= f;
          this.lastDecreaseNs = nowNs;
          this.hasDecreased = true;
          action = 'md';
        } else {
          action = 'md_hold';
        }
      } else {
        action = 'noop';
      }
    }
    this.fulfill(nowNs, false);
    return this.finish(action);
  }

  onNack(bytes: number, nowNs: number, lastHop = false, inFlight = 0): NsccAction {
    requireFinite('bytes', bytes, 0);
    requireFinite('nowNs', nowNs);
    requireFinite('inFlight', inFlight, 0);
    const p = this.params;
    this.updateAvgDelay(this.baseRtt + p.networkRttNs, true);
    this.qaTrigger = true;
    const fired = this.quickAdapt(nowNs, inFlight);
    if (!fired && !(lastHop && p.rcccActive)) this.cwndBytes -= bytes;
    return this.finish(fired ? 'qa' : 'nack');
  }

  onTimeout(bytes: number, nowNs: number, inFlight = 0): NsccAction {
    requireFinite('bytes', bytes, 0);
    requireFinite('nowNs', nowNs);
    requireFinite('inFlight', inFlight, 0);
    this.qaTrigger = true;
    const fired = this.quickAdapt(nowNs, inFlight);
    if (!fired) this.cwndBytes -= bytes;
    return this.finish(fired ? 'qa' : 'timeout');
  }

  onTick(nowNs: number): NsccAction {
    requireFinite('nowNs', nowNs);
    this.fulfill(nowNs, true);
    return this.finish('tick');
  }

  private updateAvgDelay(delay: number, ecn: boolean): void {
    const p = this.params;
    // An unmarked sample above target is most likely a transient elsewhere on the path,
    // so it pulls the average toward a quarter of base RTT instead of raising it.
    const sample = !ecn && delay > p.targetQdelayNs ? this.baseRtt / 4 : delay;
    this.avgDelay = p.ewmaGain * sample + (1 - p.ewmaGain) * this.avgDelay;
  }

  private quickAdapt(nowNs: number, inFlight: number): boolean {
    const p = this.params;
    if (nowNs - this.qaWindowStartNs < this.baseRtt + p.targetQdelayNs) return false;
    const fire = this.qaTrigger && this.qaAchieved < p.maxwnd / 2 ** p.qaGate;
    if (fire) {
      this.cwndBytes = Math.max(this.qaAchieved, p.minCwnd);
      this.bytesToIgnore = inFlight;
      this.incBytes = 0;
      this.sawIncrease = false;
      this.fastBytes = 0;
    }
    this.qaWindowStartNs = nowNs;
    this.qaAchieved = 0;
    this.qaTrigger = false;
    return fire;
  }

  private fulfill(nowNs: number, tickOnly: boolean): void {
    const p = this.params;
    const periodElapsed = nowNs - this.lastAdjustNs >= p.adjustPeriodNs;
    if (periodElapsed || (!tickOnly && this.receivedBytes > p.adjustBytes)) {
      if (this.incBytes > 0) this.cwndBytes += this.incBytes / this.cwndBytes;
      if (periodElapsed) {
        if (this.sawIncrease) this.cwndBytes += p.eta;
        this.sawIncrease = false;
        this.lastAdjustNs = nowNs;
      }
      this.incBytes = 0;
      this.receivedBytes = 0;
    }
  }

  private finish(action: NsccAction): NsccAction {
    const p = this.params;
    if (this.cwndBytes < p.minCwnd) this.cwndBytes = p.minCwnd;
    if (this.cwndBytes > p.maxwnd) this.cwndBytes = p.maxwnd;
    this.last = action;
    return action;
  }
}
