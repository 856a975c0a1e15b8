/** Input bytes that are not a valid UET header: names the offending field and byte offset. */
export class UetDecodeError extends Error {
  override name = 'UetDecodeError';
  constructor(
    readonly field: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${field} at byte ${offset}: ${detail}`);
  }
}

/** A header object that cannot be encoded (value out of range, buffer too small). */
export class UetEncodeError extends Error {
  override name = 'UetEncodeError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

export function fail(field: string, offset: number, detail: string): never {
  throw new UetDecodeError(field, offset, detail);
}

export function short(buf: Uint8Array, need: number, what: string): never {
  throw new UetDecodeError('length', buf.length, `${what} needs ${need} bytes, ${buf.length} available`);
}
