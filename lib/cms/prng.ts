/**
 * xorshift32 with a murmur3-style seed scrambler. Chosen because every step is a 32-bit
 * integer operation, so the C++ port (native/softuet/cms/prng.h) yields the same stream
 * and recorded traces replay bit for bit.
 */
export class Xorshift32 {
  private s: number;

  constructor(seed: number) {
    let z = (seed >>> 0) ^ 0x9e3779b9;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    // Zero is the one fixed point of xorshift.
    this.s = z === 0 ? 0x6d2b79f5 : z;
  }

  nextU32(): number {
    let x = this.s;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    this.s = x;
    return x;
  }

  /** Uniform-ish in [0, n); the modulo bias is irrelevant for path choice and keeps ports exact. */
  below(n: number): number {
    return this.nextU32() % n;
  }

  /** In [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }
}
