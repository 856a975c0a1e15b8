// The collectives' softuet endpoints carry 8 KiB per packet unless FI_SOFTUET_MTU says
// otherwise, and opening them leaves the process environment as it was.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FabricTransport, SOFTUET_COLLECTIVE_MTU } from '../../lib/collectives/fabric-transport.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const softuetBuilt = existsSync(`${root}build/Release/node_libfabric.node`) && existsSync(`${root}dist/lib/index.js`)
  && existsSync(`${root}build/native/prov/libsoftuet-fi.so`);

/** Bytes per packet the writer sent for one 1 MiB put between two in-process ranks. */
async function bytesPerPacket(opts: { softuetMtu?: number } = {}): Promise<{ perPacket: number; mtu: number | undefined }> {
  const ts = await Promise.all([0, 1].map((r) => FabricTransport.open(r, 2, { provider: 'softuet', ...opts })));
  try {
    const table = ts.map((t) => t.address);
    for (const t of ts) t.connect(table);
    const [a, b] = ts as [FabricTransport, FabricTransport];
    const target = new Uint8Array(1 << 20);
    const handle = b.rma!.expose(target);
    const data = new Uint8Array(1 << 20).fill(7);
    const before = a.rmaEndpointStats()!;
    await Promise.all([a.rma!.put(1, 5, data, handle, 0), b.rma!.landed(0, 5)]);
    expect(target[target.length - 1]).toBe(7);
    const after = a.rmaEndpointStats()!;
    const pkts = Number(after.tx_pkts) - Number(before.tx_pkts);
    const bytes = Number(after.tx_bytes) - Number(before.tx_bytes);
    return { perPacket: bytes / pkts, mtu: a.softuetMtu };
  } finally {
    for (const t of ts) await t.close();
  }
}

describe.runIf(softuetBuilt)('softuet packet size on the collectives endpoints', () => {
  const saved = process.env.FI_SOFTUET_MTU;
  afterEach(() => {
    if (saved === undefined) delete process.env.FI_SOFTUET_MTU;
    else process.env.FI_SOFTUET_MTU = saved;
  });

  it('8 KiB payloads by default, and the environment is left alone', async () => {
    delete process.env.FI_SOFTUET_MTU;
    const r = await bytesPerPacket();
    expect(r.mtu).toBe(SOFTUET_COLLECTIVE_MTU);
    expect(r.perPacket).toBeGreaterThan(6000);
    expect(process.env.FI_SOFTUET_MTU).toBeUndefined();
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
