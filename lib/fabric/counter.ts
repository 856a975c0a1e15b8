// Counters (fi_cntr): counts of completed ops of the kinds an endpoint binds them to.
import { fabricError } from './errors.js';
import type { NativeCntr } from './native.js';

export type CounterEvent = 'send' | 'recv' | 'read' | 'write' | 'remote-read' | 'remote-write';

export class Counter {
  /** @internal */
  declare readonly native: NativeCntr;
  private closed = false;

  /** @internal */
  constructor(native: NativeCntr, private readonly onClose: (c: Counter) => void) {
    Object.defineProperty(this, 'native', { value: native, enumerable: false });
  }

  read(): bigint { return this.native.read(); }
  readErr(): bigint { return this.native.readErr(); }
  add(v: bigint | number): void { this.native.add(BigInt(v)); }
  set(v: bigint | number): void { this.native.set(BigInt(v)); }
  addErr(v: bigint | number): void { this.native.addErr(BigInt(v)); }
  setErr(v: bigint | number): void { this.native.setErr(BigInt(v)); }

  /**
   * Resolves with the value once it reaches `threshold`; rejects with FI_ETIMEDOUT after
   * timeoutMs, or with FI_EAVAIL if the error count grows meanwhile.
   */
  wait(threshold: bigint | number, timeoutMs = 10_000): Promise<bigint> {
    const want = BigInt(threshold);
    const start = Date.now();
    let errs0: bigint;
    try { errs0 = this.native.readErr(); } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      let delay = 0;
      const tick = (): void => {
        try {
          const v = this.native.read();
          if (v >= want) return resolve(v);
          if (this.native.readErr() > errs0) return reject(fabricError('FI_EAVAIL', 'a counted operation failed'));
        } catch (e) { return reject(e); }
        if (Date.now() - start > timeoutMs) return reject(fabricError('FI_ETIMEDOUT', `counter did not reach ${want} within ${timeoutMs} ms`));
        delay = Math.min(10, delay + 1);
        setTimeout(tick, delay);
      };
      tick();
    });
  }

  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    this.onClose(this);
  }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
