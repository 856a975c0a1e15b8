#include "wire/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
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

// Long inputs on CPUs with VPCLMULQDQ: carry-less multiplication folds 64 bytes at a
// time into a 512-bit remainder (four 128-bit lanes) that stays congruent to the data
// modulo the polynomial, at several times the speed of the crc32 instruction, which
// then finishes on the last 16 bytes of remainder. Folding a 128-bit lane forward by
// d bits multiplies its low half by x^(d+32) and its high half by x^(d-32) mod P, both
// bit-reflected and shifted left by one, as the reflected CRC needs.
uint64_t fold_const(unsigned e) {
  uint32_t r = 1;  // x^e mod P, P = 0x1EDC6F41 in normal bit order
  for (unsigned i = 0; i < e; ++i) r = (r << 1) ^ ((r & 0x80000000u) ? 0x1EDC6F41u : 0);
  uint32_t rev = 0;
  for (int i = 0; i < 32; ++i)
    if (r >> i & 1) rev |= 1u << (31 - i);
  return uint64_t(rev) << 1;
}

struct FoldConsts {
  // k[i]: fold by 16 * (i + 1) bytes for i < 4, then by 128, 192, 256 bytes;
  // {low half, high half}
  uint64_t k[7][2];
  FoldConsts() {
    const unsigned bytes[7] = {16, 32, 48, 64, 128, 192, 256};
    for (unsigned i = 0; i < 7; ++i) {
      unsigned d = 8 * bytes[i];
      k[i][0] = fold_const(d + 32);
      k[i][1] = fold_const(d - 32);
    }
  }
};

const FoldConsts& fold_consts() {
  static const FoldConsts f;
  return f;
}

bool have_vpclmul() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq") &&
                          __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2");
  return yes;
}

constexpr size_t kFoldMin = 256;

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) inline __m128i fold128(__m128i x, const uint64_t* k) {
  __m128i kk = _mm_set_epi64x((long long)k[1], (long long)k[0]);
  return _mm_xor_si128(_mm_clmulepi64_si128(x, kk, 0x00), _mm_clmulepi64_si128(x, kk, 0x11));
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) inline __m512i kz(const FoldConsts& f, int i) {
  return _mm512_set_epi64((long long)f.k[i][1], (long long)f.k[i][0], (long long)f.k[i][1], (long long)f.k[i][0],
                          (long long)f.k[i][1], (long long)f.k[i][0], (long long)f.k[i][1], (long long)f.k[i][0]);
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) inline __m512i fold(__m512i x, __m512i k, __m512i next) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                   0x96);
}

template <bool Copy>
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) inline __m512i ld(const uint8_t* p, uint8_t* d) {
  __m512i v = _mm512_loadu_si512((const void*)p);
  if (Copy) _mm512_storeu_si512((void*)d, v);
  return v;
}

template <bool Copy>
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) inline __m128i ld16(const uint8_t* p, uint8_t* d) {
  __m128i v = _mm_loadu_si128((const __m128i*)p);
  if (Copy) _mm_storeu_si128((__m128i*)d, v);
  return v;
}

// With Copy, every byte read is also stored to d at the same offset: the receiver checks
// a packet while placing it, so the payload is read once instead of twice.
template <bool Copy>
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) uint32_t fold_vpclmul(uint32_t c, const uint8_t* p,
                                                                                   size_t n, uint8_t* d) {
  const FoldConsts& f = fold_consts();
  // Four independent 64-byte accumulators while 256 bytes remain (one chain would wait
  // on each multiply's latency), then one.
  __m512i acc = ld<Copy>(p, d);
  acc = _mm512_xor_si512(acc, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)c)));
  if (n >= 512) {
    __m512i a1 = ld<Copy>(p + 64, d + 64), a2 = ld<Copy>(p + 128, d + 128),
            a3 = ld<Copy>(p + 192, d + 192);
    p += 256;
    if (Copy) d += 256;
    n -= 256;
    const __m512i k256 = kz(f, 6);
    while (n >= 256) {
      acc = fold(acc, k256, ld<Copy>(p, d));
      a1 = fold(a1, k256, ld<Copy>(p + 64, d + 64));
      a2 = fold(a2, k256, ld<Copy>(p + 128, d + 128));
      a3 = fold(a3, k256, ld<Copy>(p + 192, d + 192));
      p += 256;
      if (Copy) d += 256;
      n -= 256;
    }
    acc = fold(acc, kz(f, 5), fold(a1, kz(f, 4), fold(a2, kz(f, 3), a3)));
  } else {
    p += 64;
    if (Copy) d += 64;
    n -= 64;
  }
  const __m512i k64 = kz(f, 3);
  while (n >= 64) {
    acc = fold(acc, k64, ld<Copy>(p, d));
    p += 64;
    if (Copy) d += 64;
    n -= 64;
  }
  // Four lanes, earliest first, into one: each folded over the lanes after it.
  alignas(64) __m128i lane[4];
  _mm512_store_si512((void*)lane, acc);
  __m128i r = lane[3];
  r = _mm_xor_si128(r, fold128(lane[2], f.k[0]));
  r = _mm_xor_si128(r, fold128(lane[1], f.k[1]));
  r = _mm_xor_si128(r, fold128(lane[0], f.k[2]));
  while (n >= 16) {
    r = _mm_xor_si128(fold128(r, f.k[0]), ld16<Copy>(p, d));
    p += 16;
    if (Copy) d += 16;
    n -= 16;
  }
  if (Copy) std::memcpy(d, p, n);
  uint64_t c64 = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(r));
  c64 = _mm_crc32_u64(c64, (uint64_t)_mm_extract_epi64(r, 1));
  while (n >= 8) {
    c64 = _mm_crc32_u64(c64, load64(p));
    p += 8;
    n -= 8;
  }
  c = uint32_t(c64);
  while (n--) c = _mm_crc32_u8(c, *p++);
  return c;
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
  // d is never written without Copy, but it is offset like p, and offsetting a null
  // pointer is undefined: hand it p.
  if (n >= kFoldMin && have_vpclmul()) return fold_vpclmul<false>(state, p, n, const_cast<uint8_t*>(p));
  if (have_sse42()) return update_sse42(state, p, n);
#endif
  return crc32c_update_portable(state, p, n);
}

uint32_t crc32c_copy_portable(uint32_t state, uint8_t* dst, const uint8_t* src, size_t n) {
  std::memcpy(dst, src, n);
  return crc32c_update_portable(state, src, n);
}

uint32_t crc32c_copy(uint32_t state, uint8_t* dst, const uint8_t* src, size_t n) {
#if defined(__x86_64__)
  if (n >= kFoldMin && have_vpclmul()) return fold_vpclmul<true>(state, src, n, dst);
#endif
  // Without the folding unit the crc32 instruction is the bottleneck either way; copy
  // first so the check reads from the cache.
  std::memcpy(dst, src, n);
  return crc32c_update(state, dst, n);
}

}  // namespace softuet::wire
