/**
 * CMS fabric benchmark: runs incast, spraying, failed-link and all-to-all scenarios in the
 * simulator, writes CSV + SVG per run to bench/out/cms/<run>/ and prints a summary table.
 *
 *   npm run bench:cms            (or: node dist/bench/cms/run.js [filter])
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultCsvs, throughputSeries, toCsv } from '../../lib/cms/sim/csv.js';
import { simulate, type SimConfig, type SimResult } from '../../lib/cms/sim/fabric.js';
import { fcts, percentile, queueStats, windowStats } from '../../lib/cms/sim/metrics.js';
import { lineChartSvg } from '../../lib/cms/sim/plot.js';
import { allToAll, incast, permutation, permutationIdealGbps, targetQdelayNs } from '../../lib/cms/sim/scenarios.js';

const GOODPUT_LINE = (100 * 4096) / (4096 + 64);

/** The checkout this script lives in (dist/bench/cms or bench/cms), else the working directory. */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) return process.cwd();
    d = up;
  }
  return d;
}

interface Run {
  name: string;
  cfg: SimConfig;
  /** Reference capacity for the utilisation column, Gb/s of payload. */
  idealGbps: number;
  /** Port whose depth is reported. */
  port: string;
  targetBytes: number;
}

function runs(): Run[] {
  const out: Run[] = [];
  for (const n of [8, 32, 64]) {
    out.push({ name: `incast${n}_nscc_rccc`, cfg: incast(n, { cc: { nscc: true, rccc: true }, trimming: false }), idealGbps: GOODPUT_LINE, port: 'down:h0', targetBytes: targetQdelayNs(false) * 12.5 });
    out.push({ name: `incast${n}_nscc_trim`, cfg: incast(n, { cc: { nscc: true, rccc: false }, trimming: true }), idealGbps: GOODPUT_LINE, port: 'down:h0', targetBytes: targetQdelayNs(true) * 12.5 });
  }
  out.push({ name: 'incast32_remote_nscc_trim', cfg: incast(32, { cc: { nscc: true, rccc: false }, trimming: true, remoteOnly: true }), idealGbps: GOODPUT_LINE, port: 'down:h0', targetBytes: targetQdelayNs(true) * 12.5 });
  out.push({ name: 'incast32_remote_nscc_rccc', cfg: incast(32, { cc: { nscc: true, rccc: true }, trimming: false, remoteOnly: true }), idealGbps: GOODPUT_LINE, port: 'down:h0', targetBytes: targetQdelayNs(false) * 12.5 });
  out.push({ name: 'incast64_nscc_rccc_trim', cfg: incast(64, { cc: { nscc: true, rccc: true }, trimming: true }), idealGbps: GOODPUT_LINE, port: 'down:h0', targetBytes: targetQdelayNs(true) * 12.5 });
  out.push({ name: 'incast32_rccc_only', cfg: incast(32, { cc: { nscc: false, rccc: true }, trimming: false }), idealGbps: GOODPUT_LINE, port: 'down:h0', targetBytes: targetQdelayNs(false) * 12.5 });
  for (const cc of [
    { tag: 'nscc_rccc', nscc: true, rccc: true, trimming: false },
    { tag: 'nscc_trim', nscc: true, rccc: false, trimming: true },
  ]) {
    out.push({
      name: `incast32_fct512k_${cc.tag}`,
      cfg: incast(32, { cc: { nscc: cc.nscc, rccc: cc.rccc }, trimming: cc.trimming, flowBytes: 512 * 1024, durationNs: 3_000_000, warmupNs: 0 }),
      idealGbps: GOODPUT_LINE,
      port: 'down:h0',
      targetBytes: targetQdelayNs(cc.trimming) * 12.5,
    });
  }
  for (const paths of [4, 8]) {
    for (const mode of ['ecmp', 'oblivious', 'bitmap', 'reps'] as const) {
      out.push({ name: `perm${paths}_halfpath_${mode}`, cfg: permutation(paths, { degraded: true, entropy: mode }), idealGbps: permutationIdealGbps(paths, true), port: 'up:l0:s0', targetBytes: targetQdelayNs(true) * 12.5 });
    }
  }
  for (const mode of ['ecmp', 'oblivious', 'bitmap', 'reps'] as const) {
    const cfg = permutation(8, { degraded: true, entropy: mode });
    cfg.fabric.hash = 'hash';
    out.push({ name: `perm8_halfpath_hashed_${mode}`, cfg, idealGbps: permutationIdealGbps(8, true), port: 'up:l0:s0', targetBytes: targetQdelayNs(true) * 12.5 });
  }
  for (const mode of ['ecmp', 'bitmap', 'reps'] as const) {
    const cfg = permutation(8, { entropy: mode, durationNs: 1_500_000, warmupNs: 500_000 });
    cfg.fabric.degraded = [{ leaf: 0, spine: 0, rateFactor: 0 }];
    cfg.rtoNs = 60_000;
    out.push({ name: `perm8_failedpath_${mode}`, cfg, idealGbps: (7 / 8) * permutationIdealGbps(8, false), port: 'up:l0:s1', targetBytes: targetQdelayNs(true) * 12.5 });
  }
  for (const mode of ['ecmp', 'reps'] as const) {
    const cfg = allToAll(2, 8, { entropy: mode, flowBytes: 128 * 1024, durationNs: 3_000_000 });
    out.push({ name: `alltoall16_${mode}`, cfg, idealGbps: 16 * GOODPUT_LINE, port: 'up:l0:s0', targetBytes: targetQdelayNs(true) * 12.5 });
  }
  return out;
}

function plots(dir: string, r: SimResult, run: Run): void {
  const tUs = r.sampleT.map((t) => t / 1000);
  const thr = throughputSeries(r);
  const flows = r.flows.length;
  const pick = flows > 16 ? Array.from({ length: 8 }, (_, i) => Math.floor((i * flows) / 8)) : r.flows.map((f) => f.id);
  writeFileSync(
    join(dir, 'throughput.svg'),
    lineChartSvg(
      pick.map((i) => ({ name: `flow ${i}`, x: tUs, y: thr[i]! })),
      { title: `${run.name}: per-flow goodput${flows > pick.length ? ` (${pick.length} of ${flows})` : ''}`, xLabel: 'time (us)', yLabel: 'Gb/s' },
    ),
  );
  writeFileSync(
    join(dir, 'cwnd.svg'),
    lineChartSvg(
      pick.map((i) => ({ name: `flow ${i}`, x: tUs, y: r.cwnd[i]!.map((b) => b / 1024) })),
      { title: `${run.name}: cwnd (or RCCC credit)`, xLabel: 'time (us)', yLabel: 'KiB' },
    ),
  );
  writeFileSync(
    join(dir, 'queue.svg'),
    lineChartSvg(
      Object.entries(r.queue).map(([name, q]) => ({ name, x: tUs, y: q.map((b) => b / 1024) })),
      {
        title: `${run.name}: queue depth`,
        xLabel: 'time (us)',
        yLabel: 'KiB',
        hlines: [
          { y: run.targetBytes / 1024, label: 'target delay' },
          { y: (2 * run.targetBytes) / 1024, label: '2 x target' },
        ],
      },
    ),
  );
}

function main(): void {
  const filter = process.argv[2];
  const outDir = join(repoRoot(), 'bench', 'out', 'cms');
  mkdirSync(outDir, { recursive: true });
  const header = ['run', 'flows', 'util_%', 'jain', 'maxq_KiB', 'meanq_KiB', 'maxq/target', 'fct_p50_us', 'fct_p99_us', 'fct_max_us', 'drops', 'trims', 'timeouts', 'wall_ms'];
  const rows: (string | number | undefined)[][] = [];
  for (const run of runs()) {
    if (filter && !run.name.includes(filter)) continue;
    if (!run.cfg.watchPorts?.includes(run.port)) run.cfg.watchPorts = [...(run.cfg.watchPorts ?? []), run.port];
    const t0 = Date.now();
    const r = simulate(run.cfg);
    const wall = Date.now() - t0;
    const dir = join(outDir, run.name);
    mkdirSync(dir, { recursive: true });
    for (const [f, body] of Object.entries(resultCsvs(r))) writeFileSync(join(dir, f), body);
    plots(dir, r, run);
    const finite = r.flows.every((f) => Number.isFinite(f.bytes));
    const w = finite ? undefined : windowStats(r);
    const q = queueStats(r, run.port);
    const done = fcts(r)
      .map((f) => f.fctNs)
      .filter((x): x is number => x !== undefined)
      .map((x) => x / 1000);
    let util: number | undefined;
    if (w) util = (100 * w.aggregateGbps) / run.idealGbps;
    else if (done.length === r.flows.length) {
      const bytes = r.flows.reduce((a, f) => a + f.bytes, 0);
      util = (100 * ((bytes * 8) / (Math.max(...done) * 1000))) / run.idealGbps;
    }
    rows.push([
      run.name,
      r.flows.length,
      util !== undefined ? +util.toFixed(1) : undefined,
      w ? +w.jain.toFixed(4) : undefined,
      +(q.maxBytes / 1024).toFixed(1),
      +(q.meanBytes / 1024).toFixed(1),
      +(q.maxBytes / run.targetBytes).toFixed(2),
      done.length ? +percentile(done, 0.5).toFixed(1) : undefined,
      done.length ? +percentile(done, 0.99).toFixed(1) : undefined,
      done.length ? +Math.max(...done).toFixed(1) : undefined,
      r.drops,
      r.trims,
      r.flows.reduce((a, f) => a + f.timeouts, 0),
      wall,
    ]);
    process.stderr.write(`${run.name} done in ${wall} ms\n`);
  }
  writeFileSync(join(outDir, 'summary.csv'), toCsv(header, rows));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '-').length)));
  const line = (cells: (string | number | undefined)[]): string => cells.map((c, i) => String(c ?? '-').padStart(widths[i]!)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(`\nutil: incast/spraying = goodput after warm-up over the ideal payload rate; finite flows = total bytes / last FCT.`);
  console.log(`CSV and SVG per run in ${outDir}`);
}

main();
