import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EntropySelector } from '../../lib/cms/entropy.js';
import { RcccReceiver, RcccSender } from '../../lib/cms/rccc.js';
import { applyNscc, buildFiles, nsccFromVec, type EntropyTrace, type NsccTrace, type RcccTrace } from './vectors.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');
const load = (name: string): { description: string; tolerance: { relative: number; absolute: number }; traces: unknown[] } =>
  JSON.parse(readFileSync(join(dir, name), 'utf8'));

function near(got: number, want: number, tol: { relative: number; absolute: number }): boolean {
  return Math.abs(got - want) <= tol.absolute + tol.relative * Math.abs(want);
}

describe('CMS cross-check vectors', () => {
  it('checked-in files match what the reference generates now', () => {
    for (const [name, doc] of Object.entries(buildFiles())) {
      expect(load(name), `${name} is stale: run npx vite-node test/cms/gen-vectors.ts`).toEqual(JSON.parse(JSON.stringify(doc)));
    }
  });

  it('NSCC traces replay through lib/cms/nscc', () => {
    const doc = load('cms-nscc.json');
    expect(doc.description).toMatch(/\|a - b\|/);
    let n = 0;
    for (const t of doc.traces as NsccTrace[]) {
      const cc = nsccFromVec(t.config);
      for (const e of t.events) {
        const action = applyNscc(cc, e);
        expect(action, `${t.name} event ${n}`).toBe(e.expect.action);
        expect(near(cc.cwnd, e.expect.cwnd, doc.tolerance), `${t.name} cwnd ${cc.cwnd} vs ${e.expect.cwnd}`).toBe(true);
        n++;
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('RCCC traces replay through lib/cms/rccc', () => {
    const doc = load('cms-rccc.json');
    for (const t of doc.traces as RcccTrace[]) {
      const s = new RcccSender({ mtu: t.config.mtu, speculativeBytes: t.config.speculative_bytes || t.config.mtu });
      const r = new RcccReceiver({ linkRateGbps: t.config.link_rate_gbps, mtu: t.config.mtu, ...(t.config.pull_quantum ? { pullQuantum: t.config.pull_quantum } : {}) });
      for (const st of t.steps) {
        if (st.side === 'sender') {
          if (st.op === 'enqueue') s.enqueue(st.bytes);
          else if (st.op === 'grant') s.onGrant(st.bytes);
          else if (st.op === 'idle') s.idle();
          else expect(s.onSend(st.bytes)).toBe(st.expect.speculative);
          expect(s.credit).toBe(st.expect.credit);
          expect(s.creditTarget()).toBe(st.expect.credit_target);
        } else if (st.op === 'request') {
          r.onRequest(st.sender, st.credit_target, st.now_ns);
          expect(r.demand(st.sender)).toBe(st.expect.demand);
        } else if (st.op === 'data') {
          r.onData(st.sender, st.bytes, st.speculative, st.now_ns);
        } else {
          expect(r.poll(st.now_ns).map((g) => [g.sender, g.bytes])).toEqual(st.expect.grants);
          expect(r.nextWakeNs() ?? -1).toBe(st.expect.next_wake_ns);
        }
      }
    }
  });

  it('entropy traces replay through lib/cms/entropy', () => {
    const doc = load('cms-entropy.json');
    expect(doc.traces.length).toBe(12);
    for (const t of doc.traces as EntropyTrace[]) {
      const c = t.config;
      const sel = new EntropySelector({ mode: c.mode, seed: c.seed, paths: c.paths, maxPenalty: c.max_penalty, repsBufferSize: c.reps_buffer_size, freezePackets: c.freeze_packets, exploreCount: c.explore_count });
      for (const st of t.steps) {
        if (st.op === 'next') expect(sel.next()).toBe(st.expect.ev);
        else if (st.op === 'ack') sel.onAck(st.ev, st.ecn);
        else if (st.op === 'nack') sel.onNack(st.ev);
        else sel.onTimeout(st.ev);
      }
      const s = sel.snapshot();
      if (t.final.penalties) expect(s.penalties).toEqual(t.final.penalties);
      if (t.final.cached !== undefined) expect(s.cached).toBe(t.final.cached);
    }
  });
});
