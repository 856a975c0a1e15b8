/** Raised when a CMS state machine is given a configuration or event it cannot accept. */
export class CmsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CmsError';
  }
}

export function requireFinite(name: string, v: unknown, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new CmsError(`${name} must be a finite number >= ${min}, got ${String(v)}`);
  }
  return v;
}
