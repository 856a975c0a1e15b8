/**
 * Discrete-event model of a two-tier leaf-spine fabric driving the lib/cms state machines.
 *
 * Hosts send through a NIC port to their leaf; a leaf forwards up to a spine chosen by
 * hashing the packet's EV, the spine forwards down to the destination leaf, which delivers
 * to the host. Every directed link is an output-queued port with a rate, a propagation
 * delay, a byte buffer, RED-style ECN marking between kmin and kmax, and optional trimming
 * (payload cut to the header when the buffer is full; the receiver NACKs it). Receivers ACK
 * every packet, echoing EV and ECN; RCCC receivers pace credit grants at their link rate.
 */
import { CmsError } from '../errors.js';
import { EntropySelector, type EntropyMode } from '../entropy.js';
import { Nscc, type NsccParams } from '../nscc.js';
import { Xorshift32 } from '../prng.js';
import { RcccReceiver, RcccSender } from '../rccc.js';
import { EventQueue } from './heap.js';

export interface DegradedLink {
  leaf: number;
  spine: number;
  /** 0 = failed (blackholes traffic), 0.5 = half rate. */
  rateFactor: number;
  /** Which direction(s) of the leaf-spine link; default both. */
  direction?: 'up' | 'down' | 'both';
}

export interface FabricConfig {
  leaves: number;
  hostsPerLeaf: number;
  spines: number;
  hostRateGbps: number;
  spineRateGbps?: number;
  propNs: number;
  /** Payload bytes per full packet. */
  mtu: number;
  headerBytes?: number;
  ackBytes?: number;
  bufferBytes: number;
  ecnKminBytes: number;
  ecnKmaxBytes: number;
  trimming: boolean;
  degraded?: DegradedLink[];
  /**
   * Uplink choice at a leaf. 'direct': (EV + per-flow salt) mod spines, so the low EV bits
   * index the path (the UEC simulator's model). 'hash': a 32-bit mix of EV, endpoints and
   * leaf, like a switch hashing the 5-tuple; distinct EVs may then collide on a spine.
   */
  hash?: 'direct' | 'hash';
}

export interface FlowSpec {
  src: number;
  dst: number;
  /** Payload bytes; Infinity for a flow that stays backlogged for the whole run. */
  bytes: number;
  startNs: number;
}

export interface CcConfig {
  nscc: boolean;
  rccc: boolean;
  targetQdelayNs?: number;
  nsccOverrides?: Partial<NsccParams>;
  /**
   * RCCC speculative window. Default: one network BDP with trimming (a trimmed speculative
   * packet costs one NACK), otherwise min(BDP, 8 MTU): without trimming an N-to-1 start puts
   * N x the window on the last hop before the first grant, and any overflow is lost.
   */
  speculativeBytes?: number;
  /** Base RTT handed to NSCC; default the unloaded RTT of the longest path. */
  baseRttNs?: number;
}

export interface SimConfig {
  fabric: FabricConfig;
  flows: FlowSpec[];
  cc: CcConfig;
  entropy: { mode: EntropyMode; paths?: number };
  durationNs: number;
  sampleNs: number;
  /** Samples and port maxima before this time are excluded from the summary statistics. */
  warmupNs?: number;
  rtoNs?: number;
  seed: number;
  /** Ports whose depth is sampled, by name (e.g. "down:h0", "up:l0:s3"). */
  watchPorts?: string[];
}

export interface PortStats {
  name: string;
  maxBytes: number;
  maxBytesAfterWarmup: number;
  drops: number;
  trims: number;
  ecnMarks: number;
  txBytes: number;
}

export interface FlowResult {
  id: number;
  src: number;
  dst: number;
  bytes: number;
  startNs: number;
  finishNs?: number;
  deliveredBytes: number;
  retransmits: number;
  timeouts: number;
}

export interface SimResult {
  config: SimConfig;
  baseRttNs: number;
  flows: FlowResult[];
  sampleT: number[];
  /** [flow][sample] */
  cwnd: number[][];
  /** Cumulative delivered payload bytes, [flow][sample]. */
  delivered: number[][];
  /** Watched port depth in bytes, [port][sample]. */
  queue: Record<string, number[]>;
  ports: PortStats[];
  drops: number;
  trims: number;
  events: number;
}

interface Pkt {
  kind: 'data' | 'ack' | 'nack' | 'grant';
  flow: number;
  src: number;
  dst: number;
  seq: number;
  size: number;
  payload: number;
  ev: number;
  ecn: boolean;
  trimmed: boolean;
  lastHopTrim: boolean;
  speculative: boolean;
  creditTarget: number;
  grant: number;
}

class Port {
  q: Pkt[] = [];
  head = 0;
  bytes = 0;
  busy = false;
  stats: PortStats;
  constructor(
    readonly sim: Sim,
    name: string,
    readonly rate: number,
    readonly prop: number,
    readonly buffer: number,
    readonly ecn: boolean,
    readonly lastHop: boolean,
    readonly deliver: (p: Pkt) => void,
  ) {
    this.stats = { name, maxBytes: 0, maxBytesAfterWarmup: 0, drops: 0, trims: 0, ecnMarks: 0, txBytes: 0 };
  }

  get queued(): number {
    return this.q.length - this.head;
  }

  enqueue(p: Pkt): void {
    const s = this.sim;
    if (this.rate <= 0) {
      this.stats.drops++;
      s.drops++;
      return;
    }
    if (this.bytes + p.size > this.buffer) {
      if (s.fabric.trimming && p.kind === 'data' && !p.trimmed) {
        p.trimmed = true;
        p.lastHopTrim = this.lastHop;
        p.size = s.headerBytes;
        this.stats.trims++;
        s.trims++;
      } else {
        this.stats.drops++;
        s.drops++;
        return;
      }
    }
    if (this.ecn && p.kind === 'data' && !p.trimmed && this.bytes > s.fabric.ecnKminBytes) {
      const span = s.fabric.ecnKmaxBytes - s.fabric.ecnKminBytes;
      const prob = span <= 0 ? 1 : (this.bytes - s.fabric.ecnKminBytes) / span;
      if (prob >= 1 || s.rng.float() < prob) {
        if (!p.ecn) this.stats.ecnMarks++;
        p.ecn = true;
      }
    }
    this.q.push(p);
    this.bytes += p.size;
    if (this.bytes > this.stats.maxBytes) this.stats.maxBytes = this.bytes;
    if (s.eq.now >= s.warmupNs && this.bytes > this.stats.maxBytesAfterWarmup) {
      this.stats.maxBytesAfterWarmup = this.bytes;
    }
    if (!this.busy) this.startTx();
  }

  private startTx(): void {
    const p = this.q[this.head]!;
    this.busy = true;
    this.sim.eq.at(this.sim.eq.now + p.size / this.rate, () => this.txDone());
  }

  private txDone(): void {
    const p = this.q[this.head]!;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    this.bytes -= p.size;
    this.stats.txBytes += p.size;
    this.busy = false;
    this.sim.eq.at(this.sim.eq.now + this.prop, () => this.deliver(p));
    if (this.head < this.q.length) this.startTx();
    else this.onIdle?.();
  }

  onIdle?: () => void;
}

interface Outstanding {
  sentAt: number;
  bytes: number;
  ev: number;
}

class Flow {
  nextSeq = 0;
  sentNew = 0;
  inFlight = 0;
  retx: { seq: number; bytes: number }[] = [];
  outstanding = new Map<number, Outstanding>();
  received = new Set<number>();
  delivered = 0;
  finishNs?: number;
  retransmits = 0;
  timeouts = 0;
  nscc?: Nscc;
  rs?: RcccSender;
  es: EntropySelector;
  salt: number;
  constructor(
    readonly id: number,
    readonly spec: FlowSpec,
    es: EntropySelector,
    salt: number,
  ) {
    this.es = es;
    this.salt = salt;
  }
}

class Sim {
  readonly eq = new EventQueue();
  readonly rng: Xorshift32;
  readonly fabric: Required<Omit<FabricConfig, 'degraded' | 'hash'>> & { degraded: DegradedLink[]; hash: 'direct' | 'hash' };
  readonly headerBytes: number;
  readonly warmupNs: number;
  drops = 0;
  trims = 0;
  private readonly nHosts: number;
  private readonly hostUp: Port[] = [];
  private readonly hostDown: Port[] = [];
  private readonly leafUp: Port[][] = [];
  private readonly spineDown: Port[][] = [];
  private readonly flows: Flow[] = [];
  private readonly flowsBySrc: Flow[][] = [];
  private readonly rrBySrc: number[] = [];
  private readonly rcv: (RcccReceiver | undefined)[] = [];
  private readonly pacerWake: number[] = [];
  readonly baseRttNs: number;
  private readonly rto: number;
  private readonly portsByName = new Map<string, Port>();

  constructor(readonly cfg: SimConfig) {
    const f = cfg.fabric;
    for (const [k, v] of Object.entries(f)) {
      if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) throw new CmsError(`fabric.${k} must be >= 0`);
    }
    if (f.leaves < 1 || f.hostsPerLeaf < 1 || f.spines < 1) throw new CmsError('fabric needs leaves, hosts and spines');
    this.fabric = {
      ...f,
      spineRateGbps: f.spineRateGbps ?? f.hostRateGbps,
      headerBytes: f.headerBytes ?? 64,
      ackBytes: f.ackBytes ?? 64,
      degraded: f.degraded ?? [],
      hash: f.hash ?? 'direct',
    };
    this.headerBytes = this.fabric.headerBytes;
    this.rng = new Xorshift32(cfg.seed);
    this.warmupNs = cfg.warmupNs ?? 0;
    this.nHosts = f.leaves * f.hostsPerLeaf;
    const hr = f.hostRateGbps / 8;
    const sr = this.fabric.spineRateGbps / 8;
    const full = f.mtu + this.headerBytes;
    const ack = this.fabric.ackBytes;
    const hops = f.leaves > 1 ? 4 : 2;
    const midSer = f.leaves > 1 ? 2 * (full / sr) : 0;
    const midAck = f.leaves > 1 ? 2 * (ack / sr) : 0;
    this.baseRttNs = cfg.cc.baseRttNs ?? 2 * hops * f.propNs + 2 * (full / hr) + midSer + 2 * (ack / hr) + midAck;
    this.rto = cfg.rtoNs ?? Math.max(8 * this.baseRttNs, (4 * f.bufferBytes) / hr);

    for (let h = 0; h < this.nHosts; h++) {
      const leaf = Math.floor(h / f.hostsPerLeaf);
      this.hostUp.push(this.port(`nic:h${h}`, hr, f.propNs, Infinity, false, false, (p) => this.atLeaf(leaf, p)));
      this.hostDown.push(this.port(`down:h${h}`, hr, f.propNs, f.bufferBytes, true, true, (p) => this.atHost(h, p)));
      this.flowsBySrc.push([]);
      this.rrBySrc.push(0);
      this.rcv.push(undefined);
      this.pacerWake.push(-1);
      const hh = h;
      this.hostUp[h]!.onIdle = () => this.trySend(hh);
    }
    for (let l = 0; l < f.leaves; l++) {
      const ups: Port[] = [];
      for (let s = 0; s < f.spines; s++) {
        const ss = s;
        ups.push(this.port(`up:l${l}:s${s}`, sr * this.factor(l, s, 'up'), f.propNs, f.bufferBytes, true, false, (p) => this.atSpine(ss, p)));
      }
      this.leafUp.push(ups);
    }
    for (let s = 0; s < f.spines; s++) {
      const downs: Port[] = [];
      for (let l = 0; l < f.leaves; l++) {
        const ll = l;
        downs.push(this.port(`sdown:s${s}:l${l}`, sr * this.factor(l, s, 'down'), f.propNs, f.bufferBytes, true, false, (p) => this.atLeaf(ll, p)));
      }
      this.spineDown.push(downs);
    }

    const bdp = hr * this.baseRttNs;
    cfg.flows.forEach((spec, i) => {
      if (spec.src === spec.dst || spec.src < 0 || spec.dst < 0 || spec.src >= this.nHosts || spec.dst >= this.nHosts) {
        throw new CmsError(`flow ${i}: bad endpoints ${spec.src} -> ${spec.dst}`);
      }
      if (!(spec.bytes > 0)) throw new CmsError(`flow ${i}: bytes must be > 0`);
      const es = new EntropySelector({ mode: cfg.entropy.mode, paths: cfg.entropy.paths ?? 8, seed: (cfg.seed * 7919 + i * 104729) | 0 });
      const fl = new Flow(i, spec, es, this.rng.nextU32() & 0xffff);
      if (cfg.cc.nscc) {
        fl.nscc = new Nscc({
          linkRateGbps: f.hostRateGbps,
          baseRttNs: this.baseRttNs,
          mtu: f.mtu,
          trimming: f.trimming,
          rcccActive: cfg.cc.rccc,
          ...(cfg.cc.targetQdelayNs !== undefined ? { targetQdelayNs: cfg.cc.targetQdelayNs } : {}),
          ...(cfg.cc.nsccOverrides ? { overrides: cfg.cc.nsccOverrides } : {}),
        });
      }
      if (cfg.cc.rccc) {
        fl.rs = new RcccSender({ mtu: f.mtu, speculativeBytes: cfg.cc.speculativeBytes ?? (f.trimming ? bdp : Math.min(bdp, 8 * f.mtu)) });
        // Credit counts payload; scale the pacer so payload plus headers fills the link exactly.
        const payloadShare = f.mtu / (f.mtu + this.headerBytes);
        if (!this.rcv[spec.dst]) this.rcv[spec.dst] = new RcccReceiver({ linkRateGbps: f.hostRateGbps, mtu: f.mtu, rateFraction: payloadShare });
      }
      this.flows.push(fl);
      this.flowsBySrc[spec.src]!.push(fl);
      this.eq.at(spec.startNs, () => {
        if (fl.rs) fl.rs.enqueue(Number.isFinite(spec.bytes) ? spec.bytes : 4 * bdp);
        this.trySend(spec.src);
        this.armTimer(fl);
      });
    });
  }

  private factor(l: number, s: number, dir: 'up' | 'down'): number {
    for (const d of this.fabric.degraded) {
      if (d.leaf === l && d.spine === s && (d.direction ?? 'both') !== (dir === 'up' ? 'down' : 'up')) return d.rateFactor;
    }
    return 1;
  }

  private port(name: string, rate: number, prop: number, buf: number, ecn: boolean, lastHop: boolean, deliver: (p: Pkt) => void): Port {
    const p = new Port(this, name, rate, prop, buf, ecn, lastHop, deliver);
    this.portsByName.set(name, p);
    return p;
  }

  getPort(name: string): Port {
    const p = this.portsByName.get(name);
    if (!p) throw new CmsError(`no port named ${name}`);
    return p;
  }

  allPorts(): Port[] {
    return [...this.portsByName.values()];
  }

  private leafOf(h: number): number {
    return Math.floor(h / this.fabric.hostsPerLeaf);
  }

  private atLeaf(l: number, p: Pkt): void {
    if (this.leafOf(p.dst) === l) {
      this.hostDown[p.dst]!.enqueue(p);
      return;
    }
    const salt = this.flows[p.flow]!.salt;
    const s =
      this.fabric.hash === 'direct'
        ? (p.ev + salt + (p.kind === 'data' ? 0 : 1)) % this.fabric.spines
        : mix32(p.ev, p.src, p.dst, l) % this.fabric.spines;
    this.leafUp[l]![s]!.enqueue(p);
  }

  private atSpine(s: number, p: Pkt): void {
    this.spineDown[s]![this.leafOf(p.dst)]!.enqueue(p);
  }

  private atHost(h: number, p: Pkt): void {
    const fl = this.flows[p.flow]!;
    switch (p.kind) {
      case 'data':
        this.onData(h, fl, p);
        return;
      case 'ack':
        this.onAck(fl, p);
        return;
      case 'nack':
        this.onNack(fl, p);
        return;
      case 'grant':
        fl.rs!.onGrant(p.grant);
        this.trySend(fl.spec.src);
        return;
    }
  }

  private reply(fl: Flow, p: Pkt, kind: 'ack' | 'nack'): void {
    this.hostUp[fl.spec.dst]!.enqueue({
      kind,
      flow: fl.id,
      src: fl.spec.dst,
      dst: fl.spec.src,
      seq: p.seq,
      size: this.fabric.ackBytes,
      payload: p.payload,
      ev: p.ev,
      ecn: p.ecn,
      trimmed: false,
      lastHopTrim: p.lastHopTrim,
      speculative: false,
      creditTarget: 0,
      grant: 0,
    });
  }

  private onData(h: number, fl: Flow, p: Pkt): void {
    const now = this.eq.now;
    const r = this.rcv[h];
    if (r) {
      r.onRequest(fl.id, p.creditTarget, now);
      if (!p.trimmed) r.onData(fl.id, p.payload, p.speculative, now);
      this.armPacer(h);
    }
    if (p.trimmed) {
      this.reply(fl, p, 'nack');
      return;
    }
    if (!fl.received.has(p.seq)) {
      fl.received.add(p.seq);
      fl.delivered += p.payload;
      if (fl.finishNs === undefined && fl.delivered >= fl.spec.bytes) fl.finishNs = now;
    }
    this.reply(fl, p, 'ack');
  }

  private armPacer(h: number): void {
    const r = this.rcv[h]!;
    const w = r.nextWakeNs();
    if (w === undefined) return;
    const t = Math.max(w, this.eq.now);
    if (this.pacerWake[h]! >= 0 && this.pacerWake[h]! <= t) return;
    this.pacerWake[h] = t;
    this.eq.at(t, () => {
      if (this.pacerWake[h] !== t) return;
      this.pacerWake[h] = -1;
      for (const g of r.poll(this.eq.now)) {
        const fl = this.flows[g.sender]!;
        this.hostUp[h]!.enqueue({
          kind: 'grant',
          flow: fl.id,
          src: h,
          dst: fl.spec.src,
          seq: 0,
          size: this.fabric.ackBytes,
          payload: 0,
          ev: 0,
          ecn: false,
          trimmed: false,
          lastHopTrim: false,
          speculative: false,
          creditTarget: 0,
          grant: g.bytes,
        });
      }
      this.armPacer(h);
    });
  }

  private onAck(fl: Flow, p: Pkt): void {
    const o = fl.outstanding.get(p.seq);
    if (!o) return;
    fl.outstanding.delete(p.seq);
    fl.inFlight -= o.bytes;
    const now = this.eq.now;
    fl.nscc?.onAck(o.bytes, now - o.sentAt, p.ecn, now, fl.inFlight);
    fl.es.onAck(p.ev, p.ecn);
    this.trySend(fl.spec.src);
  }

  private lost(fl: Flow, seq: number, o: Outstanding): void {
    fl.outstanding.delete(seq);
    fl.inFlight -= o.bytes;
    fl.retx.push({ seq, bytes: o.bytes });
    fl.rs?.enqueue(o.bytes);
  }

  private onNack(fl: Flow, p: Pkt): void {
    const o = fl.outstanding.get(p.seq);
    if (!o) return;
    this.lost(fl, p.seq, o);
    fl.nscc?.onNack(o.bytes, this.eq.now, p.lastHopTrim, fl.inFlight);
    fl.es.onNack(p.ev);
    this.trySend(fl.spec.src);
  }

  private armTimer(fl: Flow): void {
    const period = Math.min(this.rto / 4, this.baseRttNs);
    const tick = (): void => {
      const now = this.eq.now;
      let any = false;
      for (const [seq, o] of fl.outstanding) {
        if (now - o.sentAt < this.rto) break;
        this.lost(fl, seq, o);
        fl.timeouts++;
        fl.nscc?.onTimeout(o.bytes, now, fl.inFlight);
        fl.es.onTimeout(o.ev);
        any = true;
      }
      fl.nscc?.onTick(now);
      if (any) this.trySend(fl.spec.src);
      if (!this.flowDone(fl)) this.eq.at(now + period, tick);
    };
    this.eq.at(this.eq.now + period, tick);
  }

  private flowDone(fl: Flow): boolean {
    return fl.finishNs !== undefined && fl.outstanding.size === 0 && fl.retx.length === 0;
  }

  private hasData(fl: Flow): number {
    if (fl.retx.length > 0) return fl.retx[0]!.bytes;
    const left = fl.spec.bytes - fl.sentNew;
    if (left <= 0) return 0;
    return left < this.fabric.mtu ? left : this.fabric.mtu;
  }

  trySend(h: number): void {
    const nic = this.hostUp[h]!;
    if (nic.busy || nic.queued > 0) return;
    const list = this.flowsBySrc[h]!;
    const n = list.length;
    const now = this.eq.now;
    for (let i = 0; i < n; i++) {
      const idx = (this.rrBySrc[h]! + i) % n;
      const fl = list[idx]!;
      if (fl.spec.startNs > now) continue;
      const bytes = this.hasData(fl);
      if (bytes === 0) continue;
      if (fl.nscc && !fl.nscc.canSend(fl.inFlight, bytes)) continue;
      if (fl.rs && !fl.rs.canSend(bytes)) continue;
      this.rrBySrc[h] = (idx + 1) % n;
      this.sendOne(fl, bytes);
      return;
    }
  }

  private sendOne(fl: Flow, bytes: number): void {
    let seq: number;
    if (fl.retx.length > 0) {
      seq = fl.retx.shift()!.seq;
      fl.retransmits++;
    } else {
      seq = fl.nextSeq++;
      fl.sentNew += bytes;
    }
    let speculative = false;
    if (fl.rs) {
      speculative = fl.rs.onSend(bytes);
      if (!Number.isFinite(fl.spec.bytes) && fl.rs.backlog < 2 * this.fabric.mtu * 8) fl.rs.enqueue(32 * this.fabric.mtu);
    }
    const ev = fl.es.next();
    fl.outstanding.set(seq, { sentAt: this.eq.now, bytes, ev });
    fl.inFlight += bytes;
    this.hostUp[fl.spec.src]!.enqueue({
      kind: 'data',
      flow: fl.id,
      src: fl.spec.src,
      dst: fl.spec.dst,
      seq,
      size: bytes + this.headerBytes,
      payload: bytes,
      ev,
      ecn: false,
      trimmed: false,
      lastHopTrim: false,
      speculative,
      creditTarget: fl.rs ? fl.rs.creditTarget() : 0,
      grant: 0,
    });
  }

  run(): SimResult {
    const cfg = this.cfg;
    const watch = (cfg.watchPorts ?? []).map((n) => this.getPort(n));
    const sampleT: number[] = [];
    const cwnd: number[][] = this.flows.map(() => []);
    const delivered: number[][] = this.flows.map(() => []);
    const queue: Record<string, number[]> = {};
    for (const p of watch) queue[p.stats.name] = [];
    const sample = (): void => {
      const now = this.eq.now;
      sampleT.push(now);
      this.flows.forEach((fl, i) => {
        cwnd[i]!.push(fl.nscc ? fl.nscc.cwnd : fl.rs ? fl.rs.credit : 0);
        delivered[i]!.push(fl.delivered);
      });
      for (const p of watch) queue[p.stats.name]!.push(p.bytes);
      if (now + cfg.sampleNs <= cfg.durationNs) this.eq.at(now + cfg.sampleNs, sample);
    };
    this.eq.at(0, sample);
    const events = this.eq.run(cfg.durationNs);
    return {
      config: cfg,
      baseRttNs: this.baseRttNs,
      flows: this.flows.map((fl) => ({
        id: fl.id,
        src: fl.spec.src,
        dst: fl.spec.dst,
        bytes: fl.spec.bytes,
        startNs: fl.spec.startNs,
        ...(fl.finishNs !== undefined ? { finishNs: fl.finishNs } : {}),
        deliveredBytes: fl.delivered,
        retransmits: fl.retransmits,
        timeouts: fl.timeouts,
      })),
      sampleT,
      cwnd,
      delivered,
      queue,
      ports: this.allPorts().map((p) => ({ ...p.stats })),
      drops: this.drops,
      trims: this.trims,
      events,
    };
  }
}

function mix32(ev: number, src: number, dst: number, leaf: number): number {
  let h = Math.imul(ev ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ Math.imul(src + 1, 0xc2b2ae35), 0x27d4eb2f) >>> 0;
  h = Math.imul(h ^ (h >>> 15) ^ Math.imul(dst + 1, 0x165667b1), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 16) ^ (leaf + 1), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function simulate(cfg: SimConfig): SimResult {
  if (!(cfg.durationNs > 0) || !(cfg.sampleNs > 0)) throw new CmsError('durationNs and sampleNs must be > 0');
  return new Sim(cfg).run();
}
