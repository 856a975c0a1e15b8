#include "pds/pkt.h"

#include "wire/pds.h"
#include "wire/ses.h"

namespace softuet {
namespace pkt {

const char *rc_name(unsigned rc) {
  switch (rc) {
    case RC_NULL: return "UET_RC_NULL";
    case RC_OK: return "UET_RC_OK";
    case RC_NO_MATCH: return "UET_RC_NO_MATCH";
    case RC_UNSUPPORTED_OP: return "UET_RC_UNSUPPORTED_OP";
    case RC_UNSUPPORTED_SIZE: return "UET_RC_UNSUPPORTED_SIZE";
    case RC_AT_PERM: return "UET_RC_AT_PERM";
    case RC_AT_OUT_OF_RANGE: return "UET_RC_AT_OUT_OF_RANGE";
    case RC_AMO_UNSUPPORTED_OP: return "UET_RC_AMO_UNSUPPORTED_OP";
    case RC_AMO_UNSUPPORTED_DT: return "UET_RC_AMO_UNSUPPORTED_DT";
    case RC_AMO_UNALIGNED: return "UET_RC_AMO_UNALIGNED";
    case RC_PERM_VIOLATION: return "UET_RC_PERM_VIOLATION";
    case RC_OP_VIOLATION: return "UET_RC_OP_VIOLATION";
    case RC_BAD_MKEY: return "UET_RC_BAD_MKEY";
    case RC_BAD_JOBID: return "UET_RC_BAD_JOBID";
    case RC_BAD_PID: return "UET_RC_BAD_PID";
    case RC_BAD_ADDR: return "UET_RC_BAD_ADDR";
    case RC_CANCELLED: return "UET_RC_CANCELLED";
    case RC_UNDELIVERABLE: return "UET_RC_UNDELIVERABLE";
    case RC_TOO_LONG: return "UET_RC_TOO_LONG";
    case RC_DROPPED: return "UET_RC_DROPPED";
    default: return "UET_RC_OTHER";
  }
}

const char *nack_name(unsigned code) {
  if (code > 0xFF) return "OTHER";
  if (const char *n = wire::nack_info((uint8_t)code).name) return n;
  if (code == 0) return "RSVD";
  if (code == 0x0C) return "RSVD_0C";
  return "OTHER";
}

// Every header goes through the shared codec library (wire/): softuet keeps its own
// small structs only as the protocol core's working view of a header.
size_t put_req(uint8_t *o, const PdsReq &h, uint8_t nh) {
  if (h.type == PDS_UUD_REQ) {
    wire::Uud u{};
    u.nh = nh;
    return wire::encode(u, o, PDS_UUD_LEN);
  }
  wire::PdsRequest w{};
  w.type = h.type;
  w.nh = nh;
  w.flags = h.flags;
  w.clear_psn_offset = h.clear_psn_offset;
  w.psn = h.psn;
  w.spdcid = h.spdcid;
  if (h.flags & RF_SYN) {
    w.use_rsv_pdc = h.use_rsv_pdc;
    w.psn_offset = h.psn_offset & 0x0fff;
  } else {
    w.dpdcid = h.dpdcid;
  }
  w.ccc_id = h.ccc_id;
  w.credit_target = h.credit_target;
  return wire::encode(w, o, w.wire_len());
}

size_t put_ack(uint8_t *o, const PdsAck &h) {
  wire::Ack w{};
  w.type = PDS_ACK_CC;
  w.nh = h.nh;
  w.flags = h.flags;
  w.ack_psn_offset = h.ack_psn_offset;
  w.cack_psn = h.cack_psn;
  w.spdcid = h.spdcid;
  w.dpdcid = h.dpdcid;
  w.cc_type = h.cc_type;
  w.cc_flags = h.cc_flags;
  w.mpr = h.mpr;
  w.sack_psn_offset = h.sack_psn_offset;
  w.sack_bitmap = h.sack_bitmap;
  w.service_time = h.service_time;
  w.rc = h.rc_flag ? 1 : 0;
  w.rcv_cwnd_pend = h.rcv_cwnd_pend & 0x7f;
  w.rcvd_bytes = h.rcvd_bytes & 0xffffff;
  w.ooo_count = h.ooo_count;
  w.credit = h.credit & 0xffffff;
  return wire::encode(w, o, PDS_ACK_CC_LEN);
}

size_t put_nack(uint8_t *o, const PdsNack &h) {
  wire::Nack w{};
  w.type = PDS_NACK;
  w.flags = h.flags;
  w.nack_code = h.nack_code;
  w.vendor_code = h.vendor_code;
  w.nack_psn = h.nack_psn;
  w.spdcid = h.spdcid;
  w.dpdcid = h.dpdcid;
  w.payload = h.payload;
  return wire::encode(w, o, PDS_NACK_LEN);
}

size_t put_cp(uint8_t *o, const PdsCp &h) {
  wire::Cp w{};
  w.ctl_type = h.ctl_type;
  w.flags = h.flags;
  w.probe_opaque = h.probe_opaque;
  w.psn = h.psn;
  w.spdcid = h.spdcid;
  w.dpdcid = h.dpdcid;
  w.payload = h.payload;
  return wire::encode(w, o, PDS_CP_LEN);
}

size_t put_ses(uint8_t *o, const SesStd &h) {
  wire::SesStd w{};
  w.opcode = h.opcode;
  w.flags = h.flags;
  w.message_id = h.message_id;
  w.ri_generation = h.ri_generation;
  w.job_id = h.job_id & 0xffffff;
  w.pid_on_fep = h.pid_on_fep & 0x0fff;
  w.resource_index = h.resource_index & 0x0fff;
  w.buffer_offset = h.buffer_offset;
  w.initiator = h.initiator;
  w.memory_key = h.memory_key;
  if (h.flags & SF_SOM) {
    w.header_data = h.header_data;
  } else {
    w.payload_length = h.payload_length & 0x3fff;
    w.message_offset = h.message_offset;
  }
  w.request_length = h.request_length;
  w.ext.atomic_opcode = h.atomic_opcode;
  w.ext.atomic_datatype = h.atomic_datatype;
  w.ext.semantic_ctrl = h.semantic_ctrl;
  w.ext.compare_hi = h.compare_hi;
  w.ext.compare_lo = h.compare_lo;
  w.ext.swap_hi = h.swap_hi;
  w.ext.swap_lo = h.swap_lo;
  return wire::encode(w, o, MAX_SES_LEN);
}

size_t put_rsp(uint8_t *o, const SesRsp &h, bool with_data) {
  if (!with_data) {
    wire::SesRsp w{};
    w.list = h.list;
    w.opcode = h.opcode;
    w.return_code = h.return_code;
    w.message_id = h.message_id;
    w.ri_generation = h.ri_generation;
    w.job_id = h.job_id & 0xffffff;
    w.modified_length = h.modified_length;
    return wire::encode(w, o, SES_RSP_LEN);
  }
  wire::SesRspData w{};
  w.list = h.list;
  w.opcode = h.opcode;
  w.return_code = h.return_code;
  w.message_id = h.message_id;
  w.job_id = h.job_id & 0xffffff;
  w.read_request_message_id = h.read_request_message_id;
  w.payload_length = h.payload_length & 0x3fff;
  w.modified_length = h.modified_length;
  w.message_offset = h.message_offset;
  return wire::encode(w, o, SES_RSP_DATA_LEN);
}

uint8_t peek_type(const uint8_t *p, size_t len) {
  wire::Prologue pr{};
  if (!wire::decode(p, len, &pr).ok()) return 0;
  return pr.type;
}

size_t get_req(const uint8_t *p, size_t len, PdsReq &h, uint8_t &nh) {
  if (peek_type(p, len) == PDS_UUD_REQ) {
    wire::Uud u{};
    if (!wire::decode(p, len, &u).ok()) return 0;
    h = PdsReq();
    h.type = PDS_UUD_REQ;
    nh = u.nh;
    return PDS_UUD_LEN;
  }
  wire::PdsRequest w{};
  if (!wire::decode(p, len, &w).ok() || (w.has_cc() && w.rod())) return 0;
  h.type = w.type;
  nh = w.nh;
  h.flags = w.flags;
  h.clear_psn_offset = w.clear_psn_offset;
  h.psn = w.psn;
  h.spdcid = w.spdcid;
  h.dpdcid = w.syn() ? 0 : w.dpdcid;
  h.use_rsv_pdc = w.syn() && w.use_rsv_pdc;
  h.psn_offset = w.syn() ? w.psn_offset : 0;
  h.ccc_id = w.has_cc() ? w.ccc_id : 0;
  h.credit_target = w.has_cc() ? w.credit_target : 0;
  return w.wire_len();
}

size_t get_ack(const uint8_t *p, size_t len, PdsAck &h) {
  wire::Ack w{};
  if (!wire::decode(p, len, &w).ok() || w.type != PDS_ACK_CC) return 0;
  h.nh = w.nh;
  h.flags = w.flags;
  h.ack_psn_offset = w.ack_psn_offset;
  h.cack_psn = w.cack_psn;
  h.spdcid = w.spdcid;
  h.dpdcid = w.dpdcid;
  h.cc_type = w.cc_type;
  h.cc_flags = w.cc_flags;
  h.mpr = w.mpr;
  h.sack_psn_offset = w.sack_psn_offset;
  h.sack_bitmap = w.sack_bitmap;
  h.service_time = w.service_time;
  h.rc_flag = w.rc;
  h.rcv_cwnd_pend = w.rcv_cwnd_pend;
  h.rcvd_bytes = w.rcvd_bytes;
  h.ooo_count = w.ooo_count;
  h.credit = w.credit;
  return w.wire_len();
}

size_t get_nack(const uint8_t *p, size_t len, PdsNack &h) {
  wire::Nack w{};
  if (!wire::decode(p, len, &w).ok() || w.type != PDS_NACK) return 0;
  h.flags = w.flags;
  h.nack_code = w.nack_code;
  h.vendor_code = w.vendor_code;
  h.nack_psn = w.nack_psn;
  h.spdcid = w.spdcid;
  h.dpdcid = w.dpdcid;
  h.payload = w.payload;
  return w.wire_len();
}

size_t get_cp(const uint8_t *p, size_t len, PdsCp &h) {
  wire::Cp w{};
  if (!wire::decode(p, len, &w).ok()) return 0;
  h.ctl_type = w.ctl_type;
  h.flags = w.flags;
  h.probe_opaque = w.probe_opaque;
  h.psn = w.psn;
  h.spdcid = w.spdcid;
  h.dpdcid = w.dpdcid;
  h.payload = w.payload;
  return w.wire_len();
}

size_t get_ses(const uint8_t *p, size_t len, SesStd &h) {
  wire::SesStd w{};
  if (!wire::decode(p, len, &w).ok()) return 0;
  h.opcode = w.opcode;
  h.flags = w.flags;
  h.message_id = w.message_id;
  h.ri_generation = w.ri_generation;
  h.job_id = w.job_id;
  h.pid_on_fep = w.pid_on_fep;
  h.resource_index = w.resource_index;
  h.buffer_offset = w.buffer_offset;
  h.initiator = w.initiator;
  h.memory_key = w.memory_key;
  h.header_data = w.som() ? w.header_data : 0;
  h.payload_length = w.som() ? 0 : w.payload_length;
  h.message_offset = w.som() ? 0 : w.message_offset;
  h.request_length = w.request_length;
  h.atomic_opcode = w.ext.atomic_opcode;
  h.atomic_datatype = w.ext.atomic_datatype;
  h.semantic_ctrl = w.ext.semantic_ctrl;
  h.compare_hi = w.ext.compare_hi;
  h.compare_lo = w.ext.compare_lo;
  h.swap_hi = w.ext.swap_hi;
  h.swap_lo = w.ext.swap_lo;
  return w.wire_len();
}

size_t get_rsp(const uint8_t *p, size_t len, SesRsp &h, bool with_data) {
  if (!with_data) {
    wire::SesRsp w{};
    if (!wire::decode(p, len, &w).ok()) return 0;
    h.list = w.list;
    h.opcode = w.opcode;
    h.return_code = w.return_code;
    h.message_id = w.message_id;
    h.ri_generation = w.ri_generation;
    h.job_id = w.job_id;
    h.modified_length = w.modified_length;
    return w.wire_len();
  }
  wire::SesRspData w{};
  if (!wire::decode(p, len, &w).ok()) return 0;
  h.list = w.list;
  h.opcode = w.opcode;
  h.return_code = w.return_code;
  h.message_id = w.message_id;
  h.job_id = w.job_id;
  h.read_request_message_id = w.read_request_message_id;
  h.payload_length = w.payload_length;
  h.modified_length = w.modified_length;
  h.message_offset = w.message_offset;
  return w.wire_len();
}
}  // namespace pkt
}  // namespace softuet
