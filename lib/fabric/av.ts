// Address vectors: raw endpoint names (Endpoint.address) to fi_addr_t values.
import type { NativeAv } from './native.js';

export class AddressVector {
  /** @internal */
  declare readonly native: NativeAv;
  private closed = false;

  /** @internal */
  constructor(native: NativeAv, private readonly onClose: (av: AddressVector) => void) {
    Object.defineProperty(this, 'native', { value: native, enumerable: false });
  }

  /** Inserts one peer address (the bytes of its Endpoint.address); returns its fi_addr. */
  insert(addr: Uint8Array): bigint { return this.native.insert(addr); }

  insertMany(addrs: Uint8Array[]): bigint[] { return this.native.insertMany(addrs); }

  /**
   * Inserts by host and service (fi_av_insertsvc), or from one "host:port" string
   * (fi_av_straddr form: "fi_sockaddr_in://127.0.0.1:5000" is accepted too).
   */
  insertString(address: string, service?: string): bigint {
    if (typeof address !== 'string') throw new TypeError('address must be a string');
    if (service !== undefined) return this.native.insertSvc(address, String(service));
    const m = /^(?:[a-z_0-9]+:\/\/)?\[?([^\]]+?)\]?:(\d+)$/i.exec(address);
    if (!m) throw new RangeError(`address '${address}' is not "host:port"`);
    return this.native.insertSvc(m[1]!, m[2]!);
  }

  /** The raw address stored for an fi_addr. */
  lookup(fiAddr: bigint): Buffer { return this.native.lookup(fiAddr); }

  remove(fiAddr: bigint): void { this.native.remove(fiAddr); }

  /** Printable form of a raw address (fi_av_straddr). */
  straddr(addr: Uint8Array): string { return this.native.straddr(addr); }

  close(): void {
    if (this.closed) return;
    this.native.close();
    this.closed = true;
    this.onClose(this);
  }

  async [Symbol.asyncDispose](): Promise<void> { this.close(); }
}
