#include "wire/ses.h"

#include <cstdint>

#include "wire/bytes.h"

namespace softuet::wire {

namespace {

inline DecodeStatus too_short(size_t len) { return decode_error(WireError::kTruncated, "length", uint16_t(len)); }

// The common first 12 bytes (bytes 2-3 raw: message_id or [13:0] request_length).
struct Common {
  uint8_t opcode, version, flags, ri_generation;
  uint16_t w2, pid_on_fep, resource_index;
  uint32_t job_id;
};

inline void load_common(const uint8_t* p, Common* c) {
  const uint32_t w0 = ld32(p);
  const uint32_t w4 = ld32(p + 4);
  const uint32_t w8 = ld32(p + 8);
  c->opcode = uint8_t(w0 >> 24) & 0x3F;
  c->version = uint8_t(w0 >> 22) & 3;
  c->flags = uint8_t(w0 >> 16) & 0x3F;
  c->w2 = uint16_t(w0);
  c->ri_generation = uint8_t(w4 >> 24);
  c->job_id = w4 & 0xFFFFFF;
  c->pid_on_fep = uint16_t(w8 >> 16);
  c->resource_index = uint16_t(w8);
}

// Length the extension needs (0 = none); reads the atomic opcode only if present.
inline size_t ext_need(uint8_t opcode, const uint8_t* x, size_t avail) {
  if (opcode_has_rendezvous_ext(opcode)) return kRendezvousExtLen;
  if (!opcode_has_atomic_ext(opcode)) return 0;
  if (avail < kAtomicExtLen) return kAtomicExtLen;
  return atomic_op_is_cas(x[0]) ? kCasExtLen : kAtomicExtLen;
}

// Checks of a request header after its full length is known to be present, in the
// shared order: unknown codes, then reserved bits (byte order).
// small: REQ_SMALL (HD reserved); len14: bytes 2-3 are [15:14] rsvd [13:0] request_length.
inline DecodeStatus check_request(const uint8_t* p, const Common& c, size_t base, size_t ext_len, bool small,
                                  bool len14) {
  if (c.version != kSesVersion) return decode_error(WireError::kUnknownValue, "version", 1);
  const uint8_t* x = p + base;
  if (ext_len && opcode_has_atomic_ext(c.opcode)) {
    if (!atomic_op_valid(x[0])) return decode_error(WireError::kUnknownValue, "atomic_opcode", uint16_t(base));
    if (!atomic_datatype_valid(x[1])) return decode_error(WireError::kUnknownValue, "atomic_datatype", uint16_t(base + 1));
  }
  if (p[0] & 0xC0) return decode_error(WireError::kReserved, "rsvd", 0);
  if (small && (c.flags & sesflags::kHd)) return decode_error(WireError::kReserved, "rsvd", 1);
  if (len14 && (c.w2 & ~kLen14Max)) return decode_error(WireError::kReserved, "rsvd", 2);
  if (c.pid_on_fep & 0xF000) return decode_error(WireError::kReserved, "rsvd", 8);
  if (c.resource_index & 0xF000) return decode_error(WireError::kReserved, "rsvd", 10);
  return kDecodeOk;
}

inline DecodeStatus check_ext_reserved(uint8_t opcode, const uint8_t* p, size_t base, size_t ext_len) {
  if (!ext_len || !opcode_has_atomic_ext(opcode)) return kDecodeOk;
  const uint8_t* x = p + base;
  if (x[2] & ~kSemanticCtrlDefined) return decode_error(WireError::kReserved, "semantic_ctrl", uint16_t(base + 2));
  if (x[3]) return decode_error(WireError::kReserved, "rsvd", uint16_t(base + 3));
  return kDecodeOk;
}

void load_ext(uint8_t opcode, const uint8_t* x, size_t ext_len, RequestExt* e) {
  *e = RequestExt{};
  if (!ext_len) return;
  if (opcode_has_rendezvous_ext(opcode)) {
    e->kind = SesExt::kRendezvous;
    e->eager_length = ld32(x);
    const uint32_t w = ld32(x + 4);
    e->rdv_ri_generation = uint8_t(w >> 24);
    e->rdv_pid_on_fep = uint16_t((w >> 12) & 0xFFF);
    e->rdv_resource_index = uint16_t(w & 0xFFF);
    e->rdv_offset = ld64(x + 8);
    e->rdv_memory_key = ld64(x + 16);
    return;
  }
  e->atomic_opcode = x[0];
  e->atomic_datatype = x[1];
  e->semantic_ctrl = x[2];
  if (ext_len == kAtomicExtLen) {
    e->kind = SesExt::kAtomic;
    return;
  }
  e->kind = SesExt::kCas;
  e->compare_hi = ld64(x + 4);
  e->compare_lo = ld64(x + 12);
  e->swap_hi = ld64(x + 20);
  e->swap_lo = ld64(x + 28);
}

inline bool common_fits(uint8_t opcode, uint8_t version, uint8_t flags, uint32_t job_id, uint16_t pid, uint16_t ri) {
  return opcode <= 0x3F && version <= 3 && flags <= 0x3F && job_id <= kJobIdMax && pid <= kPidOnFepMax &&
         ri <= kResourceIndexMax;
}

inline void encode_common(uint8_t* out, uint8_t opcode, uint8_t version, uint8_t flags, uint16_t w2, uint8_t gen,
                          uint32_t job_id, uint16_t pid, uint16_t ri) {
  out[0] = opcode;
  out[1] = uint8_t(version << 6 | flags);
  st16(out + 2, w2);
  st32(out + 4, uint32_t(gen) << 24 | job_id);
  st16(out + 8, pid);
  st16(out + 10, ri);
}

// Returns bytes written at out (0 = none needed), or SIZE_MAX if it does not fit.
size_t encode_ext(uint8_t opcode, const RequestExt& e, uint8_t* out, size_t cap) {
  const SesExt kind = request_ext_kind(opcode, e.atomic_opcode);
  const size_t n = request_ext_len(kind);
  if (cap < n) return SIZE_MAX;
  switch (kind) {
    case SesExt::kNone: return 0;
    case SesExt::kAtomic:
    case SesExt::kCas:
      out[0] = e.atomic_opcode;
      out[1] = e.atomic_datatype;
      out[2] = e.semantic_ctrl;
      out[3] = 0;
      if (kind == SesExt::kCas) {
        st64(out + 4, e.compare_hi);
        st64(out + 12, e.compare_lo);
        st64(out + 20, e.swap_hi);
        st64(out + 28, e.swap_lo);
      }
      return n;
    case SesExt::kRendezvous:
      if (e.rdv_pid_on_fep > 0xFFF || e.rdv_resource_index > 0xFFF) return SIZE_MAX;
      st32(out, e.eager_length);
      st32(out + 4, uint32_t(e.rdv_ri_generation) << 24 | uint32_t(e.rdv_pid_on_fep) << 12 | e.rdv_resource_index);
      st64(out + 8, e.rdv_offset);
      st64(out + 16, e.rdv_memory_key);
      return n;
  }
  return SIZE_MAX;
}

// Response headers share byte 0 (list|opcode) and byte 1 (version|return_code).
inline DecodeStatus check_response(const uint8_t* p) {
  if (!rsp_opcode_valid(p[0] & 0x3F)) return decode_error(WireError::kUnknownValue, "opcode", 0);
  if (p[1] >> 6 != kSesVersion) return decode_error(WireError::kUnknownValue, "version", 1);
  if (!return_code_valid(p[1] & 0x3F)) return decode_error(WireError::kUnknownValue, "return_code", 1);
  return kDecodeOk;
}

inline bool response_fits(uint8_t list, uint8_t opcode, uint8_t version, uint8_t rc, uint32_t job_id) {
  return list <= 3 && opcode <= 0x3F && version <= 3 && rc <= 0x3F && job_id <= kJobIdMax;
}

}  // namespace

SesExt request_ext_kind(uint8_t opcode, uint8_t atomic_opcode) {
  if (opcode_has_atomic_ext(opcode)) return atomic_op_is_cas(atomic_opcode) ? SesExt::kCas : SesExt::kAtomic;
  if (opcode_has_rendezvous_ext(opcode)) return SesExt::kRendezvous;
  return SesExt::kNone;
}

size_t request_ext_len(SesExt kind) {
  static constexpr uint8_t kLen[4] = {0, kAtomicExtLen, kCasExtLen, kRendezvousExtLen};
  return kLen[uint8_t(kind) & 3];
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, SesStd* out) {
  if (len < kSesStdLen) return too_short(len);
  if (!req_opcode_valid(p[0] & 0x3F)) return decode_error(WireError::kUnknownValue, "opcode", 0);
  const uint8_t opcode = p[0] & 0x3F;
  const size_t ext_len = ext_need(opcode, p + kSesStdLen, len - kSesStdLen);
  if (len < kSesStdLen + ext_len) return too_short(len);
  Common c;
  load_common(p, &c);
  DecodeStatus st = check_request(p, c, kSesStdLen, ext_len, false, false);
  if (!st.ok()) return st;
  const bool som = c.flags & sesflags::kSom;
  const uint32_t w32 = ld32(p + 32);
  if (!som && (w32 & ~kLen14Max)) return decode_error(WireError::kReserved, "rsvd", 32);
  st = check_ext_reserved(opcode, p, kSesStdLen, ext_len);
  if (!st.ok()) return st;
  out->opcode = c.opcode;
  out->version = c.version;
  out->flags = c.flags;
  out->message_id = c.w2;
  out->ri_generation = c.ri_generation;
  out->job_id = c.job_id;
  out->pid_on_fep = c.pid_on_fep;
  out->resource_index = c.resource_index;
  out->buffer_offset = ld64(p + 12);
  out->initiator = ld32(p + 20);
  out->memory_key = ld64(p + 24);
  out->header_data = som ? ld64(p + 32) : 0;
  out->payload_length = som ? 0 : uint16_t(w32);
  out->message_offset = som ? 0 : ld32(p + 36);
  out->request_length = ld32(p + 40);
  load_ext(opcode, p + kSesStdLen, ext_len, &out->ext);
  return kDecodeOk;
}

size_t encode(const SesStd& h, uint8_t* out, size_t cap) {
  if (cap < kSesStdLen || !common_fits(h.opcode, h.version, h.flags, h.job_id, h.pid_on_fep, h.resource_index))
    return 0;
  const bool som = h.flags & sesflags::kSom;
  if (!som && h.payload_length > kLen14Max) return 0;
  const size_t x = encode_ext(h.opcode, h.ext, out + kSesStdLen, cap - kSesStdLen);
  if (x == SIZE_MAX) return 0;
  encode_common(out, h.opcode, h.version, h.flags, h.message_id, h.ri_generation, h.job_id, h.pid_on_fep,
                h.resource_index);
  st64(out + 12, h.buffer_offset);
  st32(out + 20, h.initiator);
  st64(out + 24, h.memory_key);
  if (som) {
    st64(out + 32, h.header_data);
  } else {
    st32(out + 32, h.payload_length);
    st32(out + 36, h.message_offset);
  }
  st32(out + 40, h.request_length);
  return kSesStdLen + x;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, SesSmall* out) {
  if (len < kSesSmallLen) return too_short(len);
  if (!req_opcode_valid(p[0] & 0x3F)) return decode_error(WireError::kUnknownValue, "opcode", 0);
  const uint8_t opcode = p[0] & 0x3F;
  // The optimized header has no rendezvous form; only atomics extend it.
  const size_t ext_len = opcode_has_atomic_ext(opcode) ? ext_need(opcode, p + kSesSmallLen, len - kSesSmallLen) : 0;
  if (len < kSesSmallLen + ext_len) return too_short(len);
  Common c;
  load_common(p, &c);
  DecodeStatus st = check_request(p, c, kSesSmallLen, ext_len, true, true);
  if (!st.ok()) return st;
  st = check_ext_reserved(opcode, p, kSesSmallLen, ext_len);
  if (!st.ok()) return st;
  out->opcode = c.opcode;
  out->version = c.version;
  out->flags = c.flags;
  out->request_length = c.w2;
  out->ri_generation = c.ri_generation;
  out->job_id = c.job_id;
  out->pid_on_fep = c.pid_on_fep;
  out->resource_index = c.resource_index;
  out->buffer_offset = ld64(p + 12);
  load_ext(opcode, p + kSesSmallLen, ext_len, &out->ext);
  return kDecodeOk;
}

size_t encode(const SesSmall& h, uint8_t* out, size_t cap) {
  if (cap < kSesSmallLen || h.request_length > kLen14Max ||
      !common_fits(h.opcode, h.version, h.flags, h.job_id, h.pid_on_fep, h.resource_index))
    return 0;
  size_t x = 0;
  if (opcode_has_atomic_ext(h.opcode)) {
    x = encode_ext(h.opcode, h.ext, out + kSesSmallLen, cap - kSesSmallLen);
    if (x == SIZE_MAX) return 0;
  }
  encode_common(out, h.opcode, h.version, h.flags, h.request_length, h.ri_generation, h.job_id, h.pid_on_fep,
                h.resource_index);
  st64(out + 12, h.buffer_offset);
  return kSesSmallLen + x;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, SesMedium* out) {
  if (len < kSesMediumLen) return too_short(len);
  if (!req_opcode_valid(p[0] & 0x3F)) return decode_error(WireError::kUnknownValue, "opcode", 0);
  Common c;
  load_common(p, &c);
  DecodeStatus st = check_request(p, c, kSesMediumLen, 0, false, true);
  if (!st.ok()) return st;
  const bool hd = c.flags & sesflags::kHd;
  const uint64_t v = ld64(p + 12);
  out->opcode = c.opcode;
  out->version = c.version;
  out->flags = c.flags;
  out->request_length = c.w2;
  out->ri_generation = c.ri_generation;
  out->job_id = c.job_id;
  out->pid_on_fep = c.pid_on_fep;
  out->resource_index = c.resource_index;
  out->header_data = hd ? v : 0;
  out->buffer_offset = hd ? 0 : v;
  out->initiator = ld32(p + 20);
  out->memory_key = ld64(p + 24);
  return kDecodeOk;
}

size_t encode(const SesMedium& h, uint8_t* out, size_t cap) {
  if (cap < kSesMediumLen || h.request_length > kLen14Max ||
      !common_fits(h.opcode, h.version, h.flags, h.job_id, h.pid_on_fep, h.resource_index))
    return 0;
  encode_common(out, h.opcode, h.version, h.flags, h.request_length, h.ri_generation, h.job_id, h.pid_on_fep,
                h.resource_index);
  st64(out + 12, (h.flags & sesflags::kHd) ? h.header_data : h.buffer_offset);
  st32(out + 20, h.initiator);
  st64(out + 24, h.memory_key);
  return kSesMediumLen;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, SesRsp* out) {
  if (len < kSesRspLen) return too_short(len);
  DecodeStatus st = check_response(p);
  if (!st.ok()) return st;
  out->list = p[0] >> 6;
  out->opcode = p[0] & 0x3F;
  out->version = p[1] >> 6;
  out->return_code = p[1] & 0x3F;
  out->message_id = ld16(p + 2);
  out->ri_generation = p[4];
  out->job_id = ld32(p + 4) & 0xFFFFFF;
  out->modified_length = ld32(p + 8);
  return kDecodeOk;
}

size_t encode(const SesRsp& h, uint8_t* out, size_t cap) {
  if (cap < kSesRspLen || !response_fits(h.list, h.opcode, h.version, h.return_code, h.job_id)) return 0;
  out[0] = uint8_t(h.list << 6 | h.opcode);
  out[1] = uint8_t(h.version << 6 | h.return_code);
  st16(out + 2, h.message_id);
  st32(out + 4, uint32_t(h.ri_generation) << 24 | h.job_id);
  st32(out + 8, h.modified_length);
  return kSesRspLen;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, SesRspData* out) {
  if (len < kSesRspDataLen) return too_short(len);
  DecodeStatus st = check_response(p);
  if (!st.ok()) return st;
  if (p[4]) return decode_error(WireError::kReserved, "rsvd", 4);
  const uint16_t w10 = ld16(p + 10);
  if (w10 & ~kLen14Max) return decode_error(WireError::kReserved, "rsvd", 10);
  out->list = p[0] >> 6;
  out->opcode = p[0] & 0x3F;
  out->version = p[1] >> 6;
  out->return_code = p[1] & 0x3F;
  out->message_id = ld16(p + 2);
  out->job_id = ld32(p + 4) & 0xFFFFFF;
  out->read_request_message_id = ld16(p + 8);
  out->payload_length = w10;
  out->modified_length = ld32(p + 12);
  out->message_offset = ld32(p + 16);
  return kDecodeOk;
}

size_t encode(const SesRspData& h, uint8_t* out, size_t cap) {
  if (cap < kSesRspDataLen || !response_fits(h.list, h.opcode, h.version, h.return_code, h.job_id) ||
      h.payload_length > kLen14Max)
    return 0;
  out[0] = uint8_t(h.list << 6 | h.opcode);
  out[1] = uint8_t(h.version << 6 | h.return_code);
  st16(out + 2, h.message_id);
  st32(out + 4, h.job_id);
  st16(out + 8, h.read_request_message_id);
  st16(out + 10, h.payload_length);
  st32(out + 12, h.modified_length);
  st32(out + 16, h.message_offset);
  return kSesRspDataLen;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, SesRspDataSmall* out) {
  if (len < kRspDataSmallLen) return too_short(len);
  DecodeStatus st = check_response(p);
  if (!st.ok()) return st;
  const uint16_t w2 = ld16(p + 2);
  if (w2 & ~kLen14Max) return decode_error(WireError::kReserved, "rsvd", 2);
  out->list = p[0] >> 6;
  out->opcode = p[0] & 0x3F;
  out->version = p[1] >> 6;
  out->return_code = p[1] & 0x3F;
  out->payload_length = w2;
  out->ri_generation = p[4];
  out->job_id = ld32(p + 4) & 0xFFFFFF;
  out->original_request_psn = ld32(p + 8);
  return kDecodeOk;
}

size_t encode(const SesRspDataSmall& h, uint8_t* out, size_t cap) {
  if (cap < kRspDataSmallLen || !response_fits(h.list, h.opcode, h.version, h.return_code, h.job_id) ||
      h.payload_length > kLen14Max)
    return 0;
  out[0] = uint8_t(h.list << 6 | h.opcode);
  out[1] = uint8_t(h.version << 6 | h.return_code);
  st16(out + 2, h.payload_length);
  st32(out + 4, uint32_t(h.ri_generation) << 24 | h.job_id);
  st32(out + 8, h.original_request_psn);
  return kRspDataSmallLen;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode_ses(uint8_t nh, const uint8_t* p, size_t len, SesHeader* out) {
  DecodeStatus st = kDecodeOk;
  switch (nh) {
    case 0: out->kind = SesKind::kNone; out->length = 0; return kDecodeOk;
    case 1: out->kind = SesKind::kSmall; st = decode(p, len, &out->small); if (st.ok()) out->length = uint16_t(kSesSmallLen + request_ext_len(out->small.ext.kind)); break;
    case 2: out->kind = SesKind::kMedium; st = decode(p, len, &out->medium); out->length = kSesMediumLen; break;
    case 3: out->kind = SesKind::kStd; st = decode(p, len, &out->std_req); if (st.ok()) out->length = uint16_t(kSesStdLen + request_ext_len(out->std_req.ext.kind)); break;
    case 4: out->kind = SesKind::kRsp; st = decode(p, len, &out->rsp); out->length = kSesRspLen; break;
    case 5: out->kind = SesKind::kRspData; st = decode(p, len, &out->rsp_data); out->length = kSesRspDataLen; break;
    case 6: out->kind = SesKind::kRspDataSmall; st = decode(p, len, &out->rsp_data_small); out->length = kRspDataSmallLen; break;
    default: st = decode_error(WireError::kUnknownNextHeader, "nh", 0); break;
  }
  if (!st.ok()) {
    out->kind = SesKind::kNone;
    out->length = 0;
  }
  return st;
}

size_t encode_ses(const SesHeader& h, uint8_t* out, size_t cap) {
  switch (h.kind) {
    case SesKind::kNone: return 0;
    case SesKind::kStd: return encode(h.std_req, out, cap);
    case SesKind::kSmall: return encode(h.small, out, cap);
    case SesKind::kMedium: return encode(h.medium, out, cap);
    case SesKind::kRsp: return encode(h.rsp, out, cap);
    case SesKind::kRspData: return encode(h.rsp_data, out, cap);
    case SesKind::kRspDataSmall: return encode(h.rsp_data_small, out, cap);
  }
  return 0;
}

}  // namespace softuet::wire
