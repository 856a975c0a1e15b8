// MSG endpoints (PassiveEndpoint, connection through EventQueues) and DGRAM endpoints.
import { describe, expect, it } from 'vitest';
import { F, firstDiff, pattern, withTimeout } from './helpers.js';

const providers = ['tcp', 'sockets'].filter((p) => {
  const ok = F.getInfo({ provider: p, endpointType: 'msg', caps: ['msg', 'rma'], node: '127.0.0.1', src: true }).some((i) => i.provider === p);
  if (!ok) process.stdout.write(`[fabric tests] skipping MSG on ${p}: getInfo returned no MSG endpoint\n`);
  return ok;
});

describe.each(providers)('MSG endpoints on %s', (provider) => {
  it('listen, connect, accept, then send/recv and write/read; close rejects pending ops', async () => {
    const info = F.getInfo({ provider, endpointType: 'msg', caps: ['msg', 'rma'], node: '127.0.0.1', src: true }).find((i) => i.provider === provider)!;
    const fabric = new F.Fabric(info);
    try {
      const domain = fabric.domain();
      const pep = fabric.listen();
      const eq = fabric.eventQueue();
      const accepted = pep.accept(domain, { timeoutMs: 10_000 });
      const client = await withTimeout(domain.connect(pep.address, { eq, timeoutMs: 10_000 }), 15_000, 'connect');
      const server = await withTimeout(accepted, 15_000, 'accept');
      expect(client.type).toBe('msg');

      const dst = Buffer.alloc(4096);
      const r = server.recv(dst);
      await client.send(pattern(4096, 1), undefined);
      expect((await withTimeout(r, 10_000, 'recv')).length).toBe(4096);
      expect(firstDiff(dst, pattern(4096, 1))).toBe(-1);

      const region = domain.allocBuffer(8192);
      const mr = domain.register(region);
      await client.write(pattern(8192, 2), undefined, mr.remote());
      const back = Buffer.alloc(8192);
      await client.read(back, undefined, mr.remote());
      expect(firstDiff(back, pattern(8192, 2))).toBe(-1);

      const pending = server.recv(Buffer.alloc(8));
      server.close();
      await expect(pending).rejects.toMatchObject({ code: 'FI_ECANCELED' });
    } finally {
      fabric.close();
    }
  }, 30_000);
});

const dgram = ['udp', 'sockets'].filter((p) => {
  const ok = F.getInfo({ provider: p, endpointType: 'dgram', node: '127.0.0.1', src: true }).some((i) => i.provider === p);
  if (!ok) process.stdout.write(`[fabric tests] skipping DGRAM on ${p}: getInfo returned no DGRAM endpoint\n`);
  return ok;
});

describe.each(dgram)('DGRAM endpoints on %s', (provider) => {
  it('sends datagrams of 0 B, 1 B and 1 KiB', async () => {
    const info = F.getInfo({ provider, endpointType: 'dgram', node: '127.0.0.1', src: true }).find((i) => i.provider === provider)!;
    expect(info.endpointType).toBe('dgram');
    const fabric = new F.Fabric(info);
    try {
      const d = fabric.domain();
      const av = d.addressVector();
      const a = d.endpoint({ av });
      const b = d.endpoint({ av });
      const fb = av.insert(b.address);
      for (const size of [0, 1, 1024]) {
        const dst = Buffer.alloc(2048);
        const r = b.recv(dst);
        await a.send(pattern(size, size), fb);
        const c = await withTimeout(r, 10_000, `dgram ${size}`);
        expect(c.length).toBe(size);
        expect(firstDiff(dst.subarray(0, size), pattern(size, size))).toBe(-1);
      }
    } finally {
      fabric.close();
    }
  }, 20_000);
});
