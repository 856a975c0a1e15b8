// SES header codecs (digest section 3): standard request (+atomic/CAS/rendezvous
// extension), the optimized REQ_SMALL / REQ_MEDIUM, and the three response headers.
// Same conventions as pds.h: encode returns bytes written (0 = no room or a field too
// wide), decode never reads past len and names the failing field and offset.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/constants.h"
#include "wire/status.h"

namespace softuet::wire {

// Request extension, chosen by the SES opcode and (for atomics) the atomic opcode.
struct RequestExt {
  SesExt kind;  // set by decode; encode derives it from the opcodes and ignores this
  // atomic / CAS
  uint8_t atomic_opcode;
  uint8_t atomic_datatype;
  uint8_t semantic_ctrl;
  uint64_t compare_hi, compare_lo;  // CAS only
  uint64_t swap_hi, swap_lo;        // CAS only
  // rendezvous
  uint32_t eager_length;
  uint8_t rdv_ri_generation;
  uint16_t rdv_pid_on_fep;      // 12 bits
  uint16_t rdv_resource_index;  // 12 bits
  uint64_t rdv_offset;
  uint64_t rdv_memory_key;
};

// Which extension (and its length) follows a request with these opcodes.
SesExt request_ext_kind(uint8_t opcode, uint8_t atomic_opcode);
size_t request_ext_len(SesExt kind);

// Standard request, nh = 3 (44 B + extension).
struct SesStd {
  uint8_t opcode;   // 6 bits
  uint8_t version;  // 2 bits
  uint8_t flags;    // DC|IE|REL|HD|EOM|SOM (6 bits)
  uint16_t message_id;
  uint8_t ri_generation;
  uint32_t job_id;          // 24 bits
  uint16_t pid_on_fep;      // 12 bits
  uint16_t resource_index;  // 12 bits
  uint64_t buffer_offset;
  uint32_t initiator;
  uint64_t memory_key;  // match bits for tagged opcodes
  uint64_t header_data;     // SOM only
  uint16_t payload_length;  // !SOM only, 14 bits
  uint32_t message_offset;  // !SOM only
  uint32_t request_length;
  RequestExt ext;

  bool dc() const { return flags & sesflags::kDc; }
  bool ie() const { return flags & sesflags::kIe; }
  bool rel() const { return flags & sesflags::kRel; }
  bool hd() const { return flags & sesflags::kHd; }
  bool eom() const { return flags & sesflags::kEom; }
  bool som() const { return flags & sesflags::kSom; }
  size_t wire_len() const { return kSesStdLen + request_ext_len(request_ext_kind(opcode, ext.atomic_opcode)); }
};
DecodeStatus decode(const uint8_t* p, size_t len, SesStd* out);
size_t encode(const SesStd& h, uint8_t* out, size_t cap);

// REQ_SMALL, nh = 1 (20 B + atomic extension); single-packet, HD reserved.
struct SesSmall {
  uint8_t opcode;
  uint8_t version;
  uint8_t flags;
  uint16_t request_length;  // 14 bits
  uint8_t ri_generation;
  uint32_t job_id;
  uint16_t pid_on_fep;
  uint16_t resource_index;
  uint64_t buffer_offset;
  RequestExt ext;

  bool dc() const { return flags & sesflags::kDc; }
  bool ie() const { return flags & sesflags::kIe; }
  bool rel() const { return flags & sesflags::kRel; }
  bool hd() const { return flags & sesflags::kHd; }
  bool eom() const { return flags & sesflags::kEom; }
  bool som() const { return flags & sesflags::kSom; }
  // Only atomics extend the optimized header (there is no rendezvous form).
  size_t wire_len() const {
    return kSesSmallLen + (opcode_has_atomic_ext(opcode) ? request_ext_len(request_ext_kind(opcode, ext.atomic_opcode)) : 0);
  }
};
DecodeStatus decode(const uint8_t* p, size_t len, SesSmall* out);
size_t encode(const SesSmall& h, uint8_t* out, size_t cap);

// REQ_MEDIUM, nh = 2 (32 B); bytes 12-19 are header_data when HD, else buffer_offset.
struct SesMedium {
  uint8_t opcode;
  uint8_t version;
  uint8_t flags;
  uint16_t request_length;  // 14 bits
  uint8_t ri_generation;
  uint32_t job_id;
  uint16_t pid_on_fep;
  uint16_t resource_index;
  uint64_t buffer_offset;  // !HD
  uint64_t header_data;    // HD
  uint32_t initiator;
  uint64_t memory_key;

  bool dc() const { return flags & sesflags::kDc; }
  bool ie() const { return flags & sesflags::kIe; }
  bool rel() const { return flags & sesflags::kRel; }
  bool hd() const { return flags & sesflags::kHd; }
  bool eom() const { return flags & sesflags::kEom; }
  bool som() const { return flags & sesflags::kSom; }
  static constexpr size_t wire_len() { return kSesMediumLen; }
};
DecodeStatus decode(const uint8_t* p, size_t len, SesMedium* out);
size_t encode(const SesMedium& h, uint8_t* out, size_t cap);

// RSP, nh = 4 (12 B).
struct SesRsp {
  uint8_t list;  // 2 bits
  uint8_t opcode;  // RspOpcode, 6 bits
  uint8_t version;
  uint8_t return_code;  // ReturnCode, 6 bits
  uint16_t message_id;
  uint8_t ri_generation;
  uint32_t job_id;
  uint32_t modified_length;
  static constexpr size_t wire_len() { return kSesRspLen; }
};
DecodeStatus decode(const uint8_t* p, size_t len, SesRsp* out);
size_t encode(const SesRsp& h, uint8_t* out, size_t cap);

// RSP_DATA, nh = 5 (20 B, then data). Byte 4 is reserved.
struct SesRspData {
  uint8_t list;
  uint8_t opcode;
  uint8_t version;
  uint8_t return_code;
  uint16_t message_id;
  uint32_t job_id;
  uint16_t read_request_message_id;
  uint16_t payload_length;  // 14 bits
  uint32_t modified_length;
  uint32_t message_offset;
  static constexpr size_t wire_len() { return kSesRspDataLen; }
};
DecodeStatus decode(const uint8_t* p, size_t len, SesRspData* out);
size_t encode(const SesRspData& h, uint8_t* out, size_t cap);

// RSP_DATA_SMALL, nh = 6 (12 B, see kRspDataSmallLen).
struct SesRspDataSmall {
  uint8_t list;
  uint8_t opcode;
  uint8_t version;
  uint8_t return_code;
  uint16_t payload_length;  // 14 bits
  uint8_t ri_generation;
  uint32_t job_id;
  uint32_t original_request_psn;
  static constexpr size_t wire_len() { return kRspDataSmallLen; }
};
DecodeStatus decode(const uint8_t* p, size_t len, SesRspDataSmall* out);
size_t encode(const SesRspDataSmall& h, uint8_t* out, size_t cap);

// Any SES header, selected by the PDS nh.
enum class SesKind : uint8_t { kNone = 0, kStd, kSmall, kMedium, kRsp, kRspData, kRspDataSmall };

struct SesHeader {
  SesKind kind;
  uint16_t length;
  union {
    SesStd std_req;
    SesSmall small;
    SesMedium medium;
    SesRsp rsp;
    SesRspData rsp_data;
    SesRspDataSmall rsp_data_small;
  };
};
// nh 0 decodes to kind kNone with length 0.
DecodeStatus decode_ses(uint8_t nh, const uint8_t* p, size_t len, SesHeader* out);
size_t encode_ses(const SesHeader& h, uint8_t* out, size_t cap);

}  // namespace softuet::wire
