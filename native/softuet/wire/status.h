// Result of decoding one header: which field is wrong and at which byte offset (from
// the start of the header being decoded, or of the UDP payload for parse_packet).
#pragma once

#include <cstdint>

namespace softuet::wire {

enum class WireError : uint8_t {
  kOk = 0,
  kTruncated,          // the buffer ends inside `field`
  kUnknownType,        // reserved PDS type, or a type this decoder does not handle
  kUnknownNextHeader,  // reserved nh / ctl_type
  kUnknownValue,       // reserved enumerated value (cc_type, ACK REQ=3, ...)
  kReserved,           // a reserved bit or field is not zero
  kLengthOverrun,      // a length field exceeds its limit or the bytes present
  kBadCrc,             // CRC32C trailer mismatch
};

const char* wire_error_name(WireError e);

struct DecodeStatus {
  WireError error;
  uint16_t offset;    // byte offset of `field`
  const char* field;  // digest field name (snake_case), static storage; "" when ok

  constexpr bool ok() const { return error == WireError::kOk; }
};

inline constexpr DecodeStatus kDecodeOk{WireError::kOk, 0, ""};

constexpr DecodeStatus decode_error(WireError e, const char* field, uint16_t offset) {
  return DecodeStatus{e, offset, field};
}

}  // namespace softuet::wire
