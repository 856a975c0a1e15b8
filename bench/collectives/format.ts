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
