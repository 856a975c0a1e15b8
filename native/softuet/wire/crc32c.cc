#include "wire/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace softuet::wire {

namespace {

// Slicing-by-4 tables, built at compile time.
constexpr std::array<std::array<uint32_t, 256>, 4> make_tables() {
  std::array<std::array<uint32_t, 256>, 4> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (int s = 1; s < 4; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  return t;
}
constexpr auto kTables = make_tables();

#if defined(__x86_64__)
// One crc32 instruction has a latency of three cycles but a throughput of one per cycle,
// so a single dependent chain runs at a third of the unit's speed. Large inputs are cut
// into blocks of three equal lanes that run as independent chains; the lanes are then
// joined by advancing the earlier lane's register over the length of the next one
// (multiplying it by x^(8*len) modulo the polynomial) and xoring in the next lane.
// That advance is linear in the register, so it is four byte-indexed table lookups.
struct Shift {
  uint32_t t[4][256];
};

__attribute__((target("sse4.2"))) void make_shift(Shift& s, size_t lane) {
  // The image of each register bit after `lane` zero bytes, then every byte value as the
  // xor of the images of its bits.
  uint32_t bit[32];
  for (int b = 0; b < 32; ++b) {
    uint64_t c = uint64_t(1) << b;
    for (size_t i = 0; i < lane; i += 8) c = _mm_crc32_u64(c, 0);
    bit[b] = uint32_t(c);
  }
  for (int k = 0; k < 4; ++k)
    for (uint32_t v = 0; v < 256; ++v) {
      uint32_t r = 0;
      for (int b = 0; b < 8; ++b)
        if (v & (1u << b)) r ^= bit[8 * k + b];
      s.t[k][v] = r;
    }
}

inline uint32_t shift(const Shift& s, uint32_t c) {
  return s.t[0][c & 0xFF] ^ s.t[1][(c >> 8) & 0xFF] ^ s.t[2][(c >> 16) & 0xFF] ^ s.t[3][c >> 24];
}

// 3 * 1360 covers a whole 4 KiB packet payload in one block.
constexpr size_t kLaneBig = 1360, kLaneSmall = 128;

struct Shifts {
  Shift big, small;
  Shifts() {
    make_shift(big, kLaneBig);
    make_shift(small, kLaneSmall);
  }
};

const Shifts& shifts() {
  static const Shifts s;
  return s;
}

__attribute__((target("sse4.2"))) inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

template <size_t Lane>
__attribute__((target("sse4.2"))) inline uint32_t three_lanes(const Shift& sh, uint32_t c, const uint8_t* p) {
  uint64_t a = c, b = 0, d = 0;
  for (size_t i = 0; i < Lane; i += 8) {
    a = _mm_crc32_u64(a, load64(p + i));
    b = _mm_crc32_u64(b, load64(p + Lane + i));
    d = _mm_crc32_u64(d, load64(p + 2 * Lane + i));
  }
  uint32_t r = shift(sh, uint32_t(a)) ^ uint32_t(b);
  return shift(sh, r) ^ uint32_t(d);
}

__attribute__((target("sse4.2"))) uint32_t update_sse42(uint32_t c, const uint8_t* p, size_t n) {
  if (n >= 3 * kLaneSmall) {
    const Shifts& s = shifts();
    while (n >= 3 * kLaneBig) {
      c = three_lanes<kLaneBig>(s.big, c, p);
      p += 3 * kLaneBig;
      n -= 3 * kLaneBig;
    }
    while (n >= 3 * kLaneSmall) {
      c = three_lanes<kLaneSmall>(s.small, c, p);
      p += 3 * kLaneSmall;
      n -= 3 * kLaneSmall;
    }
  }
  uint64_t c64 = c;
  while (n >= 8) {
    c64 = _mm_crc32_u64(c64, load64(p));
    p += 8;
    n -= 8;
  }
  c = uint32_t(c64);
  while (n--) c = _mm_crc32_u8(c, *p++);
  return c;
}

bool have_sse42() {
  static const bool yes = __builtin_cpu_supports("sse4.2");
  return yes;
}
#endif

}  // namespace

uint32_t crc32c_update_portable(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 4) {
    c ^= uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    c = kTables[3][c & 0xFF] ^ kTables[2][(c >> 8) & 0xFF] ^ kTables[1][(c >> 16) & 0xFF] ^ kTables[0][c >> 24];
    p += 4;
    n -= 4;
  }
  while (n--) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFF];
  return c;
}

uint32_t crc32c_update(uint32_t state, const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  if (have_sse42()) return update_sse42(state, p, n);
#endif
  return crc32c_update_portable(state, p, n);
}

}  // namespace softuet::wire
