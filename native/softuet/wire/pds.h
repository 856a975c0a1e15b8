// PDS header codecs (digest section 2.5). Plain structs with fixed-width fields; the
// 7-bit `flags` field is kept raw and the named bits are accessors, so what was on the
// wire round-trips exactly.
//
//   size_t encode(const X&, uint8_t* out, size_t cap)
//       bytes written; 0 if cap is too small or a field does not fit its wire width
//       (e.g. psn_offset > 4095, a 24-bit value >= 2^24, a type the struct cannot hold,
//       a reserved flag bit set): what encode accepts, decode accepts.
//   DecodeStatus decode(const uint8_t* p, size_t len, X* out)
//       never reads past len, never allocates; on error names the field and its offset.
//
// Decoders are strict: reserved flag bits, reserved fields and reserved enumerated
// values are rejected, because a peer setting them speaks a version we do not.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/constants.h"
#include "wire/status.h"

namespace softuet::wire {

struct Prologue {
  uint8_t type;   // 5 bits
  uint8_t nh;     // 4 bits (ctl_type for CP)
  uint8_t flags;  // 7 bits
};

// Reads the prologue (2 bytes). Validates nothing but the length.
DecodeStatus decode(const uint8_t* p, size_t len, Prologue* out);
size_t encode(const Prologue& h, uint8_t* out, size_t cap);

// RUD_REQ/ROD_REQ (types 2/3, 12 B) and RUD_CC_REQ/ROD_CC_REQ (13/14, 16 B).
struct PdsRequest {
  uint8_t type;
  uint8_t nh;
  uint8_t flags;
  int16_t clear_psn_offset;  // CLEAR_PSN = psn + clear_psn_offset
  uint32_t psn;
  uint16_t spdcid;
  uint16_t dpdcid;       // SYN = 0
  bool use_rsv_pdc;      // SYN = 1
  uint16_t psn_offset;   // SYN = 1: psn - Start_PSN, 12 bits
  uint8_t ccc_id;        // CC types only
  uint32_t credit_target;  // CC types only, 24 bits

  bool retx() const { return flags & flags::kReqRetx; }
  bool ar() const { return flags & flags::kReqAr; }
  bool syn() const { return flags & flags::kReqSyn; }
  bool has_cc() const { return type == 13 || type == 14; }
  bool rod() const { return type == 3 || type == 14; }
  uint32_t clear_psn() const { return psn + uint32_t(int32_t(clear_psn_offset)); }
  uint32_t start_psn() const { return psn - psn_offset; }
  size_t wire_len() const { return has_cc() ? 16 : 12; }
};
DecodeStatus decode(const uint8_t* p, size_t len, PdsRequest* out);
size_t encode(const PdsRequest& h, uint8_t* out, size_t cap);

// ACK (7: 12 B, 16 B with EPSN), ACK_CC (8: 32 B), ACK_CCX (9: 40 B).
struct Ack {
  uint8_t type;
  uint8_t nh;  // 0 or an SES response header (4/5/6)
  uint8_t flags;
  int16_t ack_psn_offset;  // with P: the probe_opaque echoed from the PROBE CP
  uint32_t cack_psn;
  uint16_t spdcid;
  uint16_t dpdcid;
  uint32_t expected_psn;  // ACK with EPSN only
  // ACK_CC / ACK_CCX
  uint8_t cc_type;  // 4 bits: CcType
  uint8_t cc_flags;  // 4 bits
  uint8_t mpr;
  int16_t sack_psn_offset;  // SACK_BASE = cack_psn + sack_psn_offset
  uint64_t sack_bitmap;     // bit i (LSB = 0) => SACK_BASE + i received
  // ACK_CC, cc_type NSCC
  uint16_t service_time;
  uint8_t rc;             // 1 bit
  uint8_t rcv_cwnd_pend;  // 7 bits
  uint32_t rcvd_bytes;    // 24 bits
  // ACK_CC, cc_type CREDIT
  uint32_t credit;  // 24 bits
  // ACK_CC (both cc_types)
  uint16_t ooo_count;
  // ACK_CCX: 16 B opaque, ccx_type = top nibble
  uint64_t ccx_state_hi;
  uint64_t ccx_state_lo;

  bool epsn() const { return flags & flags::kAckEpsn; }
  bool m() const { return flags & flags::kAckM; }
  bool retx() const { return flags & flags::kAckRetx; }
  bool p() const { return flags & flags::kAckP; }
  uint8_t req() const { return (flags & flags::kAckReqMask) >> flags::kAckReqShift; }
  uint16_t probe_opaque() const { return uint16_t(ack_psn_offset); }
  uint8_t ccx_type() const { return uint8_t(ccx_state_hi >> 60); }
  uint32_t ack_psn() const { return cack_psn + uint32_t(int32_t(ack_psn_offset)); }
  uint32_t sack_base() const { return cack_psn + uint32_t(int32_t(sack_psn_offset)); }
  size_t wire_len() const {
    return type == 8 ? 32 : type == 9 ? kAckCcxLen : (flags & flags::kAckEpsn) ? 16 : 12;
  }
};
DecodeStatus decode(const uint8_t* p, size_t len, Ack* out);
size_t encode(const Ack& h, uint8_t* out, size_t cap);

// NACK (10: 16 B) and NACK_CCX (12: 32 B).
struct Nack {
  uint8_t type;
  uint8_t nh;
  uint8_t flags;
  uint8_t nack_code;  // NackCode; see nack_info() for the initiator's action
  uint8_t vendor_code;
  uint32_t nack_psn;  // NT = 1: the RUDI pkt_id
  uint16_t spdcid;
  uint16_t dpdcid;
  uint32_t payload;  // code-specific (NEW_START_PSN: the new start)
  // NACK_CCX
  uint8_t nccx_type;         // 4 bits
  uint64_t nack_ccx_state1;  // 60 bits
  uint64_t nack_ccx_state2;

  bool m() const { return flags & flags::kNackM; }
  bool retx() const { return flags & flags::kNackRetx; }
  bool nt() const { return flags & flags::kNackNt; }
  size_t wire_len() const { return type == 12 ? kNackCcxLen : 16; }
};
DecodeStatus decode(const uint8_t* p, size_t len, Nack* out);
size_t encode(const Nack& h, uint8_t* out, size_t cap);

// CP (11: 16 B). No SES header follows a CP.
struct Cp {
  uint8_t ctl_type;  // CtlType, in the nh nibble
  uint8_t flags;
  uint16_t probe_opaque;  // PROBE; otherwise sent as 0
  uint32_t psn;
  uint16_t spdcid;
  uint16_t dpdcid;      // SYN = 0
  bool use_rsv_pdc;     // SYN = 1
  uint16_t psn_offset;  // SYN = 1
  uint32_t payload;

  bool isrod() const { return flags & flags::kCpIsrod; }
  bool retx() const { return flags & flags::kCpRetx; }
  bool ar() const { return flags & flags::kCpAr; }
  bool syn() const { return flags & flags::kCpSyn; }
  static constexpr size_t wire_len() { return 16; }
};
DecodeStatus decode(const uint8_t* p, size_t len, Cp* out);
size_t encode(const Cp& h, uint8_t* out, size_t cap);

// RUDI_REQ / RUDI_RESP (4/5: 8 B).
struct Rudi {
  uint8_t type;
  uint8_t nh;
  uint8_t flags;
  uint32_t pkt_id;

  bool m() const { return flags & flags::kRudiM; }
  bool retx() const { return flags & flags::kRudiRetx; }
  static constexpr size_t wire_len() { return 8; }
};
DecodeStatus decode(const uint8_t* p, size_t len, Rudi* out);
size_t encode(const Rudi& h, uint8_t* out, size_t cap);

// UUD_REQ (6: 4 B).
struct Uud {
  uint8_t nh;
  uint8_t flags;  // all reserved
  static constexpr size_t wire_len() { return 4; }
};
DecodeStatus decode(const uint8_t* p, size_t len, Uud* out);
size_t encode(const Uud& h, uint8_t* out, size_t cap);

// Entropy header (native IP only; over UDP the EV is the UDP source port).
struct Entropy {
  uint16_t entropy;
  static constexpr size_t wire_len() { return kEntropyLen; }
};
DecodeStatus decode(const uint8_t* p, size_t len, Entropy* out);
size_t encode(const Entropy& h, uint8_t* out, size_t cap);

// TSS header (type 1: 12 B, 16 B with SSI). softuet does not implement TSS; this is
// here so such packets are recognised and skipped cleanly.
struct Tss {
  bool sp;  // SSI present
  bool an;
  uint32_t sdi;  // 24 bits
  uint32_t ssi;  // SP only
  uint16_t epoch;
  uint64_t counter;  // 48 bits

  uint64_t tsc() const { return uint64_t(epoch) << 48 | counter; }
  size_t wire_len() const { return sp ? kTssSsiLen : kTssLen; }
};
DecodeStatus decode(const uint8_t* p, size_t len, Tss* out);
size_t encode(const Tss& h, uint8_t* out, size_t cap);

// Any PDS header, selected by the prologue type. decode_pds rejects type 1 (a TSS
// header is not a PDS header: it wraps one); parse_packet reports TSS as kind kTss.
enum class PdsKind : uint8_t { kNone = 0, kTss, kRequest, kRudi, kUud, kAck, kNack, kCp };

struct PdsHeader {
  PdsKind kind;
  uint8_t type;  // PDS type code
  uint16_t length;  // bytes the header occupies
  union {
    PdsRequest req;
    Ack ack;
    Nack nack;
    Cp cp;
    Rudi rudi;
    Uud uud;
    Tss tss;
  };
  // nh of the header (NONE for CP, TSS)
  uint8_t next_header() const;
};
DecodeStatus decode_pds(const uint8_t* p, size_t len, PdsHeader* out);
size_t encode_pds(const PdsHeader& h, uint8_t* out, size_t cap);

}  // namespace softuet::wire
