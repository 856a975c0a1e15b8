import { describe, expect, it } from 'vitest';
import { EntropySelector } from '../../lib/cms/entropy.js';
import { CmsError } from '../../lib/cms/errors.js';
import { Xorshift32 } from '../../lib/cms/prng.js';

const take = (s: EntropySelector, n: number): number[] => Array.from({ length: n }, () => s.next());

describe('xorshift32', () => {
  it('is deterministic, seed-dependent and never stuck at zero', () => {
    const a = new Xorshift32(7);
    const b = new Xorshift32(7);
    const c = new Xorshift32(8);
    const xa = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 100 }, () => c.nextU32())).not.toEqual(xa);
    expect(xa.every((x) => x > 0 && x < 2 ** 32)).toBe(true);
    const z = new Xorshift32(0);
    expect(z.nextU32()).not.toBe(0);
  });
});

describe('entropy selection', () => {
  it('ECMP keeps one EV per connection', () => {
    const s = new EntropySelector({ mode: 'ecmp', seed: 3 });
    const evs = take(s, 50);
    expect(new Set(evs).size).toBe(1);
    s.onAck(evs[0]!, true);
    s.onNack(evs[0]!);
    expect(s.next()).toBe(evs[0]);
  });

  it('oblivious spraying visits every path once per round in a fresh order, upper bits constant', () => {
    const s = new EntropySelector({ mode: 'oblivious', seed: 11, paths: 8 });
    const rounds = [take(s, 8), take(s, 8), take(s, 8), take(s, 8)];
    const hi = rounds[0]![0]! & ~7;
    for (const r of rounds) {
      expect(new Set(r.map((e) => e & 7)).size).toBe(8);
      expect(r.every((e) => (e & ~7) === hi)).toBe(true);
    }
    expect(new Set(rounds.map((r) => r.join(','))).size).toBeGreaterThan(1);
  });

  it('bitmap skips penalised paths and decays the first penalty it skips', () => {
    const s = new EntropySelector({ mode: 'bitmap', seed: 5, paths: 4 });
    const ev = take(s, 4);
    const bad = ev[0]!;
    s.onNack(bad); // +4
    s.onAck(bad, true); // +1
    expect(s.snapshot().penalties![bad & 3]).toBe(5);
    const next = take(s, 12);
    expect(next.filter((e) => e === bad).length).toBe(0);
    // Each round of 4 skips it once and decrements: 5 -> 2 after three rounds.
    expect(s.snapshot().penalties![bad & 3]).toBeLessThan(5);
    s.onTimeout(ev[1]!);
    expect(s.snapshot().penalties![ev[1]! & 3]).toBe(15);
    for (let i = 0; i < 4; i++) s.onTimeout(i | (ev[0]! & ~3));
    expect(typeof s.next()).toBe('number'); // all penalised: still yields an EV
  });

  it('REPS recycles EVs of unmarked ACKs in order and explores when the cache is empty', () => {
    const s = new EntropySelector({ mode: 'reps', seed: 9, repsBufferSize: 4 });
    const first = take(s, 6);
    s.onAck(first[0]!, false);
    s.onAck(first[1]!, true); // marked: not recycled
    s.onAck(first[2]!, false);
    expect(s.snapshot().cached).toBe(2);
    expect(s.next()).toBe(first[0]);
    expect(s.next()).toBe(first[2]);
    expect(s.snapshot().cached).toBe(0);
    // Ring overwrites the oldest entry when full.
    for (const e of [1, 2, 3, 4, 5]) s.onAck(e, false);
    expect(take(s, 4)).toEqual([2, 3, 4, 5]);
  });

  it('REPS freezes on a timeout: reuses recent good EVs (even consumed ones), accepts none, then explores', () => {
    const s = new EntropySelector({ mode: 'reps', seed: 9, repsBufferSize: 4, freezePackets: 6, exploreCount: 3 });
    for (const e of [10, 20, 30]) s.onAck(e, false);
    expect(s.next()).toBe(10); // consumed, but still remembered as good
    s.onTimeout(99);
    expect(s.snapshot().frozen).toBe(true);
    s.onAck(40, false); // ignored while frozen
    expect(take(s, 6)).toEqual([30, 20, 10, 30, 20, 10]);
    const explore = take(s, 3);
    expect(s.snapshot().frozen).toBe(false);
    expect(explore.some((e) => e === 40)).toBe(false);
    expect(take(s, 2)).toEqual([20, 30]); // fresh entries survive the freeze
  });

  it('is deterministic given a seed and rejects bad configuration', () => {
    for (const mode of ['ecmp', 'oblivious', 'bitmap', 'reps'] as const) {
      const a = take(new EntropySelector({ mode, seed: 77 }), 40);
      expect(take(new EntropySelector({ mode, seed: 77 }), 40)).toEqual(a);
      expect(a.every((e) => Number.isInteger(e) && e >= 0 && e <= 0xffff)).toBe(true);
    }
    expect(() => new EntropySelector({ mode: 'ecmp', seed: 1, paths: 6 })).toThrow(CmsError);
    expect(() => new EntropySelector({ mode: 'nope' as never, seed: 1 })).toThrow(CmsError);
    expect(() => new EntropySelector({ mode: 'reps', seed: 1, repsBufferSize: 0 })).toThrow(CmsError);
    expect(() => new EntropySelector({ mode: 'reps', seed: 1 }).onAck(70_000, false)).toThrow(CmsError);
  });
});
