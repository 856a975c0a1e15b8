// nccl-tests table formatting and bandwidth formulas (pure).

export type CollectiveName = 'allreduce' | 'reducescatter' | 'allgather' | 'alltoall' | 'broadcast' | 'reduce';
export const COLLECTIVES: readonly CollectiveName[] = ['allreduce', 'reducescatter', 'allgather', 'alltoall', 'broadcast', 'reduce'];

/** nccl-tests' bus-bandwidth factor: how much of the data each link carries. */
export function busFactor(coll: CollectiveName, ranks: number): number {
  switch (coll) {
    case 'allreduce': return ranks > 1 ? (2 * (ranks - 1)) / ranks : 0;
    case 'reducescatter': case 'allgather': case 'alltoall': return ranks > 1 ? (ranks - 1) / ranks : 0;
    case 'broadcast': case 'reduce': return 1;
  }
}

export interface Result { timeUs: number; algbw: number; busbw: number; wrong: number }
export interface Row { size: number; count: number; type: string; redop: string; root: number; outOfPlace: Result; inPlace: Result }

export function bandwidth(coll: CollectiveName, ranks: number, bytes: number, timeUs: number): { algbw: number; busbw: number } {
  const algbw = timeUs > 0 ? bytes / (timeUs * 1e3) : 0;      // GB/s
  return { algbw, busbw: algbw * busFactor(coll, ranks) };
}

/** Parses 8, 64K, 1M, 2G (binary multiples), as nccl-tests' -b/-e do. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?$/.exec(s.trim());
  if (!m) throw new RangeError(`'${s}' is not a size (examples: 8, 64K, 1M, 2G)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

export function sizeList(min: number, max: number, factor: number, quantum: number): number[] {
  if (!(factor > 1)) throw new RangeError(`-f must be greater than 1, got ${factor}`);
  if (!(max >= min)) throw new RangeError(`-e (${max}) must not be below -b (${min})`);
  const out: number[] = [];
  for (let s = min; s <= max; s *= factor) {
    const q = Math.floor(s / quantum) * quantum;
    if (q > 0 && out[out.length - 1] !== q) out.push(q);
  }
  return out;
}

const pad = (s: string | number, w: number) => String(s).padStart(w);
const f2 = (x: number) => x.toFixed(2);
const time = (us: number) => (us >= 1000 ? us.toFixed(0) : us.toFixed(2));

export function tableHeader(): string {
  return [
    '#                                                              out-of-place                       in-place          ',
    '#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong',
    '#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)       ',
  ].join('\n');
}

export function tableRow(r: Row): string {
  const cols = (x: Result) => `${pad(time(x.timeUs), 8)} ${pad(f2(x.algbw), 7)} ${pad(f2(x.busbw), 7)} ${pad(x.wrong, 6)}`;
  return `${pad(r.size, 12)}  ${pad(r.count, 12)}  ${pad(r.type, 8)}  ${pad(r.redop, 6)}  ${pad(r.root, 6)}  ${cols(r.outOfPlace)}  ${cols(r.inPlace)}`;
}

/** One size of a comparison run: the best time of its runs, and wrong results of all of them. */
export interface ComparePoint { size: number; busbw: number; timeUs: number; wrong: number }
/** A Node configuration of the comparison ('node' alone, or its provider spec) and its points. */
export interface CompareSide { label: string; points: ComparePoint[] }

/**
 * The comparison table: MPI's time and busbw, then for each Node configuration its time,
 * busbw and busbw ratio to MPI, then the wrong results of all sides; one summary line per
 * configuration on the sizes from 1 MiB up. Only sizes MPI measured too are shown.
 */
export function compareTable(mpi: ComparePoint[], sides: CompareSide[]): string[] {
  const bySize = new Map(mpi.map((p) => [p.size, p]));
  const sizes = [...new Set(sides.flatMap((s) => s.points.map((p) => p.size)))].filter((s) => bySize.has(s)).sort((a, b) => a - b);
  // Each group is headed by its label ('node' alone gives the familiar node/mpi columns).
  const widths = sides.map((s) => [Math.max(s.label.length + 10, 14), Math.max(s.label.length + 6, 10), Math.max(s.label.length + 4, 9)] as const);
  const head = sides.map((s, k) => { const [t, b, r] = widths[k]!; return `${pad(`${s.label} time(us)`, t)}  ${pad(`${s.label} busbw`, b)}  ${pad(`${s.label}/mpi`, r)}`; });
  const lines = [`#       size   mpi time(us)  mpi busbw  ${head.join('  ')}  #wrong`];
  for (const size of sizes) {
    const m = bySize.get(size)!;
    let wrong = m.wrong;
    const cells = sides.map((s, k) => {
      const p = s.points.find((q) => q.size === size);
      const [t, b, r] = widths[k]!;
      if (!p) return `${pad('-', t)}  ${pad('-', b)}  ${pad('-', r)}`;
      wrong += p.wrong;
      const ratio = m.busbw > 0 ? p.busbw / m.busbw : NaN;
      return `${pad(p.timeUs.toFixed(1), t)}  ${pad(p.busbw.toFixed(3), b)}  ${pad(ratio.toFixed(2), r)}`;
    });
    lines.push(`${pad(size, 12)}  ${pad(m.timeUs.toFixed(1), 12)}  ${pad(m.busbw.toFixed(3), 9)}  ${cells.join('  ')}  ${pad(wrong, 6)}`);
  }
  for (const s of sides) {
    const big = s.points.filter((p) => p.size >= 1 << 20 && bySize.has(p.size));
    if (!big.length) continue;
    const geo = Math.exp(big.reduce((acc, p) => acc + Math.log(p.busbw / bySize.get(p.size)!.busbw), 0) / big.length);
    const won = big.filter((p) => p.busbw >= bySize.get(p.size)!.busbw).length;
    lines.push(`# at >= 1 MiB: ${s.label} busbw >= mpi busbw at ${won} of ${big.length} sizes; geometric mean of ${s.label}/mpi ${geo.toFixed(2)}`);
  }
  return lines;
}

/** A Node configuration of compare.js: its column label, provider and the provider for RMA writes. */
export interface NodeConfig { label: string; provider?: string; bulk?: string }

/** `A` or `A+B` (messages over A, RMA writes over B), as --providers lists them. */
export function parseConfigs(list: string): NodeConfig[] {
  const out = list.split(',').map((spec) => spec.trim()).filter(Boolean).map((spec) => {
    const [provider, bulk, more] = spec.split('+').map((x) => x.trim());
    if (!provider || more !== undefined || bulk === '') throw new RangeError(`--providers: '${spec}' is not PROVIDER or PROVIDER+BULK_PROVIDER`);
    return { label: spec, provider, bulk: bulk ?? 'none' };
  });
  if (!out.length) throw new RangeError('--providers needs at least one provider');
  return out;
}
