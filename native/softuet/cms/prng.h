// xorshift32 with a murmur3-style seed scrambler; the same stream as lib/cms/prng.ts so
// entropy traces recorded from the TypeScript reference replay exactly.
#pragma once

#include <cstdint>

namespace softuet::cms {

class Xorshift32 {
 public:
  explicit Xorshift32(uint32_t seed) {
    uint32_t z = seed ^ 0x9e3779b9u;
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    z = z ^ (z >> 16);
    s_ = z == 0 ? 0x6d2b79f5u : z;  // zero is xorshift's fixed point
  }
  uint32_t next_u32() {
    uint32_t x = s_;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s_ = x;
    return x;
  }
  uint32_t below(uint32_t n) { return next_u32() % n; }
  double unit() { return next_u32() / 4294967296.0; }

 private:
  uint32_t s_;
};

}  // namespace softuet::cms
