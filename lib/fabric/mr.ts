// Registered memory and the serialisable handle a peer needs to reach it.
import { fabricError } from './errors.js';
import type { NativeMr } from './native.js';

export type Access = 'send' | 'recv' | 'read' | 'write' | 'remote-read' | 'remote-write';

/** What a peer needs for RMA into a region: where, which key, how many bytes. */
export interface RemoteRegion {
  addr: bigint;
  key: bigint;
  length: number;
}

export class MemoryRegion {
  /** The registered memory (a view of what was registered). */
  readonly buffer: ArrayBufferView | ArrayBuffer;
  readonly length: number;
  readonly access: readonly Access[];
  /** @internal */
  declare readonly native: NativeMr;
  private closed = false;

  /** @internal */
  constructor(native: NativeMr, buffer: ArrayBufferView | ArrayBuffer, access: readonly Access[], private readonly onClose: (mr: MemoryRegion) => void) {
    Object.defineProperty(this, 'native', { value: native, enumerable: false });
    this.buffer = buffer;
    this.length = buffer.byteLength;
    this.access = access;
  }

  /** The key a peer uses (FI_MR_PROV_KEY: chosen by the provider). */
  get key(): bigint { return this.native.key(); }

  /** A handle for peers: bytes [offset, offset + length) of this region. */
  remote(offset = 0, length?: number): RemoteRegion {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('offset must be a non-negative integer');
    if (offset > this.length) throw new RangeError(`offset ${offset} is past the end of the region (${this.length} bytes)`);
    const len = length ?? this.length - offset;
    if (!Number.isSafeInteger(len) || len < 0) throw new RangeError('length must be a non-negative integer');
    if (offset + len > this.length) throw new RangeError(`offset + length (${offset + len}) exceeds the region's ${this.length} bytes`);
    return { addr: this.native.addr(offset), key: this.native.key(), length: len };
  }

  /**
   * FI_MR_ENDPOINT providers scope a region to one endpoint: bind it, then it is enabled.
   * A no-op on providers without that mode.
   */
  bind(endpoint: { readonly native: unknown }): void {
    this.native.bind(endpoint.native as never);
  }

  /** Deregisters; refused with FI_EBUSY while ops using the region are in flight. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    this.onClose(this);
  }

  get isClosed(): boolean { return this.closed; }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}

const REMOTE_BYTES = 24;

/** RemoteRegion -> 24 bytes (addr, key, length; little-endian u64 each). */
export function encodeRemote(r: RemoteRegion): Buffer {
  checkRemote(r, 'remote');
  const b = Buffer.alloc(REMOTE_BYTES);
  b.writeBigUInt64LE(r.addr, 0);
  b.writeBigUInt64LE(r.key, 8);
  b.writeBigUInt64LE(BigInt(r.length), 16);
  return b;
}

export function decodeRemote(b: Uint8Array): RemoteRegion {
  if (!(b instanceof Uint8Array) || b.byteLength !== REMOTE_BYTES) {
    throw fabricError('FI_EINVAL', `an encoded RemoteRegion has ${REMOTE_BYTES} bytes`);
  }
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const length = buf.readBigUInt64LE(16);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw fabricError('FI_EINVAL', 'RemoteRegion length is too large');
  return { addr: buf.readBigUInt64LE(0), key: buf.readBigUInt64LE(8), length: Number(length) };
}

/** @internal */
export function checkRemote(r: RemoteRegion, what: string): void {
  if (r === null || typeof r !== 'object') throw new TypeError(`${what} must be a RemoteRegion {addr, key, length}`);
  if (typeof r.addr !== 'bigint' || r.addr < 0n) throw new TypeError(`${what}.addr must be a non-negative bigint`);
  if (typeof r.key !== 'bigint' || r.key < 0n) throw new TypeError(`${what}.key must be a non-negative bigint`);
  if (!Number.isSafeInteger(r.length) || r.length < 0) throw new TypeError(`${what}.length must be a non-negative integer`);
}
