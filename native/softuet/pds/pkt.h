// The subset of UET headers softuet puts on the wire, as plain structs, and the one
// place that turns them into bytes and back. Layouts follow the UET digest (PDS §2.5,
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

namespace softuet {
namespace pkt {

enum PdsType : uint8_t {
  PDS_RUD_REQ = 2,
  PDS_ROD_REQ = 3,
  PDS_UUD_REQ = 6,
  PDS_ACK = 7,
  PDS_ACK_CC = 8,
  PDS_NACK = 10,
  PDS_CP = 11,
};
enum NextHdr : uint8_t { NH_NONE = 0, NH_REQ_SMALL = 1, NH_REQ_MEDIUM = 2, NH_REQ_STD = 3, NH_RSP = 4, NH_RSP_DATA = 5 };
enum ReqFlag : uint8_t { RF_RETX = 0x10, RF_AR = 0x08, RF_SYN = 0x04 };
enum CpType : uint8_t { CP_NOOP = 0, CP_ACK_REQ = 1, CP_CLEAR = 2, CP_CLOSE = 4 };

enum SesOpcode : uint8_t {
  OP_NO_OP = 0x00,
  OP_WRITE = 0x01,
  OP_READ = 0x02,
  OP_ATOMIC = 0x03,
  OP_FETCHING_ATOMIC = 0x04,
  OP_SEND = 0x05,
  OP_DATAGRAM_SEND = 0x07,
  OP_TAGGED_SEND = 0x09,
};
enum SesFlag : uint8_t { SF_DC = 0x20, SF_IE = 0x10, SF_REL = 0x08, SF_HD = 0x04, SF_EOM = 0x02, SF_SOM = 0x01 };
enum RspOpcode : uint8_t { RSP_DEFAULT = 0, RSP_RESPONSE = 1, RSP_W_DATA = 2, RSP_NONE = 3 };

// UET SES return codes (digest §3.6).
enum ReturnCode : uint8_t {
  RC_NULL = 0x00,
  RC_OK = 0x01,
  RC_NO_MATCH = 0x05,
  RC_UNSUPPORTED_OP = 0x06,
  RC_UNSUPPORTED_SIZE = 0x07,
  RC_AT_PERM = 0x09,
  RC_AT_OUT_OF_RANGE = 0x0C,
  RC_AMO_UNSUPPORTED_OP = 0x0F,
  RC_AMO_UNSUPPORTED_DT = 0x10,
  RC_AMO_UNALIGNED = 0x12,
  RC_PERM_VIOLATION = 0x17,
  RC_OP_VIOLATION = 0x18,
  RC_BAD_MKEY = 0x1C,
  RC_BAD_ADDR = 0x1D,
  RC_CANCELLED = 0x1E,
  RC_UNDELIVERABLE = 0x1F,
  RC_TOO_LONG = 0x22,
  RC_DROPPED = 0x24,
};
const char *rc_name(unsigned rc);

enum NackCode : uint8_t {
  NACK_NO_PKT_BUFFER = 0x07,
  NACK_PSN_OOR_WINDOW = 0x0B,
  NACK_INV_DPDCID = 0x0E,
  NACK_INVALID_SYN = 0x15,
};
const char *nack_name(unsigned code);

constexpr size_t PDS_REQ_LEN = 12;
constexpr size_t PDS_UUD_LEN = 4;
constexpr size_t PDS_ACK_CC_LEN = 32;
constexpr size_t PDS_NACK_LEN = 16;
constexpr size_t PDS_CP_LEN = 16;
constexpr size_t SES_STD_LEN = 44;
constexpr size_t SES_ATOMIC_EXT_LEN = 4;
constexpr size_t SES_RSP_LEN = 12;
constexpr size_t SES_RSP_DATA_LEN = 20;
constexpr size_t CRC_LEN = 4;
constexpr size_t SES_CAS_EXT_LEN = 36;
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

// Trailer over the pseudo header + UET bytes (addresses and ports in network order).
uint32_t trailer_crc(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                     const uint8_t *uet, size_t uet_len_without_crc, const uint8_t *payload2 = nullptr,
                     size_t payload2_len = 0);

}  // namespace pkt
}  // namespace softuet
