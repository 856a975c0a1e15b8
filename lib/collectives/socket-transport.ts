// Ranks over plain TCP sockets: the transport when no fabric provider is usable, and
// a peer to compare the fabric path against. One connection per ordered rank pair
// (i sends to j on the connection i opened), frames of [tag u48 | length u32].

import net from 'node:net';
import { Matcher, type Posted } from './matcher.js';
import { CollectiveError, checkPeer, type Transport } from './transport.js';

const HEADER = 12;
// How long a dropped connection waits for the job's abort message, which names the root
// cause (the rank that died first), before failing with "connection lost" itself.
const LOST_GRACE_MS = 1000;

export class SocketTransport implements Transport {
  readonly name = 'socket';
  private readonly matcher = new Matcher();
  private readonly out = new Map<number, Promise<net.Socket>>();
  private readonly sockets = new Set<net.Socket>();
  private peers: { host: string; port: number }[] = [];
  private closing = false;
  private lostTimer: NodeJS.Timeout | undefined;
  private readonly sending = new Set<(e: Error) => void>();

  private constructor(readonly rank: number, readonly size: number, private readonly server: net.Server) {
    server.on('connection', (s) => this.accept(s));
  }

  /** Listens on `host` (an address peers can reach), port chosen by the kernel. */
  static async listen(rank: number, size: number, host = '127.0.0.1'): Promise<SocketTransport> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => { server.off('error', reject); resolve(); });
    });
    return new SocketTransport(rank, size, server);
  }

  /** This rank's address for the bootstrap table. */
  get address(): Buffer {
    const a = this.server.address() as net.AddressInfo;
    return Buffer.from(JSON.stringify({ host: a.address, port: a.port }));
  }

  /** Learns every rank's address (index = rank). */
  connect(table: Buffer[]): void {
    if (table.length !== this.size) throw new RangeError(`address table has ${table.length} entries, job has ${this.size} ranks`);
    this.peers = table.map((b) => JSON.parse(b.toString()) as { host: string; port: number });
  }

  get aborted(): Error | undefined { return this.matcher.aborted; }

  async send(peer: number, tag: number, data: Uint8Array): Promise<void> {
    checkPeer(this, peer);
    if (this.matcher.aborted) throw this.matcher.aborted;
    if (peer === this.rank) { this.matcher.deliver(peer, tag, data, false); return; }
    const sock = await this.socketTo(peer);
    const h = Buffer.allocUnsafe(HEADER);
    h.writeUIntBE(tag, 0, 6);
    h.writeUInt32BE(data.byteLength, 6);
    h.writeUInt16BE(0, 10);
    await new Promise<void>((resolve, reject) => {
      const fail = this.matcher.aborted;
      if (fail) { reject(fail); return; }
      sock.cork();
      sock.write(h);
      if (data.byteLength > 0) {
        this.sending.add(reject);
        sock.write(data, (e) => {
          if (!e) { this.sending.delete(reject); resolve(); return; }
          // Settled by the abort that follows: the job's, naming the root cause, or ours
          // after the grace period.
          this.peerLost(peer, e);
        });
      }
      sock.uncork();
      if (data.byteLength === 0) resolve();
    });
  }

  recv(peer: number, tag: number, into: Uint8Array): Promise<void> {
    checkPeer(this, peer);
    return this.matcher.post(peer, tag, into);
  }

  abort(reason: Error): void {
    clearTimeout(this.lostTimer);
    this.matcher.abort(reason);
    const first = this.matcher.aborted ?? reason;
    for (const reject of this.sending) reject(first);
    this.sending.clear();
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.lostTimer);
    const closed = new CollectiveError('transport closed', 'CLOSED');
    this.matcher.abort(closed);
    for (const reject of this.sending) reject(closed);
    this.sending.clear();
    for (const s of this.sockets) s.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
  }

  private lost(peer: number, e?: Error): CollectiveError {
    return new CollectiveError(`connection to rank ${peer} lost${e ? `: ${e.message}` : ''}`, 'PEER_EXIT', { cause: e });
  }

  private socketTo(peer: number): Promise<net.Socket> {
    let p = this.out.get(peer);
    if (!p) {
      const addr = this.peers[peer];
      if (!addr) return Promise.reject(new CollectiveError(`rank ${peer}'s address is unknown (connect() not called)`, 'PROTOCOL'));
      p = new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(addr.port, addr.host);
        s.setNoDelay(true);
        s.once('error', (e) => reject(this.lost(peer, e)));
        s.once('connect', () => {
          const hello = Buffer.alloc(4);
          hello.writeUInt32BE(this.rank);
          s.write(hello);
          this.track(s, peer);
          resolve(s);
        });
      });
      p.catch(() => undefined);
      this.out.set(peer, p);
    }
    return p;
  }

  private track(s: net.Socket, peer: number): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      this.sockets.delete(s);
      this.peerLost(peer);
    });
  }

  /**
   * A peer's socket also drops when the peer aborts for a reason of its own; the job's
   * abort message (which names the root cause) gets a moment to arrive first.
   */
  private peerLost(peer: number, e?: Error): void {
    if (this.closing || this.matcher.aborted || this.lostTimer) return;
    this.lostTimer = setTimeout(() => this.abort(this.lost(peer, e)), LOST_GRACE_MS);
  }

  /** Incoming side: a 4-byte sender rank, then frames. */
  private accept(s: net.Socket): void {
    s.setNoDelay(true);
    let src = -1;
    let pending: Buffer[] = [];
    let have = 0;
    let need = 4;
    let state: 'hello' | 'header' | 'body' = 'hello';
    let tag = 0;
    let body: Uint8Array | undefined;
    let target: Posted | undefined;
    let filled = 0;
    const take = (n: number): Buffer => {
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      const head = all.subarray(0, n);
      const rest = all.subarray(n);
      pending = rest.length ? [rest] : [];
      have = rest.length;
      return head;
    };
    s.on('data', (d: Buffer) => {
      let chunk: Buffer | undefined = d;
      while (chunk) {
        if (state === 'body') {
          const n = Math.min(chunk.length, body!.byteLength - filled);
          body!.set(chunk.subarray(0, n), filled);
          filled += n;
          chunk = n < chunk.length ? chunk.subarray(n) : undefined;
          if (filled === body!.byteLength) {
            if (target) this.matcher.finish(target);
            else this.matcher.deliver(src, tag, body!, true);
            state = 'header'; need = HEADER; body = undefined; target = undefined;
          }
          continue;
        }
        pending.push(chunk); have += chunk.length; chunk = undefined;
        while (have >= need && state !== 'body') {
          const h = take(need);
          if (state === 'hello') {
            src = h.readUInt32BE(0);
            if (src >= this.size) { s.destroy(); return; }
            this.track(s, src);
            state = 'header'; need = HEADER;
          } else {
            tag = h.readUIntBE(0, 6);
            const len = h.readUInt32BE(6);
            if (len === 0) { this.matcher.deliver(src, tag, new Uint8Array(0), true); continue; }
            // A receive already waiting takes the bytes straight into its memory.
            target = this.matcher.claim(src, tag, len);
            body = target ? target.into : new Uint8Array(len);
            filled = 0; state = 'body';
          }
        }
        if (state === 'body' && have > 0) { chunk = take(have); }
      }
    });
  }
}
