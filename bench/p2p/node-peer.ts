// One side of the Node point-to-point bench: a child process (forked by node.ts with an
// IPC channel) that runs the same protocol as bench/native/fi_bench.c through
// lib/fabric. The client side drives sizes and iterations; the parent relays messages
// between the two sides, as the socketpair does for fi_bench.
import { makeRow, patternByte, type Op, type Row } from './report.js';

// The part of the binding's API (lib/fabric, see its contract) that the bench uses.
// Loaded at run time so that the bench still runs its native part when the addon has
// not been built.
interface RemoteRegion { addr: bigint; key: bigint; length: number }
interface MemoryRegion { remote(offset?: number, length?: number): RemoteRegion; close(): void }
type Local = { mr: MemoryRegion; offset?: number; length?: number };
interface Completion { length: number }
interface Endpoint {
  readonly address: Buffer;
  send(buf: Local, dest: bigint): Promise<void>;
  recv(buf: Local, opts?: { src?: bigint }): Promise<Completion>;
  tsend(buf: Local, dest: bigint, tag: bigint): Promise<void>;
  trecv(buf: Local, tag: bigint, opts?: { ignore?: bigint; src?: bigint }): Promise<Completion>;
  inject(buf: Local, dest: bigint): void;
  write(local: Local, dest: bigint, remote: RemoteRegion, remoteOffset?: number): Promise<void>;
  read(local: Local, dest: bigint, remote: RemoteRegion, remoteOffset?: number): Promise<void>;
  batch(ops: Array<{ op: 'send' | 'tsend' | 'write'; buf: Local; dest: bigint; tag?: bigint;
    remote?: RemoteRegion; remoteOffset?: number }>): Promise<void>;
  close(): void;
}
interface Info { provider: string; progress: string; mrMode: string[]; limits: { injectSize: number } }
interface AddressVector { insert(addr: Buffer): bigint }
interface Domain {
  addressVector(opts?: { type?: 'map' | 'table'; count?: number }): AddressVector;
  completionQueue(opts?: { size?: number }): unknown;
  register(buf: Buffer, access?: string[]): MemoryRegion;
  allocBuffer(size: number): Buffer;
  endpoint(opts?: { cq?: unknown; av?: AddressVector }): Endpoint;
}
interface Fabric { domain(info?: Info): Domain; close(): void }
export interface Binding {
  getInfo(hints: Record<string, unknown>): Info[];
  Fabric: new (info: Info) => Fabric;
  encodeRemote(r: RemoteRegion): Buffer;
  decodeRemote(b: Buffer): RemoteRegion;
  libfabricVersion(): string;
}

/** Imports lib/fabric (compiled to dist/lib/index.js beside dist/bench). */
export async function loadBinding(): Promise<Binding> {
  const spec = new URL('../../lib/index.js', import.meta.url).href;
  return (await import(spec)) as Binding;
}

export interface PeerConfig {
  role: 'client' | 'server';
  provider: string;
  op: Op;
  sizes: number[];
  window: number;
  iters?: number;       // fixed iterations per size; else scaled to `seconds`
  seconds: number;
  reps: number;         // measured runs per size, the median is reported
  batch: boolean;       // post each window with ep.batch (write, send, tsend)
}

/** Messages between the two sides (relayed by the parent) and to the parent. */
export type PeerMessage =
  | { type: 'config'; config: PeerConfig }
  | { type: 'hello'; address: string; remote: string; progress: string; mrMode: string[] }
  | { type: 'peer'; address: string; remote: string }
  | { type: 'cmd'; size: number; iters: number }
  | { type: 'quit' }
  | { type: 'ready' }
  | { type: 'result'; ok: boolean; badOffset: number }
  | { type: 'row'; row: Row }
  | { type: 'done' }
  | { type: 'error'; message: string };

const CTRL = 64;
const DATA_TAG = 0x5eedn;
const ACCESS = ['send', 'recv', 'read', 'write', 'remote-read', 'remote-write'];

// Built once per size: generating 1 MiB of pattern in JS takes ~15 ms, which the target
// would otherwise spend inside the initiator's timed region on every run.
const patterns = new Map<number, Buffer>();
function expected(size: number): Buffer {
  let b = patterns.get(size);
  if (b) return b;
  b = Buffer.allocUnsafeSlow(size);
  for (let i = 0; i < size; i++) b[i] = patternByte(i, size);
  patterns.clear();
  patterns.set(size, b);
  return b;
}

/** Offset of the first byte that differs, or -1. */
function firstDiff(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}

class Inbox {
  private queue: PeerMessage[] = [];
  private waiters: Array<(m: PeerMessage) => void> = [];
  push(m: PeerMessage): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }
  next(): Promise<PeerMessage> {
    const m = this.queue.shift();
    return m ? Promise.resolve(m) : new Promise((r) => this.waiters.push(r));
  }
}

function send(m: PeerMessage): void {
  process.send!(m);
}

class Side {
  readonly max: number;
  readonly buf: Buffer;
  readonly mr: MemoryRegion;
  readonly ep: Endpoint;
  readonly av: AddressVector;
  readonly injectSize: number;
  peer = 0n;
  remote!: RemoteRegion;
  private fabric: Fabric;

  constructor(readonly b: Binding, readonly cfg: PeerConfig, readonly info: Info) {
    this.fabric = new b.Fabric(info);
    const domain = this.fabric.domain(info);
    this.av = domain.addressVector({ count: 4 });
    const cq = domain.completionQueue({ size: 2 * cfg.window + 64 });
    this.ep = domain.endpoint({ cq, av: this.av });
    this.max = Math.max(8, ...cfg.sizes);
    this.buf = domain.allocBuffer(2 * this.max + 2 * CTRL);
    this.buf.fill(0);
    this.mr = domain.register(this.buf, ACCESS);
    this.injectSize = info.limits.injectSize;
  }

  tx(size: number): Local { return { mr: this.mr, offset: 0, length: size }; }
  rx(size: number): Local { return { mr: this.mr, offset: this.max, length: size }; }
  rxView(size: number): Buffer { return this.buf.subarray(this.max, this.max + size); }
  ctrlTx(): Local { return { mr: this.mr, offset: 2 * this.max, length: CTRL }; }
  ctrlRx(): Local { return { mr: this.mr, offset: 2 * this.max + CTRL, length: CTRL }; }
  recvCtrl(): Promise<Completion> { return this.ep.recv(this.ctrlRx()); }
  sendCtrl(): Promise<void> { return this.ep.send(this.ctrlTx(), this.peer); }

  close(): void {
    this.ep.close();
    this.mr.close();
    this.fabric.close();
  }

  /** The initiator's op for one slot of the window. */
  post(op: Op, size: number): Promise<unknown> {
    const tx = this.tx(size);
    switch (op) {
      case 'write': return this.ep.write(tx, this.peer, this.remote, 0);
      case 'read': return this.ep.read(this.rx(size), this.peer, this.remote, 0);
      case 'send': return this.ep.send(tx, this.peer);
      case 'tsend': return this.ep.tsend(tx, this.peer, DATA_TAG);
      default: throw new Error(`no streaming form of ${op}`);
    }
  }

  recvData(op: Op, size: number): Promise<Completion> {
    return op === 'tsend' ? this.ep.trecv(this.rx(size), DATA_TAG) : this.ep.recv(this.rx(size));
  }
}

/** Keeps `window` ops in flight until `iters` have completed. */
function stream(iters: number, window: number, post: () => Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    let posted = 0;
    let done = 0;
    let failed = false;
    const launch = (): void => {
      posted++;
      post().then(() => {
        done++;
        if (done === iters) resolve();
        else if (posted < iters && !failed) launch();
      }, (e: unknown) => {
        failed = true;
        reject(e);
      });
    };
    const first = Math.min(window, iters);
    for (let i = 0; i < first; i++) launch();
  });
}

/**
 * Keeps `window` ops in flight as BATCH_PARTS batches of `window / BATCH_PARTS` (the
 * binding's batch form), posting the next batch as soon as one settles. A single batch of
 * `window` would let the window drain to empty before each post, which halves the message
 * rate when the round trip dominates; fi_bench refills every slot as it completes.
 */
const BATCH_PARTS = 4;
async function streamBatch(s: Side, op: Op, size: number, iters: number, window: number): Promise<void> {
  const one = { op: op as 'send' | 'tsend' | 'write', buf: s.tx(size), dest: s.peer,
    tag: op === 'tsend' ? DATA_TAG : undefined, remote: op === 'write' ? s.remote : undefined, remoteOffset: 0 };
  const per = Math.max(1, Math.ceil(window / BATCH_PARTS));
  const full = new Array(per).fill(one);
  await new Promise<void>((resolve, reject) => {
    let posted = 0;
    let done = 0;
    let failed = false;
    const launch = (): void => {
      const n = Math.min(per, iters - posted);
      posted += n;
      s.ep.batch(n === per ? full : full.slice(0, n)).then(() => {
        done += n;
        if (done === iters) resolve();
        else if (posted < iters && !failed) launch();
      }, (e: unknown) => {
        failed = true;
        reject(e);
      });
    };
    while (posted < iters && posted < window) launch();
  });
}

async function clientSize(s: Side, inbox: Inbox, size: number, iters: number): Promise<{ time: number; ok: boolean; bad: number }> {
  const { op, window } = s.cfg;
  send({ type: 'cmd', size, iters });
  s.rxView(size).fill(0);
  s.buf.subarray(0, size).set(expected(size));
  let ack: Promise<Completion> | undefined;
  let pong: Promise<Completion> | undefined;
  if (op === 'pingpong') pong = s.recvData(op, size);
  else ack = s.recvCtrl();
  const ready = await inbox.next();
  if (ready.type !== 'ready') throw new Error(`expected ready, got ${ready.type}`);

  const t0 = performance.now();
  if (op === 'pingpong') {
    const inject = size <= s.injectSize;
    for (let i = 0; i < iters; i++) {
      let sent: Promise<void> | undefined;
      if (inject) s.ep.inject(s.tx(size), s.peer);
      else sent = s.ep.send(s.tx(size), s.peer);
      await pong;
      if (sent) await sent;
      if (i + 1 < iters) pong = s.recvData(op, size);
    }
  } else {
    if (s.cfg.batch && op !== 'read') await streamBatch(s, op, size, iters, window);
    else await stream(iters, window, () => s.post(op, size));
    if (op === 'write' || op === 'read') await s.sendCtrl();
    await ack;
  }
  const time = (performance.now() - t0) / 1e3;
  const bad = op === 'read' || op === 'pingpong' ? firstDiff(s.rxView(size), expected(size)) : -1;
  const result = await inbox.next();
  if (result.type !== 'result') throw new Error(`expected result, got ${result.type}`);
  const ok = bad < 0 && result.ok;
  return { time, ok, bad: bad >= 0 ? bad : result.badOffset };
}

async function serverSize(s: Side, size: number, iters: number): Promise<void> {
  const { op, window } = s.cfg;
  const rx = s.rxView(size);
  rx.fill(0);
  const want = expected(size);
  if (op === 'read') rx.set(want);
  let bad = -1;
  if (op === 'write' || op === 'read') {
    const done = s.recvCtrl();
    send({ type: 'ready' });
    await done;
    if (op === 'write') {
      // a write may complete at the initiator before its last bytes are placed here
      const deadline = performance.now() + 500;
      while ((bad = firstDiff(rx, want)) >= 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await s.sendCtrl();
  } else if (op === 'send' || op === 'tsend') {
    let posted = 0;
    let done = 0;
    const all = new Promise<void>((resolve, reject) => {
      const post = (): void => {
        posted++;
        s.recvData(op, size).then(() => {
          done++;
          if (done === iters) resolve();
          else if (posted < iters) post();
        }, reject);
      };
      for (let i = 0; i < Math.min(window, iters); i++) post();
    });
    send({ type: 'ready' });
    await all;
    bad = firstDiff(rx, want);
    await s.sendCtrl();
  } else {
    const inject = size <= s.injectSize;
    let ping = s.recvData(op, size);
    send({ type: 'ready' });
    // As fi_bench: a send's completion is awaited only before the next send, so it
    // overlaps the wait for the next ping.
    let sent: Promise<void> | undefined;
    for (let i = 0; i < iters; i++) {
      await ping;
      if (i + 1 < iters) ping = s.recvData(op, size);
      if (sent) await sent;
      if (inject) s.ep.inject(s.rx(size), s.peer);
      else sent = s.ep.send(s.rx(size), s.peer);
    }
    if (sent) await sent;
  }
  send({ type: 'result', ok: bad < 0, badOffset: bad });
}

/** Calibrates like fi_bench: grow until a run lasts a tenth of the target, then scale. */
async function pickIters(s: Side, inbox: Inbox, size: number): Promise<number> {
  const cfg = s.cfg;
  if (cfg.iters) return cfg.iters;
  let cal = Math.floor((32 << 20) / size);
  if (cfg.op === 'pingpong') cal = Math.floor(cal / 16);
  cal = Math.min(1000, Math.max(8, cal));
  let per = 0;
  for (let round = 0; round < 4; round++) {
    const r = await clientSize(s, inbox, size, cal);
    if (!r.ok) return cal;
    per = r.time / cal;
    if (r.time >= cfg.seconds / 10) break;
    cal = Math.floor(cal * Math.min(16, cfg.seconds / 10 / Math.max(r.time, 1e-6))) + 1;
  }
  return Math.min(10_000_000, Math.max(10, Math.floor(cfg.seconds / Math.max(per, 1e-9))));
}

async function main(): Promise<void> {
  const inbox = new Inbox();
  process.on('message', (m: PeerMessage) => inbox.push(m));
  process.on('disconnect', () => process.exit(1));
  const first = await inbox.next();
  if (first.type !== 'config') throw new Error('expected config');
  const cfg = first.config;
  const b = await loadBinding();
  const infos = b.getInfo({ provider: cfg.provider, endpointType: 'rdm', caps: ['msg', 'tagged', 'rma'], node: '127.0.0.1' });
  if (infos.length === 0) throw new Error(`no provider '${cfg.provider}' with an RDM endpoint on 127.0.0.1`);
  const s = new Side(b, cfg, infos[0]);
  send({ type: 'hello', address: s.ep.address.toString('hex'),
    remote: b.encodeRemote(s.mr.remote(s.max, s.max)).toString('hex'), progress: infos[0].progress, mrMode: infos[0].mrMode });
  const peer = await inbox.next();
  if (peer.type !== 'peer') throw new Error('expected peer');
  s.peer = s.av.insert(Buffer.from(peer.address, 'hex'));
  s.remote = b.decodeRemote(Buffer.from(peer.remote, 'hex'));

  // one small exchange each way, so connection set-up is not charged to the first size
  const hs = s.recvCtrl();
  if (cfg.role === 'client') {
    await s.sendCtrl();
    await hs;
  } else {
    await hs;
    await s.sendCtrl();
  }

  if (cfg.role === 'server') {
    for (;;) {
      const m = await inbox.next();
      if (m.type === 'quit') break;
      if (m.type !== 'cmd') throw new Error(`unexpected ${m.type}`);
      await serverSize(s, m.size, m.iters);
    }
  } else {
    for (const size of cfg.sizes) {
      let iters = await pickIters(s, inbox, size);
      let r = await clientSize(s, inbox, size, iters);
      for (let again = 0; again < 2 && !cfg.iters && r.ok && r.time < cfg.seconds / 3; again++) {
        iters = Math.floor(iters * Math.min(100, cfg.seconds / Math.max(r.time, 1e-6))) + 1;
        r = await clientSize(s, inbox, size, iters);
      }
      if (cfg.reps > 1 && r.ok) {
        // the run of median time, as fi_bench -r does
        const runs = [r];
        while (runs.length < cfg.reps && runs[runs.length - 1].ok) runs.push(await clientSize(s, inbox, size, iters));
        r = runs.find((x) => !x.ok) ?? runs.sort((x, y) => x.time - y.time)[runs.length >> 1];
      }
      send({ type: 'row', row: makeRow(cfg.op, size, iters, 1, r.time, r.ok) });
      if (!r.ok) process.stderr.write(`node-peer: data mismatch at ${size} bytes, offset ${r.bad}\n`);
    }
    send({ type: 'quit' });
  }
  s.close();
  send({ type: 'done' });
  // The parent losing us is fatal only until the run is over: our own disconnect is not.
  process.removeAllListeners('disconnect');
  process.disconnect();
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? `${e.message}` : String(e);
  if (process.send) send({ type: 'error', message });
  else process.stderr.write(message + '\n');
  setTimeout(() => process.exit(2), 50);
});
