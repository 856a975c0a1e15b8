// UET 1.0/1.0.1 wire constants: one table per fact. Values follow the shared digest
// (/work/shared/uet/digest.md, sections 2 and 3); where the public sources disagree the
// choice is a named constexpr below (the same choices lib/uet/constants.ts makes), with
// the rejected alternative in its comment.
#pragma once

#include <cstddef>
#include <cstdint>

namespace softuet::wire {

// ---------------------------------------------------------------------------------
// Encapsulation

inline constexpr uint16_t kUdpPort = 4793;          // IANA; RP's 49150 and the draft's 5432 are stale
inline constexpr uint8_t kNativeIpProto = 253;      // experimental value used by every source
inline constexpr size_t kCrcTrailerLen = 4;         // CRC32C end-to-end trailer (no TSS)
inline constexpr size_t kIcvLen = 16;               // AES-GCM tag when TSS is present

// ---------------------------------------------------------------------------------
// Conflict choices (digest section 7). Each names the alternative it rejects.

// ACK_CCX = ACK_CC's first 24 B + 16 B opaque ccx_state (ccx_type = top nibble of
// byte 24). Alternative: X2's 32 B (8 B state).
inline constexpr size_t kAckCcxLen = 40;
// NACK_CCX = NACK(16) + nccx_type(4) + state1(60) + state2(64). Alternative: X2's 24 B.
inline constexpr size_t kNackCcxLen = 32;
// RSP_DATA_SMALL is 12 B (RP, X2). Alternative: WS decodes only 4 B.
inline constexpr size_t kRspDataSmallLen = 12;
// Rendezvous ext bytes 4-7 split as RP: [31:24] ri_generation, [23:12] pid_on_fep,
// [11:0] resource_index. Alternative: WS shows 2+14 / 4+12 bits.
inline constexpr bool kRdvSplitRp = true;
// REQ_SMALL bytes 2-3 carry [13:0] request_length (WS, RP). Alternative: X2 message_id.
inline constexpr bool kSmallHasRequestLength = true;
// ACK flag 0x40 is EPSN (RP): a 4-byte expected_psn follows the 12 B ACK (type 7
// only). Alternative: reserved (WS, LUA).
inline constexpr bool kAckEpsnFlag = true;
// CP flag 0x20 is ISROD (RP, LUA, X2). Alternative: reserved (WS).
inline constexpr bool kCpIsrodFlag = true;
// CRC32C trailer is big-endian like every other field. Alternative: RP's host order
// (little-endian on x86).
inline constexpr bool kCrcTrailerBigEndian = true;
// CRC32C covers IP src+dst (8 or 32 B), the UDP header (8 B, checksum as sent), then
// the UET bytes up to the trailer. No alternative in the sources.
inline constexpr size_t kCrcIpv4AddrLen = 8;
inline constexpr size_t kCrcIpv6AddrLen = 32;
inline constexpr size_t kUdpHeaderLen = 8;
// SACK base is taken as sent (SACK_BASE = CACK_PSN + sack_psn_offset). Alternative:
// the pre-1.0 draft aligned it down to a multiple of 8.
inline constexpr uint32_t kSackBaseAlign = 1;

// ---------------------------------------------------------------------------------
// PDS (digest 2.2): 5-bit type in the prologue

enum class PdsType : uint8_t {
  kReserved0 = 0,
  kTss = 1,
  kRudReq = 2,
  kRodReq = 3,
  kRudiReq = 4,
  kRudiResp = 5,
  kUudReq = 6,
  kAck = 7,
  kAckCc = 8,
  kAckCcx = 9,
  kNack = 10,
  kCp = 11,
  kNackCcx = 12,
  kRudCcReq = 13,
  kRodCcReq = 14,
};
inline constexpr uint8_t kPdsTypeMax = 14;  // 15-31 reserved

// Fixed PDS header length by type; 0 = reserved/unknown. TSS is 12 or 16 (SSI) and
// ACK grows to 16 with EPSN, so those two are the minimum here.
inline constexpr uint8_t kPdsHeaderLen[32] = {
    0, 12, 12, 12, 8, 8, 4, 12, 32, kAckCcxLen, 16, 16, kNackCcxLen, 16, 16, 0,
    0, 0,  0,  0,  0, 0, 0, 0,  0,  0,          0,  0,  0,           0,  0,  0};

// Prologue masks (16-bit word).
inline constexpr uint16_t kPrologueTypeMask = 0xF800;
inline constexpr unsigned kPrologueTypeShift = 11;
inline constexpr uint16_t kPrologueNhMask = 0x0780;
inline constexpr unsigned kPrologueNhShift = 7;
inline constexpr uint16_t kPrologueFlagsMask = 0x007F;

// Next header (nh) values (digest 2.3). For CP the nibble is ctl_type instead.
enum class NextHeader : uint8_t {
  kNone = 0,
  kReqSmall = 1,
  kReqMedium = 2,
  kReqStd = 3,
  kRsp = 4,
  kRspData = 5,
  kRspDataSmall = 6,
};
inline constexpr uint8_t kNextHeaderMax = 6;  // 7-15 reserved

// Which nh values each PDS type may carry (bit n set = nh n allowed): requests carry
// request headers, ACKs and RUDI responses carry response headers, NACKs carry none.
inline constexpr uint8_t kNhRequests = 0b0001111;   // NONE, SMALL, MEDIUM, STD
inline constexpr uint8_t kNhResponses = 0b1110001;  // NONE, RSP, RSP_DATA, RSP_DATA_SMALL
inline constexpr uint8_t kNhNackOnly = 0b0000001;   // NONE

// Per-type flag bits (digest 2.4), within the 7-bit flags field.
namespace flags {
// RUD/ROD requests (+CC)
inline constexpr uint8_t kReqRetx = 0x10;
inline constexpr uint8_t kReqAr = 0x08;
inline constexpr uint8_t kReqSyn = 0x04;
inline constexpr uint8_t kReqReserved = 0x63;
// ACK / ACK_CC / ACK_CCX
inline constexpr uint8_t kAckEpsn = 0x40;  // see kAckEpsnFlag; only on type 7
inline constexpr uint8_t kAckM = 0x20;
inline constexpr uint8_t kAckRetx = 0x10;
inline constexpr uint8_t kAckP = 0x08;
inline constexpr uint8_t kAckReqMask = 0x06;
inline constexpr unsigned kAckReqShift = 1;
inline constexpr uint8_t kAckReserved = 0x01;       // plus 0x40 on ACK_CC/ACK_CCX
inline constexpr uint8_t kAckCcReserved = 0x41;
// NACK / NACK_CCX
inline constexpr uint8_t kNackM = 0x20;
inline constexpr uint8_t kNackRetx = 0x10;
inline constexpr uint8_t kNackNt = 0x08;  // 0 = RUD/ROD, 1 = RUDI
inline constexpr uint8_t kNackReserved = 0x47;
// CP
inline constexpr uint8_t kCpIsrod = 0x20;  // see kCpIsrodFlag
inline constexpr uint8_t kCpRetx = 0x10;
inline constexpr uint8_t kCpAr = 0x08;
inline constexpr uint8_t kCpSyn = 0x04;
inline constexpr uint8_t kCpReserved = 0x43;
// RUDI
inline constexpr uint8_t kRudiM = 0x20;  // responses only
inline constexpr uint8_t kRudiRetx = 0x10;
inline constexpr uint8_t kRudiReqReserved = 0x6F;
inline constexpr uint8_t kRudiRespReserved = 0x4F;
// UUD
inline constexpr uint8_t kUudReserved = 0x7F;
}  // namespace flags

// ACK REQ field (2 bits at flags 0x06).
enum class AckReq : uint8_t { kNone = 0, kClear = 1, kClose = 2, kReserved = 3 };

// SYN form of bytes 10-11 of requests and CPs.
inline constexpr uint16_t kSynUseRsvPdc = 0x8000;
inline constexpr uint16_t kSynReserved = 0x7000;
inline constexpr uint16_t kSynPsnOffsetMask = 0x0FFF;
inline constexpr uint32_t kPsnOffsetMax = 0xFFF;  // packets before the first ACK

// ACK_CC cc_type (high nibble of byte 12).
enum class CcType : uint8_t { kNscc = 0, kCredit = 1 };
inline constexpr uint32_t kMprUnit = 128;  // MP_RANGE = mpr * 128 (RP)

// ---------------------------------------------------------------------------------
// NACK codes (digest 2.6) and the initiator's reaction (RP uet_pds_nack_action).

enum class NackAction : uint8_t {
  kInvalid = 0,     // reserved code
  kRetransmit = 1,  // resend the NACKed packet
  kClose = 2,       // close the PDC (in error)
  kAdopt = 3,       // adopt the new Start_PSN from the payload and resend all
  kDrop = 4,        // target still processing: nothing to do
};

enum class NackCode : uint8_t {
  kTrimmed = 0x01,
  kTrimmedLastHop = 0x02,
  kTrimmedAck = 0x03,
  kNoPdcAvail = 0x04,
  kNoCccAvail = 0x05,
  kNoBitmap = 0x06,
  kNoPktBuffer = 0x07,
  kNoGtdDelAvail = 0x08,
  kNoSesMsgAvail = 0x09,
  kNoResource = 0x0A,
  kPsnOorWindow = 0x0B,
  kRodOoo = 0x0D,
  kInvDpdcid = 0x0E,
  kPdcHdrMismatch = 0x0F,
  kClosing = 0x10,
  kClosingInErr = 0x11,
  kPktNotRcvd = 0x12,
  kGtdRespUnavail = 0x13,
  kAckWithData = 0x14,
  kInvalidSyn = 0x15,
  kPdcModeMismatch = 0x16,
  kNewStartPsn = 0x17,
  kRcvdSesProcg = 0x18,
  kUnexpEvent = 0x19,
  kRcvrInferLoss = 0x1A,
  kExpNackNormal = 0xFD,
  kExpNackErr = 0xFE,
  kExpNackFatal = 0xFF,
};

struct NackInfo {
  const char* name;  // nullptr = reserved
  NackAction action;
};

// Indexed by code 0x00-0x1A; 0xFD-0xFF via nack_info().
inline constexpr NackInfo kNackTable[0x1B] = {
    {nullptr, NackAction::kInvalid},
    {"TRIMMED", NackAction::kRetransmit},
    {"TRIMMED_LASTHOP", NackAction::kRetransmit},
    {"TRIMMED_ACK", NackAction::kRetransmit},
    {"NO_PDC_AVAIL", NackAction::kRetransmit},
    {"NO_CCC_AVAIL", NackAction::kRetransmit},
    {"NO_BITMAP", NackAction::kRetransmit},
    {"NO_PKT_BUFFER", NackAction::kRetransmit},
    {"NO_GTD_DEL_AVAIL", NackAction::kRetransmit},
    {"NO_SES_MSG_AVAIL", NackAction::kRetransmit},
    {"NO_RESOURCE", NackAction::kRetransmit},
    {"PSN_OOR_WINDOW", NackAction::kRetransmit},
    {nullptr, NackAction::kInvalid},  // 0x0C reserved (draft FIRST_ROD_OOO)
    {"ROD_OOO", NackAction::kRetransmit},
    {"INV_DPDCID", NackAction::kClose},
    {"PDC_HDR_MISMATCH", NackAction::kClose},
    {"CLOSING", NackAction::kClose},
    {"CLOSING_IN_ERR", NackAction::kClose},
    {"PKT_NOT_RCVD", NackAction::kRetransmit},
    {"GTD_RESP_UNAVAIL", NackAction::kClose},
    {"ACK_WITH_DATA", NackAction::kRetransmit},
    {"INVALID_SYN", NackAction::kClose},
    {"PDC_MODE_MISMATCH", NackAction::kClose},
    {"NEW_START_PSN", NackAction::kAdopt},
    {"RCVD_SES_PROCG", NackAction::kDrop},
    {"UNEXP_EVENT", NackAction::kClose},
    {"RCVR_INFER_LOSS", NackAction::kRetransmit},
};

inline constexpr NackInfo nack_info(uint8_t code) {
  if (code < 0x1B) return kNackTable[code];
  if (code == 0xFD) return {"EXP_NACK_NORMAL", NackAction::kRetransmit};
  if (code == 0xFE) return {"EXP_NACK_ERR", NackAction::kRetransmit};
  if (code == 0xFF) return {"EXP_NACK_FATAL", NackAction::kClose};
  return {nullptr, NackAction::kInvalid};
}

inline constexpr bool nack_code_valid(uint8_t code) { return nack_info(code).name != nullptr; }

// ---------------------------------------------------------------------------------
// CP ctl_type (digest 2.5)

enum class CtlType : uint8_t {
  kNoop = 0,
  kAckReq = 1,
  kClear = 2,
  kClearReq = 3,
  kClose = 4,
  kCloseReq = 5,
  kProbe = 6,
  kCredit = 7,
  kCreditReq = 8,
  kNegotiation = 9,
};
inline constexpr uint8_t kCtlTypeMax = 9;  // 10-15 reserved

// ---------------------------------------------------------------------------------
// SES (digest 3)

enum class SesOpcode : uint8_t {
  kNoOp = 0x00,
  kWrite = 0x01,
  kRead = 0x02,
  kAtomic = 0x03,
  kFetchingAtomic = 0x04,
  kSend = 0x05,
  kRendezvousSend = 0x06,
  kDatagramSend = 0x07,
  kDeferrableSend = 0x08,
  kTaggedSend = 0x09,
  kRendezvousTsend = 0x0A,
  kDeferrableTsend = 0x0B,
  kDeferrableRtr = 0x0C,
  kTsendAtomic = 0x0D,
  kTsendFetchAtomic = 0x0E,
  kMsgError = 0x0F,
};

// Which extension follows a request header: by SES opcode, then (atomics) by the
// atomic opcode (the CSWAP family and MSWAP carry an operand pair: the 36 B CAS ext).
enum class SesExt : uint8_t { kNone = 0, kAtomic = 1, kCas = 2, kRendezvous = 3 };
inline constexpr size_t kAtomicExtLen = 4;
inline constexpr size_t kCasExtLen = 36;
inline constexpr size_t kRendezvousExtLen = 24;

// Request opcodes 0x10-0x2F are reserved; 0x30-0x3F vendor-defined (0x3F escape).
inline constexpr bool req_opcode_valid(uint8_t op) { return op <= 0x0F || (op >= 0x30 && op <= 0x3F); }

inline constexpr bool opcode_has_atomic_ext(uint8_t op) {
  return op == 0x03 || op == 0x04 || op == 0x0D || op == 0x0E;
}
inline constexpr bool opcode_has_rendezvous_ext(uint8_t op) { return op == 0x06 || op == 0x0A; }
inline constexpr bool opcode_is_tagged(uint8_t op) {
  return op == 0x09 || op == 0x0A || op == 0x0B || op == 0x0D || op == 0x0E;
}

// Byte 1 of request headers.
namespace sesflags {
inline constexpr uint8_t kVersionMask = 0xC0;
inline constexpr unsigned kVersionShift = 6;
inline constexpr uint8_t kDc = 0x20;
inline constexpr uint8_t kIe = 0x10;
inline constexpr uint8_t kRel = 0x08;
inline constexpr uint8_t kHd = 0x04;
inline constexpr uint8_t kEom = 0x02;
inline constexpr uint8_t kSom = 0x01;
}  // namespace sesflags
inline constexpr uint8_t kSesVersion = 0;

inline constexpr size_t kSesStdLen = 44;
inline constexpr size_t kSesSmallLen = 20;
inline constexpr size_t kSesMediumLen = 32;
inline constexpr size_t kSesRspLen = 12;
inline constexpr size_t kSesRspDataLen = 20;
inline constexpr uint32_t kLen14Max = 0x3FFF;  // request/payload length in small headers
inline constexpr uint32_t kJobIdMax = 0xFFFFFF;
inline constexpr uint32_t kPidOnFepMax = 0xFFF;
inline constexpr uint32_t kResourceIndexMax = 0xFFF;

enum class RspOpcode : uint8_t {
  kDefaultResponse = 0,
  kResponse = 1,
  kResponseWData = 2,
  kNoResponse = 3,
};

// Response opcodes 4-0x2F are reserved; 0x30-0x3F vendor-defined.
inline constexpr bool rsp_opcode_valid(uint8_t op) { return op <= 3 || (op >= 0x30 && op <= 0x3F); }

enum class RspList : uint8_t { kExpected = 0, kOverflow = 1 };

enum class ReturnCode : uint8_t {
  kNull = 0x00,
  kOk = 0x01,
  kBadGeneration = 0x02,
  kDisabled = 0x03,
  kDisabledGen = 0x04,
  kNoMatch = 0x05,
  kUnsupportedOp = 0x06,
  kUnsupportedSize = 0x07,
  kAtInvalid = 0x08,
  kAtPerm = 0x09,
  kAtAtsError = 0x0A,
  kAtNoTrans = 0x0B,
  kAtOutOfRange = 0x0C,
  kHostPoisoned = 0x0D,
  kHostUnsuccessCmpl = 0x0E,
  kAmoUnsupportedOp = 0x0F,
  kAmoUnsupportedDt = 0x10,
  kAmoUnsupportedSize = 0x11,
  kAmoUnaligned = 0x12,
  kAmoFpNan = 0x13,
  kAmoFpUnderflow = 0x14,
  kAmoFpOverflow = 0x15,
  kAmoFpInexact = 0x16,
  kPermViolation = 0x17,
  kOpViolation = 0x18,
  kBadIndex = 0x19,
  kBadPid = 0x1A,
  kBadJobId = 0x1B,
  kBadMkey = 0x1C,
  kBadAddr = 0x1D,
  kCancelled = 0x1E,
  kUndeliverable = 0x1F,
  kUncor = 0x20,
  kUncorTrnsnt = 0x21,
  kTooLong = 0x22,
  kInitiatorErr = 0x23,
  kDropped = 0x24,
};

// 0x25-0x2F and 0x3F reserved; 0x30-0x3E vendor, reserved-with-data and extended.
inline constexpr bool return_code_valid(uint8_t rc) { return rc <= 0x24 || (rc >= 0x30 && rc <= 0x3E); }

enum class AtomicOp : uint8_t {
  kMin = 0x00,
  kMax = 0x01,
  kSum = 0x02,
  kDiff = 0x03,
  kProd = 0x04,
  kLor = 0x05,
  kLand = 0x06,
  kBor = 0x07,
  kBand = 0x08,
  kLxor = 0x09,
  kBxor = 0x0A,
  kRead = 0x0B,
  kWrite = 0x0C,
  kCswap = 0x0D,
  kCswapNe = 0x0E,
  kCswapLe = 0x0F,
  kCswapLt = 0x10,
  kCswapGe = 0x11,
  kCswapGt = 0x12,
  kMswap = 0x13,
  kInval = 0x14,
};
// CSWAP* and MSWAP (mask + value) carry the compare/swap operand pair.
inline constexpr bool atomic_op_is_cas(uint8_t aop) { return aop >= 0x0D && aop <= 0x13; }
// Defined atomic opcodes, plus the vendor range 0xE0-0xFE.
inline constexpr bool atomic_op_valid(uint8_t aop) { return aop <= 0x14 || (aop >= 0xE0 && aop <= 0xFE); }
inline constexpr bool atomic_datatype_valid(uint8_t dt) { return dt <= 0x11; }
inline constexpr uint8_t kSemanticCtrlDefined = 0x03;

enum class AtomicDatatype : uint8_t {
  kInt8 = 0x00,
  kUint8 = 0x01,
  kInt16 = 0x02,
  kUint16 = 0x03,
  kInt32 = 0x04,
  kUint32 = 0x05,
  kInt64 = 0x06,
  kUint64 = 0x07,
  kInt128 = 0x08,
  kUint128 = 0x09,
  kFloat = 0x0A,
  kDouble = 0x0B,
  kFloatComplex = 0x0C,
  kDoubleComplex = 0x0D,
  kLongDouble = 0x0E,
  kLongDoubleComplex = 0x0F,
  kBf16 = 0x10,
  kFp16 = 0x11,
};

// Element size in bytes by datatype (0 = reserved).
inline constexpr uint8_t kAtomicDatatypeSize[0x12] = {1, 1, 2, 2, 4, 4, 8, 8, 16, 16, 4, 8, 8, 16, 16, 32, 2, 2};

// semantic_ctrl bits (low bits, RP/WS).
inline constexpr uint8_t kSemCacheable = 0x01;
inline constexpr uint8_t kSemCpuCoherent = 0x02;

// ---------------------------------------------------------------------------------
// TSS (digest 6)
inline constexpr size_t kTssLen = 12;
inline constexpr size_t kTssSsiLen = 16;
inline constexpr uint32_t kTssSp = 0x04000000;   // bit 26 of the first word: SSI present
inline constexpr uint32_t kTssRsvd = 0x02000000;
inline constexpr uint32_t kTssAn = 0x01000000;
inline constexpr uint32_t kTssSdiMask = 0x00FFFFFF;

inline constexpr size_t kEntropyLen = 4;

}  // namespace softuet::wire
