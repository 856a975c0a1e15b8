/**
 * Minimal SVG line charts (no browser, no canvas): enough for throughput, queue and cwnd
 * time series in bench output.
 */
export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Horizontal reference lines, e.g. a queue target. */
  hlines?: { y: number; label: string }[];
  maxSeries?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

export function lineChartSvg(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 800;
  const H = o.height ?? 420;
  const m = { l: 70, r: 150, t: 36, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const shown = series.slice(0, o.maxSeries ?? 16);
  let x0 = Infinity;
  let x1 = -Infinity;
  let y1 = 0;
  for (const s of shown) {
    for (const v of s.x) {
      if (v < x0) x0 = v;
      if (v > x1) x1 = v;
    }
    for (const v of s.y) if (Number.isFinite(v) && v > y1) y1 = v;
  }
  for (const h of o.hlines ?? []) if (h.y > y1) y1 = h.y;
  if (!Number.isFinite(x0) || x1 <= x0) {
    x0 = 0;
    x1 = 1;
  }
  if (y1 <= 0) y1 = 1;
  y1 *= 1.05;
  const sx = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number): number => m.t + ph - (v / y1) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  const ys = niceStep(y1, 6);
  for (let v = 0; v <= y1; v += ys) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  const xs = niceStep(x1 - x0, 8);
  for (let v = Math.ceil(x0 / xs) * xs; v <= x1; v += xs) {
    out.push(`<line x1="${sx(v).toFixed(1)}" x2="${sx(v).toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(v).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(v)}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  shown.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length]!;
    // Thin long series so files stay small; keeps the shape at plot resolution.
    const step = Math.max(1, Math.floor(s.x.length / (pw * 2)));
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i += step) {
      const y = s.y[i]!;
      if (Number.isFinite(y)) pts.push(`${sx(s.x[i]!).toFixed(1)},${sy(y).toFixed(1)}`);
    }
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.2" points="${pts.join(' ')}"/>`);
    out.push(`<rect x="${m.l + pw + 10}" y="${m.t + k * 16}" width="10" height="10" fill="${c}"/>`);
    out.push(`<text x="${m.l + pw + 24}" y="${m.t + k * 16 + 9}">${esc(s.name)}</text>`);
  });
  if (series.length > shown.length) {
    out.push(`<text x="${m.l + pw + 10}" y="${m.t + shown.length * 16 + 9}">+${series.length - shown.length} more</text>`);
  }
  for (const h of o.hlines ?? []) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(h.y).toFixed(1)}" y2="${sy(h.y).toFixed(1)}" stroke="#000" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.l + 4}" y="${(sy(h.y) - 4).toFixed(1)}">${esc(h.label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
