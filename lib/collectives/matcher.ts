// Tag matching for transports that receive whole messages themselves (in-process and
// socket transports): posted receives meet arrivals keyed by (source rank, tag), in order.

import { CollectiveError } from './transport.js';

export interface Posted { into: Uint8Array; resolve: () => void; reject: (e: Error) => void }

export class Matcher {
  private readonly posted = new Map<string, Posted[]>();
  private readonly unexpected = new Map<string, Uint8Array[]>();
  private readonly claimed = new Set<Posted>();
  private failure: Error | undefined;

  get aborted(): Error | undefined { return this.failure; }

  /** Hands an arrived payload to its receive; `owned` says the payload may be kept without a copy. */
  deliver(src: number, tag: number, payload: Uint8Array, owned: boolean): void {
    if (this.failure) return;
    const key = `${src}:${tag}`;
    const q = this.posted.get(key);
    const p = q?.shift();
    if (q && q.length === 0) this.posted.delete(key);
    if (p) {
      this.fill(p, payload, src, tag);
      return;
    }
    const u = this.unexpected.get(key);
    const copy = owned ? payload : new Uint8Array(payload);
    if (u) u.push(copy); else this.unexpected.set(key, [copy]);
  }

  /**
   * Takes the receive posted for (src, tag) when one waits and its length fits, so a
   * transport can fill the user's memory straight from the wire instead of staging the
   * payload. The caller must then call `finish` or `fail` on it.
   */
  claim(src: number, tag: number, length: number): Posted | undefined {
    if (this.failure) return undefined;
    const key = `${src}:${tag}`;
    const q = this.posted.get(key);
    const p = q?.[0];
    if (!p || p.into.byteLength !== length) return undefined;
    q!.shift();
    if (q!.length === 0) this.posted.delete(key);
    this.claimed.add(p);
    return p;
  }

  /** Completes a claimed receive whose memory the transport has filled. */
  finish(p: Posted): void {
    if (this.claimed.delete(p)) p.resolve();
  }

  post(src: number, tag: number, into: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const key = `${src}:${tag}`;
    const u = this.unexpected.get(key);
    const payload = u?.shift();
    if (u && u.length === 0) this.unexpected.delete(key);
    return new Promise<void>((resolve, reject) => {
      const p: Posted = { into, resolve, reject };
      if (payload) this.fill(p, payload, src, tag);
      else {
        const q = this.posted.get(key);
        if (q) q.push(p); else this.posted.set(key, [p]);
      }
    });
  }

  abort(reason: Error): void {
    if (this.failure) return;
    this.failure = reason;
    for (const q of this.posted.values()) for (const p of q) p.reject(reason);
    for (const p of this.claimed) p.reject(reason);
    this.posted.clear();
    this.claimed.clear();
    this.unexpected.clear();
  }

  private fill(p: Posted, payload: Uint8Array, src: number, tag: number): void {
    if (payload.byteLength !== p.into.byteLength) {
      p.reject(new CollectiveError(
        `message from rank ${src} tag ${tag} has ${payload.byteLength} bytes, receive expects ${p.into.byteLength}`,
        'PROTOCOL'));
      return;
    }
    p.into.set(payload);
    p.resolve();
  }
}
