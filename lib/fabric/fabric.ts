// Fabric: the root object; domains and event queues hang from it.
import { Domain } from './domain.js';
import { EventQueue } from './eq.js';
import { Info } from './info.js';
import { native, type NativeFabric } from './native.js';
import { PassiveEndpoint } from './endpoint.js';

export class Fabric {
  readonly info: Info;
  /** @internal */
  declare readonly native: NativeFabric;
  private closed = false;
  private readonly children = new Set<{ close(): void }>();

  constructor(info: Info) {
    if (!(info instanceof Info)) throw new TypeError('info must be an Info from getInfo() or pickInfo()');
    Object.defineProperty(this, 'native', { value: new (native().NativeFabric)(info.handle), enumerable: false });
    this.info = info;
  }

  /** Opens a domain (by default on the Info this fabric was opened with). */
  domain(info: Info = this.info): Domain {
    const d = new Domain(this, info, (x) => this.children.delete(x));
    this.children.add(d);
    return d;
  }

  eventQueue(opts: { size?: number } = {}): EventQueue {
    const eq = new EventQueue(new (native().NativeEq)(this.native, opts.size), (x) => this.children.delete(x));
    this.children.add(eq);
    return eq;
  }

  /** A listening passive endpoint for MSG connections (Info of endpointType 'msg'). */
  listen(opts: { eq?: EventQueue; info?: Info } = {}): PassiveEndpoint {
    const eq = opts.eq ?? this.eventQueue();
    const pep = new PassiveEndpoint(this, opts.info ?? this.info, eq, !opts.eq, (x) => this.children.delete(x));
    this.children.add(pep);
    return pep;
  }

  /** Closes every domain and event queue first. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const c of [...this.children]) c.close();
    this.native.close();
    this.closed = true;
  }

  get isClosed(): boolean { return this.closed; }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
