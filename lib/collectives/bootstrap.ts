// Out-of-band rendezvous for ranks: one TCP server gathers every rank's endpoint
// address and hands the whole table back, then serves barriers and spreads aborts.
// The server lives in the launcher, or in rank 0 when an external launcher (mpirun,
// Slurm) started the ranks. Wire format: one JSON object per line.

import net from 'node:net';
import { CollectiveError } from './transport.js';

type Msg =
  | { type: 'hello'; rank: number; size: number; address: string }
  | { type: 'table'; addresses: string[] }
  | { type: 'barrier'; id: number }
  | { type: 'release'; id: number }
  | { type: 'abort'; reason: string }
  | { type: 'bye' };

export interface HostPort { host: string; port: number }

export function parseHostPort(s: string): HostPort {
  const m = /^(.*):(\d+)$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !(port >= 0 && port < 65536)) {
    throw new RangeError(`bootstrap address '${s}' is not host:port (for example 127.0.0.1:29500)`);
  }
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** Splits a byte stream into JSON lines. */
function lines(sock: net.Socket, onMsg: (m: Msg) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line) continue;
      let m: Msg;
      try { m = JSON.parse(line) as Msg; } catch { sock.destroy(); return; }
      onMsg(m);
    }
  });
}

function sendMsg(sock: net.Socket, m: Msg): void {
  if (!sock.destroyed && sock.writable) sock.write(JSON.stringify(m) + '\n');
}

export class BootstrapServer {
  private readonly server: net.Server;
  private readonly peers = new Map<number, net.Socket>();
  private readonly addresses: (string | undefined)[];
  private readonly done = new Set<number>();
  private readonly barriers = new Map<number, Set<number>>();
  private abortReason: string | undefined;
  private tableSent = false;
  /** Called once when the job aborts (a rank vanished or asked to). */
  onAbort: ((reason: string) => void) | undefined;
  /**
   * How long a lost connection waits before it aborts the job, so that an owner who
   * knows more (a launcher reading the exit status) can abort with the real cause.
   */
  lostGraceMs = 0;

  private constructor(readonly size: number, server: net.Server) {
    this.server = server;
    this.addresses = new Array<string | undefined>(size).fill(undefined);
    server.on('connection', (s) => this.accept(s));
  }

  /** Listens on host:port (port 0 picks one); see `address`. */
  static async listen(size: number, where: HostPort = { host: '127.0.0.1', port: 0 }): Promise<BootstrapServer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where.port, where.host, () => { server.off('error', reject); resolve(); });
    });
    return new BootstrapServer(size, server);
  }

  get address(): string {
    const a = this.server.address() as net.AddressInfo;
    return `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  get aborted(): string | undefined { return this.abortReason; }

  /** Tells every connected rank to fail its collectives with `reason`. Idempotent. */
  abort(reason: string): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    for (const s of this.peers.values()) sendMsg(s, { type: 'abort', reason });
    this.onAbort?.(reason);
  }

  /** Waits (bounded) for every joined rank to hang up, then stops listening. */
  async close(graceMs = 5000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.peers.values()].some((s) => !s.destroyed)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of this.peers.values()) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(sock: net.Socket): void {
    sock.setNoDelay(true);
    let rank = -1;
    lines(sock, (m) => {
      if (m.type === 'hello') {
        if (m.size !== this.size || !Number.isInteger(m.rank) || m.rank < 0 || m.rank >= this.size
            || this.peers.has(m.rank)) {
          sendMsg(sock, { type: 'abort', reason: `bootstrap refused rank ${m.rank} of ${m.size} (job has ${this.size} ranks${this.peers.has(m.rank) ? ', rank already joined' : ''})` });
          sock.end();
          return;
        }
        rank = m.rank;
        this.peers.set(rank, sock);
        this.addresses[rank] = m.address;
        if (this.abortReason !== undefined) sendMsg(sock, { type: 'abort', reason: this.abortReason });
        else if (this.addresses.every((a) => a !== undefined)) {
          this.tableSent = true;
          const table: Msg = { type: 'table', addresses: this.addresses as string[] };
          for (const s of this.peers.values()) sendMsg(s, table);
        }
      } else if (m.type === 'barrier' && rank >= 0) {
        const set = this.barriers.get(m.id) ?? new Set<number>();
        set.add(rank);
        this.barriers.set(m.id, set);
        if (set.size === this.size) {
          this.barriers.delete(m.id);
          for (const s of this.peers.values()) sendMsg(s, { type: 'release', id: m.id });
        }
      } else if (m.type === 'abort' && rank >= 0) {
        this.abort(`rank ${rank} aborted: ${m.reason}`);
      } else if (m.type === 'bye' && rank >= 0) {
        this.done.add(rank);
      }
    });
    sock.on('end', () => sock.end());
    const lost = () => {
      if (rank < 0 || this.done.has(rank)) return;
      this.done.add(rank);
      const why = `rank ${rank} lost its bootstrap connection ${this.tableSent ? 'mid-job' : 'before the address exchange'} (process exited or crashed)`;
      if (this.lostGraceMs > 0) setTimeout(() => this.abort(why), this.lostGraceMs);
      else this.abort(why);
    };
    sock.on('close', lost);
    sock.on('error', () => undefined);
  }
}

export class BootstrapClient {
  private barrierId = 0;
  private readonly releases = new Map<number, () => void>();
  private abortReason: string | undefined;
  private closing = false;
  private abortListeners: ((reason: string) => void)[] = [];
  private tableWaiter: { resolve: (t: string[]) => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly sock: net.Socket, readonly rank: number, readonly size: number) {
    lines(sock, (m) => {
      if (m.type === 'table') this.tableWaiter?.resolve(m.addresses);
      else if (m.type === 'release') { this.releases.get(m.id)?.(); this.releases.delete(m.id); }
      else if (m.type === 'abort') this.fail(m.reason);
    });
    sock.on('close', () => { if (!this.closing) this.fail('bootstrap connection lost (the launcher or rank 0 is gone)'); });
    sock.on('error', () => undefined);
  }

  /** The local interface address the bootstrap connection uses: peers can reach us there. */
  get localHost(): string { return this.sock.localAddress ?? '127.0.0.1'; }

  get aborted(): string | undefined { return this.abortReason; }

  /** Connects, retrying while the server is not up yet, for at most `timeoutMs`. */
  static async connect(where: HostPort, rank: number, size: number, timeoutMs = 30_000): Promise<BootstrapClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(where.port, where.host);
          s.once('connect', () => { s.off('error', reject); resolve(s); });
          s.once('error', reject);
        });
        sock.setNoDelay(true);
        return new BootstrapClient(sock, rank, size);
      } catch (e) {
        if (Date.now() > deadline) {
          throw new CollectiveError(`rank ${rank}: cannot reach bootstrap ${where.host}:${where.port} within ${timeoutMs} ms: ${(e as Error).message}`, 'TIMEOUT');
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Publishes this rank's address; resolves with every rank's, index = rank. */
  exchange(address: Buffer, timeoutMs = 60_000): Promise<Buffer[]> {
    return new Promise<Buffer[]>((resolve, reject) => {
      if (this.abortReason !== undefined) { reject(this.error()); return; }
      const timer = setTimeout(() => reject(new CollectiveError(
        `rank ${this.rank}: address exchange did not complete within ${timeoutMs} ms (not all ${this.size} ranks joined)`, 'TIMEOUT')), timeoutMs);
      this.tableWaiter = {
        resolve: (t) => { clearTimeout(timer); resolve(t.map((a) => Buffer.from(a, 'base64'))); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      sendMsg(this.sock, { type: 'hello', rank: this.rank, size: this.size, address: address.toString('base64') });
    });
  }

  /** A barrier through the bootstrap server (used before the data path exists, and at teardown). */
  barrier(): Promise<void> {
    const id = this.barrierId++;
    return new Promise<void>((resolve, reject) => {
      if (this.abortReason !== undefined) { reject(this.error()); return; }
      this.releases.set(id, resolve);
      this.abortListeners.push(() => reject(this.error()));
      sendMsg(this.sock, { type: 'barrier', id });
    });
  }

  onAbort(fn: (reason: string) => void): void {
    if (this.abortReason !== undefined) fn(this.abortReason);
    else this.abortListeners.push(fn);
  }

  /** Tells the job this rank failed, so the others stop waiting for it. */
  abort(reason: string): void { sendMsg(this.sock, { type: 'abort', reason }); }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    sendMsg(this.sock, { type: 'bye' });
    await new Promise<void>((resolve) => this.sock.end(() => resolve()));
    this.sock.destroy();
  }

  private error(): CollectiveError {
    return new CollectiveError(`rank ${this.rank}: job aborted: ${this.abortReason}`, 'ABORTED');
  }

  private fail(reason: string): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.tableWaiter?.reject(this.error());
    for (const fn of this.abortListeners.splice(0)) fn(reason);
  }
}
