// The narrow waist between collective algorithms and whatever moves the bytes.

/** Raised when a collective cannot complete: a peer died, the job aborted, a timeout. */
export class CollectiveError extends Error {
  constructor(message: string, readonly code: 'ABORTED' | 'TIMEOUT' | 'PEER_EXIT' | 'CLOSED' | 'PROTOCOL' | 'UNAVAILABLE',
              options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CollectiveError';
  }
}

/** Largest tag a communicator hands to a transport (48 bits). */
export const MAX_TAG = 2 ** 48 - 1;

/**
 * Rank-addressed, tag-matched messages. A message sent by rank s to rank d with tag t
 * is received by exactly one recv(s, t) posted on d, whatever the posting order; the
 * payload length must equal the receive buffer's length. Sends settle once the
 * buffer may be reused; pending ops reject once the transport aborts.
 */
export interface Transport {
  readonly rank: number;
  readonly size: number;
  /** Human-readable name for headers and errors, e.g. 'fabric:tcp;ofi_rxm'. */
  readonly name: string;
  /** Largest single message, when the transport has a limit. */
  readonly maxMessageBytes?: number;
  /** One-sided placement into peers' memory, when the transport offers it. */
  readonly rma?: RmaOps;
  send(peer: number, tag: number, data: Uint8Array): Promise<void>;
  recv(peer: number, tag: number, into: Uint8Array): Promise<void>;
  /** Rejects every pending and future op with `reason`; idempotent. */
  abort(reason: Error): void;
  /** The first abort reason, if any. */
  readonly aborted: Error | undefined;
  close(): Promise<void>;
}

export function checkPeer(t: { size: number }, peer: number): void {
  if (!Number.isInteger(peer) || peer < 0 || peer >= t.size) {
    throw new RangeError(`peer rank ${peer} outside 0..${t.size - 1}`);
  }
}

/**
 * One-sided writes (libfabric RMA) into memory a peer exposed. A put is signalled at the
 * target with (source rank, tag) once its bytes are in place, so the target learns of it
 * without posting a receive and the data never passes through a bounce buffer.
 */
export interface RmaOps {
  /** Bytes of every handle `expose` returns on this transport (fixed, so peers can size receives). */
  readonly handleBytes: number;
  /**
   * Lets peers write into `mem`; returns the handle to give them. Throws when the memory
   * cannot be exposed. Exposures are cached for reuse and the oldest are eventually
   * withdrawn; with `keep`, `mem` is exempt from that until another `keep` exposure
   * replaces it (for long-lived memory whose handle peers hold on to).
   */
  expose(mem: Uint8Array, opts?: { keep?: boolean }): Uint8Array;
  /** Writes `data` at `offset` of the region `handle` names on `peer`; settles when the buffer may be reused. */
  put(peer: number, tag: number, data: Uint8Array, handle: Uint8Array, offset: number): Promise<void>;
  /** Resolves once the put from `peer` carrying `tag` has landed here. */
  landed(peer: number, tag: number): Promise<void>;
}
