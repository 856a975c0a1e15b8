/** Binary min-heap of timed events; ties break by insertion order so runs are reproducible. */
export interface TimedEvent {
  t: number;
  seq: number;
  fn: () => void;
}

export class EventQueue {
  private readonly h: TimedEvent[] = [];
  private seq = 0;
  now = 0;

  get size(): number {
    return this.h.length;
  }

  at(t: number, fn: () => void): void {
    const e: TimedEvent = { t: t < this.now ? this.now : t, seq: this.seq++, fn };
    const h = this.h;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, e)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  pop(): TimedEvent | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(h[r]!, h[l]!) ? r : l;
        if (less(last, h[c]!)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Runs events in time order until the queue empties or the next event is past `untilNs`. */
  run(untilNs: number): number {
    let n = 0;
    for (;;) {
      const top = this.h[0];
      if (!top || top.t > untilNs) break;
      this.pop();
      this.now = top.t;
      top.fn();
      n++;
    }
    this.now = untilNs;
    return n;
  }
}

function less(a: TimedEvent, b: TimedEvent): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
