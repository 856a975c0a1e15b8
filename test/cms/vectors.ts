/**
 * Builds the CMS cross-check traces (test/vectors/cms-*.json) from the TypeScript reference.
 * Shared by gen-vectors.ts (writes the files) and vectors.test.ts (replays them).
 */
import { EntropySelector, type EntropyMode } from '../../lib/cms/entropy.js';
import { Nscc, type NsccConfig } from '../../lib/cms/nscc.js';
import { Xorshift32 } from '../../lib/cms/prng.js';
import { RcccReceiver, RcccSender } from '../../lib/cms/rccc.js';

export const TOLERANCE = { relative: 1e-9, absolute: 1e-6 };

export interface NsccVecEvent {
  kind: 'ack' | 'nack' | 'timeout' | 'tick';
  now_ns: number;
  bytes?: number;
  rtt_ns?: number;
  ecn?: boolean;
  last_hop?: boolean;
  in_flight?: number;
  expect: { cwnd: number; action: string; base_rtt_ns: number; avg_delay_ns: number; can_send_mtu: boolean };
}

export interface NsccVecConfig {
  link_rate_gbps: number;
  base_rtt_ns: number;
  mtu: number;
  target_qdelay_ns: number;
  trimming: boolean;
  rccc_active: boolean;
}

export interface NsccTrace {
  name: string;
  config: NsccVecConfig;
  params: Record<string, number>;
  events: NsccVecEvent[];
}

export function nsccFromVec(c: NsccVecConfig): Nscc {
  const cfg: NsccConfig = {
    linkRateGbps: c.link_rate_gbps,
    baseRttNs: c.base_rtt_ns,
    mtu: c.mtu,
    trimming: c.trimming,
    rcccActive: c.rccc_active,
  };
  if (c.target_qdelay_ns > 0) cfg.targetQdelayNs = c.target_qdelay_ns;
  return new Nscc(cfg);
}

export function applyNscc(cc: Nscc, e: Omit<NsccVecEvent, 'expect'>): string {
  switch (e.kind) {
    case 'ack':
      return cc.onAck(e.bytes!, e.rtt_ns!, e.ecn!, e.now_ns, e.in_flight ?? 0);
    case 'nack':
      return cc.onNack(e.bytes!, e.now_ns, e.last_hop ?? false, e.in_flight ?? 0);
    case 'timeout':
      return cc.onTimeout(e.bytes!, e.now_ns, e.in_flight ?? 0);
    case 'tick':
      return cc.onTick(e.now_ns);
  }
}

function nsccTrace(name: string, config: NsccVecConfig, script: (push: (e: Omit<NsccVecEvent, 'expect'>) => void, cc: Nscc) => void): NsccTrace {
  const cc = nsccFromVec(config);
  const p = { ...cc.params };
  const events: NsccVecEvent[] = [];
  script((e) => {
    const action = applyNscc(cc, e);
    const s = cc.snapshot();
    events.push({
      ...e,
      expect: { cwnd: s.cwnd, action, base_rtt_ns: s.baseRttNs, avg_delay_ns: s.avgDelayNs, can_send_mtu: cc.canSend(e.in_flight ?? 0, config.mtu) },
    });
  }, cc);
  return {
    name,
    config,
    params: {
      bdp: p.bdp,
      target_qdelay_ns: p.targetQdelayNs,
      alpha: p.alpha,
      fi: p.fi,
      eta: p.eta,
      fi_scale: p.fiScale,
      qa_threshold_ns: p.qaThresholdNs,
      adjust_bytes: p.adjustBytes,
      maxwnd: p.maxwnd,
      min_cwnd: p.minCwnd,
    },
    events,
  };
}

const BASE: NsccVecConfig = { link_rate_gbps: 100, base_rtt_ns: 12000, mtu: 4096, target_qdelay_ns: 0, trimming: false, rccc_active: false };

export function buildNsccTraces(): NsccTrace[] {
  const traces: NsccTrace[] = [];
  // Every quadrant in turn, at a pace that also crosses adjust periods.
  traces.push(
    nsccTrace('quadrants', BASE, (push) => {
      let t = 20_000;
      const rtt = BASE.base_rtt_ns;
      // warm the delay average above target so MD can fire
      for (let i = 0; i < 40; i++) push({ kind: 'ack', now_ns: (t += 500), bytes: 4096, rtt_ns: rtt + 40_000, ecn: true, in_flight: 100_000 });
      for (let i = 0; i < 10; i++) push({ kind: 'ack', now_ns: (t += 700), bytes: 4096, rtt_ns: rtt + 15_000, ecn: false, in_flight: 90_000 });
      for (let i = 0; i < 10; i++) push({ kind: 'ack', now_ns: (t += 700), bytes: 4096, rtt_ns: rtt + 3_000, ecn: false, in_flight: 90_000 });
      for (let i = 0; i < 10; i++) push({ kind: 'ack', now_ns: (t += 700), bytes: 4096, rtt_ns: rtt + 3_000, ecn: true, in_flight: 90_000 });
      for (let i = 0; i < 30; i++) push({ kind: 'ack', now_ns: (t += 900), bytes: 4096, rtt_ns: rtt + 20_000, ecn: true, in_flight: 90_000 });
      push({ kind: 'tick', now_ns: (t += 30_000) });
      for (let i = 0; i < 80; i++) push({ kind: 'ack', now_ns: (t += 300), bytes: 4096, rtt_ns: rtt + 200, ecn: false, in_flight: 40_000 });
      push({ kind: 'ack', now_ns: (t += 300), bytes: 4096, rtt_ns: rtt - 2000, ecn: false, in_flight: 40_000 });
    }),
  );
  // Incast-like collapse: deep delay and NACKs, quick adapt, then ignored bytes.
  traces.push(
    nsccTrace('quick_adapt', { ...BASE, trimming: true }, (push) => {
      let t = 0;
      const rtt = BASE.base_rtt_ns;
      for (let i = 0; i < 6; i++) push({ kind: 'ack', now_ns: (t += 4000), bytes: 4096, rtt_ns: rtt + 60_000, ecn: true, in_flight: 160_000 });
      push({ kind: 'nack', now_ns: (t += 1000), bytes: 4096, in_flight: 150_000 });
      push({ kind: 'ack', now_ns: (t += 1000), bytes: 4096, rtt_ns: rtt + 60_000, ecn: true, in_flight: 140_000 });
      for (let i = 0; i < 40; i++) push({ kind: 'ack', now_ns: (t += 800), bytes: 4096, rtt_ns: rtt + 30_000, ecn: i % 2 === 0, in_flight: 30_000 });
      push({ kind: 'timeout', now_ns: (t += 50_000), bytes: 4096, in_flight: 8192 });
      push({ kind: 'nack', now_ns: (t += 100), bytes: 4096, in_flight: 4096 });
    }),
  );
  traces.push(
    nsccTrace('rccc_last_hop_trim', { ...BASE, trimming: true, rccc_active: true, link_rate_gbps: 400, base_rtt_ns: 6000 }, (push) => {
      let t = 0;
      push({ kind: 'nack', now_ns: (t += 100), bytes: 4096, last_hop: true, in_flight: 10_000 });
      push({ kind: 'nack', now_ns: (t += 100), bytes: 4096, last_hop: false, in_flight: 10_000 });
      for (let i = 0; i < 20; i++) push({ kind: 'ack', now_ns: (t += 400), bytes: 4096, rtt_ns: 6500, ecn: false, in_flight: 20_000 });
    }),
  );
  // Seeded random mix of every event type and branch.
  for (const seed of [1, 2, 3]) {
    const cfg: NsccVecConfig = { ...BASE, link_rate_gbps: [100, 200, 400][seed - 1]!, base_rtt_ns: [12000, 8000, 5000][seed - 1]!, trimming: seed === 2, target_qdelay_ns: seed === 3 ? 4000 : 0 };
    traces.push(
      nsccTrace(`random_${seed}`, cfg, (push) => {
        const r = new Xorshift32(seed * 1000 + 7);
        let t = 0;
        let inFlight = 50_000;
        for (let i = 0; i < 400; i++) {
          t += 50 + r.below(3000);
          const k = r.below(100);
          inFlight = r.below(24_000);
          if (k < 85) {
            const rtt = cfg.base_rtt_ns * 0.9 + r.below(Math.round(cfg.base_rtt_ns * 6));
            push({ kind: 'ack', now_ns: t, bytes: 256 + r.below(3841), rtt_ns: rtt, ecn: r.below(3) === 0, in_flight: inFlight });
          } else if (k < 92) {
            push({ kind: 'nack', now_ns: t, bytes: 4096, last_hop: r.below(2) === 0, in_flight: inFlight });
          } else if (k < 95) {
            push({ kind: 'timeout', now_ns: t, bytes: 4096, in_flight: inFlight });
          } else {
            push({ kind: 'tick', now_ns: t });
          }
        }
      }),
    );
  }
  return traces;
}

// ---- RCCC ----

export type RcccVecStep =
  | { side: 'sender'; op: 'enqueue' | 'send' | 'grant' | 'idle'; bytes: number; expect: { credit: number; backlog: number; speculating: boolean; spec_remaining: number; credit_target: number; can_send_mtu: boolean; speculative?: boolean } }
  | { side: 'receiver'; op: 'request'; sender: number; credit_target: number; now_ns: number; expect: { demand: number; next_wake_ns: number } }
  | { side: 'receiver'; op: 'data'; sender: number; bytes: number; speculative: boolean; now_ns: number; expect: { next_wake_ns: number } }
  | { side: 'receiver'; op: 'poll'; now_ns: number; expect: { grants: [number, number][]; next_wake_ns: number } };

export interface RcccTrace {
  name: string;
  config: { mtu: number; speculative_bytes: number; link_rate_gbps: number; pull_quantum: number };
  steps: RcccVecStep[];
}

function senderExpect(s: RcccSender, mtu: number) {
  return { credit: s.credit, backlog: s.backlog, speculating: s.speculating, spec_remaining: s.specRemaining, credit_target: s.creditTarget(), can_send_mtu: s.canSend(mtu) };
}

export function buildRcccTraces(): RcccTrace[] {
  const out: RcccTrace[] = [];
  {
    const config = { mtu: 4096, speculative_bytes: 3 * 4096, link_rate_gbps: 100, pull_quantum: 0 };
    const s = new RcccSender({ mtu: config.mtu, speculativeBytes: config.speculative_bytes });
    const steps: RcccVecStep[] = [];
    const op = (o: 'enqueue' | 'send' | 'grant' | 'idle', bytes: number): void => {
      let speculative: boolean | undefined;
      if (o === 'enqueue') s.enqueue(bytes);
      else if (o === 'grant') s.onGrant(bytes);
      else if (o === 'idle') s.idle();
      else speculative = s.onSend(bytes);
      steps.push({ side: 'sender', op: o, bytes, expect: { ...senderExpect(s, config.mtu), ...(speculative !== undefined ? { speculative } : {}) } });
    };
    op('enqueue', 10 * 4096);
    op('send', 4096);
    op('send', 4096);
    op('send', 4096);
    op('grant', 8192);
    op('send', 4096);
    op('send', 4096);
    op('enqueue', 1000);
    op('grant', 16384);
    op('send', 4096);
    op('send', 1000);
    op('grant', 4096);
    op('send', 4096);
    // Quiet with backlog left: no change. Drained: the next burst speculates again.
    op('idle', 0);
    op('grant', 12288);
    op('send', 4096);
    op('send', 4096);
    op('send', 4096);
    op('idle', 0);
    op('enqueue', 5 * 4096);
    op('send', 4096);
    op('send', 4096);
    op('send', 4096);
    op('grant', 8192);
    op('send', 4096);
    op('send', 4096);
    out.push({ name: 'sender_speculation_then_credit', config, steps });
  }
  {
    const config = { mtu: 4096, speculative_bytes: 0, link_rate_gbps: 100, pull_quantum: 0 };
    const r = new RcccReceiver({ linkRateGbps: config.link_rate_gbps, mtu: config.mtu });
    const steps: RcccVecStep[] = [];
    const wake = (): number => r.nextWakeNs() ?? -1;
    const rng = new Xorshift32(42);
    const targets = [0, 0, 0, 0];
    let t = 1000;
    for (let i = 0; i < 200; i++) {
      t += rng.below(2000);
      const k = rng.below(10);
      const sender = rng.below(4);
      if (k < 4) {
        targets[sender]! += rng.below(5) * 4096 + rng.below(4096);
        r.onRequest(sender, targets[sender]!, t);
        steps.push({ side: 'receiver', op: 'request', sender, credit_target: targets[sender]!, now_ns: t, expect: { demand: r.demand(sender), next_wake_ns: wake() } });
      } else if (k < 6) {
        const bytes = 4096;
        const speculative = rng.below(2) === 0;
        r.onData(sender, bytes, speculative, t);
        steps.push({ side: 'receiver', op: 'data', sender, bytes, speculative, now_ns: t, expect: { next_wake_ns: wake() } });
      } else {
        const g = r.poll(t).map((x) => [x.sender, x.bytes] as [number, number]);
        steps.push({ side: 'receiver', op: 'poll', now_ns: t, expect: { grants: g, next_wake_ns: wake() } });
      }
    }
    out.push({ name: 'receiver_pacing_four_senders', config, steps });
  }
  return out;
}

// ---- entropy ----

export type EntropyVecStep =
  | { op: 'next'; expect: { ev: number } }
  | { op: 'ack'; ev: number; ecn: boolean }
  | { op: 'nack'; ev: number }
  | { op: 'timeout'; ev: number };

export interface EntropyTrace {
  name: string;
  config: { mode: EntropyMode; seed: number; paths: number; max_penalty: number; reps_buffer_size: number; freeze_packets: number; explore_count: number };
  steps: EntropyVecStep[];
  final: { penalties?: number[]; cached?: number; frozen?: boolean };
}

export function buildEntropyTraces(): EntropyTrace[] {
  const out: EntropyTrace[] = [];
  const modes: EntropyMode[] = ['ecmp', 'oblivious', 'bitmap', 'reps'];
  for (const mode of modes) {
    for (const [seed, paths] of [
      [1, 8],
      [99, 4],
      [0x7fffffff, 16],
    ] as const) {
      const config = { mode, seed, paths, max_penalty: 15, reps_buffer_size: 8, freeze_packets: 24, explore_count: 16 };
      const sel = new EntropySelector({
        mode,
        seed,
        paths,
        maxPenalty: config.max_penalty,
        repsBufferSize: config.reps_buffer_size,
        freezePackets: config.freeze_packets,
        exploreCount: config.explore_count,
      });
      const fb = new Xorshift32(seed + 5);
      const steps: EntropyVecStep[] = [];
      const sent: number[] = [];
      for (let i = 0; i < 300; i++) {
        const k = fb.below(10);
        if (k < 5 || sent.length === 0) {
          const ev = sel.next();
          sent.push(ev);
          steps.push({ op: 'next', expect: { ev } });
        } else {
          const ev = sent.shift()!;
          // One "bad" path: EVs whose low bits are 1 get marks and NACKs.
          const bad = (ev & (paths - 1)) === 1;
          if (k < 8 || !bad) {
            const ecn = bad || fb.below(8) === 0;
            sel.onAck(ev, ecn);
            steps.push({ op: 'ack', ev, ecn });
          } else if (i === 150 || fb.below(6) === 0) {
            sel.onTimeout(ev);
            steps.push({ op: 'timeout', ev });
          } else {
            sel.onNack(ev);
            steps.push({ op: 'nack', ev });
          }
        }
      }
      const snap = sel.snapshot();
      const final: EntropyTrace['final'] = {};
      if (snap.penalties) final.penalties = snap.penalties;
      if (snap.cached !== undefined) final.cached = snap.cached;
      if (snap.frozen !== undefined) final.frozen = snap.frozen;
      out.push({ name: `${mode}_seed${seed}_paths${paths}`, config, steps, final });
    }
  }
  return out;
}

const TOL_TEXT =
  `Doubles are compared with |a - b| <= ${TOLERANCE.absolute} + ${TOLERANCE.relative} x |b| ` +
  '(both sides use IEEE-754 double in the same operation order, so they normally agree exactly); ' +
  'actions, booleans, grants senders and EVs must match exactly.';

export function buildFiles(): Record<string, unknown> {
  return {
    'cms-nscc.json': {
      description:
        'NSCC event traces from lib/cms/nscc.ts (generator: test/cms/gen-vectors.ts). Each event is applied in order to an Nscc built from config ' +
        '(target_qdelay_ns 0 = derived); expect holds the state after it. params are the derived parameters. ' +
        TOL_TEXT,
      tolerance: TOLERANCE,
      traces: buildNsccTraces(),
    },
    'cms-rccc.json': {
      description:
        'RCCC traces from lib/cms/rccc.ts: sender steps (enqueue/send/grant) and receiver steps (request/data/poll with the grants issued, ' +
        '[sender, bytes]); pull_quantum 0 = 4 MTUs; next_wake_ns -1 = idle. ' +
        TOL_TEXT,
      tolerance: TOLERANCE,
      traces: buildRcccTraces(),
    },
    'cms-entropy.json': {
      description:
        'Entropy selection traces from lib/cms/entropy.ts: next steps expect the exact EV; ack/nack/timeout steps are feedback; final holds ' +
        'penalties (bitmap) or cache size and freeze state (reps) at the end. Seeds drive xorshift32 (lib/cms/prng.ts). ' +
        TOL_TEXT,
      tolerance: TOLERANCE,
      traces: buildEntropyTraces(),
    },
  };
}
