// CRC32C (Castagnoli, reflected poly 0x82F63B78, init/xorout 0xFFFFFFFF), the UET
// end-to-end trailer checksum. crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softuet::wire {

// Incremental form: start with kCrc32cInit, feed chunks, finish with crc32c_final.
inline constexpr uint32_t kCrc32cInit = 0xFFFFFFFFu;
uint32_t crc32c_update(uint32_t state, const uint8_t* p, size_t n);
inline uint32_t crc32c_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }

inline uint32_t crc32c(const uint8_t* p, size_t n) { return crc32c_final(crc32c_update(kCrc32cInit, p, n)); }

// Same result, table path only (used by tests to cross-check the SSE4.2 path).
uint32_t crc32c_update_portable(uint32_t state, const uint8_t* p, size_t n);

// Copies n bytes from src to dst (which must not overlap) and returns
// crc32c_update(state, src, n), reading src once where the CPU can fold in vectors.
uint32_t crc32c_copy(uint32_t state, uint8_t* dst, const uint8_t* src, size_t n);
// Same result by memcpy and the table path (for tests).
uint32_t crc32c_copy_portable(uint32_t state, uint8_t* dst, const uint8_t* src, size_t n);

}  // namespace softuet::wire
