import { describe, expect, it } from 'vitest';
import { CmsError } from '../../lib/cms/errors.js';
import { deriveNsccParams, Nscc } from '../../lib/cms/nscc.js';

// The UEC reference point: 100 Gb/s, 12 us, so both scaling factors are exactly 1.
const REF = { linkRateGbps: 100, baseRttNs: 12_000, mtu: 4096 };
const T = 12_000; // default target = base RTT without trimming

function warm(cc: Nscc, delay: number, n: number, t0: number): number {
  let t = t0;
  for (let i = 0; i < n; i++) cc.onAck(4096, REF.baseRttNs + delay, true, (t += 10), 0);
  return t;
}

describe('NSCC parameters', () => {
  it('derives the reference-point values from link rate, base RTT, MTU and target', () => {
    const p = deriveNsccParams(REF);
    expect(p.bdp).toBe(150_000);
    expect(p.scalingA).toBe(1);
    expect(p.scalingB).toBe(1);
    expect(p.targetQdelayNs).toBe(12_000);
    expect(p.alpha).toBeCloseTo((4 * 4096) / 12_000, 12);
    expect(p.fi).toBe(5 * 4096);
    expect(p.eta).toBeCloseTo(0.15 * 4096, 9);
    expect(p.fiScale).toBe(0.25);
    expect(p.maxwnd).toBe(225_000);
    expect(p.initialCwnd).toBe(225_000);
    expect(p.minCwnd).toBe(4096);
    expect(p.qaThresholdNs).toBe(48_000);
    expect(p.adjustBytes).toBe(8 * 4096);
    expect(p.adjustPeriodNs).toBe(12_000);
    expect(p.gamma).toBe(0.8);
    expect(p.ewmaGain).toBe(0.0125);
  });

  it('scales with BDP and target; trimming lowers the default target to 0.75 x RTT', () => {
    const p = deriveNsccParams({ linkRateGbps: 400, baseRttNs: 6000, mtu: 8192, trimming: true });
    expect(p.bdp).toBe(300_000);
    expect(p.scalingA).toBe(2);
    expect(p.targetQdelayNs).toBe(4500);
    expect(p.scalingB).toBeCloseTo(4500 / 12_000, 12);
    expect(p.fi).toBe(5 * 8192 * 2);
    const q = deriveNsccParams({ ...REF, targetQdelayNs: 3000 });
    expect(q.qaThresholdNs).toBe(12_000);
  });

  it('accepts overrides and rejects bad input with CmsError', () => {
    const p = deriveNsccParams({ ...REF, overrides: { gamma: 0.5, maxwnd: 100_000 } });
    expect(p.gamma).toBe(0.5);
    expect(p.maxwnd).toBe(100_000);
    expect(p.initialCwnd).toBe(100_000);
    expect(() => deriveNsccParams({ ...REF, baseRttNs: 0 })).toThrow(CmsError);
    expect(() => deriveNsccParams({ ...REF, linkRateGbps: NaN })).toThrow(CmsError);
    expect(() => deriveNsccParams({ ...REF, overrides: { bogus: 1 } as never })).toThrow(/unknown NSCC parameter/);
    expect(() => deriveNsccParams({ ...REF, overrides: { minCwnd: 1e9 } })).toThrow(/minCwnd/);
    const cc = new Nscc(REF);
    expect(() => cc.onAck(-1, 1000, false, 0)).toThrow(CmsError);
    expect(() => cc.handle({ kind: 'bogus' } as never)).toThrow(CmsError);
  });
});

describe('NSCC per-ACK quadrants', () => {
  it('starts at maxwnd and admits packets while cwnd >= in_flight + pkt', () => {
    const cc = new Nscc(REF);
    expect(cc.cwnd).toBe(225_000);
    expect(cc.canSend(225_000 - 4096, 4096)).toBe(true);
    expect(cc.canSend(225_000 - 4095, 4096)).toBe(false);
  });

  it('fair increase: no ECN, delay >= target adds fi x bytes / cwnd at the adjustment', () => {
    const cc = new Nscc({ ...REF, overrides: { initialCwnd: 50_000 } });
    expect(cc.onAck(4096, REF.baseRttNs + T + 1000, false, 100)).toBe('fair');
    expect(cc.cwnd).toBe(50_000); // batched until the adjust period or 8 MTUs
    cc.onTick(12_100);
    expect(cc.cwnd).toBeCloseTo(50_000 + (20_480 * 4096) / 50_000 + 0.15 * 4096, 9);
  });

  it('proportional increase: no ECN, delay < target, scaled by the headroom', () => {
    const cc = new Nscc({ ...REF, overrides: { initialCwnd: 50_000 } });
    const delay = 3000;
    expect(cc.onAck(4096, REF.baseRttNs + delay, false, 100)).toBe('proportional');
    cc.onTick(12_100);
    const alpha = (4 * 4096) / 12_000;
    expect(cc.cwnd).toBeCloseTo(50_000 + (alpha * 4096 * (T - delay)) / 50_000 + 0.15 * 4096, 9);
  });

  it('fast increase: a full cwnd acked at < 1 us delay grows cwnd directly', () => {
    const cc = new Nscc({ ...REF, overrides: { initialCwnd: 8192 } });
    expect(cc.onAck(4096, REF.baseRttNs + 100, false, 10)).toBe('proportional');
    const before = cc.cwnd;
    expect(cc.onAck(4096, REF.baseRttNs + 100, false, 20)).toBe('fast');
    expect(cc.cwnd).toBeCloseTo(before + 4096 * 0.25, 9);
  });

  it('multiplicative decrease: ECN + delay >= target, from the delay EWMA, at most once per base RTT', () => {
    const cc = new Nscc(REF);
    const t = warm(cc, 60_000, 200, 0); // average well above target; one MD fires during warm-up
    expect(cc.lastAction).toMatch(/md/);
    const avg = cc.snapshot().avgDelayNs;
    expect(avg).toBeGreaterThan(T);
    const before = cc.cwnd;
    const t2 = t + 20_000;
    expect(cc.onAck(4096, REF.baseRttNs + 60_000, true, t2)).toBe('md');
    const avgNow = cc.snapshot().avgDelayNs;
    const f = Math.max(1 - (0.8 * (avgNow - T)) / avgNow, 0.5);
    expect(cc.cwnd).toBeCloseTo(Math.max(before * f, 4096), 6);
    expect(cc.onAck(4096, REF.baseRttNs + 60_000, true, t2 + 100)).toBe('md_hold');
  });

  it('no change on ECN with low delay (left to the load balancer)', () => {
    const cc = new Nscc({ ...REF, overrides: { initialCwnd: 80_000 } });
    for (let i = 0; i < 20; i++) expect(cc.onAck(4096, REF.baseRttNs + 2000, true, 100 + i)).toBe('noop');
    cc.onTick(20_000);
    expect(cc.cwnd).toBe(80_000);
  });

  it('delay EWMA: gain 0.0125; an unmarked sample above target pulls toward base_rtt / 4', () => {
    const cc = new Nscc(REF);
    cc.onAck(4096, REF.baseRttNs + 8000, true, 10);
    expect(cc.snapshot().avgDelayNs).toBeCloseTo(0.0125 * 8000, 9);
    cc.onAck(4096, REF.baseRttNs + 50_000, false, 20);
    expect(cc.snapshot().avgDelayNs).toBeCloseTo(0.0125 * 3000 + 0.9875 * 100, 9);
  });

  it('tracks the minimum RTT as base RTT and rescales maxwnd to 1.5 x BDP', () => {
    const cc = new Nscc(REF);
    cc.onAck(4096, 8000, false, 10);
    expect(cc.snapshot().baseRttNs).toBe(8000);
    expect(cc.params.maxwnd).toBe(1.5 * 12.5 * 8000);
    expect(cc.cwnd).toBeLessThanOrEqual(150_000);
    cc.onAck(4096, 9000, false, 20);
    expect(cc.snapshot().baseRttNs).toBe(8000);
  });
});

describe('NSCC quick adapt, NACK and timeout', () => {
  it('quick adapt collapses cwnd to the achieved bytes after a NACK and ignores in-flight feedback', () => {
    const cc = new Nscc(REF);
    cc.onAck(4096, REF.baseRttNs, false, 100);
    cc.onNack(4096, 1000, false, 50_000);
    const w = REF.baseRttNs + T;
    expect(cc.onAck(4096, REF.baseRttNs + 1000, false, w + 200, 60_000)).toBe('qa');
    expect(cc.cwnd).toBe(8192); // two ACKs of 4096 in the window
    expect(cc.snapshot().bytesToIgnore).toBe(60_000);
    expect(cc.onAck(4096, REF.baseRttNs, false, w + 300)).toBe('ignored');
    expect(cc.snapshot().bytesToIgnore).toBe(60_000 - 4096);
  });

  it('quick adapt fires on delay above 4 x target, but not when the window achieved enough', () => {
    const cc = new Nscc(REF);
    cc.onAck(4096, REF.baseRttNs + 50_000, true, 10);
    expect(cc.onAck(4096, REF.baseRttNs + 50_000, true, 24_100)).toBe('qa');
    const busy = new Nscc(REF);
    let t = 0;
    for (let i = 0; i < 10; i++) busy.onAck(4096, REF.baseRttNs, false, (t += 100));
    busy.onAck(4096, REF.baseRttNs + 50_000, true, (t += 100));
    expect(busy.onAck(4096, REF.baseRttNs + 50_000, true, 24_100)).not.toBe('qa'); // 48 KiB >= maxwnd/8
  });

  it('a NACK outside a QA window removes the NACKed bytes; last-hop trims are left to RCCC', () => {
    const cc = new Nscc({ ...REF, overrides: { initialCwnd: 100_000 } });
    expect(cc.onNack(4096, 100)).toBe('nack');
    expect(cc.cwnd).toBe(100_000 - 4096);
    const both = new Nscc({ ...REF, rcccActive: true, overrides: { initialCwnd: 100_000 } });
    expect(both.onNack(4096, 100, true)).toBe('nack');
    expect(both.cwnd).toBe(100_000);
    expect(both.onNack(4096, 200, false)).toBe('nack');
    expect(both.cwnd).toBe(100_000 - 4096);
  });

  it('a timeout removes the lost bytes and arms quick adapt; cwnd never drops under min_cwnd', () => {
    const cc = new Nscc({ ...REF, overrides: { initialCwnd: 6000 } });
    expect(cc.onTimeout(4096, 100)).toBe('timeout');
    expect(cc.cwnd).toBe(4096);
    expect(cc.handle({ kind: 'timeout', nowNs: 30_000, bytes: 4096 })).toBe('qa');
    expect(cc.cwnd).toBe(4096);
  });
});
