// Bad input, lifetimes and close ordering: clear errors, never a crash or a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, infoFor, openPair, providersUnderTest, withTimeout, type Pair } from './helpers.js';

const T = 15_000;
const providers = providersUnderTest();

describe('getInfo / pickInfo', () => {
  it('maps names both ways and rejects unknown names', () => {
    const infos = F.getInfo({ provider: 'tcp;ofi_rxm', endpointType: 'rdm', caps: ['msg', 'tagged'], node: '127.0.0.1', src: true });
    expect(infos.length).toBeGreaterThan(0);
    expect(infos[0]!.caps).toEqual(expect.arrayContaining(['msg', 'tagged']));
    expect(() => F.getInfo({ caps: ['teleport' as never] })).toThrow(RangeError);
    expect(() => F.getInfo({ endpointType: 'stream' as never })).toThrow(/endpointType/);
    expect(() => F.getInfo({ provider: 42 as never })).toThrow(TypeError);
    expect(F.getInfo({ provider: 'no-such-provider' })).toEqual([]);
  });

  it('pickInfo falls back in order and names what it tried', () => {
    const i = F.pickInfo({ caps: ['msg', 'tagged'] });
    expect(F.PROVIDER_ORDER).toContain(i.provider);
    expect(F.availableProviders()).toContain(i.provider);
    expect(F.pickInfo({ provider: 'sockets' }).provider).toBe('sockets');
    expect(() => F.pickInfo({ provider: 'no-such-provider' })).toThrow(expect.objectContaining({ name: 'FabricError', code: 'FI_ENODATA' }));
    expect(F.libfabricVersion()).toMatch(/^1\.\d+$/);
  });
});

describe.each(providers)('errors and lifetimes on %s', (provider) => {
  let p: Pair;
  beforeAll(() => { p = openPair(infoFor(provider)!); });
  afterAll(() => p?.close());

  it('wrong argument types reject with TypeError/RangeError naming the argument', async () => {
    await expect(p.a.send('text' as never, p.fb)).rejects.toThrow(TypeError);
    await expect(p.a.send(Buffer.alloc(4), 1 as never)).rejects.toThrow(/dest/);
    await expect(p.a.tsend(Buffer.alloc(4), p.fb, -1n)).rejects.toThrow(/tag/);
    const mr = p.domain.register(p.domain.allocBuffer(4096));
    await expect(p.a.send({ mr, offset: -1 }, p.fb)).rejects.toThrow(RangeError);
    await expect(p.a.send({ mr, offset: 4000, length: 200 }, p.fb)).rejects.toThrow(/exceeds/);
    await expect(p.a.send({ mr, offset: 5000 }, p.fb)).rejects.toThrow(/past the end/);
    await expect(p.a.batch([{ op: 'send', buf: Buffer.alloc(1), dest: p.fb }, { op: 'nope' as never, buf: Buffer.alloc(1) }])).rejects.toThrow(/ops\[1\]/);
    expect(() => p.av.insert('x' as never)).toThrow(TypeError);
    expect(() => F.decodeRemote(Buffer.alloc(3))).toThrow(expect.objectContaining({ code: 'FI_EINVAL' }));
    mr.close();
  }, T);

  it('an op whose capability the endpoint lacks fails with FI_EOPNOTSUPP', async () => {
    const info = infoFor(provider, ['msg']);
    if (!info || info.caps.includes('tagged') || info.caps.includes('rma')) return; // the provider adds them anyway
    const q = openPair(info);
    try {
      await expect(q.a.tsend(Buffer.alloc(4), q.fb, 1n)).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP', message: expect.stringContaining('tagged') });
      await expect(q.a.trecv(Buffer.alloc(4), 1n)).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP' });
      await expect(q.a.write(Buffer.alloc(4), q.fb, { addr: 0n, key: 0n, length: 4 })).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP', message: expect.stringContaining('rma') });
      expect(() => q.a.tinject(Buffer.alloc(4), q.fb, 1n)).toThrow(expect.objectContaining({ code: 'FI_EOPNOTSUPP' }));
      await expect(q.a.atomic(new Int32Array(1), q.fb, { addr: 0n, key: 0n, length: 4 }, 'sum')).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP' });
      const r = q.b.recv(Buffer.alloc(4));
      await q.a.send(Buffer.from('ok!!'), q.fb);
      expect((await withTimeout(r, 10_000, 'recv')).length).toBe(4);
    } finally {
      q.close();
    }
  }, T);

  it('RMA past the end of the remote region is refused locally with FI_EINVAL', async () => {
    const mr = p.domain.register(p.domain.allocBuffer(4096));
    await expect(p.a.write(Buffer.alloc(100), p.fb, mr.remote(0, 64))).rejects.toMatchObject({ name: 'FabricError', code: 'FI_EINVAL' });
    await expect(p.a.read(Buffer.alloc(10), p.fb, mr.remote(), 4090)).rejects.toMatchObject({ code: 'FI_EINVAL' });
    await expect(p.a.write(Buffer.alloc(1), p.fb, { addr: 1n, key: 1n } as never)).rejects.toThrow(TypeError);
    expect(() => mr.remote(4000, 200)).toThrow(RangeError);
    mr.close();
  }, T);

  it('a wrong remote key fails with a provider error completion', async () => {
    const mr = p.domain.register(p.domain.allocBuffer(4096));
    const bad = { ...mr.remote(), key: mr.remote().key ^ 0x5a5a5a5an };
    const err = await withTimeout(p.a.read(Buffer.alloc(64), p.fb, bad).then(() => null, (e: unknown) => e), 10_000, 'bad-key read');
    expect(err).toBeInstanceOf(F.FabricError);
    expect((err as F.FabricError).code).toMatch(/^FI_E|^E/);
    // The endpoint still works afterwards. tcp answers a bad key by closing the
    // connection, so a send racing that close fails with FI_ENOTCONN; rxm connects
    // again on the next one. Any other failure, or no recovery within the bound, fails.
    const dst = Buffer.alloc(4);
    const r = p.b.recv(dst);
    for (let attempt = 0; ; attempt++) {
      const e = await p.a.send(Buffer.from('okay'), p.fb).then(() => null, (x: unknown) => x);
      if (!e) break;
      expect(e).toMatchObject({ name: 'FabricError', code: 'FI_ENOTCONN' });
      expect(attempt).toBeLessThan(50);
      await new Promise((res) => setTimeout(res, 20));
    }
    await withTimeout(r, 10_000, 'recv after error');
    expect(dst.toString()).toBe('okay');
    mr.close();
  }, T);

  it('a message larger than the receive buffer fails with FI_ETRUNC', async () => {
    const r = p.b.recv(Buffer.alloc(10));
    const s = p.a.send(Buffer.alloc(100, 1), p.fb);
    const err = await withTimeout(r.then(() => null, (e: unknown) => e), 10_000, 'truncated recv');
    await s.catch(() => undefined);
    expect(err).toMatchObject({ name: 'FabricError', code: 'FI_ETRUNC' });
  }, T);

  it('closing an endpoint rejects its pending receives with FI_ECANCELED; later calls fail clearly', async () => {
    const ep = p.domain.endpoint({ av: p.av });
    const pending = [ep.recv(Buffer.alloc(8)), ep.trecv(Buffer.alloc(8), 1n)];
    ep.close();
    for (const r of pending) await expect(r).rejects.toMatchObject({ name: 'FabricError', code: 'FI_ECANCELED' });
    await expect(ep.send(Buffer.alloc(1), p.fb)).rejects.toMatchObject({ code: 'FI_EINVAL', message: expect.stringContaining('Endpoint is closed') });
    expect(() => ep.inject(Buffer.alloc(1), p.fb)).toThrow(/closed/);
    ep.close(); // idempotent
    expect(ep.isClosed).toBe(true);
  }, T);

  it('ops of a closed endpoint sharing a CQ are canceled while the others on that CQ keep completing', async () => {
    const ep = p.domain.endpoint({ cq: p.cq, av: p.av });
    const parked = Array.from({ length: 40 }, () => ep.recv(Buffer.alloc(8)));
    ep.close();
    for (const r of parked) await expect(r).rejects.toMatchObject({ code: 'FI_ECANCELED' });
    // records of the canceled ops are not handed to new ops before the CQ closes
    for (let round = 0; round < 5; round++) {
      const recvs = Array.from({ length: 20 }, () => p.b.recv(Buffer.alloc(32)));
      const sends = Array.from({ length: 20 }, (_, i) => p.a.send(Buffer.alloc(1 + i), p.fb));
      await withTimeout(Promise.all(sends), 10_000, 'sends');
      const got = (await withTimeout(Promise.all(recvs), 10_000, 'recvs')).map((c) => c.length).sort((x, y) => x - y);
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => 1 + i));
    }
  }, T);

  it('the per-op entry points check their receiver and stay bound to their endpoint', async () => {
    const ep = p.domain.endpoint({ av: p.av });
    const post = ep.native.post;
    const proto = Object.getPrototypeOf(ep.native) as { post: (...a: unknown[]) => unknown };
    expect(() => proto.post.call({}, 0, Buffer.alloc(1), undefined, undefined, p.fb)).toThrow(TypeError);
    const r = p.b.recv(Buffer.alloc(8));
    await post.call(undefined, 0, Buffer.from('bound'), undefined, undefined, p.fb, undefined, undefined, undefined, undefined, undefined);
    expect((await withTimeout(r, 10_000, 'recv')).length).toBe(5);
    ep.close();
    expect(() => post(0, Buffer.alloc(1), undefined, undefined, p.fb, undefined, undefined, undefined, undefined, undefined)).toThrow(/Endpoint is closed/);
  }, T);

  it('a MemoryRegion refuses to close under an op in flight, and closed regions are refused', async () => {
    const ep = p.domain.endpoint({ av: p.av });
    const buf = p.domain.allocBuffer(64);
    const mr = p.domain.register(buf);
    const r = ep.recv({ mr });
    expect(() => mr.close()).toThrow(expect.objectContaining({ code: 'FI_EBUSY' }));
    ep.close();
    await expect(r).rejects.toMatchObject({ code: 'FI_ECANCELED' });
    mr.close();
    mr.close();
    await expect(p.a.send({ mr }, p.fb)).rejects.toMatchObject({ code: 'FI_EINVAL' });
  }, T);

  it('refuses pooled Buffer slices for registration and registers allocBuffer memory', () => {
    const pooled = Buffer.from('tiny');
    expect(() => p.domain.register(pooled)).toThrow(expect.objectContaining({ code: 'FI_EINVAL', message: expect.stringContaining('allocBuffer') }));
    expect(() => p.domain.register(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'FI_EINVAL' }));
    expect(() => p.domain.register(p.domain.allocBuffer(16), ['fly' as never])).toThrow(RangeError);
    const b = p.domain.allocBuffer(8192);
    const mr = p.domain.register(new Float64Array(b.buffer, b.byteOffset, 1024));
    expect(mr.length).toBe(8192);
    mr.close();
  });

  it('stats() needs the softuet provider', () => {
    if (provider === 'softuet') {
      expect(typeof p.a.stats()).toBe('object');
    } else {
      expect(() => p.a.stats()).toThrow(expect.objectContaining({ code: 'FI_ENOSYS', message: expect.stringContaining('softuet') }));
    }
  });

  it('closing the domain closes its endpoints, regions and queues, rejecting pending ops', async () => {
    const q = openPair(infoFor(provider)!);
    const mr = q.domain.register(q.domain.allocBuffer(64));
    const r = q.b.recv({ mr });
    const cnt = q.domain.counter();
    q.domain.close();
    await expect(r).rejects.toMatchObject({ code: 'FI_ECANCELED' });
    expect(q.a.isClosed && q.b.isClosed && mr.isClosed).toBe(true);
    expect(() => cnt.read()).toThrow(expect.objectContaining({ code: 'FI_EINVAL' }));
    expect(() => q.domain.completionQueue()).toThrow(/Domain is closed/);
    q.domain.close();
    q.fabric.close();
    q.fabric.close();
    expect(() => q.fabric.domain()).toThrow(/Fabric is closed/);
  }, T);

  it('Symbol.asyncDispose closes', async () => {
    const fabric = new F.Fabric(infoFor(provider)!);
    {
      await using d = fabric.domain();
      await using ep = d.endpoint();
      expect(ep.address.length).toBeGreaterThan(0);
    }
    await fabric[Symbol.asyncDispose]();
    expect(fabric.isClosed).toBe(true);
  }, T);
});
