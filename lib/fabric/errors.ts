// FabricError: every failure that comes from libfabric (or that the binding refuses before
// asking libfabric) carries the fi_errno.h code name, so callers switch on `code`.

/** Code names from fi_errno.h, e.g. 'FI_EINVAL', 'FI_ECANCELED', 'FI_EOPNOTSUPP'. */
export type FabricErrorCode = `FI_E${string}` | `E${string}`;

export class FabricError extends Error {
  override readonly name = 'FabricError';
  /** fi_errno.h name, e.g. 'FI_EINVAL'. */
  readonly code: FabricErrorCode;
  /** Positive libfabric errno value. */
  readonly errno: number;
  /** Provider-specific error number of an error completion, when the provider gave one. */
  readonly providerErrno?: number;
  /** Provider text of an error completion (fi_cq_strerror), when there is one. */
  readonly providerMessage?: string;

  constructor(message: string, code: string, errno: number, providerErrno?: number, providerMessage?: string) {
    super(message);
    this.code = code as FabricErrorCode;
    this.errno = errno;
    if (providerErrno !== undefined) this.providerErrno = providerErrno;
    if (providerMessage !== undefined && providerMessage !== '') this.providerMessage = providerMessage;
  }
}

// Numbers for the codes the TypeScript layer raises itself (Linux values, as fi_errno.h
// maps them; replaced by the addon's generated table once it is loaded).
const fallback: Record<string, number> = {
  FI_EINVAL: 22, FI_ENOSYS: 38, FI_ENODATA: 61, FI_EOPNOTSUPP: 95, FI_ETIMEDOUT: 110,
  FI_ECANCELED: 125, FI_EBUSY: 16, FI_EMSGSIZE: 90,
};
let table: Record<string, number> = fallback;

/** @internal */
export function setErrnoTable(t: Record<string, number>): void {
  table = { ...fallback, ...t };
}

/** A FabricError raised by the binding itself (validation before any fi_* call). */
export function fabricError(code: string, message: string): FabricError {
  return new FabricError(`${message} (${code})`, code, table[code] ?? 0);
}
