// The subset of UET headers softuet puts on the wire, as the protocol core's working
// structs, and the one place that turns them into bytes and back. Not a codec: the
// byte layouts, code values and the CRC32C are wire/'s; this only adapts them. Layouts follow the UET digest (PDS §2.5,
// SES §3.3/§3.6) and the shared conflict table; every multi-byte field is big-endian.
// The byte layouts themselves live in the shared codec library (native/softuet/wire).
//
// A softuet datagram is  PDS header | SES header (| atomic ext) | payload | CRC32C.
// The CRC32C trailer (big-endian) covers src IPv4, dst IPv4, src port, dst port, the
// UDP length and a zero checksum word (the kernel fills the real checksum after the
// trailer is computed), then every UET byte before the trailer.
#pragma once
#include <cstddef>
#include <cstdint>

#include "wire/constants.h"

namespace softuet {
namespace pkt {

enum PdsType : uint8_t {
  PDS_RUD_REQ = (uint8_t)wire::PdsType::kRudReq,
  PDS_RUD_CC_REQ = (uint8_t)wire::PdsType::kRudCcReq,
  PDS_ROD_REQ = (uint8_t)wire::PdsType::kRodReq,
  PDS_UUD_REQ = (uint8_t)wire::PdsType::kUudReq,
  PDS_ACK = (uint8_t)wire::PdsType::kAck,
  PDS_ACK_CC = (uint8_t)wire::PdsType::kAckCc,
  PDS_NACK = (uint8_t)wire::PdsType::kNack,
  PDS_CP = (uint8_t)wire::PdsType::kCp,
};
enum NextHdr : uint8_t {
  NH_NONE = (uint8_t)wire::NextHeader::kNone,
  NH_REQ_SMALL = (uint8_t)wire::NextHeader::kReqSmall,
  NH_REQ_MEDIUM = (uint8_t)wire::NextHeader::kReqMedium,
  NH_REQ_STD = (uint8_t)wire::NextHeader::kReqStd,
  NH_RSP = (uint8_t)wire::NextHeader::kRsp,
  NH_RSP_DATA = (uint8_t)wire::NextHeader::kRspData,
};
enum ReqFlag : uint8_t { RF_RETX = wire::flags::kReqRetx, RF_AR = wire::flags::kReqAr, RF_SYN = wire::flags::kReqSyn };
enum CpType : uint8_t {
  CP_NOOP = (uint8_t)wire::CtlType::kNoop,
  CP_ACK_REQ = (uint8_t)wire::CtlType::kAckReq,
  CP_CLEAR = (uint8_t)wire::CtlType::kClear,
  CP_CLOSE = (uint8_t)wire::CtlType::kClose,
  CP_CREDIT = (uint8_t)wire::CtlType::kCredit,
  CP_CREDIT_REQ = (uint8_t)wire::CtlType::kCreditReq,
  CP_CLOSE_REQ = (uint8_t)wire::CtlType::kCloseReq,
};

enum SesOpcode : uint8_t {
  OP_NO_OP = (uint8_t)wire::SesOpcode::kNoOp,
  OP_WRITE = (uint8_t)wire::SesOpcode::kWrite,
  OP_READ = (uint8_t)wire::SesOpcode::kRead,
  OP_ATOMIC = (uint8_t)wire::SesOpcode::kAtomic,
  OP_FETCHING_ATOMIC = (uint8_t)wire::SesOpcode::kFetchingAtomic,
  OP_SEND = (uint8_t)wire::SesOpcode::kSend,
  OP_DATAGRAM_SEND = (uint8_t)wire::SesOpcode::kDatagramSend,
  OP_TAGGED_SEND = (uint8_t)wire::SesOpcode::kTaggedSend,
};
enum SesFlag : uint8_t {
  SF_DC = wire::sesflags::kDc,
  SF_IE = wire::sesflags::kIe,
  SF_REL = wire::sesflags::kRel,
  SF_HD = wire::sesflags::kHd,
  SF_EOM = wire::sesflags::kEom,
  SF_SOM = wire::sesflags::kSom,
};
enum RspOpcode : uint8_t {
  RSP_DEFAULT = (uint8_t)wire::RspOpcode::kDefaultResponse,
  RSP_RESPONSE = (uint8_t)wire::RspOpcode::kResponse,
  RSP_W_DATA = (uint8_t)wire::RspOpcode::kResponseWData,
  RSP_NONE = (uint8_t)wire::RspOpcode::kNoResponse,
};

// UET SES return codes (digest §3.6).
enum ReturnCode : uint8_t {
  RC_NULL = (uint8_t)wire::ReturnCode::kNull,
  RC_OK = (uint8_t)wire::ReturnCode::kOk,
  RC_NO_MATCH = (uint8_t)wire::ReturnCode::kNoMatch,
  RC_UNSUPPORTED_OP = (uint8_t)wire::ReturnCode::kUnsupportedOp,
  RC_UNSUPPORTED_SIZE = (uint8_t)wire::ReturnCode::kUnsupportedSize,
  RC_AT_PERM = (uint8_t)wire::ReturnCode::kAtPerm,
  RC_AT_OUT_OF_RANGE = (uint8_t)wire::ReturnCode::kAtOutOfRange,
  RC_AMO_UNSUPPORTED_OP = (uint8_t)wire::ReturnCode::kAmoUnsupportedOp,
  RC_AMO_UNSUPPORTED_DT = (uint8_t)wire::ReturnCode::kAmoUnsupportedDt,
  RC_AMO_UNALIGNED = (uint8_t)wire::ReturnCode::kAmoUnaligned,
  RC_PERM_VIOLATION = (uint8_t)wire::ReturnCode::kPermViolation,
  RC_OP_VIOLATION = (uint8_t)wire::ReturnCode::kOpViolation,
  RC_BAD_MKEY = (uint8_t)wire::ReturnCode::kBadMkey,
  RC_BAD_ADDR = (uint8_t)wire::ReturnCode::kBadAddr,
  RC_CANCELLED = (uint8_t)wire::ReturnCode::kCancelled,
  RC_UNDELIVERABLE = (uint8_t)wire::ReturnCode::kUndeliverable,
  RC_TOO_LONG = (uint8_t)wire::ReturnCode::kTooLong,
  RC_DROPPED = (uint8_t)wire::ReturnCode::kDropped,
  RC_BAD_PID = (uint8_t)wire::ReturnCode::kBadPid,
  RC_BAD_JOBID = (uint8_t)wire::ReturnCode::kBadJobId,
};
const char *rc_name(unsigned rc);

enum NackCode : uint8_t {
  NACK_NO_PKT_BUFFER = (uint8_t)wire::NackCode::kNoPktBuffer,
  NACK_PSN_OOR_WINDOW = (uint8_t)wire::NackCode::kPsnOorWindow,
  NACK_INV_DPDCID = (uint8_t)wire::NackCode::kInvDpdcid,
  NACK_INVALID_SYN = (uint8_t)wire::NackCode::kInvalidSyn,
  NACK_ROD_OOO = (uint8_t)wire::NackCode::kRodOoo,
  NACK_PDC_MODE_MISMATCH = (uint8_t)wire::NackCode::kPdcModeMismatch,
};
const char *nack_name(unsigned code);

constexpr size_t PDS_REQ_LEN = wire::kPdsHeaderLen[PDS_RUD_REQ];
constexpr size_t PDS_UUD_LEN = wire::kPdsHeaderLen[PDS_UUD_REQ];
constexpr size_t PDS_ACK_CC_LEN = wire::kPdsHeaderLen[PDS_ACK_CC];
constexpr size_t PDS_NACK_LEN = wire::kPdsHeaderLen[PDS_NACK];
constexpr size_t PDS_CP_LEN = wire::kPdsHeaderLen[PDS_CP];
constexpr size_t SES_STD_LEN = wire::kSesStdLen;
constexpr size_t SES_ATOMIC_EXT_LEN = wire::kAtomicExtLen;
constexpr size_t SES_RSP_LEN = wire::kSesRspLen;
constexpr size_t SES_RSP_DATA_LEN = wire::kSesRspDataLen;
constexpr size_t CRC_LEN = wire::kCrcTrailerLen;
constexpr size_t SES_CAS_EXT_LEN = wire::kCasExtLen;
constexpr size_t MAX_SES_LEN = SES_STD_LEN + SES_CAS_EXT_LEN;

struct PdsReq {  // RUD_REQ / UUD_REQ
  uint8_t type = PDS_RUD_REQ;
  uint8_t flags = 0;
  int16_t clear_psn_offset = 0;
  uint32_t psn = 0;
  uint16_t spdcid = 0;
  uint16_t dpdcid = 0;      // when !SYN
  uint16_t psn_offset = 0;  // when SYN (12 bits)
  bool use_rsv_pdc = false;
  uint8_t ccc_id = 0;          // RUD_CC_REQ only
  uint32_t credit_target = 0;  // RUD_CC_REQ only, 24 bits
};

struct PdsAck {  // ACK_CC with NSCC state
  uint8_t nh = NH_NONE;
  uint8_t flags = 0;
  int16_t ack_psn_offset = 0;
  uint32_t cack_psn = 0;
  uint16_t spdcid = 0, dpdcid = 0;
  uint8_t cc_type = 0, cc_flags = 0, mpr = 1;
  int16_t sack_psn_offset = 0;
  uint64_t sack_bitmap = 0;
  uint16_t service_time = 0;
  uint8_t rcv_cwnd_pend = 0;
  bool rc_flag = false;
  uint32_t rcvd_bytes = 0;  // 24 bits
  uint16_t ooo_count = 0;
  uint32_t credit = 0;      // 24 bits, cc_type CREDIT
};

struct PdsNack {
  uint8_t flags = 0;
  uint8_t nack_code = 0, vendor_code = 0;
  uint32_t nack_psn = 0;
  uint16_t spdcid = 0, dpdcid = 0;
  uint32_t payload = 0;
};

struct PdsCp {
  uint8_t ctl_type = 0;
  uint8_t flags = 0;
  uint16_t probe_opaque = 0;
  uint32_t psn = 0;
  uint16_t spdcid = 0, dpdcid = 0;
  uint32_t payload = 0;
};

struct SesStd {
  uint8_t opcode = 0;
  uint8_t flags = 0;  // SesFlag bits
  uint16_t message_id = 0;
  uint8_t ri_generation = 0;
  uint32_t job_id = 0;        // 24 bits
  uint16_t pid_on_fep = 0;    // 12 bits
  uint16_t resource_index = 0;
  uint64_t buffer_offset = 0;
  uint32_t initiator = 0;
  uint64_t memory_key = 0;  // match bits for tagged sends
  uint64_t header_data = 0;  // SOM only
  uint16_t payload_length = 0;  // non-SOM only
  uint32_t message_offset = 0;  // non-SOM only
  uint32_t request_length = 0;
  // atomic extension (opcodes ATOMIC / FETCHING_ATOMIC); the CSWAP family carries the
  // 36-byte CAS form, whose compare/swap fields hold the first element.
  uint8_t atomic_opcode = 0, atomic_datatype = 0, semantic_ctrl = 0;
  uint64_t compare_hi = 0, compare_lo = 0, swap_hi = 0, swap_lo = 0;
};

struct SesRsp {  // RSP (nh 4) or RSP_DATA (nh 5)
  uint8_t list = 0;
  uint8_t opcode = RSP_RESPONSE;
  uint8_t return_code = RC_OK;
  uint16_t message_id = 0;
  uint8_t ri_generation = 0;
  uint32_t job_id = 0;
  uint32_t modified_length = 0;
  // RSP_DATA only
  uint16_t read_request_message_id = 0;
  uint16_t payload_length = 0;
  uint32_t message_offset = 0;
};

inline bool has_atomic_ext(uint8_t opcode) {
  return opcode == OP_ATOMIC || opcode == OP_FETCHING_ATOMIC;
}

// Encoders (over the shared wire/ codecs) write into out, which must have room for the
// header (MAX_SES_LEN for SES requests), and return the byte count (0: refused).
size_t put_req(uint8_t *out, const PdsReq &h, uint8_t nh);
size_t put_ack(uint8_t *out, const PdsAck &h);
size_t put_nack(uint8_t *out, const PdsNack &h);
size_t put_cp(uint8_t *out, const PdsCp &h);
size_t put_ses(uint8_t *out, const SesStd &h);
size_t put_rsp(uint8_t *out, const SesRsp &h, bool with_data);

// Decoders return the header length, or 0 when the bytes are truncated, malformed or
// use a form softuet does not speak.
uint8_t peek_type(const uint8_t *p, size_t len);
size_t get_req(const uint8_t *p, size_t len, PdsReq &h, uint8_t &nh);
size_t get_ack(const uint8_t *p, size_t len, PdsAck &h);
size_t get_nack(const uint8_t *p, size_t len, PdsNack &h);
size_t get_cp(const uint8_t *p, size_t len, PdsCp &h);
size_t get_ses(const uint8_t *p, size_t len, SesStd &h);
size_t get_rsp(const uint8_t *p, size_t len, SesRsp &h, bool with_data);


}  // namespace pkt
}  // namespace softuet
