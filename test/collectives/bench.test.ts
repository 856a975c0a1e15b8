// The collective benchmark: nccl-tests formulas and table, and a short real run.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bandwidth, busFactor, compareTable, parseConfigs, parseSize, sizeList, tableRow } from '../../bench/collectives/format.js';
import { parseArgs } from '../../bench/collectives/run.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = `${root}dist/bench/collectives/run.js`;

describe('nccl-tests conventions', () => {
  it('bus bandwidth factors', () => {
    expect(busFactor('allreduce', 4)).toBe(1.5);
    expect(busFactor('allreduce', 2)).toBe(1);
    expect(busFactor('reducescatter', 4)).toBe(0.75);
    expect(busFactor('allgather', 5)).toBe(0.8);
    expect(busFactor('alltoall', 3)).toBeCloseTo(2 / 3, 12);
    expect(busFactor('broadcast', 8)).toBe(1);
    expect(busFactor('reduce', 8)).toBe(1);
    // 1 GB in 1 s on 4 ranks: algbw 1 GB/s, allreduce busbw 1.5 GB/s.
    expect(bandwidth('allreduce', 4, 1e9, 1e6)).toEqual({ algbw: 1, busbw: 1.5 });
  });

  it('sizes and flags', () => {
    expect(parseSize('64M')).toBe(64 * 1024 * 1024);
    expect(parseSize('8')).toBe(8);
    expect(parseSize('1.5K')).toBe(1536);
    expect(() => parseSize('lots')).toThrow(/not a size/);
    expect(sizeList(8, 64, 2, 4)).toEqual([8, 16, 32, 64]);
    // Sizes are rounded down to whole elements per rank; those that round to 0 are skipped.
    expect(sizeList(8, 100, 4, 12)).toEqual([24]);
    expect(sizeList(8, 1024, 8, 4)).toEqual([8, 64, 512]);
    const o = parseArgs(['--op', 'all', '-b', '1K', '-e', '1M', '-f', '4', '-n', '3', '--transport', 'socket']);
    expect(o.colls).toEqual(['allreduce', 'reducescatter', 'allgather', 'alltoall', 'broadcast', 'reduce']);
    expect([o.minBytes, o.maxBytes, o.factor, o.ranks, o.transport]).toEqual([1024, 1 << 20, 4, 3, 'socket']);
    expect(parseArgs([]).transport).toBe('fabric');
    expect(() => parseArgs(['--op', 'gather'])).toThrow(/--op must be one of/);
    expect(parseArgs([]).warmupSeconds).toBe(0.2);
    expect(parseArgs(['-W', '0']).warmupSeconds).toBe(0);
    expect(() => parseArgs(['-W', 'long'])).toThrow(/-W takes seconds/);
    expect(() => parseArgs(['-r', '4', '-n', '4'])).toThrow(/not a rank/);
  });

  it('rows have the nccl-tests columns', () => {
    const res = { timeUs: 1234.4, algbw: 0.85, busbw: 1.27, wrong: 0 };
    const row = tableRow({ size: 1048576, count: 262144, type: 'float', redop: 'sum', root: -1, outOfPlace: res, inPlace: res });
    expect(row.trim().split(/\s+/)).toEqual(['1048576', '262144', 'float', 'sum', '-1', '1234', '0.85', '1.27', '0', '1234', '0.85', '1.27', '0']);
  });
});

describe('the comparison with MPI (compare.js)', () => {
  const mpi = [{ size: 1 << 20, busbw: 1.0, timeUs: 1500, wrong: 0 }, { size: 4 << 20, busbw: 2.0, timeUs: 3000, wrong: 0 }];

  it('one Node configuration keeps the node/mpi columns', () => {
    const lines = compareTable(mpi, [{ label: 'node', points: [{ size: 1 << 20, busbw: 1.2, timeUs: 1250, wrong: 0 }, { size: 4 << 20, busbw: 1.0, timeUs: 6000, wrong: 0 }] }]);
    expect(lines[0]!.trim().split(/\s{2,}/)).toEqual(['#', 'size', 'mpi time(us)', 'mpi busbw', 'node time(us)', 'node busbw', 'node/mpi', '#wrong']);
    expect(lines[1]!.trim().split(/\s+/)).toEqual(['1048576', '1500.0', '1.000', '1250.0', '1.200', '1.20', '0']);
    expect(lines[2]!.trim().split(/\s+/)).toEqual(['4194304', '3000.0', '2.000', '6000.0', '1.000', '0.50', '0']);
    // geometric mean of 1.2 and 0.5
    expect(lines[3]).toBe(`# at >= 1 MiB: node busbw >= mpi busbw at 1 of 2 sizes; geometric mean of node/mpi ${Math.sqrt(0.6).toFixed(2)}`);
    expect(lines).toHaveLength(4);
  });

  it('several configurations get a column group and a summary each; wrong results add up', () => {
    const a = { label: 'softuet', points: [{ size: 1 << 20, busbw: 0.5, timeUs: 3000, wrong: 0 }] };
    const b = { label: 'softuet+tcp;ofi_rxm', points: [{ size: 1 << 20, busbw: 2.0, timeUs: 750, wrong: 2 }, { size: 8, busbw: 0.1, timeUs: 10, wrong: 0 }] };
    const lines = compareTable(mpi, [a, b]);
    expect(lines[0]).toContain('softuet time(us)');
    expect(lines[0]).toContain('softuet+tcp;ofi_rxm time(us)');
    // 8 B has no MPI figure and 4 MiB no Node one: only 1 MiB is a row
    expect(lines[1]!.trim().split(/\s+/)).toEqual(['1048576', '1500.0', '1.000', '3000.0', '0.500', '0.50', '750.0', '2.000', '2.00', '2']);
    expect(lines[2]).toBe('# at >= 1 MiB: softuet busbw >= mpi busbw at 0 of 1 sizes; geometric mean of softuet/mpi 0.50');
    expect(lines[3]).toBe('# at >= 1 MiB: softuet+tcp;ofi_rxm busbw >= mpi busbw at 1 of 1 sizes; geometric mean of softuet+tcp;ofi_rxm/mpi 2.00');
    expect(lines[0]).toContain('softuet+tcp;ofi_rxm/mpi');
  });

  it('--providers takes PROVIDER or PROVIDER+BULK_PROVIDER', () => {
    expect(parseConfigs('softuet, tcp;ofi_rxm,softuet+tcp;ofi_rxm')).toEqual([
      { label: 'softuet', provider: 'softuet', bulk: 'none' },
      { label: 'tcp;ofi_rxm', provider: 'tcp;ofi_rxm', bulk: 'none' },
      { label: 'softuet+tcp;ofi_rxm', provider: 'softuet', bulk: 'tcp;ofi_rxm' },
    ]);
    expect(() => parseConfigs('a+b+c')).toThrow(/not PROVIDER or PROVIDER\+BULK_PROVIDER/);
    expect(() => parseConfigs('softuet+')).toThrow(/not PROVIDER/);
    expect(() => parseConfigs(' , ')).toThrow(/at least one provider/);
  });
});

/** Runs a Node program to its end (killed after 50 s) and returns its exit code and output. */
async function runNode(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearTimeout(timer);
  return { code, out, err };
}

describe('benchmark run', () => {
  it('every collective on 3 ranks over TCP sockets, all results checked', async () => {
    expect(existsSync(run), 'dist/ is missing: run `npx tsc -p tsconfig.json` (scripts/setup does)').toBe(true);
    const { code, out, err } = await runNode([run, '-n', '3', '--op', 'all', '-b', '8', '-e', '256K', '-f', '32',
      '--transport', 'socket', '-w', '1', '-W', '0.02', '--iters', '2']);
    expect(code, err).toBe(0);
    expect(err).toMatch(/# \[\d+\/\d+\] allreduce/);           // progress lines
    for (const c of ['allreduce', 'reducescatter', 'allgather', 'alltoall', 'broadcast', 'reduce']) {
      expect(out).toContain(`# node-libfabric collectives benchmark: ${c}`);
    }
    expect(out).toMatch(/provider none \(TCP sockets, no libfabric\) \| progress n\/a \| libfabric n\/a/);
    const rows = out.split('\n').filter((l) => /^\s+\d/.test(l)).map((l) => l.trim().split(/\s+/));
    // 8 B .. 256 KiB by 32: four sizes, three for the per-rank-block collectives (8 B < 3 floats).
    expect(rows.length).toBe(3 * 4 + 3 * 3);
    for (const r of rows) {
      expect(r).toHaveLength(13);
      expect(r[8]).toBe('0');
      expect(r[12]).toBe('0');
      const [size, , , , , time, algbw] = r.map(Number);
      expect(algbw).toBeCloseTo(size! / (time! * 1e3), 1);
    }
    expect(out.match(/Out of bounds values : 0 OK/g)).toHaveLength(6);
  });

  const timeline = `${root}dist/bench/collectives/timeline.js`;
  const softuetBuilt = existsSync(`${root}build/Release/node_libfabric.node`) && existsSync(`${root}build/native/prov/libsoftuet-fi.so`);
  it.runIf(softuetBuilt)('the timeline of 2 ranks over softuet: phases, slow iterations and one event list per rank', async () => {
    const { code, out, err } = await runNode([timeline, '-n', '2', '-s', '1M', '--iters', '40']);
    expect(code, err).toBe(0);
    expect(out).toMatch(/# allreduce 1048576 B float sum out of place, 2 ranks over fabric:softuet/);
    const block = (header: RegExp, rows = 2) => {
      const lines = out.split('\n');
      const at = lines.findIndex((l) => header.test(l));
      expect(at, out).toBeGreaterThanOrEqual(0);
      return lines.slice(at + 1, at + 1 + rows).map((l) => l.trim().split(/\s+/));
    };
    for (const r of block(/^# rank\s+total\s+posts/)) {
      expect(r).toHaveLength(7);
      expect(r.slice(1).every((x) => Number(x) >= 0)).toBe(true);
    }
    const parts = block(/^# rank\s+iters\s+count\s+share/, 4);
    for (const [i, r] of parts.entries()) {
      expect(r).toHaveLength(11);
      expect(Number(r[0])).toBe(i >> 1);
      expect(r[1]).toBe(i % 2 ? 'slow' : 'all');
      const [count, share] = [Number(r[2]), Number(r[3]!.replace('%', ''))];
      expect(count).toBeLessThanOrEqual(40);
      if (r[1] === 'all') expect([count, share]).toEqual([40, 100]);
      expect(share).toBeGreaterThanOrEqual(0);
      expect(r.slice(4).every((x) => Number.isFinite(Number(x)) && Number(x) >= 0)).toBe(true);
    }
    // Every iteration kept the JS thread on a CPU for some of its time.
    expect(Number(parts[0]![5])).toBeGreaterThan(0);
    // Each rank's median iteration: its two ring writes posted and the peer's two landed.
    for (const rank of [0, 1]) {
      const list = out.split(`# rank ${rank}, the median iteration:`)[1]!.split('# rank')[0]!;
      expect(list.match(/post 512K to \d \(tag \d\)/g)).toHaveLength(2);
      expect(list.match(/landed from \d tag \d/g)).toHaveLength(2);
    }
  }, 60_000);
});
