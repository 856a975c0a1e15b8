// The other process of the cross-process tests (spawned, never forked: fabric objects
// and registered memory do not survive fork). Modes:
//   serve    echo tagged messages, expose a region for write/read, verify on request
//   idlecpu  post receives, report CPU time used over one idle second
//   bigidle  stream 4 MiB writes and messages, then the same with receives still posted
//   idle     open an endpoint and return: the process must exit by itself
//   inflight post a receive, drop the IPC channel: the process must stay until it lands
import { F, firstDiff, infoFor, MiB, openPair, pattern } from './helpers.js';

const [mode, provider] = process.argv.slice(-2) as [string, string];
type Msg = { type: string; [k: string]: unknown };

function send(m: Msg): void { process.send!(m); }

function open() {
  const info = infoFor(provider);
  if (!info) throw new Error(`no ${provider}`);
  const fabric = new F.Fabric(info);
  const domain = fabric.domain();
  const av = domain.addressVector();
  const ep = domain.endpoint({ av });
  return { fabric, domain, av, ep };
}

const REGION = 4 * 1024 * 1024;

async function serve(): Promise<void> {
  const { fabric, domain, av, ep } = open();
  const region = domain.allocBuffer(REGION);
  region.set(pattern(REGION, 77));
  const mr = domain.register(region);
  const inbox: Msg[] = [];
  let wake: (() => void) | undefined;
  process.on('message', (m: Msg) => { inbox.push(m); wake?.(); });
  const next = async (): Promise<Msg> => {
    while (inbox.length === 0) await new Promise<void>((r) => { wake = r; });
    return inbox.shift()!;
  };
  send({ type: 'hello', address: ep.address.toString('hex'), remote: F.encodeRemote(mr.remote()).toString('hex') });
  let peer = 0n;
  for (;;) {
    const m = await next();
    if (m.type === 'peer') {
      peer = av.insert(Buffer.from(m.address as string, 'hex'));
      send({ type: 'ready' });
    } else if (m.type === 'echo') {
      // receive `sizes` tagged messages, send each back under tag + 1000
      const sizes = m.sizes as number[];
      const bufs = sizes.map((s) => Buffer.alloc(s));
      const recvs = sizes.map((_, i) => ep.trecv(bufs[i]!, BigInt(i)));
      send({ type: 'posted' });
      const cs = await Promise.all(recvs);
      await Promise.all(bufs.map((b, i) => ep.tsend(b, peer, BigInt(i + 1000))));
      send({ type: 'echoed', lengths: cs.map((c) => c.length) });
    } else if (m.type === 'recv') {
      const buf = Buffer.alloc(m.size as number);
      const r = ep.recv(buf);
      send({ type: 'posted' });
      const c = await r;
      send({ type: 'received', length: c.length, bad: firstDiff(buf, pattern(m.size as number, m.seed as number)) });
    } else if (m.type === 'recvmany') {
      // `count` receives of `size` bytes; reports each message's length, CQ data and digest
      const { count, size } = m as unknown as { count: number; size: number };
      const bufs = Array.from({ length: count }, () => Buffer.alloc(size));
      const recvs = bufs.map((b) => ep.recv(b));
      send({ type: 'posted' });
      const cs = await Promise.all(recvs);
      send({
        type: 'receivedmany',
        results: cs.map((c, i) => ({ length: c.length, data: c.data?.toString(), hex: bufs[i]!.subarray(0, c.length).toString('hex') })),
      });
    } else if (m.type === 'peek') {
      const { offset, size } = m as unknown as { offset: number; size: number };
      send({ type: 'peeked', hex: region.subarray(offset, offset + size).toString('hex') });
    } else if (m.type === 'check') {
      const { offset, size, seed } = m as unknown as { offset: number; size: number; seed: number };
      const want = pattern(size, seed);
      const deadline = Date.now() + 3000;
      let bad = firstDiff(region.subarray(offset, offset + size), want);
      while (bad >= 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1));
        bad = firstDiff(region.subarray(offset, offset + size), want);
      }
      send({ type: 'checked', bad });
    } else if (m.type === 'quit') {
      mr.close();
      fabric.close();
      send({ type: 'bye' });
      process.disconnect();
      return;
    }
  }
}

// Reports the share of a core the process uses over one idle second (after 300 ms to
// settle) with `recvs` posted, then closes and leaves.
async function reportIdleCpu(recvs: Promise<unknown>[], close: () => void): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 1000));
  const c = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3;
  send({ type: 'cpu', fraction: (c.user + c.system) / wall });
  close();
  await Promise.allSettled(recvs);
  process.disconnect();
}

async function idleCpu(): Promise<void> {
  const { fabric, ep } = open();
  await reportIdleCpu([ep.recv(Buffer.alloc(64)), ep.trecv(Buffer.alloc(64), 7n)], () => fabric.close());
}

// Large transfers lengthen how long the loop keeps reading the CQ after a completion;
// once they are over the process must go back to sleep all the same.
async function bigIdle(): Promise<void> {
  const info = infoFor(provider);
  if (!info) throw new Error(`no ${provider}`);
  const p = openPair(info);
  const src = p.domain.allocBuffer(4 * MiB);
  const dst = p.domain.allocBuffer(8 * MiB);
  const mr = p.domain.register(dst, ['remote-write', 'recv']);
  const remote = mr.remote(0, 4 * MiB);
  const writes = [];
  for (let i = 0; i < 4; i++) writes.push(p.a.write(src, p.fb, remote));
  await Promise.all(writes);
  const big = { mr, offset: 4 * MiB, length: 4 * MiB };
  const got = p.b.recv(big);
  await p.a.send(src, p.fb);
  await got;
  await reportIdleCpu([p.b.recv(big), p.b.trecv(Buffer.alloc(64), 7n)], () => p.close());
}

async function idle(): Promise<void> {
  const { ep } = open();
  send({ type: 'hello', address: ep.address.toString('hex') });
  process.disconnect();
  // nothing in flight: the loop has no referenced handles left and the process exits
}

async function inflight(): Promise<void> {
  const { ep } = open();
  const buf = Buffer.alloc(64);
  const r = ep.recv(buf);
  send({ type: 'hello', address: ep.address.toString('hex') });
  process.disconnect();
  const c = await r;
  process.stdout.write(`got ${buf.subarray(0, c.length).toString()}\n`);
}

const modes: Record<string, () => Promise<void>> = { serve, idlecpu: idleCpu, bigidle: bigIdle, idle, inflight };
modes[mode]!().catch((e: unknown) => {
  process.stderr.write(`peer ${mode}: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(3);
});
