// libFuzzer target over the UET receive path: parse_packet (UDP and native-IP forms,
// with and without a CRC trailer), every header decoder, and the protocol core's
// receive entry point softuet_rx_fuzz_one when it is linked in (scripts/fuzz decides).
//
// Besides "no crash, no sanitizer report", it checks one property: a header that
// decodes re-encodes to exactly the bytes it came from. Decoders reject reserved bits,
// so the decoded struct determines every bit of the header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "wire/packet.h"
#include "wire/pds.h"
#include "wire/ses.h"

using namespace softuet::wire;

// Defined by the protocol core (native/softuet/ses); weak so the wire-only build links.
extern "C" void softuet_rx_fuzz_one(const uint8_t* data, size_t size) __attribute__((weak));

namespace {

[[noreturn]] void fail(const char* what) {
  __builtin_printf("roundtrip mismatch: %s\n", what);
  __builtin_trap();
}

template <typename H>
void roundtrip(const uint8_t* p, size_t len, const char* name) {
  H h{};
  DecodeStatus st = decode(p, len, &h);
  if (!st.ok()) {
    if (st.offset > len && st.error == WireError::kTruncated) fail(name);
    if (st.field == nullptr) fail(name);
    return;
  }
  const size_t n = h.wire_len();
  if (n > len) fail(name);
  uint8_t out[128];
  const size_t w = encode(h, out, sizeof out);
  if (w != n || std::memcmp(out, p, n) != 0) fail(name);
  // Too little room must write nothing and return 0.
  if (encode(h, out, n - 1) != 0) fail(name);
}

void check_packet(const Packet& pkt, const uint8_t* data, size_t size) {
  if (pkt.payload < data || pkt.payload + pkt.payload_len > data + size) fail("packet payload bounds");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Whole-packet parsers.
  Packet pkt;
  if (parse_packet(data, size, &pkt).ok()) check_packet(pkt, data, size);
  if (parse_packet_ip(data, size, &pkt).ok()) check_packet(pkt, data, size);
  static const uint8_t addrs[8] = {127, 0, 0, 1, 127, 0, 0, 1};
  static const uint8_t udp[8] = {0xC0, 0x00, 0x12, 0xB9, 0x00, 0x00, 0x00, 0x00};
  const CrcCover cover{addrs, sizeof addrs, udp};
  if (parse_packet(data, size, &pkt, &cover).ok()) check_packet(pkt, data, size);
  // A correct trailer gets the parser past the CRC, into the headers.
  if (size >= 4 && size < 4096) {
    uint8_t buf[4096 + 4];
    std::memcpy(buf, data, size);
    const size_t n = append_crc_trailer(cover, buf, size, sizeof buf);
    if (n != size + 4) fail("append_crc_trailer");
    if (parse_packet(buf, n, &pkt, &cover).ok()) check_packet(pkt, buf, n);
  }

  // Dispatchers.
  PdsHeader h;
  if (decode_pds(data, size, &h).ok()) {
    uint8_t out[64];
    if (encode_pds(h, out, sizeof out) != h.length || std::memcmp(out, data, h.length) != 0) fail("encode_pds");
  }
  SesHeader s;
  for (uint8_t nh = 0; nh < 16; ++nh) {
    if (decode_ses(nh, data, size, &s).ok() && s.kind != SesKind::kNone) {
      uint8_t out[128];
      if (encode_ses(s, out, sizeof out) != s.length || std::memcmp(out, data, s.length) != 0) fail("encode_ses");
    }
  }

  // Every decoder, whatever the type byte says.
  roundtrip<PdsRequest>(data, size, "PdsRequest");
  roundtrip<Ack>(data, size, "Ack");
  roundtrip<Nack>(data, size, "Nack");
  roundtrip<Cp>(data, size, "Cp");
  roundtrip<Rudi>(data, size, "Rudi");
  roundtrip<Uud>(data, size, "Uud");
  roundtrip<Entropy>(data, size, "Entropy");
  roundtrip<Tss>(data, size, "Tss");
  roundtrip<SesStd>(data, size, "SesStd");
  roundtrip<SesSmall>(data, size, "SesSmall");
  roundtrip<SesMedium>(data, size, "SesMedium");
  roundtrip<SesRsp>(data, size, "SesRsp");
  roundtrip<SesRspData>(data, size, "SesRspData");
  roundtrip<SesRspDataSmall>(data, size, "SesRspDataSmall");

  // The protocol core's receive path, when linked.
  if (softuet_rx_fuzz_one) softuet_rx_fuzz_one(data, size);
  return 0;
}
