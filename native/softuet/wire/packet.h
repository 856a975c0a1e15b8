// Whole-packet parser for a UET-over-UDP datagram (the UDP payload): PDS header, SES
// header by nh, then the payload, pointing into the caller's buffer (no copies).
//
// The optional CRC32C trailer (4 B, big-endian: kCrcTrailerBigEndian) covers the IP
// source+destination addresses, the 8-byte UDP header and the UET bytes before the
// trailer. The caller supplies the first two (a UDP socket never sees them in the
// payload); passing a CrcCover means "this datagram carries a trailer: check it".
// A TSS (encrypted) datagram ends in a 16-byte ICV instead, so `crc` is ignored there.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/pds.h"
#include "wire/ses.h"
#include "wire/status.h"

namespace softuet::wire {

struct CrcCover {
  const uint8_t* ip_addrs;  // src then dst: 8 B (IPv4) or 32 B (IPv6), network order
  size_t ip_addrs_len;
  const uint8_t* udp_header;  // 8 B as on the wire (sport, dport, length, checksum);
                              // nullptr for native IP, where the entropy header is
                              // part of the parsed bytes and so already covered
};

// CRC32C over cover + uet[0, len).
uint32_t uet_crc32c(const CrcCover& cover, const uint8_t* uet, size_t len);
// Appends the trailer after uet[0, len); returns the new length, 0 if cap < len + 4.
size_t append_crc_trailer(const CrcCover& cover, uint8_t* uet, size_t len, size_t cap);

struct Packet {
  uint16_t entropy;  // native IP: from the entropy header; UDP: 0 (it is the source port)
  PdsHeader pds;  // kind kTss when the datagram is encrypted (then no SES is parsed)
  SesHeader ses;  // kind kNone for CP, TSS, nh = 0
  const uint8_t* payload;  // after the headers (TSS: the ciphertext, ICV excluded)
  size_t payload_len;
  bool has_crc;  // a trailer was present and matched
  uint32_t crc;
};

// Error offsets are from the start of the given buffer. A buffer too short for what
// the headers need names field "length" at the number of bytes available.
DecodeStatus parse_packet(const uint8_t* udp_payload, size_t len, Packet* out, const CrcCover* crc = nullptr);
// Native-IP form: the IP payload, starting with the 4-byte entropy header.
DecodeStatus parse_packet_ip(const uint8_t* ip_payload, size_t len, Packet* out, const CrcCover* crc = nullptr);

}  // namespace softuet::wire
