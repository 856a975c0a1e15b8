// Hand-built cases for the wire codecs that do not depend on the shared JSON vectors:
// PSN wrap-around, negative offsets, field-width maxima, CRC32C, whole-packet parsing
// and a guard-page check that no decoder reads past the bytes it is given.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "common/check.h"
#include "wire/crc32c.h"
#include "wire/packet.h"
#include "wire/pds.h"
#include "wire/ses.h"

using namespace softuet::wire;

// Counts heap allocations so the decode hot path can be shown to make none.
static long g_allocs = 0;
void* operator new(size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

std::string hex(const uint8_t* p, size_t n) {
  static const char d[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

template <typename H>
H roundtrip(const H& in, size_t want_len) {
  uint8_t buf[128];
  size_t n = encode(in, buf, sizeof buf);
  CHECK_EQ(n, want_len);
  H out{};
  DecodeStatus st = decode(buf, n, &out);
  CHECK_MSG(st.ok(), std::string("decode: ") + wire_error_name(st.error) + " " + st.field);
  return out;
}

}  // namespace

TEST_CASE(crc32c_check_value) {
  const uint8_t s[] = "123456789";
  CHECK_EQ(crc32c(s, 9), 0xE3069283u);
  CHECK_EQ(crc32c_final(crc32c_update_portable(kCrc32cInit, s, 9)), 0xE3069283u);
  CHECK_EQ(crc32c(s, 0), 0u);
  // Incremental == one shot, and the accelerated path == the table path, at every
  // length and split (covers the 8-byte and tail loops).
  std::mt19937 rng(7);
  std::vector<uint8_t> data(300);
  for (auto& b : data) b = uint8_t(rng());
  for (size_t n = 0; n < data.size(); n += 7) {
    uint32_t one = crc32c(data.data(), n);
    CHECK_EQ(one, crc32c_final(crc32c_update_portable(kCrc32cInit, data.data(), n)));
    size_t cut = n / 3;
    uint32_t inc = crc32c_update(kCrc32cInit, data.data(), cut);
    inc = crc32c_final(crc32c_update(inc, data.data() + cut, n - cut));
    CHECK_EQ(one, inc);
  }
}

TEST_CASE(crc32c_long_inputs_match_table_path) {
  // Lengths that reach the three-lane blocks (both block sizes) and the carry-less
  // folding (from 256 bytes, four accumulators from 512), their boundaries, odd tails
  // and unaligned starts; incremental splits must agree with one shot.
  std::mt19937 rng(11);
  std::vector<uint8_t> data(3 * 1360 * 4 + 3 * 128 * 2 + 64);
  for (auto& b : data) b = uint8_t(rng());
  const size_t lens[] = {255, 256, 257, 383, 384, 385, 511, 512, 513, 767, 768, 1151, 4079, 4080, 4081, 4096,
                         4080 + 384, 8160 + 767, 8192 + 60, data.size() - 1};
  for (size_t len : lens)
    for (size_t off = 0; off < 3; ++off) {
      const uint8_t* p = data.data() + off;
      size_t n = std::min(len, data.size() - off);
      uint32_t want = crc32c_final(crc32c_update_portable(kCrc32cInit, p, n));
      CHECK_EQ(crc32c(p, n), want);
      size_t cut = (n * 2) / 5 + off;
      uint32_t inc = crc32c_update(kCrc32cInit, p, cut);
      CHECK_EQ(crc32c_final(crc32c_update(inc, p + cut, n - cut)), want);
    }
  for (size_t n = 0; n < 2000; n += 61)
    CHECK_EQ(crc32c(data.data(), n), crc32c_final(crc32c_update_portable(kCrc32cInit, data.data(), n)));
}

TEST_CASE(crc32c_copy_places_and_checks_in_one_pass) {
  // The fused copy must give the table path's CRC and a byte-exact copy at every length
  // class (byte tail, 16-byte tail, one and four accumulators) and misalignment of
  // either side, must not write past dst + n, and must agree incrementally.
  std::mt19937 rng(23);
  std::vector<uint8_t> src(8192 + 300);
  for (auto& b : src) b = uint8_t(rng());
  const size_t lens[] = {0, 1, 15, 16, 63, 255, 256, 257, 300, 511, 512, 513, 1000, 4095, 4096, 4097, 4160, 8192 + 7};
  std::vector<uint8_t> dst(src.size() + 64);
  for (size_t len : lens)
    for (size_t soff = 0; soff < 3; ++soff)
      for (size_t doff = 0; doff < 3; doff += 2) {
        std::fill(dst.begin(), dst.end(), 0x5A);
        const uint8_t* p = src.data() + soff;
        uint8_t* d = dst.data() + doff;
        uint32_t want = crc32c_update_portable(0x12345678u, p, len);
        CHECK_EQ(crc32c_copy(0x12345678u, d, p, len), want);
        CHECK(std::memcmp(d, p, len) == 0);
        for (size_t i = 0; i < doff; ++i) CHECK_EQ(dst[i], 0x5A);
        for (size_t i = doff + len; i < dst.size(); ++i) CHECK_EQ(dst[i], 0x5A);
        std::fill(dst.begin(), dst.end(), 0);
        CHECK_EQ(crc32c_copy_portable(0x12345678u, d, p, len), want);
        CHECK(std::memcmp(d, p, len) == 0);
      }
  // Header by update, payload by copy: the receiver's split.
  uint8_t out[4096];
  uint32_t s = crc32c_update(kCrc32cInit, src.data(), 64);
  s = crc32c_copy(s, out, src.data() + 64, 4096);
  CHECK_EQ(crc32c_final(s), crc32c(src.data(), 64 + 4096));
}

TEST_CASE(request_psn_wrap_and_syn) {
  PdsRequest r{};
  r.type = 2;
  r.nh = 3;
  r.flags = flags::kReqSyn | flags::kReqAr;
  r.psn = 0xFFFFFFFFu;
  r.clear_psn_offset = -1;
  r.spdcid = 0xFFFF;
  r.use_rsv_pdc = true;
  r.psn_offset = 0xFFF;  // 12-bit maximum
  uint8_t buf[16];
  REQUIRE_EQ(encode(r, buf, sizeof buf), 12u);
  CHECK_EQ(hex(buf, 12), std::string("118cffffffffffffffff8fff"));
  PdsRequest d{};
  REQUIRE(decode(buf, 12, &d).ok());
  CHECK_EQ(d.psn, 0xFFFFFFFFu);
  CHECK_EQ(d.clear_psn(), 0xFFFFFFFEu);
  CHECK_EQ(d.start_psn(), 0xFFFFFFFFu - 0xFFFu);
  CHECK(d.syn());
  CHECK(d.ar());
  CHECK(!d.retx());
  CHECK(d.use_rsv_pdc);
  CHECK_EQ(d.psn_offset, 0xFFF);
  CHECK_EQ(d.dpdcid, 0);

  // PSN 3 with psn_offset 10: Start_PSN wrapped below zero.
  r.psn = 3;
  r.psn_offset = 10;
  r.clear_psn_offset = -32768;
  d = roundtrip(r, 12);
  CHECK_EQ(d.start_psn(), 0xFFFFFFF9u);
  CHECK_EQ(d.clear_psn(), 3u - 32768u);
  CHECK_EQ(d.clear_psn_offset, -32768);

  // psn_offset is 12 bits: 4096 does not fit.
  r.psn_offset = 0x1000;
  CHECK_EQ(encode(r, buf, sizeof buf), 0u);
  // Without SYN the same bytes are dpdcid, all 16 bits.
  r.flags = 0;
  r.dpdcid = 0xFFFF;
  d = roundtrip(r, 12);
  CHECK_EQ(d.dpdcid, 0xFFFF);
  CHECK_EQ(d.psn_offset, 0);
}

TEST_CASE(cc_request_24bit_credit) {
  PdsRequest r{};
  r.type = 14;
  r.nh = 2;
  r.ccc_id = 0xFF;
  r.credit_target = 0xFFFFFF;
  PdsRequest d = roundtrip(r, 16);
  CHECK(d.rod());
  CHECK(d.has_cc());
  CHECK_EQ(d.credit_target, 0xFFFFFFu);
  CHECK_EQ(d.ccc_id, 0xFF);
  uint8_t buf[16];
  r.credit_target = 0x1000000;
  CHECK_EQ(encode(r, buf, sizeof buf), 0u);
  r.credit_target = 1;
  CHECK_EQ(encode(r, buf, 15), 0u);
}

TEST_CASE(ack_negative_offsets_and_cc_state) {
  Ack a{};
  a.type = 8;
  a.nh = 4;
  a.flags = flags::kAckM | (uint8_t(AckReq::kClose) << flags::kAckReqShift);
  a.ack_psn_offset = -1;
  a.cack_psn = 0;  // ACK_PSN and SACK base wrap below zero
  a.sack_psn_offset = -8;
  a.sack_bitmap = 0x8000000000000001ull;
  a.cc_type = uint8_t(CcType::kNscc);
  a.mpr = 255;
  a.service_time = 0xFFFF;
  a.rc = 1;
  a.rcv_cwnd_pend = 0x7F;
  a.rcvd_bytes = 0xFFFFFF;
  a.ooo_count = 0xFFFF;
  Ack d = roundtrip(a, 32);
  CHECK_EQ(d.ack_psn(), 0xFFFFFFFFu);
  CHECK_EQ(d.sack_base(), 0xFFFFFFF8u);
  CHECK_EQ(d.req(), uint8_t(AckReq::kClose));
  CHECK(d.m());
  CHECK_EQ(d.rcvd_bytes, 0xFFFFFFu);
  CHECK_EQ(d.rcv_cwnd_pend, 0x7F);
  CHECK_EQ(d.rc, 1);
  CHECK_EQ(d.service_time, 0xFFFF);
  CHECK_EQ(d.ooo_count, 0xFFFF);
  CHECK_EQ(d.sack_bitmap, 0x8000000000000001ull);

  // RC and rcv_cwnd_pend share byte 26: RC is its top bit.
  uint8_t buf[40];
  a.rc = 1;
  a.rcv_cwnd_pend = 0;
  REQUIRE_EQ(encode(a, buf, sizeof buf), 32u);
  CHECK_EQ(buf[26], 0x80);
  a.rcvd_bytes = 0x1000000;
  CHECK_EQ(encode(a, buf, sizeof buf), 0u);

  Ack c{};
  c.type = 8;
  c.cc_type = uint8_t(CcType::kCredit);
  c.credit = 0xFFFFFF;
  c.ooo_count = 3;
  d = roundtrip(c, 32);
  CHECK_EQ(d.credit, 0xFFFFFFu);
  CHECK_EQ(d.ooo_count, 3);
  CHECK_EQ(d.rcvd_bytes, 0u);

  // Plain ACK with EPSN: 16 bytes, expected_psn appended.
  Ack e{};
  e.type = 7;
  e.flags = flags::kAckEpsn;
  e.expected_psn = 0xFFFFFFFF;
  d = roundtrip(e, 16);
  CHECK_EQ(d.expected_psn, 0xFFFFFFFFu);
  // EPSN is reserved on ACK_CC: the encoder refuses it, the decoder rejects it.
  c.flags = flags::kAckEpsn;
  CHECK_EQ(encode(c, buf, sizeof buf), 0u);
  c.flags = 0;
  REQUIRE_EQ(encode(c, buf, sizeof buf), 32u);
  buf[1] |= flags::kAckEpsn;
  Ack bad{};
  DecodeStatus st = decode(buf, 32, &bad);
  CHECK(!st.ok());
  CHECK_EQ(std::string(st.field), std::string("flags"));

  // Probe ACK: the offset slot carries probe_opaque.
  Ack pr{};
  pr.type = 7;
  pr.flags = flags::kAckP;
  pr.ack_psn_offset = int16_t(0xBEEF);
  d = roundtrip(pr, 12);
  CHECK_EQ(d.probe_opaque(), 0xBEEF);
}

TEST_CASE(nack_ccx_60bit_state_and_actions) {
  Nack n{};
  n.type = 12;
  n.nack_code = uint8_t(NackCode::kNewStartPsn);
  n.nccx_type = 0xF;
  n.nack_ccx_state1 = 0x0FFFFFFFFFFFFFFFull;
  n.nack_ccx_state2 = ~0ull;
  Nack d = roundtrip(n, 32);
  CHECK_EQ(d.nccx_type, 0xF);
  CHECK_EQ(d.nack_ccx_state1, 0x0FFFFFFFFFFFFFFFull);
  CHECK_EQ(d.nack_ccx_state2, ~0ull);
  uint8_t buf[32];
  n.nack_ccx_state1 = 1ull << 60;
  CHECK_EQ(encode(n, buf, sizeof buf), 0u);

  CHECK(nack_info(0x17).action == NackAction::kAdopt);
  CHECK(nack_info(0x18).action == NackAction::kDrop);
  CHECK(nack_info(0x01).action == NackAction::kRetransmit);
  CHECK(nack_info(0x0E).action == NackAction::kClose);
  CHECK(nack_info(0xFF).action == NackAction::kClose);
  CHECK(nack_info(0xFD).action == NackAction::kRetransmit);
  CHECK(!nack_code_valid(0x0C));
  CHECK(!nack_code_valid(0x00));
  CHECK(!nack_code_valid(0x1B));
  CHECK(!nack_code_valid(0xFC));
}

TEST_CASE(cp_probe_and_syn) {
  Cp c{};
  c.ctl_type = uint8_t(CtlType::kProbe);
  c.flags = flags::kCpIsrod | flags::kCpSyn;
  c.probe_opaque = 0xFFFF;
  c.psn_offset = 0xFFF;
  c.psn = 0xFFFFFFFF;
  c.payload = 0x12345678;
  Cp d = roundtrip(c, 16);
  CHECK_EQ(d.probe_opaque, 0xFFFF);
  CHECK(d.isrod());
  CHECK_EQ(d.psn_offset, 0xFFF);
  // Outside PROBE bytes 2-3 are reserved: encode writes 0 there.
  c.ctl_type = uint8_t(CtlType::kClose);
  d = roundtrip(c, 16);
  CHECK_EQ(d.probe_opaque, 0);
}

TEST_CASE(ses_field_width_maxima) {
  SesStd s{};
  s.opcode = uint8_t(SesOpcode::kWrite);
  s.flags = sesflags::kEom;  // non-SOM: payload_length + message_offset
  s.payload_length = 0x3FFF;  // 14-bit maximum
  s.message_offset = 0xFFFFFFFF;
  s.job_id = 0xFFFFFF;
  s.pid_on_fep = 0xFFF;
  s.resource_index = 0xFFF;
  s.ri_generation = 0xFF;
  s.memory_key = ~0ull;
  s.request_length = 0xFFFFFFFF;
  SesStd d = roundtrip(s, 44);
  CHECK_EQ(d.payload_length, 0x3FFF);
  CHECK_EQ(d.message_offset, 0xFFFFFFFFu);
  CHECK_EQ(d.job_id, 0xFFFFFFu);
  CHECK_EQ(d.pid_on_fep, 0xFFF);
  CHECK_EQ(d.resource_index, 0xFFF);
  uint8_t buf[128];
  s.payload_length = 0x4000;
  CHECK_EQ(encode(s, buf, sizeof buf), 0u);
  s.payload_length = 1;
  s.job_id = 0x1000000;
  CHECK_EQ(encode(s, buf, sizeof buf), 0u);
  s.job_id = 1;
  s.pid_on_fep = 0x1000;
  CHECK_EQ(encode(s, buf, sizeof buf), 0u);

  // Rendezvous ext 8/12/12 split at its maxima.
  SesStd r{};
  r.opcode = uint8_t(SesOpcode::kRendezvousSend);
  r.flags = sesflags::kSom;
  r.ext.eager_length = 0xFFFFFFFF;
  r.ext.rdv_ri_generation = 0xFF;
  r.ext.rdv_pid_on_fep = 0xFFF;
  r.ext.rdv_resource_index = 0xFFF;
  r.ext.rdv_offset = 1;
  r.ext.rdv_memory_key = 2;
  d = roundtrip(r, 68);
  CHECK(d.ext.kind == SesExt::kRendezvous);
  CHECK_EQ(d.ext.rdv_pid_on_fep, 0xFFF);
  CHECK_EQ(d.ext.rdv_resource_index, 0xFFF);
  r.ext.rdv_pid_on_fep = 0x1000;
  CHECK_EQ(encode(r, buf, sizeof buf), 0u);

  // CAS ext (CSWAP) vs plain atomic (SUM).
  SesStd a{};
  a.opcode = uint8_t(SesOpcode::kFetchingAtomic);
  a.flags = sesflags::kSom | sesflags::kEom;
  a.ext.atomic_opcode = uint8_t(AtomicOp::kCswap);
  a.ext.atomic_datatype = uint8_t(AtomicDatatype::kUint128);
  a.ext.compare_hi = 1;
  a.ext.swap_lo = 2;
  d = roundtrip(a, 80);
  CHECK(d.ext.kind == SesExt::kCas);
  CHECK_EQ(d.ext.swap_lo, 2u);
  a.ext.atomic_opcode = uint8_t(AtomicOp::kSum);
  d = roundtrip(a, 48);
  CHECK(d.ext.kind == SesExt::kAtomic);

  SesSmall sm{};
  sm.opcode = uint8_t(SesOpcode::kWrite);
  sm.flags = sesflags::kSom | sesflags::kEom;
  sm.request_length = 0x3FFF;
  SesSmall ds = roundtrip(sm, 20);
  CHECK_EQ(ds.request_length, 0x3FFF);
  sm.request_length = 0x4000;
  CHECK_EQ(encode(sm, buf, sizeof buf), 0u);

  SesRspDataSmall rs{};
  rs.opcode = uint8_t(RspOpcode::kResponseWData);
  rs.return_code = uint8_t(ReturnCode::kOk);
  rs.payload_length = 0x3FFF;
  rs.original_request_psn = 0xFFFFFFFF;
  SesRspDataSmall drs = roundtrip(rs, 12);
  CHECK_EQ(drs.payload_length, 0x3FFF);
  CHECK_EQ(drs.original_request_psn, 0xFFFFFFFFu);
}

TEST_CASE(packet_parse_with_crc) {
  // ACK (nh = RSP_DATA) + RSP_DATA + 5 bytes of read data + CRC32C trailer.
  uint8_t pkt[64];
  Ack a{};
  a.type = 7;
  a.nh = uint8_t(NextHeader::kRspData);
  a.cack_psn = 100;
  a.spdcid = 9;
  a.dpdcid = 10;
  size_t n = encode(a, pkt, sizeof pkt);
  SesRspData r{};
  r.opcode = uint8_t(RspOpcode::kResponseWData);
  r.return_code = uint8_t(ReturnCode::kOk);
  r.payload_length = 5;
  n += encode(r, pkt + n, sizeof pkt - n);
  REQUIRE_EQ(n, 32u);
  std::memcpy(pkt + n, "hello", 5);
  n += 5;
  const uint8_t addrs[8] = {127, 0, 0, 1, 127, 0, 0, 2};
  const uint8_t udp[8] = {0xC0, 0x01, 0x12, 0xB9, 0x00, 0x2D, 0x00, 0x00};
  CrcCover cover{addrs, 8, udp};
  n = append_crc_trailer(cover, pkt, n, sizeof pkt);
  REQUIRE_EQ(n, 41u);

  // The trailer is CRC32C over addrs | udp | UET bytes, big-endian.
  std::vector<uint8_t> all(addrs, addrs + 8);
  all.insert(all.end(), udp, udp + 8);
  all.insert(all.end(), pkt, pkt + 37);
  const uint32_t want = crc32c(all.data(), all.size());
  CHECK_EQ(uint32_t(pkt[37]) << 24 | uint32_t(pkt[38]) << 16 | uint32_t(pkt[39]) << 8 | pkt[40], want);

  Packet p;
  DecodeStatus st = parse_packet(pkt, n, &p, &cover);
  REQUIRE(st.ok());
  CHECK(p.pds.kind == PdsKind::kAck);
  CHECK(p.ses.kind == SesKind::kRspData);
  CHECK_EQ(p.payload_len, 5u);
  CHECK(p.payload == pkt + 32);  // points into the buffer, no copy
  CHECK(p.has_crc);
  CHECK_EQ(p.crc, want);

  // Any flipped bit, in the data or in the covered pseudo-header, fails the check.
  pkt[35] ^= 1;
  st = parse_packet(pkt, n, &p, &cover);
  CHECK(st.error == WireError::kBadCrc);
  CHECK_EQ(st.offset, 37);
  pkt[35] ^= 1;
  uint8_t other[8] = {127, 0, 0, 1, 127, 0, 0, 3};
  CrcCover wrong{other, 8, udp};
  CHECK(parse_packet(pkt, n, &p, &wrong).error == WireError::kBadCrc);
  CHECK(parse_packet(pkt, n, &p, &cover).ok());

  // Without a trailer expected, the 4 CRC bytes count as payload.
  REQUIRE(parse_packet(pkt, n, &p).ok());
  CHECK_EQ(p.payload_len, 9u);

  // payload_length claiming more than present.
  pkt[12 + 11] = 10;
  st = parse_packet(pkt, 37, &p);
  CHECK(st.error == WireError::kLengthOverrun);
  CHECK_EQ(std::string(st.field), std::string("payload_length"));
  CHECK_EQ(st.offset, 22);
}

TEST_CASE(packet_parse_native_ip_and_tss) {
  uint8_t pkt[64] = {0xAB, 0xCD, 0, 0};
  Uud u{};
  u.nh = uint8_t(NextHeader::kReqStd);
  size_t n = 4 + encode(u, pkt + 4, 60);
  SesStd s{};
  s.opcode = uint8_t(SesOpcode::kDatagramSend);
  s.flags = sesflags::kSom | sesflags::kEom;
  s.request_length = 3;
  n += encode(s, pkt + n, sizeof pkt - n);
  std::memcpy(pkt + n, "abc", 3);
  n += 3;
  Packet p;
  REQUIRE(parse_packet_ip(pkt, n, &p).ok());
  CHECK_EQ(p.entropy, 0xABCD);
  CHECK(p.pds.kind == PdsKind::kUud);
  CHECK(p.ses.kind == SesKind::kStd);
  CHECK_EQ(p.payload_len, 3u);

  // CP carries no SES header; whatever follows is payload.
  Cp c{};
  c.ctl_type = uint8_t(CtlType::kAckReq);
  uint8_t cp[16];
  REQUIRE_EQ(encode(c, cp, 16), 16u);
  REQUIRE(parse_packet(cp, 16, &p).ok());
  CHECK(p.pds.kind == PdsKind::kCp);
  CHECK(p.ses.kind == SesKind::kNone);

  // TSS: header, ciphertext, 16-byte ICV; nothing behind it is parsed.
  Tss t{};
  t.sp = true;
  t.sdi = 0xABCDEF;
  t.ssi = 7;
  t.epoch = 1;
  t.counter = 0xFFFFFFFFFFFFull;
  uint8_t enc[48] = {};
  REQUIRE_EQ(encode(t, enc, sizeof enc), 16u);
  REQUIRE(parse_packet(enc, 40, &p).ok());
  CHECK(p.pds.kind == PdsKind::kTss);
  CHECK_EQ(p.payload_len, 8u);
  CHECK_EQ(p.pds.tss.counter, 0xFFFFFFFFFFFFull);
  DecodeStatus st = parse_packet(enc, 31, &p);
  CHECK_EQ(std::string(st.field), std::string("length"));
  // decode_pds alone does not take a TSS header.
  PdsHeader h;
  CHECK(decode_pds(enc, 40, &h).error == WireError::kUnknownType);
}

TEST_CASE(no_read_past_len_guard_page) {
  // Inputs end exactly at a PROT_NONE page: any read past len faults.
  const long page = sysconf(_SC_PAGESIZE);
  uint8_t* base = static_cast<uint8_t*>(
      mmap(nullptr, size_t(page) * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(base != MAP_FAILED);
  REQUIRE(mprotect(base + page, size_t(page), PROT_NONE) == 0);
  uint8_t* end = base + page;
  std::mt19937 rng(12345);
  long accepted = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    const size_t len = rng() % 96;
    uint8_t* p = end - len;
    for (size_t i = 0; i < len; ++i) p[i] = uint8_t(rng());
    // Bias towards valid prologues so decoders get past the type check.
    if (len >= 2 && (iter & 1)) {
      static const uint8_t types[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 1};
      p[0] = uint8_t(types[rng() % sizeof types] << 3 | (p[0] & 7));
      p[1] &= 0x9F;
    }
    Packet pkt;
    accepted += parse_packet(p, len, &pkt).ok();
    accepted += parse_packet_ip(p, len, &pkt).ok();
    PdsHeader h;
    accepted += decode_pds(p, len, &h).ok();
    SesHeader sh;
    for (uint8_t nh = 1; nh <= 6; ++nh) accepted += decode_ses(nh, p, len, &sh).ok();
    Tss t;
    accepted += decode(p, len, &t).ok();
    Entropy e;
    accepted += decode(p, len, &e).ok();
  }
  munmap(base, size_t(page) * 2);
  CHECK(accepted > 1000);  // the loop really reached the decoders' bodies
}

TEST_CASE(parse_is_allocation_free) {
  // A request with a rendezvous ext and payload, parsed many times: zero allocations.
  uint8_t pkt[128];
  PdsRequest r{};
  r.type = 3;
  r.nh = uint8_t(NextHeader::kReqStd);
  r.flags = flags::kReqSyn;
  size_t n = encode(r, pkt, sizeof pkt);
  SesStd s{};
  s.opcode = uint8_t(SesOpcode::kRendezvousTsend);
  s.flags = sesflags::kSom;
  n += encode(s, pkt + n, sizeof pkt - n);
  n += 20;
  const uint8_t addrs[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const uint8_t udp[8] = {};
  CrcCover cover{addrs, 8, udp};
  n = append_crc_trailer(cover, pkt, n, sizeof pkt);
  REQUIRE(n > 0);
  const long before = g_allocs;
  long ok = 0;
  for (int i = 0; i < 10000; ++i) {
    Packet p;
    ok += parse_packet(pkt, n, &p, &cover).ok();
    ok += parse_packet(pkt, n - 1, &p, &cover).ok();  // failure path too
  }
  CHECK_EQ(g_allocs - before, 0);
  CHECK_EQ(ok, 10000);
}

NLF_TEST_MAIN()
