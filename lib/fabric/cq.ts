// Completion queues. Ops settle their own Promises; the CQ is where their completions
// arrive (wait fd watched by the event loop, or polled when the provider has none).
import type { NativeCq } from './native.js';

export class CompletionQueue {
  /** @internal */
  declare readonly native: NativeCq;
  private closed = false;

  /** @internal */
  constructor(native: NativeCq, private readonly onClose: (cq: CompletionQueue) => void) {
    Object.defineProperty(this, 'native', { value: native, enumerable: false });
  }

  /**
   * 'fd': woken by the CQ's wait fd; 'thread': a progress thread blocks in fi_cq_sread;
   * 'poll': polled by a timer while ops are in flight.
   */
  get waitMode(): 'fd' | 'poll' | 'thread' { return this.native.mode(); }

  /** Reads completions now; returns how many were read. */
  progress(): number { return this.native.progress(); }

  /**
   * Next remote CQ data that arrived without consuming a receive (writedata), as
   * { data, length }.
   */
  remoteData(): Promise<{ data: bigint; length: number }> {
    try { return this.native.remoteData(); } catch (e) { return Promise.reject(e); }
  }

  /** Closes endpoints bound to it first (their pending ops reject with FI_ECANCELED). */
  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    this.onClose(this);
  }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
