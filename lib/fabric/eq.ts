// Event queues: connection management for MSG endpoints (connreq, connected, shutdown).
import { FabricError, fabricError } from './errors.js';
import { Info } from './info.js';
import type { NativeEq } from './native.js';

export type EqEventName = 'connreq' | 'connected' | 'shutdown' | 'error' | string;

export interface EqEvent {
  event: EqEventName;
  /** Which endpoint or passive endpoint it concerns (their `id`). */
  id: number;
  /** For 'connreq': the Info to open the accepting endpoint with. */
  info?: Info;
  error?: FabricError;
}

interface Waiter { id: number; event: EqEventName; resolve: (e: EqEvent) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class EventQueue {
  /** @internal */
  declare readonly native: NativeEq;
  private closed = false;
  private readonly queued: EqEvent[] = [];
  private readonly waiters: Waiter[] = [];
  private pumping: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(native: NativeEq, private readonly onClose: (eq: EventQueue) => void) {
    Object.defineProperty(this, 'native', { value: native, enumerable: false });
  }

  /** One event if there is one (non-blocking). */
  read(): EqEvent | null {
    const q = this.queued.shift();
    if (q) return q;
    return this.readNative();
  }

  private readNative(): EqEvent | null {
    const e = this.native.read();
    if (!e) return null;
    const out: EqEvent = { event: e.event, id: e.id };
    if (e.info) {
      const { handle, ...d } = e.info;
      out.info = new Info(d, handle);
    }
    if (e.error) out.error = e.error;
    return out;
  }

  /** Resolves with the next `event` for endpoint `id` (an 'error' for it rejects). */
  waitFor(id: number, event: EqEventName, timeoutMs = 10_000): Promise<EqEvent> {
    const i = this.queued.findIndex((e) => e.id === id && (e.event === event || e.event === 'error'));
    if (i >= 0) {
      const [e] = this.queued.splice(i, 1);
      return e!.event === 'error' ? Promise.reject(e!.error) : Promise.resolve(e!);
    }
    if (this.closed) return Promise.reject(fabricError('FI_EINVAL', 'EventQueue is closed'));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        id, event, resolve, reject,
        timer: setTimeout(() => {
          this.drop(w);
          reject(fabricError('FI_ETIMEDOUT', `no '${event}' event within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(w);
      this.pump();
    });
  }

  private drop(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    clearTimeout(w.timer);
  }

  private pump(): void {
    if (this.pumping || this.waiters.length === 0 || this.closed) return;
    let delay = 0;
    const tick = (): void => {
      this.pumping = undefined;
      if (this.closed) return;
      let got = false;
      for (let e = this.readNativeSafe(); e; e = this.readNativeSafe()) {
        got = true;
        const w = this.waiters.find((x) => x.id === e.id && (x.event === e.event || e.event === 'error'));
        if (!w) { this.queued.push(e); continue; }
        this.drop(w);
        if (e.event === 'error') w.reject(e.error ?? fabricError('FI_EOTHER', 'connection failed'));
        else w.resolve(e);
      }
      if (this.waiters.length === 0) return;
      delay = got ? 0 : Math.min(10, delay + 1);
      this.pumping = setTimeout(tick, delay);
    };
    this.pumping = setTimeout(tick, 0);
  }

  private readNativeSafe(): EqEvent | null {
    try { return this.readNative(); } catch (e) {
      for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.reject(e as Error); }
      return null;
    }
  }

  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    if (this.pumping) clearTimeout(this.pumping);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(fabricError('FI_ECANCELED', 'EventQueue closed'));
    }
    this.onClose(this);
  }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
