// Shared set-up for the binding's tests: which providers this machine offers, and a
// pair of endpoints on one domain.
import * as F from '../../lib/index.js';

process.env.FI_TCP_IFACE ??= 'lo';
process.env.FI_SOCKETS_IFACE ??= 'lo';
process.env.FI_NET_IFACE ??= 'lo';

export { F };

export const CANDIDATES = ['tcp;ofi_rxm', 'net', 'sockets'];

/**
 * Providers to test: the three system ones, plus softuet once it is built.
 * NODE_LIBFABRIC_TEST_PROVIDERS (comma list) narrows the matrix.
 */
export function providersUnderTest(): string[] {
  const avail = F.availableProviders();
  const out: string[] = [];
  const only = process.env.NODE_LIBFABRIC_TEST_PROVIDERS?.split(',').map((x) => x.trim()).filter(Boolean);
  for (const p of only ?? [...CANDIDATES, 'softuet']) {
    if (avail.includes(p)) out.push(p);
    else if (p !== 'softuet' || only) process.stdout.write(`[fabric tests] skipping provider ${p}: getInfo returned no RDM endpoint on 127.0.0.1\n`);
  }
  return out;
}

export interface Pair {
  info: F.Info;
  fabric: F.Fabric;
  domain: F.Domain;
  cq: F.CompletionQueue;
  av: F.AddressVector;
  a: F.Endpoint;
  b: F.Endpoint;
  /** fi_addr of a and b in the shared AV */
  fa: bigint;
  fb: bigint;
  close(): void;
}

export function infoFor(provider: string, caps: F.Capability[] = ['msg', 'tagged', 'rma']): F.Info | undefined {
  return F.getInfo({ provider, endpointType: 'rdm', caps, node: '127.0.0.1', src: true }).find((i) => i.provider === provider);
}

export function openPair(info: F.Info): Pair {
  const fabric = new F.Fabric(info);
  const domain = fabric.domain();
  const cq = domain.completionQueue({ size: 1024 });
  const av = domain.addressVector({ count: 8 });
  const a = domain.endpoint({ cq, av });
  const b = domain.endpoint({ cq, av });
  const [fa, fb] = av.insertMany([a.address, b.address]);
  return { info, fabric, domain, cq, av, a, b, fa: fa!, fb: fb!, close: () => fabric.close() };
}

/** Deterministic bytes for size/seed, so a misplaced or stale byte shows. */
export function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafeSlow(size);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Index of the first differing byte, or -1. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) return Math.min(a.byteLength, b.byteLength);
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) return -1;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A write may complete at the initiator before its last bytes land at the target. */
export async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no completion within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
