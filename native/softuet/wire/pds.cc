#include "wire/pds.h"

#include "wire/bytes.h"

namespace softuet::wire {

namespace {

inline uint16_t prologue_word(uint8_t type, uint8_t nh, uint8_t flags) {
  return uint16_t(type) << kPrologueTypeShift | uint16_t(nh) << kPrologueNhShift | flags;
}

inline DecodeStatus too_short(size_t len) { return decode_error(WireError::kTruncated, "length", uint16_t(len)); }

// Common prologue checks: the 2-byte word must be present and the type in type_mask.
inline DecodeStatus need_type(const uint8_t* p, size_t len, uint32_t type_mask, uint16_t* word) {
  if (len < 2) return too_short(len);
  uint16_t w = ld16(p);
  *word = w;
  if (!((type_mask >> (w >> kPrologueTypeShift)) & 1)) return decode_error(WireError::kUnknownType, "type", 0);
  return kDecodeOk;
}

// nh must be one of the SES headers this PDS type can carry.
inline bool nh_bad(uint16_t w, uint8_t allowed) {
  return !((allowed >> ((w & kPrologueNhMask) >> kPrologueNhShift)) & 1);
}

}  // namespace

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Prologue* out) {
  if (len < 2) return too_short(len);
  uint16_t w = ld16(p);
  out->type = uint8_t(w >> kPrologueTypeShift);
  out->nh = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  out->flags = uint8_t(w & kPrologueFlagsMask);
  return kDecodeOk;
}

size_t encode(const Prologue& h, uint8_t* out, size_t cap) {
  if (cap < 2 || h.type > 31 || h.nh > 15 || h.flags > 0x7F) return 0;
  st16(out, prologue_word(h.type, h.nh, h.flags));
  return 2;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, PdsRequest* out) {
  uint16_t w;
  DecodeStatus st = need_type(p, len, 1u << 2 | 1u << 3 | 1u << 13 | 1u << 14, &w);
  if (!st.ok()) return st;
  const uint8_t type = uint8_t(w >> kPrologueTypeShift);
  const bool cc = type >= 13;
  if (len < (cc ? 16u : 12u)) return too_short(len);
  if (nh_bad(w, kNhRequests)) return decode_error(WireError::kUnknownNextHeader, "nh", 0);
  const uint8_t fl = uint8_t(w & kPrologueFlagsMask);
  if (fl & flags::kReqReserved) return decode_error(WireError::kReserved, "flags", 1);
  const uint16_t w10 = ld16(p + 10);
  const bool syn = fl & flags::kReqSyn;
  if (syn && (w10 & kSynReserved)) return decode_error(WireError::kReserved, "rsvd", 10);
  out->type = type;
  out->nh = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  out->flags = fl;
  out->clear_psn_offset = int16_t(ld16(p + 2));
  out->psn = ld32(p + 4);
  out->spdcid = ld16(p + 8);
  out->dpdcid = syn ? 0 : w10;
  out->use_rsv_pdc = syn && (w10 & kSynUseRsvPdc);
  out->psn_offset = syn ? (w10 & kSynPsnOffsetMask) : 0;
  const uint32_t w12 = cc ? ld32(p + 12) : 0;
  out->ccc_id = uint8_t(w12 >> 24);
  out->credit_target = w12 & 0xFFFFFF;
  return kDecodeOk;
}

size_t encode(const PdsRequest& h, uint8_t* out, size_t cap) {
  const bool cc = h.type == 13 || h.type == 14;
  const size_t n = cc ? 16 : 12;
  if (!(h.type == 2 || h.type == 3 || cc) || cap < n || h.nh > 15 || h.flags > 0x7F ||
      (h.flags & flags::kReqReserved))
    return 0;
  const bool syn = h.flags & flags::kReqSyn;
  if (syn && h.psn_offset > kPsnOffsetMax) return 0;
  if (cc && h.credit_target > 0xFFFFFF) return 0;
  st16(out, prologue_word(h.type, h.nh, h.flags));
  st16(out + 2, uint16_t(h.clear_psn_offset));
  st32(out + 4, h.psn);
  st16(out + 8, h.spdcid);
  st16(out + 10, syn ? uint16_t((h.use_rsv_pdc ? kSynUseRsvPdc : 0) | h.psn_offset) : h.dpdcid);
  if (cc) st32(out + 12, uint32_t(h.ccc_id) << 24 | h.credit_target);
  return n;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Ack* out) {
  uint16_t w;
  DecodeStatus st = need_type(p, len, 1u << 7 | 1u << 8 | 1u << 9, &w);
  if (!st.ok()) return st;
  const uint8_t type = uint8_t(w >> kPrologueTypeShift);
  const uint8_t fl = uint8_t(w & kPrologueFlagsMask);
  const bool epsn = type == 7 && (fl & flags::kAckEpsn);
  const size_t n = type == 7 ? (epsn ? 16 : 12) : type == 8 ? 32 : kAckCcxLen;
  if (len < n) return too_short(len);
  if (nh_bad(w, kNhResponses)) return decode_error(WireError::kUnknownNextHeader, "nh", 0);
  const uint8_t cc_type = type == 7 ? 0 : p[12] >> 4;
  if (type == 8 && cc_type > uint8_t(CcType::kCredit)) return decode_error(WireError::kUnknownValue, "cc_type", 12);
  if (fl & (type == 7 ? flags::kAckReserved : flags::kAckCcReserved))
    return decode_error(WireError::kReserved, "flags", 1);
  if ((fl & flags::kAckReqMask) == flags::kAckReqMask) return decode_error(WireError::kReserved, "req", 1);
  const uint64_t s = type == 8 ? ld64(p + 24) : 0;
  if (type == 8 && cc_type == uint8_t(CcType::kCredit) && ((s >> 16) & 0xFFFFFF))
    return decode_error(WireError::kReserved, "rsvd", 27);

  out->type = type;
  out->nh = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  out->flags = fl;
  out->ack_psn_offset = int16_t(ld16(p + 2));
  out->cack_psn = ld32(p + 4);
  out->spdcid = ld16(p + 8);
  out->dpdcid = ld16(p + 10);
  out->expected_psn = epsn ? ld32(p + 12) : 0;
  const bool ext = type != 7;
  out->cc_type = cc_type;
  out->cc_flags = ext ? p[12] & 0x0F : 0;
  out->mpr = ext ? p[13] : 0;
  out->sack_psn_offset = ext ? int16_t(ld16(p + 14)) : 0;
  out->sack_bitmap = ext ? ld64(p + 16) : 0;
  const bool nscc = type == 8 && cc_type == uint8_t(CcType::kNscc);
  const bool credit = type == 8 && cc_type == uint8_t(CcType::kCredit);
  out->service_time = nscc ? uint16_t(s >> 48) : 0;
  out->rc = nscc ? uint8_t(s >> 47) & 1 : 0;
  out->rcv_cwnd_pend = nscc ? uint8_t(s >> 40) & 0x7F : 0;
  out->rcvd_bytes = nscc ? uint32_t(s >> 16) & 0xFFFFFF : 0;
  out->credit = credit ? uint32_t(s >> 40) : 0;
  out->ooo_count = uint16_t(s);
  out->ccx_state_hi = type == 9 ? ld64(p + 24) : 0;
  out->ccx_state_lo = type == 9 ? ld64(p + 32) : 0;
  return kDecodeOk;
}

size_t encode(const Ack& h, uint8_t* out, size_t cap) {
  if (h.type < 7 || h.type > 9 || h.nh > 15 || h.flags > 0x7F ||
      (h.flags & (h.type == 7 ? flags::kAckReserved : flags::kAckCcReserved)) ||
      (h.flags & flags::kAckReqMask) == flags::kAckReqMask)
    return 0;
  const size_t n = h.wire_len();
  if (cap < n) return 0;
  st16(out, prologue_word(h.type, h.nh, h.flags));
  st16(out + 2, uint16_t(h.ack_psn_offset));
  st32(out + 4, h.cack_psn);
  st16(out + 8, h.spdcid);
  st16(out + 10, h.dpdcid);
  if (h.type == 7) {
    if (n == 16) st32(out + 12, h.expected_psn);
    return n;
  }
  if (h.cc_type > 15 || h.cc_flags > 15) return 0;
  out[12] = uint8_t(h.cc_type << 4 | h.cc_flags);
  out[13] = h.mpr;
  st16(out + 14, uint16_t(h.sack_psn_offset));
  st64(out + 16, h.sack_bitmap);
  if (h.type == 9) {
    st64(out + 24, h.ccx_state_hi);
    st64(out + 32, h.ccx_state_lo);
    return n;
  }
  uint64_t s;
  if (h.cc_type == uint8_t(CcType::kNscc)) {
    if (h.rc > 1 || h.rcv_cwnd_pend > 0x7F || h.rcvd_bytes > 0xFFFFFF) return 0;
    s = uint64_t(h.service_time) << 48 | uint64_t(h.rc) << 47 | uint64_t(h.rcv_cwnd_pend) << 40 |
        uint64_t(h.rcvd_bytes) << 16 | h.ooo_count;
  } else if (h.cc_type == uint8_t(CcType::kCredit)) {
    if (h.credit > 0xFFFFFF) return 0;
    s = uint64_t(h.credit) << 40 | h.ooo_count;
  } else {
    return 0;
  }
  st64(out + 24, s);
  return n;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Nack* out) {
  uint16_t w;
  DecodeStatus st = need_type(p, len, 1u << 10 | 1u << 12, &w);
  if (!st.ok()) return st;
  const uint8_t type = uint8_t(w >> kPrologueTypeShift);
  if (len < (type == 12 ? kNackCcxLen : 16)) return too_short(len);
  if (nh_bad(w, kNhNackOnly)) return decode_error(WireError::kUnknownNextHeader, "nh", 0);
  if (!nack_code_valid(p[2])) return decode_error(WireError::kUnknownValue, "nack_code", 2);
  const uint8_t fl = uint8_t(w & kPrologueFlagsMask);
  if (fl & flags::kNackReserved) return decode_error(WireError::kReserved, "flags", 1);
  out->type = type;
  out->nh = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  out->flags = fl;
  out->nack_code = p[2];
  out->vendor_code = p[3];
  out->nack_psn = ld32(p + 4);
  out->spdcid = ld16(p + 8);
  out->dpdcid = ld16(p + 10);
  out->payload = ld32(p + 12);
  const uint64_t s1 = type == 12 ? ld64(p + 16) : 0;
  out->nccx_type = uint8_t(s1 >> 60);
  out->nack_ccx_state1 = s1 & 0x0FFFFFFFFFFFFFFFull;
  out->nack_ccx_state2 = type == 12 ? ld64(p + 24) : 0;
  return kDecodeOk;
}

size_t encode(const Nack& h, uint8_t* out, size_t cap) {
  if (!(h.type == 10 || h.type == 12) || h.nh > 15 || h.flags > 0x7F || (h.flags & flags::kNackReserved)) return 0;
  const size_t n = h.wire_len();
  if (cap < n) return 0;
  if (h.type == 12 && (h.nccx_type > 15 || (h.nack_ccx_state1 >> 60))) return 0;
  st16(out, prologue_word(h.type, h.nh, h.flags));
  out[2] = h.nack_code;
  out[3] = h.vendor_code;
  st32(out + 4, h.nack_psn);
  st16(out + 8, h.spdcid);
  st16(out + 10, h.dpdcid);
  st32(out + 12, h.payload);
  if (h.type == 12) {
    st64(out + 16, uint64_t(h.nccx_type) << 60 | h.nack_ccx_state1);
    st64(out + 24, h.nack_ccx_state2);
  }
  return n;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Cp* out) {
  uint16_t w;
  DecodeStatus st = need_type(p, len, 1u << 11, &w);
  if (!st.ok()) return st;
  if (len < 16) return too_short(len);
  const uint8_t ctl = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  if (ctl > kCtlTypeMax) return decode_error(WireError::kUnknownNextHeader, "ctl_type", 0);
  const uint8_t fl = uint8_t(w & kPrologueFlagsMask);
  if (fl & flags::kCpReserved) return decode_error(WireError::kReserved, "flags", 1);
  const bool probe = ctl == uint8_t(CtlType::kProbe);
  const uint16_t w2 = ld16(p + 2);
  if (!probe && w2) return decode_error(WireError::kReserved, "rsvd", 2);
  const uint16_t w10 = ld16(p + 10);
  const bool syn = fl & flags::kCpSyn;
  if (syn && (w10 & kSynReserved)) return decode_error(WireError::kReserved, "rsvd", 10);
  out->ctl_type = ctl;
  out->flags = fl;
  out->probe_opaque = w2;
  out->psn = ld32(p + 4);
  out->spdcid = ld16(p + 8);
  out->dpdcid = syn ? 0 : w10;
  out->use_rsv_pdc = syn && (w10 & kSynUseRsvPdc);
  out->psn_offset = syn ? (w10 & kSynPsnOffsetMask) : 0;
  out->payload = ld32(p + 12);
  return kDecodeOk;
}

size_t encode(const Cp& h, uint8_t* out, size_t cap) {
  if (cap < 16 || h.ctl_type > 15 || h.flags > 0x7F || (h.flags & flags::kCpReserved)) return 0;
  const bool syn = h.flags & flags::kCpSyn;
  if (syn && h.psn_offset > kPsnOffsetMax) return 0;
  st16(out, prologue_word(uint8_t(PdsType::kCp), h.ctl_type, h.flags));
  st16(out + 2, h.ctl_type == uint8_t(CtlType::kProbe) ? h.probe_opaque : 0);
  st32(out + 4, h.psn);
  st16(out + 8, h.spdcid);
  st16(out + 10, syn ? uint16_t((h.use_rsv_pdc ? kSynUseRsvPdc : 0) | h.psn_offset) : h.dpdcid);
  st32(out + 12, h.payload);
  return 16;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Rudi* out) {
  uint16_t w;
  DecodeStatus st = need_type(p, len, 1u << 4 | 1u << 5, &w);
  if (!st.ok()) return st;
  if (len < 8) return too_short(len);
  const uint8_t type = uint8_t(w >> kPrologueTypeShift);
  if (nh_bad(w, type == 4 ? kNhRequests : kNhResponses)) return decode_error(WireError::kUnknownNextHeader, "nh", 0);
  const uint8_t fl = uint8_t(w & kPrologueFlagsMask);
  if (fl & (type == 4 ? flags::kRudiReqReserved : flags::kRudiRespReserved))
    return decode_error(WireError::kReserved, "flags", 1);
  if (ld16(p + 2)) return decode_error(WireError::kReserved, "rsvd", 2);
  out->type = type;
  out->nh = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  out->flags = fl;
  out->pkt_id = ld32(p + 4);
  return kDecodeOk;
}

size_t encode(const Rudi& h, uint8_t* out, size_t cap) {
  if (cap < 8 || !(h.type == 4 || h.type == 5) || h.nh > 15 || h.flags > 0x7F ||
      (h.flags & (h.type == 4 ? flags::kRudiReqReserved : flags::kRudiRespReserved)))
    return 0;
  st16(out, prologue_word(h.type, h.nh, h.flags));
  st16(out + 2, 0);
  st32(out + 4, h.pkt_id);
  return 8;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Uud* out) {
  uint16_t w;
  DecodeStatus st = need_type(p, len, 1u << 6, &w);
  if (!st.ok()) return st;
  if (len < 4) return too_short(len);
  if (nh_bad(w, kNhRequests)) return decode_error(WireError::kUnknownNextHeader, "nh", 0);
  const uint8_t fl = uint8_t(w & kPrologueFlagsMask);
  if (fl & flags::kUudReserved) return decode_error(WireError::kReserved, "flags", 1);
  if (ld16(p + 2)) return decode_error(WireError::kReserved, "rsvd", 2);
  out->nh = uint8_t((w & kPrologueNhMask) >> kPrologueNhShift);
  out->flags = fl;
  return kDecodeOk;
}

size_t encode(const Uud& h, uint8_t* out, size_t cap) {
  if (cap < 4 || h.nh > 15 || (h.flags & flags::kUudReserved)) return 0;
  st16(out, prologue_word(uint8_t(PdsType::kUudReq), h.nh, h.flags));
  st16(out + 2, 0);
  return 4;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Entropy* out) {
  if (len < 4) return too_short(len);
  if (ld16(p + 2)) return decode_error(WireError::kReserved, "rsvd", 2);
  out->entropy = ld16(p);
  return kDecodeOk;
}

size_t encode(const Entropy& h, uint8_t* out, size_t cap) {
  if (cap < 4) return 0;
  st16(out, h.entropy);
  st16(out + 2, 0);
  return 4;
}

// ---------------------------------------------------------------------------------

DecodeStatus decode(const uint8_t* p, size_t len, Tss* out) {
  if (len < 1) return too_short(len);
  if ((p[0] >> 3) != uint8_t(PdsType::kTss)) return decode_error(WireError::kUnknownType, "type", 0);
  if (len < 4) return too_short(len);
  const uint32_t w0 = ld32(p);
  const bool sp = w0 & kTssSp;
  if (len < (sp ? kTssSsiLen : kTssLen)) return too_short(len);
  if (w0 & kTssRsvd) return decode_error(WireError::kReserved, "rsvd", 0);
  const uint8_t* t = p + (sp ? 8 : 4);
  out->sp = sp;
  out->an = w0 & kTssAn;
  out->sdi = w0 & kTssSdiMask;
  out->ssi = sp ? ld32(p + 4) : 0;
  const uint64_t tsc = ld64(t);
  out->epoch = uint16_t(tsc >> 48);
  out->counter = tsc & 0xFFFFFFFFFFFFull;
  return kDecodeOk;
}

size_t encode(const Tss& h, uint8_t* out, size_t cap) {
  const size_t n = h.wire_len();
  if (cap < n || h.sdi > kTssSdiMask || (h.counter >> 48)) return 0;
  st32(out, uint32_t(PdsType::kTss) << 27 | (h.sp ? kTssSp : 0) | (h.an ? kTssAn : 0) | h.sdi);
  if (h.sp) st32(out + 4, h.ssi);
  st64(out + (h.sp ? 8 : 4), h.tsc());
  return n;
}

// ---------------------------------------------------------------------------------

uint8_t PdsHeader::next_header() const {
  switch (kind) {
    case PdsKind::kRequest: return req.nh;
    case PdsKind::kRudi: return rudi.nh;
    case PdsKind::kUud: return uud.nh;
    case PdsKind::kAck: return ack.nh;
    case PdsKind::kNack: return nack.nh;
    default: return 0;
  }
}

DecodeStatus decode_pds(const uint8_t* p, size_t len, PdsHeader* out) {
  if (len < 2) return too_short(len);
  const uint8_t type = p[0] >> 3;
  out->type = type;
  DecodeStatus st;
  switch (type) {
    case 2: case 3: case 13: case 14:
      out->kind = PdsKind::kRequest; st = decode(p, len, &out->req); out->length = uint16_t(out->req.wire_len()); break;
    case 4: case 5: out->kind = PdsKind::kRudi; st = decode(p, len, &out->rudi); out->length = 8; break;
    case 6: out->kind = PdsKind::kUud; st = decode(p, len, &out->uud); out->length = 4; break;
    case 7: case 8: case 9:
      out->kind = PdsKind::kAck; st = decode(p, len, &out->ack); out->length = uint16_t(out->ack.wire_len()); break;
    case 10: case 12:
      out->kind = PdsKind::kNack; st = decode(p, len, &out->nack); out->length = uint16_t(out->nack.wire_len()); break;
    case 11: out->kind = PdsKind::kCp; st = decode(p, len, &out->cp); out->length = 16; break;
    default:
      out->kind = PdsKind::kNone;
      out->length = 0;
      return decode_error(WireError::kUnknownType, "type", 0);
  }
  if (!st.ok()) {
    out->kind = PdsKind::kNone;
    out->length = 0;
  }
  return st;
}

size_t encode_pds(const PdsHeader& h, uint8_t* out, size_t cap) {
  switch (h.kind) {
    case PdsKind::kTss: return encode(h.tss, out, cap);
    case PdsKind::kRequest: return encode(h.req, out, cap);
    case PdsKind::kRudi: return encode(h.rudi, out, cap);
    case PdsKind::kUud: return encode(h.uud, out, cap);
    case PdsKind::kAck: return encode(h.ack, out, cap);
    case PdsKind::kNack: return encode(h.nack, out, cap);
    case PdsKind::kCp: return encode(h.cp, out, cap);
    default: return 0;
  }
}

const char* wire_error_name(WireError e) {
  switch (e) {
    case WireError::kOk: return "ok";
    case WireError::kTruncated: return "truncated";
    case WireError::kUnknownType: return "unknown type";
    case WireError::kUnknownNextHeader: return "unknown next header";
    case WireError::kUnknownValue: return "unknown value";
    case WireError::kReserved: return "reserved bits set";
    case WireError::kLengthOverrun: return "length overrun";
    case WireError::kBadCrc: return "bad crc";
  }
  return "?";
}

}  // namespace softuet::wire
