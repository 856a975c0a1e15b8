// The pure core of bench/p2p: sizes, units, row figures and ratios.
import { describe, expect, it } from 'vitest';
import {
  compare, compareRounds, formatRatioTable, formatRun, human, makeRow, medianOfRounds, parseSize, parseSizes, patternByte, type Run,
} from '../../bench/p2p/report.js';

describe('sizes and units', () => {
  it('parses single sizes, ranges and lists', () => {
    expect(parseSize('8')).toBe(8);
    expect(parseSize('4k')).toBe(4096);
    expect(parseSize('1MiB')).toBe(1 << 20);
    expect(parseSizes('all')).toHaveLength(20); // 8 B .. 4 MiB
    expect(parseSizes('all')[19]).toBe(4 << 20);
    expect(parseSizes('1k:8k')).toEqual([1024, 2048, 4096, 8192]);
    expect(parseSizes('8,64k,1m')).toEqual([8, 65536, 1 << 20]);
  });

  it('rejects what is not a size', () => {
    expect(() => parseSize('12q')).toThrow(/bad size/);
    expect(() => parseSize('0')).toThrow(/bad size/);
    expect(() => parseSizes('8k:1k')).toThrow(/bad size range/);
    expect(() => parseSizes(',')).toThrow(/no sizes/);
  });

  it('prints fabtests units', () => {
    expect(human(8)).toBe('8');
    expect(human(4096)).toBe('4k');
    expect(human(1536)).toBe('1.5k');
    expect(human(4 << 20)).toBe('4m');
    expect(human(45_400, 1000)).toBe('45.4k');
  });

  it('uses the byte pattern of fi_bench.c', () => {
    expect(patternByte(0, 8)).toBe((8 * 7 + 0x5a) & 0xff);
    expect(patternByte(3, 4096)).toBe((3 * 131 + 4096 * 7 + 0x5a) & 0xff);
  });
});

describe('rows and ratios', () => {
  it('derives bandwidth, latency and rate like fabtests', () => {
    const bw = makeRow('write', 1 << 20, 1000, 1, 0.5, true);
    expect(bw.total).toBe(1000 * (1 << 20));
    expect(bw.mb_per_sec).toBeCloseTo((1000 * (1 << 20)) / 0.5 / 1e6);
    expect(bw.usec_per_xfer).toBeCloseTo(500);
    // ping-pong: two transfers per iteration, latency one-way
    const pp = makeRow('pingpong', 8, 1000, 1, 0.02, false);
    expect(pp.total).toBe(16_000);
    expect(pp.usec_per_xfer).toBeCloseTo(10);
    expect(pp.check).toBe('mismatch');
  });

  const run = (impl: Run['impl'], op: Run['op'], rows: Array<[number, number]>): Run => ({
    impl, provider: 'tcp;ofi_rxm', op, pairs: 1, window: 64,
    rows: rows.map(([bytes, time]) => makeRow(op, bytes, 100, 1, time, true)),
  });

  it('compares bandwidth as a/b and latency as a/b with the difference', () => {
    const node = run('node', 'write', [[65536, 0.2], [1 << 20, 1.0]]);
    const native = run('native', 'write', [[65536, 0.1], [1 << 20, 1.0], [8, 0.1]]);
    expect(compare(node, native)).toEqual([
      { bytes: 65536, ratio: 0.5, diffUsec: expect.closeTo(1000, 6) },
      { bytes: 1 << 20, ratio: 1, diffUsec: 0 },
    ]);
    const a = run('node', 'pingpong', [[8, 0.004]]);
    const b = run('native', 'pingpong', [[8, 0.002]]);
    const [r] = compare(a, b);
    expect(r.ratio).toBeCloseTo(2);
    expect(r.diffUsec).toBeCloseTo(10);
    const table = formatRatioTable('t', [{ name: 'write', a: node, b: native }, { name: 'pingpong', a, b }]);
    expect(table).toContain('0.50');
    expect(table).toContain('2.00 (+10.0us)');
  });

  it('marks failed runs and mismatches in the tables', () => {
    const failed: Run = { ...run('native', 'send', []), error: 'boom' };
    expect(formatRun(failed)).toContain('failed: boom');
    const bad = run('native', 'send', [[8, 0.1]]);
    bad.rows[0].check = 'mismatch';
    expect(formatRun(bad)).toContain('DATA MISMATCH');
    expect(formatRatioTable('x', [{ name: 'send', a: failed, b: bad }])).toContain('nothing to compare');
  });

  it('takes the per-size median over rounds and keeps every mismatch and error', () => {
    const r1 = run('native', 'write', [[8, 0.3], [65536, 0.1]]);
    const r2 = run('native', 'write', [[8, 0.1], [65536, 0.5]]);
    const r3 = run('native', 'write', [[8, 0.2], [65536, 0.2]]);
    const m = medianOfRounds([r1, r2, r3]);
    expect(m.rows.map((row) => row.time)).toEqual([0.2, 0.2]);
    // an even count takes the slower of the middle two: the figure is never flattered
    expect(medianOfRounds([r1, r2]).rows.map((row) => row.time)).toEqual([0.3, 0.5]);
    r2.rows[1].check = 'mismatch';
    expect(medianOfRounds([r1, r2, r3]).rows[1].check).toBe('mismatch');
    expect(medianOfRounds([r1, { ...r3, error: 'boom' }]).error).toBe('boom');
    expect(() => medianOfRounds([])).toThrow(/no runs/);
  });

  it('compares runs round by round and reports the median of those ratios', () => {
    // Node and native ran back to back in each round; the host was fast in round 1.
    const node = [0.1, 0.2, 0.4].map((t) => run('node', 'write', [[65536, t]]));
    const native = [0.05, 0.4, 0.4].map((t) => run('native', 'write', [[65536, t]]));
    // per round 0.5, 2 and 1: median 1, where the ratio of the medians would say 2
    expect(compareRounds(node, native)).toEqual([{ bytes: 65536, ratio: 1, diffUsec: expect.closeTo(0, 6) }]);
    expect(compare(medianOfRounds(node), medianOfRounds(native))[0].ratio).toBeCloseTo(2);
    expect(formatRatioTable('t', [{ name: 'write', a: node, b: native }])).toContain('1.00');
    expect(formatRatioTable('t', [{ name: 'write', a: node, b: [native[0], { ...native[1], error: 'x' }] }]))
      .toContain('nothing to compare');
  });
});
