// Every op on every provider, two endpoints in this process, data checked byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, KiB, MiB, firstDiff, infoFor, openPair, pattern, providersUnderTest, until, withTimeout, type Pair } from './helpers.js';

const providers = providersUnderTest();
const T = 20_000;

describe.each(providers)('provider %s', (provider) => {
  let p: Pair;
  // The big size costs seconds per op on loopback: one provider carries it.
  const sizes = [0, 1, 4 * KiB, MiB, ...(provider === 'tcp;ofi_rxm' ? [16 * MiB] : [])];

  beforeAll(() => {
    const info = infoFor(provider);
    if (!info) throw new Error(`${provider}: no Info`);
    p = openPair(info);
  });
  afterAll(() => p?.close());

  it('reports the Info it was opened with', () => {
    expect(p.info.provider).toBe(provider);
    expect(p.info.endpointType).toBe('rdm');
    expect(p.info.caps).toEqual(expect.arrayContaining(['msg', 'tagged', 'rma']));
    expect(['auto', 'manual']).toContain(p.info.progress);
    expect(p.info.limits.maxMsgSize).toBeGreaterThan(0);
    expect(p.a.address.length).toBeGreaterThan(0);
    expect(p.av.lookup(p.fb).equals(p.b.address)).toBe(true);
    expect(typeof p.av.straddr(p.a.address)).toBe('string');
  }, T);

  it('AddressVector: insert by host:port string, lookup, remove', async () => {
    const av = p.domain.addressVector();
    try {
      const text = av.straddr(p.b.address);
      const port = /:(\d+)\s*$/.exec(text)?.[1];
      expect(port, `port in ${text}`).toBeDefined();
      const viaString = av.insertString(`127.0.0.1:${port}`);
      const viaSvc = av.insertString('127.0.0.1', port!);
      expect(av.lookup(viaString).equals(av.lookup(viaSvc))).toBe(true);
      const ep = p.domain.endpoint({ av });
      const dst = Buffer.alloc(8);
      const r = p.b.recv(dst);
      await ep.send(Buffer.from('by name'), viaString);
      await withTimeout(r, T, 'recv by name');
      expect(dst.subarray(0, 7).toString()).toBe('by name');
      ep.close();
      const many = av.insertMany([p.a.address, p.b.address]);
      expect(many).toHaveLength(2);
      av.remove(many[0]!);
      expect(() => av.insertString('not an address')).toThrow(RangeError);
    } finally {
      av.close();
    }
  }, T);

  it.each(sizes)('send/recv %i bytes', async (size) => {
    const src = pattern(size, size + 1);
    const dst = Buffer.alloc(size + 16, 0xee);
    const r = p.b.recv(dst);
    await withTimeout(p.a.send(src, p.fb), T, 'send');
    const c = await withTimeout(r, T, 'recv');
    expect(c.length).toBe(size);
    expect(firstDiff(dst.subarray(0, size), src)).toBe(-1);
    expect(dst[size]).toBe(0xee);
  }, 60_000);

  it('any view works as a local buffer: TypedArray, DataView, ArrayBuffer, SharedArrayBuffer views', async () => {
    const src = new Uint32Array(new SharedArrayBuffer(64)).fill(0xdeadbeef);
    const ab = new ArrayBuffer(64);
    const r1 = p.b.recv(new DataView(ab, 8, 32));
    await p.a.send(src.subarray(2, 10), p.fb);
    expect((await withTimeout(r1, T, 'recv')).length).toBe(32);
    expect(new Uint32Array(ab, 8, 8).every((x) => x === 0xdeadbeef)).toBe(true);
    expect(new Uint32Array(ab, 0, 2).every((x) => x === 0)).toBe(true);
    const f = new Float64Array(4);
    const r3 = p.b.recv(f.buffer);
    await p.a.send(new Float64Array([1.5, -2, 3, 4]), p.fb);
    await withTimeout(r3, T, 'recv');
    expect([...f]).toEqual([1.5, -2, 3, 4]);
  }, T);

  it.each(sizes.filter((s) => s <= MiB))('tsend/trecv %i bytes with tag matching and ignore mask', async (size) => {
    const src1 = pattern(size, 7);
    const src2 = pattern(size, 8);
    const d1 = Buffer.alloc(size);
    const d2 = Buffer.alloc(size);
    const r2 = p.b.trecv(d2, 0x2200n, { ignore: 0xffn });
    const r1 = p.b.trecv(d1, 0x1100n);
    await p.a.tsend(src1, p.fb, 0x1100n);
    await p.a.tsend(src2, p.fb, 0x2234n);
    const [c1, c2] = await withTimeout(Promise.all([r1, r2]), T, 'trecv');
    expect(c1.tag).toBe(0x1100n);
    expect(c2.tag).toBe(0x2234n);
    expect(c1.length).toBe(size);
    expect(firstDiff(d1, src1)).toBe(-1);
    expect(firstDiff(d2, src2)).toBe(-1);
  }, 60_000);

  it.each(sizes)('write/read %i bytes through a MemoryRegion', async (size) => {
    const target = p.domain.allocBuffer(Math.max(size, 1));
    const mr = p.domain.register(target);
    try {
      const src = pattern(size, 3);
      await withTimeout(p.a.write(src, p.fb, mr.remote(0, size)), T, 'write');
      expect(await until(() => firstDiff(target.subarray(0, size), src) === -1)).toBe(true);
      target.subarray(0, size).set(pattern(size, 4));
      const back = Buffer.alloc(size);
      await withTimeout(p.a.read(back, p.fb, mr.remote(0, size)), T, 'read');
      expect(firstDiff(back, pattern(size, 4))).toBe(-1);
    } finally {
      mr.close();
    }
  }, 60_000);

  it('write/read at offsets, local side from a MemoryRegion', async () => {
    const target = p.domain.allocBuffer(64 * KiB);
    const local = p.domain.allocBuffer(64 * KiB);
    const tmr = p.domain.register(target, ['remote-read', 'remote-write']);
    const lmr = p.domain.register(local, ['read', 'write']);
    try {
      local.set(pattern(1000, 5), 100);
      await p.a.write({ mr: lmr, offset: 100, length: 1000 }, p.fb, tmr.remote(4096), 10);
      expect(await until(() => firstDiff(target.subarray(4106, 5106), pattern(1000, 5)) === -1)).toBe(true);
      expect(target[4105]).toBe(0);
      expect(target[5106]).toBe(0);
      await p.a.read({ mr: lmr, offset: 30000, length: 1000 }, p.fb, tmr.remote(4096), 10);
      expect(firstDiff(local.subarray(30000, 31000), pattern(1000, 5))).toBe(-1);
      // remote regions survive a round trip through bytes
      const r = F.decodeRemote(F.encodeRemote(tmr.remote(8, 16)));
      expect(r).toEqual(tmr.remote(8, 16));
    } finally {
      tmr.close();
      lmr.close();
    }
  }, T);

  it('senddata: the receive completion carries the remote CQ data', async () => {
    const dst = Buffer.alloc(64);
    const r = p.b.recv(dst);
    await p.a.senddata(Buffer.from('with data'), p.fb, 0xabcdef12n);
    const c = await withTimeout(r, T, 'recv');
    expect(c.data).toBe(0xabcdef12n);
    expect(dst.subarray(0, c.length).toString()).toBe('with data');
  }, T);

  it('writedata: data lands and the target CQ reports the remote CQ data', async () => {
    const target = p.domain.allocBuffer(4096);
    const mr = p.domain.register(target);
    try {
      const src = pattern(4096, 9);
      await withTimeout(p.a.writedata(src, p.fb, mr.remote(), 0x77n), T, 'writedata');
      const ev = await withTimeout(p.cq.remoteData(), T, 'remoteData');
      expect(ev.data).toBe(0x77n);
      expect(await until(() => firstDiff(target, src) === -1)).toBe(true);
    } finally {
      mr.close();
    }
  }, T);

  it('inject, injectData and tinject deliver without completions', async () => {
    const inj = p.info.limits.injectSize;
    expect(inj).toBeGreaterThan(0);
    const d1 = Buffer.alloc(inj);
    const d2 = Buffer.alloc(inj);
    const d3 = Buffer.alloc(inj);
    const r1 = p.b.recv(d1);
    const src = pattern(inj, 11);
    p.a.inject(src, p.fb);
    src.fill(0); // the buffer is free on return
    const c1 = await withTimeout(r1, T, 'recv inject');
    expect(c1.length).toBe(inj);
    expect(firstDiff(d1, pattern(inj, 11))).toBe(-1);
    const r2 = p.b.recv(d2);
    p.a.injectData(Buffer.from('x'), p.fb, 5n);
    expect((await withTimeout(r2, T, 'recv injectData')).data).toBe(5n);
    const r3 = p.b.trecv(d3, 99n);
    p.a.tinject(Buffer.from('tag'), p.fb, 99n);
    const c3 = await withTimeout(r3, T, 'trecv tinject');
    expect(c3.tag).toBe(99n);
    expect(d3.subarray(0, 3).toString()).toBe('tag');
    expect(() => p.a.inject(Buffer.alloc(inj + 1), p.fb)).toThrow(expect.objectContaining({ code: 'FI_EMSGSIZE' }));
  }, T);

  it('batch posts many sends and writes in one call', async () => {
    const n = 64;
    const bufs = Array.from({ length: n }, () => Buffer.alloc(256));
    const recvs = bufs.map((b) => p.b.recv(b));
    await withTimeout(p.a.batch(Array.from({ length: n }, (_, i) => ({ op: 'send' as const, buf: pattern(256, 100 + i), dest: p.fb }))), T, 'batch send');
    const cs = await withTimeout(Promise.all(recvs), T, 'recvs');
    expect(cs.every((c) => c.length === 256)).toBe(true);
    // RDM delivers in order per peer pair for tcp-based providers; compare as a set otherwise
    const got = new Set(bufs.map((b) => b.toString('hex')));
    for (let i = 0; i < n; i++) expect(got.has(pattern(256, 100 + i).toString('hex'))).toBe(true);

    const target = p.domain.allocBuffer(n * 128);
    const mr = p.domain.register(target);
    const src = pattern(n * 128, 42);
    await withTimeout(p.a.batch(Array.from({ length: n }, (_, i) => ({
      op: 'write' as const, buf: src.subarray(i * 128, (i + 1) * 128), dest: p.fb, remote: mr.remote(), remoteOffset: i * 128,
    }))), T, 'batch write');
    expect(await until(() => firstDiff(target, src) === -1)).toBe(true);
    mr.close();
    await expect(p.a.batch([])).resolves.toBeUndefined();
  }, 30_000);

  it('keeps thousands of ops in flight without losing a completion (FI_EAGAIN is absorbed)', async () => {
    const n = 3000;
    const dst = Buffer.alloc(n * 8);
    const recvs: Promise<F.Completion>[] = [];
    for (let i = 0; i < n; i++) recvs.push(p.b.trecv(dst.subarray(i * 8, i * 8 + 8), BigInt(i)));
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(i) * 3n);
      sends.push(p.a.tsend(b, p.fb, BigInt(i)));
    }
    await withTimeout(Promise.all([...sends, ...recvs]), 30_000, 'flood');
    for (let i = 0; i < n; i++) expect(dst.readBigUInt64LE(i * 8)).toBe(BigInt(i) * 3n);
  }, 40_000);

  it('counts send completions on a bound Counter', async () => {
    const cntr = p.domain.counter();
    const ep = p.domain.endpoint({ cq: p.cq, av: p.av, counters: [{ counter: cntr, events: ['send'] }] });
    try {
      expect(cntr.read()).toBe(0n);
      const r = [p.b.recv(Buffer.alloc(8)), p.b.recv(Buffer.alloc(8)), p.b.recv(Buffer.alloc(8))];
      await Promise.all([ep.send(Buffer.from('a'), p.fb), ep.send(Buffer.from('b'), p.fb), ep.send(Buffer.from('c'), p.fb)]);
      await Promise.all(r);
      expect(await cntr.wait(3, 5000)).toBeGreaterThanOrEqual(3n);
      cntr.add(10);
      expect(cntr.read()).toBeGreaterThanOrEqual(13n);
      cntr.set(1);
      expect(cntr.read()).toBe(1n);
      expect(cntr.readErr()).toBe(0n);
      await expect(cntr.wait(100, 50)).rejects.toMatchObject({ code: 'FI_ETIMEDOUT' });
    } finally {
      ep.close();
      cntr.close();
    }
  }, T);

  it('atomics where the provider offers FI_ATOMIC, FI_EOPNOTSUPP where not', async () => {
    const ainfo = infoFor(provider, ['msg', 'tagged', 'rma', 'atomic']);
    if (!ainfo) {
      const target = new BigInt64Array(4);
      const mr = p.domain.register(target);
      await expect(p.a.atomic(new BigInt64Array([1n, 2n, 3n, 4n]), p.fb, mr.remote(), 'sum'))
        .rejects.toMatchObject({ name: 'FabricError', code: 'FI_EOPNOTSUPP' });
      mr.close();
      return;
    }
    const q = openPair(ainfo);
    try {
      if (q.a.atomicValid('atomic', new BigInt64Array(1), 'sum') === 0) {
        // FI_ATOMIC advertised, but this op/type is not implemented: the clear error
        process.stdout.write(`[fabric tests] ${provider}: FI_ATOMIC offered but int64 sum is not valid; checking FI_EOPNOTSUPP\n`);
        const t = new BigInt64Array(4);
        const tmr = q.domain.register(t);
        await expect(q.a.atomic(new BigInt64Array(4), q.fb, tmr.remote(), 'sum')).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP' });
        await expect(q.a.fetchAtomic(new BigInt64Array(1), new BigInt64Array(1), q.fb, tmr.remote(), 'sum')).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP' });
        tmr.close();
        return;
      }
      const t64 = q.domain.allocBuffer(64);
      const mr = q.domain.register(t64);
      const v = new BigInt64Array(t64.buffer, t64.byteOffset, 8);
      v.set([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
      await withTimeout(q.a.atomic(new BigInt64Array([10n, 20n, 30n, 40n]), q.fb, mr.remote(), 'sum'), T, 'atomic');
      expect(await until(() => v[3] === 44n)).toBe(true);
      expect([...v.subarray(0, 4)]).toEqual([11n, 22n, 33n, 44n]);
      const old = new BigInt64Array(2);
      await q.a.fetchAtomic(new BigInt64Array([100n, 100n]), old, q.fb, mr.remote(), 'max', 32);
      expect([...old]).toEqual([5n, 6n]);
      expect([...v.subarray(4, 6)]).toEqual([100n, 100n]);
      const prev = new BigInt64Array(1);
      await q.a.compareAtomic(new BigInt64Array([-1n]), new BigInt64Array([7n]), prev, q.fb, mr.remote(), 'cswap', 48);
      expect(prev[0]).toBe(7n);
      expect(v[6]).toBe(-1n);
      await q.a.compareAtomic(new BigInt64Array([-2n]), new BigInt64Array([0n]), prev, q.fb, mr.remote(), 'cswap', 56);
      expect(prev[0]).toBe(8n);
      expect(v[7]).toBe(8n); // compare failed: unchanged
      const f = new Float64Array(2);
      const fmr = q.domain.register(f);
      await q.a.atomic(new Float64Array([1.5, 2.25]), q.fb, fmr.remote(), 'sum');
      expect(await until(() => f[1] === 2.25)).toBe(true);
      expect(f[0]).toBe(1.5);
      const u32 = new Uint32Array([0xf0f0]);
      const umr = q.domain.register(u32);
      await q.a.atomic(new Uint32Array([0x0ff0]), q.fb, umr.remote(), 'bxor');
      expect(await until(() => u32[0] === (0xf0f0 ^ 0x0ff0))).toBe(true);
      // outside the remote region: refused before posting
      await expect(q.a.atomic(new BigInt64Array(2), q.fb, mr.remote(0, 8), 'sum')).rejects.toMatchObject({ code: 'FI_EINVAL' });
      // an op the provider does not implement for a type: a clear FI_EOPNOTSUPP, or it works
      const fl = new Float32Array(1);
      const flmr = q.domain.register(fl);
      const bor = q.a.atomic(new Float32Array([1]), q.fb, flmr.remote(), 'bor');
      if (q.a.atomicValid('atomic', new Float32Array(1), 'bor') === 0) await expect(bor).rejects.toMatchObject({ code: 'FI_EOPNOTSUPP' });
      else await bor;
      for (const m of [mr, fmr, umr, flmr]) m.close();
    } finally {
      q.close();
    }
  }, T);
});

describe('completion engine modes', () => {
  // In libfabric 1.17 rxm's fi_cq_sread does not drive its connection progress and net's
  // stalls under load with a concurrent poster, so the progress thread is exercised on
  // sockets (all three have wait fds, so none of them selects the thread by itself).
  const modes: Array<['thread' | 'none', string]> = [
    ['none', 'tcp;ofi_rxm'],
    ...(['sockets'] as const).filter((p) => providers.includes(p)).map((p) => ['thread', p] as ['thread', string]),
  ];
  it.each(modes)('a CQ in %s mode on %s settles ops like the fd mode', async (wait, provider) => {
    const info = F.getInfo({ provider, endpointType: 'rdm', node: '127.0.0.1', src: true, threading: 'safe' })
      .find((i) => i.provider === provider);
    if (!info) throw new Error(`${provider} with threading safe is not offered`);
    const fabric = new F.Fabric(info);
    try {
      const domain = fabric.domain();
      const cq = domain.completionQueue({ wait });
      expect(cq.waitMode).toBe(wait === 'none' ? 'poll' : 'thread');
      const av = domain.addressVector();
      const a = domain.endpoint({ cq, av });
      const b = domain.endpoint({ cq, av });
      const fb = av.insert(b.address);
      const n = 200;
      const bufs = Array.from({ length: n }, () => Buffer.alloc(4096));
      const recvs = bufs.map((x, i) => b.trecv(x, BigInt(i)));
      await withTimeout(Promise.all(bufs.map((_, i) => a.tsend(pattern(4096, i), fb, BigInt(i)))), T, 'sends');
      await withTimeout(Promise.all(recvs), T, 'recvs');
      bufs.forEach((x, i) => expect(firstDiff(x, pattern(4096, i))).toBe(-1));
      // error completions travel the same path
      const small = b.recv(Buffer.alloc(2));
      await a.send(Buffer.alloc(100), fb).catch(() => undefined);
      await expect(withTimeout(small, T, 'truncated')).rejects.toMatchObject({ code: 'FI_ETRUNC' });
      const pending = b.recv(Buffer.alloc(8));
      b.close();
      await expect(pending).rejects.toMatchObject({ code: 'FI_ECANCELED' });
    } finally {
      fabric.close();
    }
  }, T);
});
