// Domain: opens AVs, CQs, counters, memory regions and endpoints on one provider domain.
import { AddressVector } from './av.js';
import { Counter, type CounterEvent } from './counter.js';
import { CompletionQueue } from './cq.js';
import { fabricError } from './errors.js';
import { Endpoint } from './endpoint.js';
import type { EventQueue } from './eq.js';
import type { Fabric } from './fabric.js';
import { Info } from './info.js';
import { MemoryRegion, type Access } from './mr.js';
import { constant, constant64, native, type NativeDomain } from './native.js';

const ACCESS: Record<Access, string> = {
  send: 'FI_SEND', recv: 'FI_RECV', read: 'FI_READ', write: 'FI_WRITE',
  'remote-read': 'FI_REMOTE_READ', 'remote-write': 'FI_REMOTE_WRITE',
};
const ALL_ACCESS = Object.keys(ACCESS) as Access[];

/** @internal */
export function accessBits(names: readonly string[], what: string): bigint {
  if (!Array.isArray(names)) throw new TypeError(`${what} must be an array of names`);
  let v = 0n;
  for (const n of names) {
    const c = ACCESS[n as Access];
    if (!c) throw new RangeError(`unknown ${what} '${String(n)}' (known: ${ALL_ACCESS.join(', ')})`);
    v |= constant64(c);
  }
  return v;
}

export interface EndpointOptions {
  cq?: CompletionQueue;
  av?: AddressVector;
  counters?: Array<{ counter: Counter; events: CounterEvent[] }>;
  /** MSG endpoints: the EventQueue for connection events. */
  eq?: EventQueue;
  /** Info to open the endpoint with (default: the domain's). */
  info?: Info;
  /**
   * softuet only: this endpoint's own settings, set with fi_setopt before it is enabled.
   * They beat the process-wide FI_SOFTUET_MTU and FI_SOFTUET_CC, so endpoints of one
   * process can differ. Other providers refuse them (FI_ENOPROTOOPT).
   */
  softuet?: SoftuetEndpointOptions;
}

/** softuet's congestion management: NSCC (a window per PDC) and/or RCCC (receiver credit). */
export type SoftuetCc = 'nscc+rccc' | 'nscc' | 'rccc' | 'off';

export interface SoftuetEndpointOptions {
  /**
   * Payload bytes per packet, 256..16000 (default: what the bound interface carries
   * unfragmented, 16000 on loopback). Injects up to the info's injectSize still work.
   */
  mtu?: number;
  /** Congestion management (default 'nscc+rccc'). */
  cc?: SoftuetCc;
}

let nextId = 1;
/** @internal */
export function newEndpointId(): number { return nextId++; }

export class Domain {
  readonly fabric: Fabric;
  readonly info: Info;
  /** @internal */
  declare readonly native: NativeDomain;
  private closed = false;
  private readonly children = new Set<{ close(): void }>();

  /** @internal */
  constructor(fabric: Fabric, info: Info, private readonly onClose: (d: Domain) => void) {
    if (!(info instanceof Info)) throw new TypeError('info must be an Info from getInfo() or pickInfo()');
    const n = new (native().NativeDomain)(fabric.native, info.handle);
    Object.defineProperty(this, 'native', { value: n, enumerable: false });
    this.fabric = fabric;
    this.info = new Info(n.describe(), info.handle);
  }

  private own<T extends { close(): void }>(x: T): T {
    this.children.add(x);
    return x;
  }

  private readonly forget = (x: { close(): void }): void => { this.children.delete(x); };

  addressVector(opts: { type?: 'map' | 'table'; count?: number } = {}): AddressVector {
    const type = opts.type === undefined ? undefined : opts.type === 'map' ? constant('FI_AV_MAP')
      : opts.type === 'table' ? constant('FI_AV_TABLE') : (() => { throw new RangeError(`unknown AV type '${String(opts.type)}'`); })();
    return this.own(new AddressVector(new (native().NativeAv)(this.native, type, opts.count), this.forget));
  }

  /**
   * wait 'fd' (default): the event loop watches the CQ's wait fd. Providers without one
   * get a progress thread blocking in fi_cq_sread when the domain is thread-safe
   * (hints.threading 'safe'), else a timer polls while ops are in flight.
   * 'thread' asks for the progress thread, 'none' for polling.
   */
  completionQueue(opts: { size?: number; wait?: 'fd' | 'none' | 'thread' } = {}): CompletionQueue {
    const wait = opts.wait ?? 'fd';
    const mode = wait === 'fd' ? 0 : wait === 'none' ? 1 : wait === 'thread' ? 2 : -1;
    if (mode < 0) throw new RangeError(`wait must be 'fd', 'none' or 'thread'`);
    if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size < 0)) throw new RangeError('size must be a non-negative integer');
    return this.own(new CompletionQueue(new (native().NativeCq)(this.native, opts.size, mode), this.forget));
  }

  counter(): Counter {
    return this.own(new Counter(new (native().NativeCntr)(this.native), this.forget));
  }

  /**
   * Registers memory for the given access (default: all). The region keeps the memory
   * alive until it is closed. Slices of Node's shared Buffer pool are refused: other,
   * unrelated Buffers live in the same memory.
   */
  register(mem: ArrayBufferView | ArrayBuffer, access: readonly Access[] = ALL_ACCESS): MemoryRegion {
    if (!ArrayBuffer.isView(mem) && !(mem instanceof ArrayBuffer)) {
      throw new TypeError('buffer must be a Buffer, TypedArray, DataView or ArrayBuffer');
    }
    if (ArrayBuffer.isView(mem) && Buffer.isBuffer(mem) && mem.buffer.byteLength === Buffer.poolSize &&
        mem.byteLength < mem.buffer.byteLength) {
      throw fabricError('FI_EINVAL', 'buffer is a slice of Node\'s shared Buffer pool; use domain.allocBuffer(size) or Buffer.allocUnsafeSlow(size)');
    }
    if (mem.byteLength === 0) throw fabricError('FI_EINVAL', 'cannot register an empty buffer');
    const n = new (native().NativeMr)(this.native, mem, accessBits(access, 'access'));
    return this.own(new MemoryRegion(n, mem, [...access], this.forget));
  }

  /** Page-aligned memory allocated by the binding (zeroed). */
  allocBuffer(size: number): Buffer {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('size must be a non-negative integer');
    return this.native.allocBuffer(size);
  }

  /** An endpoint; without a CQ it gets its own, closed with it. RDM/DGRAM need an AV. */
  endpoint(opts: EndpointOptions = {}): Endpoint {
    const type = (opts.info ?? this.info).endpointType;
    const ownCq = !opts.cq;
    const cq = opts.cq ?? this.completionQueue();
    const av = opts.av ?? (type === 'msg' ? undefined : this.addressVector());
    try {
      return this.own(new Endpoint(this, { ...opts, cq, av }, ownCq ? cq : undefined, !opts.av && av ? av : undefined, this.forget));
    } catch (e) {
      if (ownCq) cq.close();
      if (!opts.av && av) av.close();
      throw e;
    }
  }

  /** MSG: opens an endpoint and connects it to a listening PassiveEndpoint's address. */
  async connect(address: Uint8Array, opts: EndpointOptions & { eq: EventQueue; timeoutMs?: number }): Promise<Endpoint> {
    const ep = this.endpoint(opts);
    try {
      ep.native.connect(address);
      await opts.eq.waitFor(ep.id, 'connected', opts.timeoutMs);
      return ep;
    } catch (e) {
      ep.close();
      throw e;
    }
  }

  /** Closes endpoints, memory regions, AVs, counters and CQs first. Idempotent. */
  close(): void {
    if (this.closed) return;
    const rank = (x: unknown): number => (x instanceof Endpoint ? 0 : x instanceof MemoryRegion ? 1 : x instanceof CompletionQueue ? 3 : 2);
    for (const c of [...this.children].sort((a, b) => rank(a) - rank(b))) c.close();
    this.native.close();
    this.closed = true;
    this.onClose(this);
  }

  get isClosed(): boolean { return this.closed; }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
