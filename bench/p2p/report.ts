// Pure core of the point-to-point bench: the shapes of results, fabtests-style tables
// and the ratio tables. No I/O here, so the formatting and the ratios can be tested
// without a fabric.

export type Op = 'write' | 'read' | 'send' | 'tsend' | 'pingpong';
export const OPS: readonly Op[] = ['write', 'read', 'send', 'tsend', 'pingpong'];

/** One size of one run; the field names are those of `fi_bench --json`. */
export interface Row {
  bytes: number;
  iters: number;
  total: number;
  time: number;
  mb_per_sec: number;
  usec_per_xfer: number;
  mxfers_per_sec: number;
  check: 'ok' | 'mismatch';
}

/** Which program produced a run: the C baseline, the Node binding, or Node's batch form. */
export type Impl = 'native' | 'node' | 'node-batch';

export interface Run {
  impl: Impl;
  provider: string;
  op: Op;
  pairs: number;
  window: number;
  progress?: string;
  mrMode?: string[];
  rows: Row[];
  error?: string;
}

export interface UdpRow {
  mode: string;
  dgram: number;
  message: number;
  tx_mb_per_sec: number;
  mb_per_sec: number;
  loss: number;
  check: 'ok' | 'mismatch';
}

/**
 * A row of udp_limit's ping-pong modes: one message of `dgram` bytes bounced between two
 * polling processes, with no provider in between. usec_per_xfer is one-way, as in Row.
 */
export interface LatencyRow {
  mode: string; // 'pingpong' (UDP) or 'pingpong-tcp'
  dgram: number;
  iters: number;
  time: number;
  usec_per_xfer: number;
  mb_per_sec: number;
  check: 'ok' | 'mismatch';
}

/** Derives the figures of a row from what was measured, as fi_bench does. */
export function makeRow(op: Op, bytes: number, iters: number, pairs: number, time: number,
  ok: boolean): Row {
  const xfers = iters * pairs * (op === 'pingpong' ? 2 : 1);
  const total = xfers * bytes;
  return {
    bytes, iters, total, time,
    mb_per_sec: total / time / 1e6,
    usec_per_xfer: (time * 1e6) / xfers,
    mxfers_per_sec: xfers / time / 1e6,
    check: ok ? 'ok' : 'mismatch',
  };
}

/**
 * Folds the same run measured in several rounds into one: per size the row with the
 * median bandwidth (for ping-pong the median latency, the same order), so a provider
 * measured at a busy moment in one round does not decide its ratio. Any mismatch or
 * error in a round stays visible.
 */
export function medianOfRounds(rounds: Run[]): Run {
  if (rounds.length === 0) throw new Error('medianOfRounds: no runs');
  const sizes = [...new Set(rounds.flatMap((r) => r.rows.map((row) => row.bytes)))].sort((a, b) => a - b);
  const rows = sizes.map((bytes) => {
    const all = rounds.flatMap((r) => r.rows.filter((row) => row.bytes === bytes));
    const sorted = [...all].sort((a, b) => a.mb_per_sec - b.mb_per_sec);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)];
    return all.some((row) => row.check !== 'ok') ? { ...mid, check: 'mismatch' as const } : mid;
  });
  const error = rounds.find((r) => r.error)?.error;
  return { ...rounds[0], rows, ...(error ? { error } : {}) };
}

/** fabtests' short units: 4k, 1m for bytes (base 1024), 10k for counts (base 1000). */
export function human(v: number, base = 1024): string {
  const units = ['', 'k', 'm', 'g', 't'];
  let u = 0;
  while (v >= base && u < units.length - 1) {
    v /= base;
    u++;
  }
  if (u === 0) return v.toFixed(0);
  return (Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1)) + units[u];
}

/** Parses 8, 4k, 1m, 64KiB-style sizes; throws on anything else. */
export function parseSize(s: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size '${s}' (use 8, 4k, 1m)`);
  const shift = { '': 0, k: 10, m: 20, g: 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const v = Number(m[1]) * 2 ** shift;
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`bad size '${s}'`);
  return v;
}

/** "all" (8 B..4 MiB), "lo:hi" (powers of two) or a comma list. */
export function parseSizes(s: string): number[] {
  if (s === 'all') return powersOfTwo(8, 4 << 20);
  if (s.includes(':')) {
    const [lo, hi] = s.split(':').map(parseSize);
    if (lo > hi) throw new Error(`bad size range '${s}'`);
    return powersOfTwo(lo, hi);
  }
  const sizes = s.split(',').filter((t) => t.length > 0).map(parseSize);
  if (sizes.length === 0) throw new Error(`no sizes in '${s}'`);
  return sizes;
}

function powersOfTwo(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v *= 2) out.push(v);
  return out;
}

/** The byte every bench writes at offset i of a message of `size` bytes (as in C). */
export function patternByte(i: number, size: number): number {
  return (i * 131 + size * 7 + 0x5a) & 0xff;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function runTitle(r: Run): string {
  const w = r.op === 'pingpong' ? 1 : r.window;
  return `${r.impl} ${r.provider} ${r.op} (pairs ${r.pairs}, window ${w}` +
    (r.progress ? `, progress ${r.progress}` : '') + ')';
}

/** One fabtests-style table. */
export function formatRun(r: Run): string {
  const lines = [`## ${runTitle(r)}`];
  if (r.error) {
    lines.push(`   failed: ${r.error}`);
    return lines.join('\n');
  }
  lines.push(pad('bytes', 10) + pad('iters', 8) + pad('total', 8) + pad('time', 9) +
    pad('MB/sec', 10, true) + ' ' + pad('usec/xfer', 12, true) + ' ' + pad('Mxfers/sec', 12, true));
  for (const row of r.rows) {
    lines.push(pad(human(row.bytes), 10) + pad(human(row.iters, 1000), 8) +
      pad(human(row.total), 8) + pad(row.time.toFixed(2) + 's', 9) +
      pad(row.mb_per_sec.toFixed(2), 10, true) + ' ' + pad(row.usec_per_xfer.toFixed(2), 12, true) +
      ' ' + pad(row.mxfers_per_sec.toFixed(4), 12, true) +
      (row.check === 'ok' ? '' : '  DATA MISMATCH'));
  }
  return lines.join('\n');
}

/**
 * How two runs compare at one size. Bandwidth ops: a/b of MB/s (higher is better for a).
 * Ping-pong: a/b of one-way latency (lower is better for a); `diffUsec` is a-b.
 */
export interface Ratio { bytes: number; ratio: number; diffUsec: number }

export function compare(a: Run, b: Run): Ratio[] {
  const out: Ratio[] = [];
  for (const ra of a.rows) {
    const rb = b.rows.find((x) => x.bytes === ra.bytes);
    if (!rb) continue;
    const ratio = a.op === 'pingpong' ? ra.usec_per_xfer / rb.usec_per_xfer : ra.mb_per_sec / rb.mb_per_sec;
    out.push({ bytes: ra.bytes, ratio, diffUsec: ra.usec_per_xfer - rb.usec_per_xfer });
  }
  return out;
}

/**
 * Ratios of runs measured in the same rounds: round i of `a` against round i of `b`, and
 * per size the median over rounds. Two runs of one round ran back to back, so a slow
 * stretch of a shared host weighs on both, where a ratio of two medians taken from
 * different rounds can be off by the host's swing.
 */
export function compareRounds(a: Run[], b: Run[]): Ratio[] {
  const pairs = a.slice(0, b.length).map((ra, i) => compare(ra, b[i]));
  const sizes = [...new Set(pairs.flatMap((p) => p.map((r) => r.bytes)))].sort((x, y) => x - y);
  const mid = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor((v.length - 1) / 2)];
  return sizes.map((bytes) => {
    const at = pairs.flatMap((p) => p.filter((r) => r.bytes === bytes));
    return { bytes, ratio: mid(at.map((r) => r.ratio)), diffUsec: mid(at.map((r) => r.diffUsec)) };
  });
}

/**
 * A ratio table: one row per size, one column per named pair of runs, or of the runs of
 * several rounds (compareRounds). Ping-pong columns show the latency ratio and the
 * difference in microseconds.
 */
export function formatRatioTable(title: string, columns: Array<{ name: string; a?: Run | Run[]; b?: Run | Run[] }>): string {
  const list = (r: Run | Run[] | undefined): Run[] => (r === undefined ? [] : Array.isArray(r) ? r : [r]);
  const usable = columns.map((c) => ({ name: c.name, a: list(c.a), b: list(c.b) }))
    .filter((c) => c.a.length > 0 && c.b.length > 0 && [...c.a, ...c.b].every((r) => !r.error));
  if (usable.length === 0) return `## ${title}\n   (nothing to compare)`;
  const per = usable.map((c) => ({ c, ratios: compareRounds(c.a, c.b) }));
  const sizes = [...new Set(per.flatMap((p) => p.ratios.map((r) => r.bytes)))].sort((x, y) => x - y);
  const widths = usable.map((c) => Math.max(c.a[0].op === 'pingpong' ? 22 : 12, c.name.length + 2));
  const lines = [`## ${title}`, pad('bytes', 10) + usable.map((c, i) => pad(c.name, widths[i], true)).join('')];
  for (const bytes of sizes) {
    let line = pad(human(bytes), 10);
    for (const [i, p] of per.entries()) {
      const r = p.ratios.find((x) => x.bytes === bytes);
      let cell = '-';
      if (r) {
        cell = r.ratio.toFixed(2);
        if (p.c.a[0].op === 'pingpong') cell += ` (${r.diffUsec >= 0 ? '+' : ''}${r.diffUsec.toFixed(1)}us)`;
      }
      line += pad(cell, widths[i], true);
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * The loopback limit section: the bandwidth ceiling rows and, when measured, the ping-pong
 * floor rows (one-way latency of bare sockets, the counterpart of the ceiling for the
 * pingpong op).
 */
export function formatUdp(rows: UdpRow[], floor: LatencyRow[] = []): string {
  const lines = ['## Loopback limit (udp_limit, 127.0.0.1' +
    (rows.length > 0 ? '; tcp: one TCP stream, what the tcp providers stand on)' : ')')];
  if (rows.length > 0) {
    lines.push(pad('mode', 6) + pad('dgram', 8) + pad('message', 9) + pad('tx MB/sec', 12, true) +
      pad('MB/sec', 12, true) + pad('loss', 8, true) + '  check');
  }
  for (const r of rows) {
    lines.push(pad(r.mode, 6) + pad(String(r.dgram), 8) + pad(human(r.message), 9) +
      pad(r.tx_mb_per_sec.toFixed(1), 12, true) + pad(r.mb_per_sec.toFixed(1), 12, true) +
      pad((r.loss * 100).toFixed(1) + '%', 8, true) + '  ' + r.check);
  }
  if (floor.length > 0) {
    if (rows.length > 0) lines.push('');
    lines.push('ping-pong floor: one message each way between two polling processes, no provider; one-way usec');
    lines.push(pad('mode', 14) + pad('bytes', 8) + pad('iters', 8) + pad('usec/xfer', 11, true) + '  check');
    for (const r of floor) {
      lines.push(pad(r.mode, 14) + pad(human(r.dgram), 8) + pad(human(r.iters, 1000), 8) +
        pad(r.usec_per_xfer.toFixed(2), 11, true) + '  ' + r.check);
    }
  }
  return lines.join('\n');
}

/**
 * The floor from two measurements (before and after the providers): per mode and size the
 * lower latency, since other load only raises it. A mismatch in either stays visible.
 */
export function lowerLatency(a: LatencyRow[], b: LatencyRow[]): LatencyRow[] {
  const out: LatencyRow[] = [];
  for (const r of [...a, ...b]) {
    const i = out.findIndex((x) => x.mode === r.mode && x.dgram === r.dgram);
    if (i < 0) {
      out.push(r);
      continue;
    }
    const bad = out[i].check !== 'ok' || r.check !== 'ok';
    const best = r.usec_per_xfer < out[i].usec_per_xfer ? r : out[i];
    out[i] = bad ? { ...best, check: 'mismatch' } : best;
  }
  return out;
}

/** A ping-pong run's latency at one size against one floor row: a/floor and a - floor. */
export interface FloorRatio {
  impl: Impl;
  provider: string;
  bytes: number;
  usec: number;
  floors: Array<{ mode: string; usec: number; ratio: number; diffUsec: number }>;
}

/** Every size of every ping-pong run that has a floor row of the same size. */
export function floorRatios(runs: Run[], floor: LatencyRow[]): FloorRatio[] {
  const out: FloorRatio[] = [];
  for (const r of runs) {
    if (r.op !== 'pingpong' || r.error) continue;
    for (const row of r.rows) {
      const at = floor.filter((f) => f.dgram === row.bytes && f.check === 'ok');
      if (at.length === 0) continue;
      out.push({
        impl: r.impl, provider: r.provider, bytes: row.bytes, usec: row.usec_per_xfer,
        floors: at.map((f) => ({
          mode: f.mode, usec: f.usec_per_xfer,
          ratio: row.usec_per_xfer / f.usec_per_xfer, diffUsec: row.usec_per_xfer - f.usec_per_xfer,
        })),
      });
    }
  }
  return out;
}

const FLOOR_NAMES: Record<string, string> = { pingpong: 'udp floor', 'pingpong-tcp': 'tcp floor' };

/**
 * Ping-pong latency of each run (native and Node) against the floor of the same size:
 * "14.4 = 1.40x (+4.1 us)" per floor mode, the floor itself on the first line of a size.
 */
export function formatFloor(runs: Run[], floor: LatencyRow[], note = ''): string {
  const title = `## Ping-pong one-way latency against the loopback floor (usec; run / floor and run - floor${note})`;
  const ratios = floorRatios(runs, floor);
  if (ratios.length === 0) return `${title}\n   (nothing to compare)`;
  const modes = [...new Set(floor.map((f) => f.mode))];
  const cell = 22;
  const lines = [title, pad('bytes', 8) + pad('run', 24) + pad('usec', 9, true) +
    modes.map((m) => pad(FLOOR_NAMES[m] ?? m, cell, true)).join('')];
  for (const bytes of [...new Set(ratios.map((r) => r.bytes))].sort((x, y) => x - y)) {
    lines.push(pad(human(bytes), 8) + pad('floor (bare sockets)', 24) + pad('', 9, true) + modes.map((m) => {
      const f = floor.find((x) => x.mode === m && x.dgram === bytes);
      return pad(f ? f.usec_per_xfer.toFixed(2) + (f.check === 'ok' ? '' : ' MISMATCH') : '-', cell, true);
    }).join(''));
    for (const r of ratios.filter((x) => x.bytes === bytes)) {
      lines.push(pad('', 8) + pad(`${r.provider} ${r.impl}`, 24) + pad(r.usec.toFixed(2), 9, true) + modes.map((m) => {
        const f = r.floors.find((x) => x.mode === m);
        return pad(f ? `${f.ratio.toFixed(2)}x (${f.diffUsec >= 0 ? '+' : ''}${f.diffUsec.toFixed(1)} us)` : '-', cell, true);
      }).join(''));
    }
  }
  return lines.join('\n');
}

/** A provider's 1 MiB write bandwidth as a fraction of each loopback limit row. */
export function formatUdpFraction(write: Run | undefined, udp: UdpRow[], bytes = 1 << 20): string {
  const row = write?.rows.find((r) => r.bytes === bytes);
  const lines = [`## ${write?.provider ?? 'softuet'} ${write?.op ?? 'write'} at ${human(bytes)} / loopback limit`];
  if (!row || udp.length === 0) {
    lines.push('   (nothing to compare)');
    return lines.join('\n');
  }
  lines.push(pad('mode', 6) + pad('dgram', 8) + pad('limit MB/sec', 13, true) + pad('fraction', 10, true));
  for (const u of udp) {
    lines.push(pad(u.mode, 6) + pad(String(u.dgram), 8) + pad(u.mb_per_sec.toFixed(1), 13, true) +
      pad((row.mb_per_sec / u.mb_per_sec).toFixed(2), 10, true));
  }
  return lines.join('\n');
}

/** The scaling figure: bandwidth at one size against pairs or ops in flight. */
export interface ScalingPoint { provider: string; op: Op; bytes: number; pairs: number; window: number; mbPerSec: number }

export function formatScaling(points: ScalingPoint[]): string {
  const lines = ['## Scaling (native fi_bench): MB/sec by concurrent pairs and by ops in flight'];
  const keys = [...new Set(points.map((p) => `${p.provider}|${p.op}|${p.bytes}`))];
  const pairCols = [...new Set(points.filter((p) => p.window === 64).map((p) => p.pairs))].sort((a, b) => a - b);
  const winCols = [...new Set(points.filter((p) => p.pairs === 1).map((p) => p.window))].sort((a, b) => a - b);
  lines.push(pad('provider op bytes', 28) + pairCols.map((p) => pad(`P=${p}`, 10, true)).join('') +
    ' |' + winCols.map((w) => pad(`w=${w}`, 10, true)).join(''));
  for (const k of keys) {
    const [provider, op, bytes] = k.split('|');
    const at = (pairs: number, window: number) => points.find((p) => p.provider === provider &&
      p.op === op && p.bytes === Number(bytes) && p.pairs === pairs && p.window === window);
    lines.push(pad(`${provider} ${op} ${human(Number(bytes))}`, 28) +
      pairCols.map((p) => pad(at(p, 64)?.mbPerSec.toFixed(0) ?? '-', 10, true)).join('') + ' |' +
      winCols.map((w) => pad(at(1, w)?.mbPerSec.toFixed(0) ?? '-', 10, true)).join(''));
  }
  return lines.join('\n');
}
