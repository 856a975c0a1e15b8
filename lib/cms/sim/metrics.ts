/** Summary statistics over a simulation result. */
import type { SimResult } from './fabric.js';

export function jain(xs: readonly number[]): number {
  if (xs.length === 0) return 1;
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  return s2 === 0 ? 1 : (s * s) / (xs.length * s2);
}

function indexAt(t: readonly number[], ns: number): number {
  let lo = 0;
  let hi = t.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! < ns) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface WindowStats {
  fromNs: number;
  toNs: number;
  /** Per-flow goodput in Gb/s over the window. */
  flowGbps: number[];
  aggregateGbps: number;
  jain: number;
}

/** Goodput per flow between two sample times (defaults: warm-up to end of run). */
export function windowStats(r: SimResult, fromNs = r.config.warmupNs ?? 0, toNs = r.config.durationNs): WindowStats {
  const i0 = indexAt(r.sampleT, fromNs);
  const i1 = indexAt(r.sampleT, toNs);
  const dt = r.sampleT[i1]! - r.sampleT[i0]!;
  const flowGbps = r.delivered.map((d) => (dt > 0 ? ((d[i1]! - d[i0]!) * 8) / dt : 0));
  return {
    fromNs: r.sampleT[i0]!,
    toNs: r.sampleT[i1]!,
    flowGbps,
    aggregateGbps: flowGbps.reduce((a, b) => a + b, 0),
    jain: jain(flowGbps),
  };
}

export interface QueueStats {
  name: string;
  maxBytes: number;
  meanBytes: number;
  p99Bytes: number;
}

/** Depth of a watched port after warm-up: exact maximum (every enqueue) and sampled mean/p99. */
export function queueStats(r: SimResult, name: string): QueueStats {
  const q = r.queue[name];
  const port = r.ports.find((p) => p.name === name);
  if (!q || !port) throw new Error(`port ${name} was not watched`);
  const i0 = indexAt(r.sampleT, r.config.warmupNs ?? 0);
  const xs = q.slice(i0).sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    name,
    maxBytes: port.maxBytesAfterWarmup,
    meanBytes: mean,
    p99Bytes: xs.length ? xs[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))]! : 0,
  };
}

export function fcts(r: SimResult): { id: number; fctNs: number | undefined }[] {
  return r.flows.map((f) => ({ id: f.id, fctNs: f.finishNs !== undefined ? f.finishNs - f.startNs : undefined }));
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}
