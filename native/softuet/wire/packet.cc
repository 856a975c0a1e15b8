#include "wire/packet.h"

#include <cstring>

#include "wire/bytes.h"
#include "wire/crc32c.h"

namespace softuet::wire {

uint32_t uet_crc32c(const CrcCover& cover, const uint8_t* uet, size_t len) {
  uint32_t s = crc32c_update(kCrc32cInit, cover.ip_addrs, cover.ip_addrs_len);
  if (cover.udp_header) s = crc32c_update(s, cover.udp_header, kUdpHeaderLen);
  return crc32c_final(crc32c_update(s, uet, len));
}

size_t append_crc_trailer(const CrcCover& cover, uint8_t* uet, size_t len, size_t cap) {
  if (cap < len || cap - len < kCrcTrailerLen) return 0;
  const uint32_t c = uet_crc32c(cover, uet, len);
  if (kCrcTrailerBigEndian) {
    st32(uet + len, c);
  } else {
    std::memcpy(uet + len, &c, 4);
  }
  return len + kCrcTrailerLen;
}

namespace {

inline DecodeStatus too_short(size_t len) { return decode_error(WireError::kTruncated, "length", uint16_t(len)); }

inline DecodeStatus shifted(DecodeStatus st, size_t base) {
  st.offset = uint16_t(st.offset + base);
  return st;
}

// Parses from p + start (start = 0, or 4 after the entropy header).
DecodeStatus parse_from(const uint8_t* p, size_t len, size_t start, Packet* out, const CrcCover* crc) {
  out->has_crc = false;
  out->crc = 0;
  out->payload = nullptr;
  out->payload_len = 0;
  out->ses.kind = SesKind::kNone;
  out->ses.length = 0;
  out->pds.kind = PdsKind::kNone;
  out->pds.length = 0;

  if (len - start >= 1 && (p[start] >> 3) == uint8_t(PdsType::kTss)) {
    // Encrypted: the TSS header, then ciphertext, then the 16-byte ICV.
    DecodeStatus st = decode(p + start, len - start, &out->pds.tss);
    if (!st.ok()) return shifted(st, start);
    out->pds.kind = PdsKind::kTss;
    out->pds.type = uint8_t(PdsType::kTss);
    out->pds.length = uint16_t(out->pds.tss.wire_len());
    const size_t off = start + out->pds.length;
    if (len - off < kIcvLen) return too_short(len);
    out->payload = p + off;
    out->payload_len = len - off - kIcvLen;
    return kDecodeOk;
  }

  size_t end = len;
  if (crc) {
    if (len - start < kCrcTrailerLen) return too_short(len);
    end = len - kCrcTrailerLen;
    const uint32_t raw = ld32(p + end);
    const uint32_t want = kCrcTrailerBigEndian ? raw : __builtin_bswap32(raw);
    const uint32_t got = uet_crc32c(*crc, p, end);
    if (want != got) return decode_error(WireError::kBadCrc, "crc", uint16_t(end));
    out->has_crc = true;
    out->crc = got;
  }

  DecodeStatus st = decode_pds(p + start, end - start, &out->pds);
  if (!st.ok()) return shifted(st, start);
  size_t off = start + out->pds.length;

  st = decode_ses(out->pds.next_header(), p + off, end - off, &out->ses);
  if (!st.ok()) return shifted(st, off);
  const size_t ses_off = off;
  off += out->ses.length;
  out->payload = p + off;
  out->payload_len = end - off;

  // Length fields describing this packet's payload must not claim more than is there.
  uint32_t claimed = 0;
  size_t field_off = 0;
  switch (out->ses.kind) {
    case SesKind::kStd:
      if (!out->ses.std_req.som()) {
        claimed = out->ses.std_req.payload_length;
        field_off = ses_off + 34;  // the 14 bits sit in bytes 34-35
      }
      break;
    case SesKind::kRspData:
      claimed = out->ses.rsp_data.payload_length;
      field_off = ses_off + 10;
      break;
    case SesKind::kRspDataSmall:
      claimed = out->ses.rsp_data_small.payload_length;
      field_off = ses_off + 2;
      break;
    default:
      break;
  }
  if (claimed > out->payload_len)
    return decode_error(WireError::kLengthOverrun, "payload_length", uint16_t(field_off));
  return kDecodeOk;
}

}  // namespace

DecodeStatus parse_packet(const uint8_t* p, size_t len, Packet* out, const CrcCover* crc) {
  out->entropy = 0;
  return parse_from(p, len, 0, out, crc);
}

DecodeStatus parse_packet_ip(const uint8_t* p, size_t len, Packet* out, const CrcCover* crc) {
  Entropy e;
  DecodeStatus st = decode(p, len, &e);
  if (!st.ok()) return st;
  out->entropy = e.entropy;
  return parse_from(p, len, kEntropyLen, out, crc);
}

}  // namespace softuet::wire
