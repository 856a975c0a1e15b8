// The pure core of bench/p2p: sizes, units, row figures and ratios.
import { describe, expect, it } from 'vitest';
import {
  compare, compareRounds, floorRatios, formatFloor, formatRatioTable, formatRun, formatUdp, human, lowerLatency, makeRow,
  medianOfRounds, parseSize, parseSizes, patternByte, type LatencyRow, type Run, type UdpRow,
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

describe('the ping-pong floor', () => {
  const floorRow = (mode: string, dgram: number, usec: number, check: LatencyRow['check'] = 'ok'): LatencyRow => ({
    mode, dgram, iters: 1000, time: (usec * 2 * 1000) / 1e6, usec_per_xfer: usec, mb_per_sec: 1, check,
  });
  // one-way latency `usec` at each size: iters 100, two transfers per iteration
  const pp = (impl: Run['impl'], provider: string, rows: Array<[number, number]>): Run => ({
    impl, provider, op: 'pingpong', pairs: 1, window: 1,
    rows: rows.map(([bytes, usec]) => makeRow('pingpong', bytes, 100, 1, (usec * 200) / 1e6, true)),
  });

  it('keeps the lower latency of before and after, and any mismatch', () => {
    const before = [floorRow('pingpong', 8, 10), floorRow('pingpong', 4096, 12), floorRow('pingpong-tcp', 8, 14)];
    const after = [floorRow('pingpong', 8, 11), floorRow('pingpong', 4096, 9, 'mismatch'), floorRow('pingpong', 65000, 40)];
    const m = lowerLatency(before, after);
    expect(m.map((r) => `${r.mode}/${r.dgram}=${r.usec_per_xfer}/${r.check}`)).toEqual(
      ['pingpong/8=10/ok', 'pingpong/4096=9/mismatch', 'pingpong-tcp/8=14/ok', 'pingpong/65000=40/ok']);
    expect(lowerLatency([], after)).toEqual(after);
  });

  it('sets each run against the floor of its size: ratio and difference in microseconds', () => {
    const floor = [floorRow('pingpong', 8, 10.3), floorRow('pingpong-tcp', 8, 12.5), floorRow('pingpong', 4096, 11)];
    const runs = [pp('native', 'softuet', [[8, 14.4], [4096, 22], [1 << 20, 900]]), pp('node', 'softuet', [[8, 30.9]])];
    const r = floorRatios(runs, floor);
    // 1 MiB has no floor (more than one datagram), so no row
    expect(r.map((x) => `${x.impl}/${x.bytes}`)).toEqual(['native/8', 'native/4096', 'node/8']);
    expect(r[0].usec).toBeCloseTo(14.4);
    expect(r[0].floors.map((f) => f.mode)).toEqual(['pingpong', 'pingpong-tcp']);
    expect(r[0].floors[0].ratio).toBeCloseTo(14.4 / 10.3);
    expect(r[0].floors[0].diffUsec).toBeCloseTo(4.1);
    expect(r[2].floors[0].ratio).toBeCloseTo(3);
    const table = formatFloor(runs, floor);
    expect(table).toMatch(/^8 +floor \(bare sockets\) +10\.30 +12\.50$/m);
    expect(table).toMatch(/^ +softuet native +14\.40 +1\.40x \(\+4\.1 us\) +1\.15x \(\+1\.9 us\)$/m);
    expect(table).toMatch(/^ +softuet node +30\.90 +3\.00x \(\+20\.6 us\) +2\.47x \(\+18\.4 us\)$/m);
    // at 4k there is no TCP floor
    expect(table).toMatch(/^ +softuet native +22\.00 +2\.00x \(\+11\.0 us\) +-$/m);
    expect(table).not.toContain('1m');
  });

  it('leaves out failed runs, other ops and mismatched floor rows', () => {
    const floor = [floorRow('pingpong', 8, 10, 'mismatch')];
    const runs = [pp('native', 'softuet', [[8, 14]]), { ...pp('native', 'net', [[8, 14]]), error: 'boom' }];
    expect(floorRatios(runs, floor)).toEqual([]);
    expect(formatFloor(runs, floor)).toContain('nothing to compare');
    const write: Run = { ...pp('native', 'softuet', [[8, 14]]), op: 'write' };
    expect(floorRatios([write], [floorRow('pingpong', 8, 10)])).toEqual([]);
  });

  it('prints the floor in the loopback limit section, with or without the bandwidth rows', () => {
    const floor = [floorRow('pingpong', 8, 10.25), floorRow('pingpong-tcp', 4096, 13, 'mismatch')];
    const only = formatUdp([], floor);
    expect(only).not.toContain('tx MB/sec');
    expect(only).toMatch(/^pingpong +8 +1k +10\.25 +ok$/m);
    expect(only).toMatch(/^pingpong-tcp +4k +1k +13\.00 +mismatch$/m);
    const bw: UdpRow = { mode: 'gso', dgram: 65000, message: 1 << 20, tx_mb_per_sec: 5000, mb_per_sec: 4000, loss: 0, check: 'ok' };
    const both = formatUdp([bw], floor);
    expect(both.indexOf('tx MB/sec')).toBeLessThan(both.indexOf('ping-pong floor'));
    expect(formatUdp([bw])).not.toContain('ping-pong floor');
  });
});
