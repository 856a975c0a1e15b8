import { describe, expect, it } from 'vitest';
import { CmsError } from '../../lib/cms/errors.js';
import { RcccReceiver, RcccSender } from '../../lib/cms/rccc.js';

const MTU = 4096;

describe('RCCC sender', () => {
  it('speculates up to its allowance, then needs credit; the first grant ends speculation', () => {
    const s = new RcccSender({ mtu: MTU, speculativeBytes: 2 * MTU });
    s.enqueue(6 * MTU);
    expect(s.speculating).toBe(true);
    expect(s.creditTarget()).toBe(4 * MTU); // backlog not covered by speculation
    expect(s.onSend(MTU)).toBe(true);
    expect(s.onSend(MTU)).toBe(true);
    expect(s.canSend(MTU)).toBe(false);
    expect(() => s.onSend(MTU)).toThrow(CmsError);
    expect(s.creditTarget()).toBe(4 * MTU);
    s.onGrant(2 * MTU);
    expect(s.speculating).toBe(false);
    expect(s.onSend(MTU)).toBe(false);
    expect(s.credit).toBe(MTU);
    expect(s.creditTarget()).toBe(4 * MTU); // cumulative: used + uncovered backlog
  });

  it('grant ending speculation early turns the unused allowance into a credit demand', () => {
    const s = new RcccSender({ mtu: MTU, speculativeBytes: 4 * MTU });
    s.enqueue(6 * MTU);
    s.onSend(MTU);
    expect(s.creditTarget()).toBe(2 * MTU);
    s.onGrant(MTU);
    expect(s.creditTarget()).toBe(5 * MTU);
    expect(s.specRemaining).toBe(0);
  });

  it('a retransmission re-enters the backlog and raises the credit target', () => {
    const s = new RcccSender({ mtu: MTU, speculativeBytes: MTU });
    s.enqueue(MTU);
    s.onSend(MTU);
    s.onGrant(0);
    const before = s.creditTarget();
    s.handle({ kind: 'enqueue', bytes: MTU });
    expect(s.creditTarget()).toBe(before + MTU);
    expect(s.canSend(MTU)).toBe(false);
    s.handle({ kind: 'grant', bytes: MTU });
    expect(s.canSend(MTU)).toBe(true);
  });
});

describe('RCCC sender going idle', () => {
  it('re-arms speculation only once the backlog is gone, keeping leftover credit', () => {
    const s = new RcccSender({ mtu: MTU, speculativeBytes: 2 * MTU });
    s.enqueue(3 * MTU);
    s.onSend(MTU);
    s.onSend(MTU);
    s.onGrant(2 * MTU);
    expect(s.idle()).toBe(false); // one packet still queued
    expect(s.speculating).toBe(false);
    s.onSend(MTU);
    expect(s.idle()).toBe(true);
    expect(s.speculating).toBe(true);
    expect(s.specRemaining).toBe(2 * MTU);
    expect(s.credit).toBe(MTU);
    s.enqueue(4 * MTU);
    // Speculation first, then the leftover credit; the target asks only for the rest.
    expect(s.creditTarget()).toBe(MTU + 2 * MTU);
    expect(s.onSend(MTU)).toBe(true);
    expect(s.onSend(MTU)).toBe(true);
    expect(s.onSend(MTU)).toBe(false);
    expect(s.canSend(MTU)).toBe(false);
  });
});

describe('RCCC receiver pacer', () => {
  it('grants pull quanta at the link rate, round robin over senders', () => {
    const r = new RcccReceiver({ linkRateGbps: 100, mtu: MTU });
    expect(r.pullQuantum).toBe(4 * MTU);
    r.onRequest(1, 100 * MTU, 0);
    r.onRequest(2, 100 * MTU, 0);
    r.onRequest(3, 2 * MTU, 0);
    const quantumNs = (4 * MTU) / 12.5;
    const g = r.poll(5 * quantumNs);
    expect(g.map((x) => x.sender)).toEqual([1, 2, 3, 1, 2, 1]);
    expect(g.map((x) => x.bytes)).toEqual([4 * MTU, 4 * MTU, 2 * MTU, 4 * MTU, 4 * MTU, 4 * MTU]);
    // 6 grants of 22 MTU total: the next one is due when 22 MTU have drained at 12.5 B/ns.
    expect(r.nextWakeNs()).toBeCloseTo((22 * MTU) / 12.5, 9);
    expect(r.demand(3)).toBe(0);
  });

  it('shares the link equally among backlogged senders', () => {
    const r = new RcccReceiver({ linkRateGbps: 100, mtu: MTU });
    for (let s = 0; s < 8; s++) r.onRequest(s, 1e9, 0);
    const totals = new Array<number>(8).fill(0);
    let bytes = 0;
    for (const g of r.poll(1_000_000)) {
      totals[g.sender]! += g.bytes;
      bytes += g.bytes;
    }
    expect(bytes / 1_000_000).toBeCloseTo(12.5, 1); // 100 Gb/s worth of credit
    expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(4 * MTU);
  });

  it('charges speculative arrivals to the pacer and goes idle without demand', () => {
    const r = new RcccReceiver({ linkRateGbps: 100, mtu: MTU });
    expect(r.nextWakeNs()).toBeUndefined();
    r.onData(1, 10 * MTU, true, 1000);
    r.onData(1, 10 * MTU, false, 1000); // scheduled data was already paid for by its grant
    r.onRequest(1, MTU, 1000);
    expect(r.nextWakeNs()).toBeCloseTo(1000 + (10 * MTU) / 12.5, 9);
    expect(r.poll(1000 + (10 * MTU) / 12.5 - 1)).toEqual([]);
    expect(r.handle({ kind: 'tick', nowNs: 1e6 })).toEqual([{ sender: 1, bytes: MTU }]);
    expect(r.nextWakeNs()).toBeUndefined();
    // After idling the pacer restarts from "now", not from a stale past slot.
    r.onRequest(1, 2 * MTU, 5e6);
    expect(r.nextWakeNs()).toBe(5e6);
  });

  it('rejects bad configuration and requests', () => {
    expect(() => new RcccReceiver({ linkRateGbps: 0, mtu: MTU })).toThrow(CmsError);
    expect(() => new RcccReceiver({ linkRateGbps: 100, mtu: MTU, rateFraction: 2 })).toThrow(CmsError);
    const r = new RcccReceiver({ linkRateGbps: 100, mtu: MTU });
    expect(() => r.onRequest(-1, 10, 0)).toThrow(CmsError);
    expect(() => r.onRequest(1, NaN, 0)).toThrow(CmsError);
  });

  it('forgets a closed sender: its demand no longer takes grants from the others', () => {
    const r = new RcccReceiver({ linkRateGbps: 100, mtu: MTU });
    r.onRequest(1, 100 * MTU, 0);
    r.onRequest(2, 100 * MTU, 0);
    r.onRequest(3, 100 * MTU, 0);
    r.poll(10_000);
    expect(r.forget(2)).toBe(true);
    expect(r.forget(2)).toBe(false);
    expect(r.demand(2)).toBe(0);
    const grants = r.poll(20_000);
    expect(grants.length).toBeGreaterThan(4);
    expect(grants.every((g) => g.sender !== 2)).toBe(true);
    const n1 = grants.filter((g) => g.sender === 1).length;
    const n3 = grants.filter((g) => g.sender === 3).length;
    expect(Math.abs(n1 - n3)).toBeLessThanOrEqual(1);
  });
});
