// Target-side execution of UET atomics (digest §3.5 opcode/datatype codes) and the
// mapping from libfabric's fi_op / fi_datatype.
#pragma once
#include <cstddef>
#include <cstdint>

namespace softuet {

enum AmoOp : uint8_t {
  AMO_MIN = 0x00, AMO_MAX = 0x01, AMO_SUM = 0x02, AMO_DIFF = 0x03, AMO_PROD = 0x04,
  AMO_LOR = 0x05, AMO_LAND = 0x06, AMO_BOR = 0x07, AMO_BAND = 0x08, AMO_LXOR = 0x09,
  AMO_BXOR = 0x0A, AMO_READ = 0x0B, AMO_WRITE = 0x0C, AMO_CSWAP = 0x0D, AMO_CSWAP_NE = 0x0E,
  AMO_CSWAP_LE = 0x0F, AMO_CSWAP_LT = 0x10, AMO_CSWAP_GE = 0x11, AMO_CSWAP_GT = 0x12,
  AMO_MSWAP = 0x13,
};
enum AmoType : uint8_t {
  AMO_INT8 = 0, AMO_UINT8 = 1, AMO_INT16 = 2, AMO_UINT16 = 3, AMO_INT32 = 4, AMO_UINT32 = 5,
  AMO_INT64 = 6, AMO_UINT64 = 7, AMO_FLOAT = 0x0A, AMO_DOUBLE = 0x0B,
};

// Returns the element size, 0 for an unsupported datatype.
size_t amo_size(uint8_t dt);
bool amo_is_cswap(uint8_t op);  // needs compare operands
// fi_op / fi_datatype (as ints) -> UET codes; false when softuet does not support it.
bool amo_from_fi(int fi_op, int fi_dt, uint8_t &op, uint8_t &dt);
// Applies op element-wise to target[count]. operand may be null for READ; compare is
// used by the CSWAP family and MSWAP (mask). old (optional) receives prior values.
// Returns a UET return code (RC_OK on success).
uint8_t amo_apply(uint8_t op, uint8_t dt, void *target, const void *operand, const void *compare,
                  void *old, size_t count);

}  // namespace softuet
