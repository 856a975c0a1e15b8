// Message ordering and traffic class hints through the binding, on softuet: what
// getInfo reports, and that the endpoints opened from such an Info run ordered (ROD)
// PDCs with the asked DSCP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, openPair, pattern, withTimeout, type Pair } from './helpers.js';

const T = 20_000;

function softuetInfo(hints: Partial<F.Hints> = {}): F.Info {
  const infos = F.getInfo({ provider: 'softuet', endpointType: 'rdm', caps: ['msg', 'tagged', 'rma'], node: '127.0.0.1', src: true, ...hints });
  const info = infos.find((i) => i.provider === 'softuet');
  if (!info) throw new Error('softuet is not available: run scripts/setup');
  return info;
}

describe('msgOrder and trafficClass hints', () => {
  it('an Info reports the orderings it keeps: send-after-send by default', () => {
    const info = softuetInfo();
    expect(info.msgOrder).toEqual(['sas']);
    expect(info.trafficClass).toBe('unspec');
  });

  it('asking for read-after-write gives the ordered set, and a class round-trips', () => {
    const info = softuetInfo({ msgOrder: ['raw', 'waw'], trafficClass: { dscp: 10 } });
    for (const o of ['raw', 'waw', 'war', 'sas', 'rma-raw', 'atomic-waw'] as const) expect(info.msgOrder).toContain(o);
    expect(info.trafficClass).toEqual({ dscp: 10 });
    expect(softuetInfo({ trafficClass: 'low-latency' }).trafficClass).toBe('low-latency');
  });

  it('bad names and values are clear errors', () => {
    expect(() => F.getInfo({ msgOrder: ['sideways' as F.MsgOrder] })).toThrow(RangeError);
    expect(() => F.getInfo({ trafficClass: { dscp: 64 } })).toThrow(RangeError);
    expect(() => F.getInfo({ trafficClass: 'loud' as F.TrafficClass })).toThrow(RangeError);
  });

  describe('endpoints from an ordered Info', () => {
    let p: Pair;
    beforeAll(() => {
      p = openPair(softuetInfo({ msgOrder: ['raw', 'waw'], trafficClass: { dscp: 18 } }));
    });
    afterAll(() => p?.close());

    it('run ROD PDCs with the DSCP asked for', async () => {
      const st = p.a.stats();
      expect(BigInt(st.rod!)).toBe(1n);
      expect(BigInt(st.dscp!)).toBe(18n);
    });

    it('a read posted right after a write sees it, without waiting for the write', async () => {
      const target = p.domain.allocBuffer(8 * 64);
      const mr = p.domain.register(target);
      try {
        const ops: Promise<unknown>[] = [];
        const backs: Buffer[] = [];
        for (let i = 0; i < 64; i++) {
          const v = pattern(8, 100 + i);
          const back = Buffer.alloc(8);
          backs.push(back);
          ops.push(p.a.write(v, p.fb, mr.remote(0, 8)));
          ops.push(p.a.read(back, p.fb, mr.remote(0, 8)));
        }
        await withTimeout(Promise.all(ops), T, 'write/read pairs');
        backs.forEach((b, i) => expect(b.equals(pattern(8, 100 + i))).toBe(true));
      } finally {
        mr.close();
      }
    });
  });
});
