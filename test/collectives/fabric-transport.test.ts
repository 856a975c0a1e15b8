// FabricTransport's endpoint set-up: softuet endpoints carry the provider's payload per
// packet (16000 bytes on loopback) and run NSCC without RCCC unless FI_SOFTUET_MTU,
// FI_SOFTUET_CC or the options say otherwise (and opening them leaves the environment
// as it was);
// RMA writes may travel on a second fabric over another provider.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FabricTransport, SOFTUET_COLLECTIVE_CC } from '../../lib/collectives/fabric-transport.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const softuetBuilt = existsSync(`${root}build/Release/node_libfabric.node`) && existsSync(`${root}dist/lib/index.js`)
  && existsSync(`${root}build/native/prov/libsoftuet-fi.so`);

/** Runs `body` on two connected in-process softuet ranks, closed afterwards. */
async function withPair<T>(opts: Parameters<typeof FabricTransport.open>[2],
    body: (a: FabricTransport, b: FabricTransport) => Promise<T>): Promise<T> {
  const ts = await Promise.all([0, 1].map((r) => FabricTransport.open(r, 2, { provider: 'softuet', ...opts })));
  try {
    const table = ts.map((t) => t.address);
    for (const t of ts) t.connect(table);
    return await body(ts[0], ts[1]);
  } finally {
    for (const t of ts) await t.close();
  }
}

/** Bytes per packet the writer sent for one 1 MiB put between two in-process ranks. */
function bytesPerPacket(opts: { softuetMtu?: number; softuetCc?: string } = {}):
    Promise<{ perPacket: number; mtu: number | undefined; cc: string | undefined }> {
  return withPair(opts, async (a, b) => {
    const target = new Uint8Array(1 << 20);
    const handle = b.rma!.expose(target);
    const data = new Uint8Array(1 << 20).fill(7);
    const before = a.rmaEndpointStats()!;
    await Promise.all([a.rma!.put(1, 5, data, handle, 0), b.rma!.landed(0, 5)]);
    expect(target[target.length - 1]).toBe(7);
    const after = a.rmaEndpointStats()!;
    const pkts = Number(after.tx_pkts) - Number(before.tx_pkts);
    const bytes = Number(after.tx_bytes) - Number(before.tx_bytes);
    return { perPacket: bytes / pkts, mtu: a.softuetMtu, cc: a.softuetCc };
  });
}

describe.runIf(softuetBuilt)('softuet settings on the collectives endpoints', () => {
  const saved = { mtu: process.env.FI_SOFTUET_MTU, cc: process.env.FI_SOFTUET_CC };
  afterEach(() => {
    if (saved.mtu === undefined) delete process.env.FI_SOFTUET_MTU;
    else process.env.FI_SOFTUET_MTU = saved.mtu;
    if (saved.cc === undefined) delete process.env.FI_SOFTUET_CC;
    else process.env.FI_SOFTUET_CC = saved.cc;
  });

  it('16000-byte payloads and NSCC alone on loopback by default, and the environment is left alone', async () => {
    delete process.env.FI_SOFTUET_MTU;
    delete process.env.FI_SOFTUET_CC;
    const r = await bytesPerPacket();
    expect(r.mtu).toBe(16000);
    expect(r.cc).toBe(SOFTUET_COLLECTIVE_CC);
    expect(r.perPacket).toBeGreaterThan(12000);
    expect(process.env.FI_SOFTUET_MTU).toBeUndefined();
    expect(process.env.FI_SOFTUET_CC).toBeUndefined();
  });

  it('FI_SOFTUET_CC set by the user wins, and an explicit option wins over it', async () => {
    process.env.FI_SOFTUET_CC = 'nscc+rccc';
    expect((await bytesPerPacket()).cc).toBe('nscc+rccc');
    expect((await bytesPerPacket({ softuetCc: 'off' })).cc).toBe('off');
    expect(process.env.FI_SOFTUET_CC).toBe('nscc+rccc');
  });

  it('FI_SOFTUET_MTU set by the user wins', async () => {
    process.env.FI_SOFTUET_MTU = '4096';
    const r = await bytesPerPacket();
    expect(r.mtu).toBe(4096);
    expect(r.perPacket).toBeLessThan(4400);
    expect(process.env.FI_SOFTUET_MTU).toBe('4096');
  });

  it('an explicit option wins over the environment and does not change it', async () => {
    process.env.FI_SOFTUET_MTU = '4096';
    const r = await bytesPerPacket({ softuetMtu: 8192 });
    expect(r.mtu).toBe(8192);
    expect(r.perPacket).toBeGreaterThan(6000);
    expect(process.env.FI_SOFTUET_MTU).toBe('4096');
  });
});

describe.runIf(softuetBuilt)('RMA on a second fabric', () => {
  it('ranks that chose differently fail at connect with a clear error', async () => {
    const a = await FabricTransport.open(0, 2, { provider: 'softuet', bulkProvider: 'tcp;ofi_rxm' });
    const b = await FabricTransport.open(1, 2, { provider: 'softuet', bulkProvider: '' });
    try {
      expect(a.bulkProvider).toBe('tcp;ofi_rxm');
      expect(b.bulkProvider).toBeUndefined();
      const table = [a.address, b.address];
      expect(() => a.connect(table)).toThrow(/rank 1 carries RMA on its main provider.*NLF_BULK_PROVIDER/);
      expect(() => b.connect(table)).toThrow(/rank 0 carries RMA on tcp;ofi_rxm.*NLF_BULK_PROVIDER/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('takes its choices from its options only: the NLF_ variables are fromEnv\'s', async () => {
    try {
      vi.stubEnv('NLF_BULK_PROVIDER', undefined);
      vi.stubEnv('NLF_BULK_THREAD', '1');
      const t = await FabricTransport.open(0, 2, { provider: 'softuet' });
      try {
        expect(t.bulkThread).toBe(false);
      } finally {
        await t.close();
      }
      // 'none' is fromEnv's word for "no second fabric"; read here it would name a provider.
      vi.stubEnv('NLF_BULK_PROVIDER', 'none');
      const u = await FabricTransport.open(0, 2, { provider: 'softuet' });
      try {
        expect(u.bulkProvider).toBeUndefined();
      } finally {
        await u.close();
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a put lands in the target memory and is reported with its tag', async () => {
    await withPair({ bulkProvider: 'tcp;ofi_rxm' }, async (a, b) => {
      const target = new Uint8Array(3 << 20);
      const handle = b.rma!.expose(target);
      const data = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
      await Promise.all([a.rma!.put(1, 9, data, handle, 1 << 20), b.rma!.landed(0, 9)]);
      expect(Buffer.from(target.subarray(1 << 20, 2 << 20)).equals(Buffer.from(data))).toBe(true);
      expect(target[0]).toBe(0);
      // Tagged messages still travel on softuet.
      const got = new Uint8Array(4);
      await Promise.all([a.send(1, 3, new Uint8Array([1, 2, 3, 4])), b.recv(0, 3, got)]);
      expect([...got]).toEqual([1, 2, 3, 4]);
      expect(a.name).toBe('fabric:softuet');
    });
  });
});
