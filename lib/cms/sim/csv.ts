/** CSV renderings of a simulation result (one table per quantity). */
import type { SimResult } from './fabric.js';

export function toCsv(header: readonly string[], rows: readonly (readonly (number | string | undefined)[])[]): string {
  const cell = (v: number | string | undefined): string => {
    if (v === undefined) return '';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
    return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  };
  return [header.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

/** Per-flow goodput in Gb/s between consecutive samples, smoothed over `window` samples. */
export function throughputSeries(r: SimResult, window = 10): number[][] {
  return r.delivered.map((d) =>
    d.map((_, i) => {
      const j = Math.max(0, i - window);
      const dt = r.sampleT[i]! - r.sampleT[j]!;
      return dt > 0 ? ((d[i]! - d[j]!) * 8) / dt : 0;
    }),
  );
}

export function resultCsvs(r: SimResult): Record<string, string> {
  const t = r.sampleT;
  const flows = r.flows.map((f) => `f${f.id}`);
  const thr = throughputSeries(r);
  const qNames = Object.keys(r.queue);
  return {
    'throughput.csv': toCsv(['t_us', ...flows], t.map((x, i) => [x / 1000, ...thr.map((s) => s[i]!)])),
    'cwnd.csv': toCsv(['t_us', ...flows], t.map((x, i) => [x / 1000, ...r.cwnd.map((s) => s[i]!)])),
    'queue.csv': toCsv(['t_us', ...qNames], t.map((x, i) => [x / 1000, ...qNames.map((q) => r.queue[q]![i]!)])),
    'fct.csv': toCsv(
      ['flow', 'src', 'dst', 'bytes', 'start_us', 'fct_us', 'delivered_bytes', 'retransmits', 'timeouts'],
      r.flows.map((f) => [
        f.id,
        f.src,
        f.dst,
        Number.isFinite(f.bytes) ? f.bytes : 'inf',
        f.startNs / 1000,
        f.finishNs !== undefined ? (f.finishNs - f.startNs) / 1000 : undefined,
        f.deliveredBytes,
        f.retransmits,
        f.timeouts,
      ]),
    ),
  };
}
