#include "ses/atomic.h"

#include <rdma/fi_atomic.h>

#include <cstring>
#include <type_traits>

#include "pds/pkt.h"

namespace softuet {

size_t amo_size(uint8_t dt) {
  switch (dt) {
    case AMO_INT8: case AMO_UINT8: return 1;
    case AMO_INT16: case AMO_UINT16: return 2;
    case AMO_INT32: case AMO_UINT32: case AMO_FLOAT: return 4;
    case AMO_INT64: case AMO_UINT64: case AMO_DOUBLE: return 8;
    default: return 0;
  }
}

bool amo_is_cswap(uint8_t op) { return op >= AMO_CSWAP && op <= AMO_MSWAP; }

bool amo_from_fi(int fi_op, int fi_dt, uint8_t &op, uint8_t &dt) {
  switch (fi_dt) {
    case FI_INT8: dt = AMO_INT8; break;
    case FI_UINT8: dt = AMO_UINT8; break;
    case FI_INT16: dt = AMO_INT16; break;
    case FI_UINT16: dt = AMO_UINT16; break;
    case FI_INT32: dt = AMO_INT32; break;
    case FI_UINT32: dt = AMO_UINT32; break;
    case FI_INT64: dt = AMO_INT64; break;
    case FI_UINT64: dt = AMO_UINT64; break;
    case FI_FLOAT: dt = AMO_FLOAT; break;
    case FI_DOUBLE: dt = AMO_DOUBLE; break;
    default: return false;
  }
  switch (fi_op) {
    case FI_MIN: op = AMO_MIN; break;
    case FI_MAX: op = AMO_MAX; break;
    case FI_SUM: op = AMO_SUM; break;
    case FI_PROD: op = AMO_PROD; break;
    case FI_LOR: op = AMO_LOR; break;
    case FI_LAND: op = AMO_LAND; break;
    case FI_BOR: op = AMO_BOR; break;
    case FI_BAND: op = AMO_BAND; break;
    case FI_LXOR: op = AMO_LXOR; break;
    case FI_BXOR: op = AMO_BXOR; break;
    case FI_ATOMIC_READ: op = AMO_READ; break;
    case FI_ATOMIC_WRITE: op = AMO_WRITE; break;
    case FI_CSWAP: op = AMO_CSWAP; break;
    case FI_CSWAP_NE: op = AMO_CSWAP_NE; break;
    case FI_CSWAP_LE: op = AMO_CSWAP_LE; break;
    case FI_CSWAP_LT: op = AMO_CSWAP_LT; break;
    case FI_CSWAP_GE: op = AMO_CSWAP_GE; break;
    case FI_CSWAP_GT: op = AMO_CSWAP_GT; break;
    case FI_MSWAP: op = AMO_MSWAP; break;
    default: return false;
  }
  bool is_float = dt == AMO_FLOAT || dt == AMO_DOUBLE;
  bool bitwise = op == AMO_BOR || op == AMO_BAND || op == AMO_BXOR || op == AMO_MSWAP;
  return !(is_float && bitwise);
}

namespace {
template <class T>
uint8_t apply_t(uint8_t op, T *t, const T *a, const T *c, T *old, size_t n) {
  constexpr bool is_int = std::is_integral<T>::value;
  for (size_t i = 0; i < n; i++) {
    T cur;
    memcpy(&cur, &t[i], sizeof(T));
    T v = a ? a[i] : T{};
    T cmp = c ? c[i] : T{};
    T r = cur;
    if (old) memcpy(&old[i], &cur, sizeof(T));
    switch (op) {
      case AMO_MIN: r = v < cur ? v : cur; break;
      case AMO_MAX: r = v > cur ? v : cur; break;
      case AMO_SUM: r = (T)(cur + v); break;
      case AMO_DIFF: r = (T)(cur - v); break;
      case AMO_PROD: r = (T)(cur * v); break;
      case AMO_LOR: r = (T)((cur != T{}) || (v != T{})); break;
      case AMO_LAND: r = (T)((cur != T{}) && (v != T{})); break;
      case AMO_LXOR: r = (T)((cur != T{}) != (v != T{})); break;
      case AMO_READ: break;
      case AMO_WRITE: r = v; break;
      case AMO_CSWAP: if (cmp == cur) r = v; break;
      case AMO_CSWAP_NE: if (cmp != cur) r = v; break;
      case AMO_CSWAP_LE: if (cmp <= cur) r = v; break;
      case AMO_CSWAP_LT: if (cmp < cur) r = v; break;
      case AMO_CSWAP_GE: if (cmp >= cur) r = v; break;
      case AMO_CSWAP_GT: if (cmp > cur) r = v; break;
      default:
        if constexpr (is_int) {
          switch (op) {
            case AMO_BOR: r = (T)(cur | v); break;
            case AMO_BAND: r = (T)(cur & v); break;
            case AMO_BXOR: r = (T)(cur ^ v); break;
            case AMO_MSWAP: r = (T)((v & cmp) | (cur & ~cmp)); break;
            default: return pkt::RC_AMO_UNSUPPORTED_OP;
          }
        } else {
          return pkt::RC_AMO_UNSUPPORTED_OP;
        }
    }
    memcpy(&t[i], &r, sizeof(T));
  }
  return pkt::RC_OK;
}
}  // namespace

uint8_t amo_apply(uint8_t op, uint8_t dt, void *target, const void *operand, const void *compare,
                  void *old, size_t n) {
  if (op > AMO_MSWAP) return pkt::RC_AMO_UNSUPPORTED_OP;
#define SOFTUET_AMO(T) \
  return apply_t<T>(op, (T *)target, (const T *)operand, (const T *)compare, (T *)old, n)
  switch (dt) {
    case AMO_INT8: SOFTUET_AMO(int8_t);
    case AMO_UINT8: SOFTUET_AMO(uint8_t);
    case AMO_INT16: SOFTUET_AMO(int16_t);
    case AMO_UINT16: SOFTUET_AMO(uint16_t);
    case AMO_INT32: SOFTUET_AMO(int32_t);
    case AMO_UINT32: SOFTUET_AMO(uint32_t);
    case AMO_INT64: SOFTUET_AMO(int64_t);
    case AMO_UINT64: SOFTUET_AMO(uint64_t);
    case AMO_FLOAT: SOFTUET_AMO(float);
    case AMO_DOUBLE: SOFTUET_AMO(double);
    default: return pkt::RC_AMO_UNSUPPORTED_DT;
  }
#undef SOFTUET_AMO
}

}  // namespace softuet
