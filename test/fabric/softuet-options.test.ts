// Per-endpoint softuet settings through the binding (EndpointOptions.softuet, set with
// fi_setopt before the endpoint is enabled): two endpoints of one domain run different
// MTUs and congestion management, what softuetSettings() reports is what the provider
// runs, and wrong values or providers are clear errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, infoFor, pattern, withTimeout } from './helpers.js';

const T = 20_000;

describe('softuet endpoint options', () => {
  let fabric: F.Fabric;
  let domain: F.Domain;
  let a: F.Endpoint;
  let b: F.Endpoint;
  let fb: bigint;
  const saved = process.env.FI_SOFTUET_CC;

  beforeAll(() => {
    const info = infoFor('softuet');
    if (!info) throw new Error('softuet is not available: run scripts/setup');
    fabric = new F.Fabric(info);
    domain = fabric.domain();
    const cq = domain.completionQueue({ size: 256 });
    const av = domain.addressVector({ count: 4 });
    delete process.env.FI_SOFTUET_CC;
    a = domain.endpoint({ cq, av, softuet: { mtu: 1024, cc: 'off' } });
    b = domain.endpoint({ cq, av });
    [, fb] = av.insertMany([a.address, b.address]) as [bigint, bigint];
  });
  afterAll(() => {
    fabric?.close();
    if (saved !== undefined) process.env.FI_SOFTUET_CC = saved;
  });

  it('each endpoint reports its own settings; the other keeps the defaults', () => {
    expect(a.softuetSettings()).toEqual({ mtu: 1024, cc: 'off' });
    expect(b.softuetSettings()).toEqual({ mtu: domain.info.limits.injectSize, cc: 'nscc+rccc' });
  });

  it('packets carry the endpoint\'s own payload size, and the data lands intact', async () => {
    const src = pattern(64 * 1024, 3);
    const target = domain.allocBuffer(src.length);
    target.fill(0);
    const mr = domain.register(target);
    try {
      const before = Number(a.stats().tx_pkts);
      await withTimeout(a.write(src, fb, mr.remote()), T, 'write');
      expect(target.equals(src)).toBe(true);
      expect(Number(a.stats().tx_pkts) - before).toBeGreaterThanOrEqual(64);
      // No congestion window: the PDC's window is MPR packets of 1024 bytes.
      expect(Number(a.stats().cwnd) % 1024).toBe(0);
    } finally {
      mr.close();
    }
  });

  it('inject still takes the info\'s injectSize, in several packets', async () => {
    const n = domain.info.limits.injectSize;
    expect(n).toBeGreaterThan(1024);
    const dst = Buffer.alloc(n);
    const got = b.recv(dst);
    a.inject(pattern(n, 4), fb);
    await withTimeout(got, T, 'recv');
    expect(dst.equals(pattern(n, 4))).toBe(true);
  });

  it('bad values are RangeErrors naming the option', () => {
    const cq = domain.completionQueue({ size: 16 });
    try {
      expect(() => domain.endpoint({ cq, softuet: { mtu: 100 } })).toThrow(/softuet\.mtu must be an integer from 256 to 16000/);
      expect(() => domain.endpoint({ cq, softuet: { mtu: 16001 } })).toThrow(RangeError);
      expect(() => domain.endpoint({ cq, softuet: { cc: 'fast' as F.SoftuetCc } })).toThrow(/softuet\.cc must be one of nscc\+rccc, nscc, rccc, off/);
    } finally {
      cq.close();
    }
  });

  it('another provider refuses them with FI_ENOPROTOOPT', () => {
    const info = infoFor('tcp;ofi_rxm');
    if (!info) return expect.fail('tcp;ofi_rxm is not available');
    const f = new F.Fabric(info);
    try {
      const d = f.domain();
      let err: unknown;
      try {
        d.endpoint({ softuet: { mtu: 4096 } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(F.FabricError);
      expect((err as F.FabricError).code).toBe('FI_ENOPROTOOPT');
      expect(String(err)).toMatch(/softuet options need the softuet provider; this endpoint's is tcp;ofi_rxm/);
      // and the domain is still usable
      d.endpoint({ softuet: {} }).close();
    } finally {
      f.close();
    }
  });
});
