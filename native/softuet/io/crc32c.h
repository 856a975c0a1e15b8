// CRC32C (Castagnoli) for the UET trailer. Hardware (SSE4.2) when the CPU has it,
// because the trailer covers every payload byte and a table CRC would cap the
// provider at a few hundred MB/s.
#pragma once
#include <cstddef>
#include <cstdint>

namespace softuet {
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
inline uint32_t crc32c(const void *data, size_t len) {
  return ~crc32c_update(~0u, data, len);
}
}  // namespace softuet
