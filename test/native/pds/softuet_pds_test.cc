// PDS logic of softuet without sockets: PSN tracking at the target (CACK, SACK bitmap,
// duplicates, window), the initiator's unacked window (retirement, RTO backoff, SACK
// gap retransmission), the header views going through the shared wire codecs, and the
// PDC rules of pds/pdc.h (ROD acceptance, CLEAR points, idle clocks, traffic classes).
#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "pds/pdc.h"
#include "pds/pkt.h"
#include "pds/window.h"

using namespace softuet;

TEST_CASE(rx_in_order_and_duplicates) {
  RxTracker rx;
  rx.init(1000);
  CHECK_EQ(rx.cack(), 999u);
  CHECK(rx.check(999) == RxTracker::DUP);
  CHECK(rx.check(1000) == RxTracker::NEW);
  rx.mark(1000);
  rx.mark(1001);
  CHECK_EQ(rx.cack(), 1001u);
  CHECK(rx.check(1000) == RxTracker::DUP);
  CHECK(!rx.has_gap());
}

TEST_CASE(rx_out_of_order_sack) {
  RxTracker rx;
  rx.init(50);
  rx.mark(52);
  rx.mark(55);
  CHECK_EQ(rx.cack(), 49u);
  CHECK(rx.has_gap());
  // base = CACK + 1 = 50: bits 2 and 5.
  CHECK_EQ(rx.sack_bitmap(), (1ull << 2) | (1ull << 5));
  CHECK(rx.check(52) == RxTracker::DUP);
  rx.mark(50);
  rx.mark(51);
  CHECK_EQ(rx.cack(), 52u);
  CHECK_EQ(rx.sack_bitmap(), 1ull << 2);  // 55 relative to 53
  rx.mark(52);  // re-marking below CACK must not disturb anything
  rx.mark(53);
  rx.mark(54);
  CHECK_EQ(rx.cack(), 55u);
  CHECK_EQ(rx.sack_bitmap(), 0u);
}

TEST_CASE(rx_window_and_wrap) {
  RxTracker rx;
  rx.init(0xfffffff0u);
  CHECK(rx.check(0xfffffff0u + RxTracker::kWindow + 1) == RxTracker::OUT_OF_WINDOW);
  for (uint32_t i = 0; i < 40; i++) rx.mark(0xfffffff0u + i);
  CHECK_EQ(rx.cack(), 0xfffffff0u + 39);  // wrapped past 2^32
  CHECK(rx.check(5) == RxTracker::DUP);
  CHECK(rx.check(0xfffffff0u + 40) == RxTracker::NEW);
  // Many packets: the ring never resurrects an old PSN.
  for (uint32_t i = 40; i < 5000; i++) rx.mark(0xfffffff0u + i);
  CHECK_EQ(rx.cack(), 0xfffffff0u + 4999);
  CHECK(rx.check(0xfffffff0u + 5000) == RxTracker::NEW);
}

TEST_CASE(tx_cack_sack_and_rto) {
  TxWindow tx;
  tx.init(7);
  for (int i = 0; i < 10; i++) {
    TxPkt &p = tx.push();
    p.sent_ns = 1000;
  }
  CHECK_EQ(tx.in_flight(), 10u);
  CHECK(tx.can_send(11));
  CHECK(!tx.can_send(10));
  int settled = 0;
  auto cb = [&](TxPkt &) { settled++; };
  tx.on_cack(9, cb);  // PSNs 7, 8, 9
  CHECK_EQ(settled, 3);
  CHECK_EQ(tx.base(), 10u);
  // SACK of 12 and 16 (base 10): 10, 11 are holes; 11 + 3 <= 16 makes 10..13 gaps.
  tx.on_sack(10, (1ull << 2) | (1ull << 6), cb);
  CHECK_EQ(settled, 5);
  std::vector<uint32_t> due;
  tx.due(1500, 1000, due, 600);  // holes, but out for less than the reordering window
  CHECK(due.empty());
  tx.due(1500, 1000, due, 500);  // before the RTO: only SACK-gap resends
  CHECK(std::find(due.begin(), due.end(), 10u) != due.end());
  CHECK(std::find(due.begin(), due.end(), 11u) != due.end());
  CHECK(std::find(due.begin(), due.end(), 12u) == due.end());  // SACKed
  CHECK(std::find(due.begin(), due.end(), 15u) == due.end());  // not 3 below the top yet
  due.clear();
  tx.due(1600, 1000, due);  // gap resends happen once
  CHECK(due.empty());
  tx.due(2000, 1000, due);  // RTO for every unacked packet
  CHECK_EQ(due.size(), 5u);  // 10 11 13 14 15: everything not retired (12 and 16 were SACKed)
  TxPkt *p = tx.find(10);
  REQUIRE(p);
  p->retries = 3;
  p->sent_ns = 2000;
  due.clear();
  tx.due(2000 + 7999, 1000, due);  // backoff 8x
  CHECK(std::find(due.begin(), due.end(), 10u) == due.end());
  due.clear();
  tx.due(2000 + 8000, 1000, due);
  CHECK(std::find(due.begin(), due.end(), 10u) != due.end());
}

TEST_CASE(tx_read_requests_wait_for_data) {
  TxWindow tx;
  tx.init(100);
  TxPkt &a = tx.push();
  a.needs_rsp_data = true;
  tx.push();
  int n = 0;
  tx.on_cack(101, [&](TxPkt &) { n++; });
  CHECK_EQ(n, 2);
  // The read request is known delivered but stays until its response data arrives.
  CHECK_EQ(tx.in_flight(), 2u);
  TxPkt *r = tx.find(100);
  REQUIRE(r);
  CHECK(r->delivered);
  CHECK(!r->acked);
  r->acked = true;
  tx.compact_front();
  CHECK_EQ(tx.in_flight(), 0u);
  CHECK_EQ(tx.base(), 102u);
}

TEST_CASE(headers_roundtrip_through_wire) {
  using namespace softuet::pkt;
  uint8_t b[128];
  PdsReq r;
  r.flags = RF_SYN | RF_AR;
  r.psn = 0x12345678;
  r.psn_offset = 0x123;
  r.spdcid = 77;
  r.clear_psn_offset = -5;
  REQUIRE_EQ(put_req(b, r, NH_REQ_STD), PDS_REQ_LEN);
  PdsReq r2;
  uint8_t nh = 0;
  REQUIRE_EQ(get_req(b, PDS_REQ_LEN, r2, nh), PDS_REQ_LEN);
  CHECK_EQ(nh, NH_REQ_STD);
  CHECK_EQ(r2.psn, r.psn);
  CHECK_EQ(r2.psn_offset, 0x123);
  CHECK_EQ(r2.flags, r.flags);
  CHECK_EQ(r2.clear_psn_offset, -5);
  CHECK_EQ(b[0] >> 3, PDS_RUD_REQ);

  PdsAck a;
  a.nh = NH_RSP;
  a.cack_psn = 99;
  a.ack_psn_offset = 3;
  a.sack_psn_offset = 1;
  a.sack_bitmap = 0x8000000000000005ull;
  a.spdcid = 1;
  a.dpdcid = 2;
  REQUIRE_EQ(put_ack(b, a), PDS_ACK_CC_LEN);
  PdsAck a2;
  REQUIRE_EQ(get_ack(b, PDS_ACK_CC_LEN, a2), PDS_ACK_CC_LEN);
  CHECK_EQ(a2.sack_bitmap, a.sack_bitmap);
  CHECK_EQ(a2.cack_psn, 99u);
  CHECK_EQ(a2.nh, NH_RSP);

  SesStd s;
  s.opcode = OP_FETCHING_ATOMIC;
  s.flags = SF_SOM | SF_EOM | SF_DC;
  s.message_id = 4242;
  s.job_id = 1;
  s.memory_key = 0xdeadbeefcafef00dull;
  s.buffer_offset = 0x7fff0000;
  s.request_length = 8;
  s.atomic_opcode = 0x02;
  s.atomic_datatype = 0x07;
  size_t n = put_ses(b, s);
  CHECK_EQ(n, SES_STD_LEN + SES_ATOMIC_EXT_LEN);
  SesStd s2;
  CHECK_EQ(get_ses(b, n, s2), n);
  CHECK_EQ(s2.memory_key, s.memory_key);
  CHECK_EQ(s2.atomic_opcode, 2);
  s.atomic_opcode = 0x0D;  // CSWAP: 36-byte CAS ext
  s.compare_lo = 5;
  s.swap_lo = 6;
  n = put_ses(b, s);
  CHECK_EQ(n, SES_STD_LEN + SES_CAS_EXT_LEN);
  CHECK_EQ(get_ses(b, n, s2), n);
  CHECK_EQ(s2.compare_lo, 5u);
  CHECK_EQ(s2.swap_lo, 6u);
  // Truncated headers are refused.
  CHECK_EQ(get_ses(b, n - 1, s2), 0u);
  CHECK_EQ(get_ack(b, 10, a2), 0u);

  SesRsp rsp;
  rsp.return_code = RC_BAD_MKEY;
  rsp.message_id = 9;
  rsp.payload_length = 100;
  rsp.message_offset = 4096;
  rsp.opcode = RSP_W_DATA;
  n = put_rsp(b, rsp, true);
  CHECK_EQ(n, SES_RSP_DATA_LEN);
  SesRsp rsp2;
  CHECK_EQ(get_rsp(b, n, rsp2, true), n);
  CHECK_EQ(rsp2.return_code, RC_BAD_MKEY);
  CHECK_EQ(rsp2.message_offset, 4096u);
  CHECK(!strcmp(rc_name(RC_BAD_MKEY), "UET_RC_BAD_MKEY"));
  CHECK(!strcmp(nack_name(NACK_PSN_OOR_WINDOW), "PSN_OOR_WINDOW"));
}

TEST_CASE(rod_accepts_only_the_next_psn) {
  RxTracker rx;
  rx.init(0xfffffffe);  // across the 2^32 wrap
  CHECK(rod_check(rx, 0xfffffffe) == RodVerdict::ACCEPT);
  CHECK(rod_check(rx, 0xffffffff) == RodVerdict::OUT_OF_ORDER);
  CHECK(rod_check(rx, 0) == RodVerdict::OUT_OF_ORDER);
  rx.mark(0xfffffffe);
  CHECK(rod_check(rx, 0xfffffffe) == RodVerdict::DUP);
  CHECK(rod_check(rx, 0xffffffff) == RodVerdict::ACCEPT);
  rx.mark(0xffffffff);
  CHECK(rod_check(rx, 0) == RodVerdict::ACCEPT);
  CHECK(rod_check(rx, 0 + RxTracker::kWindow + 5) == RodVerdict::OUT_OF_WINDOW);
  CHECK(!rx.has_gap());
}

TEST_CASE(clear_points) {
  // Offsets that fit are exact; one too far back is "unknown", never a clamped value.
  CHECK_EQ(clear_offset(99, 100), (int16_t)-1);
  CHECK_EQ(clear_offset(100 - 32767, 100), (int16_t)-32767);
  CHECK_EQ(clear_offset(100 - 32768, 100), kClearUnknown);
  CHECK_EQ(clear_offset(100 - 100000, 100), kClearUnknown);
  CHECK_EQ(clear_offset(5, 0xfffffff0u), (int16_t)21);  // wrap
  ClearPoint c;
  c.init(1000);
  CHECK_EQ(c.psn, 999u);
  CHECK(!c.note(999, 2000));   // not an advance
  CHECK(!c.note(2001, 2000));  // beyond what the target has: ignored
  CHECK(c.note(1500, 2000));
  CHECK(c.dirty);
  CHECK(!c.note(1400, 2000));  // never backwards
  CHECK_EQ(c.psn, 1500u);
}

TEST_CASE(idle_clock) {
  IdleClock k;
  CHECK_EQ(k.idle_for(true, 7, 1000), 0u);   // first sample starts the clock
  CHECK_EQ(k.idle_for(true, 7, 1500), 500u);
  CHECK_EQ(k.idle_for(true, 8, 1600), 0u);   // activity (mark moved) restarts it
  CHECK_EQ(k.idle_for(true, 8, 1700), 100u);
  CHECK_EQ(k.idle_for(false, 8, 1800), 0u);  // busy: idle time counts from here
  CHECK_EQ(k.idle_for(true, 8, 1900), 100u);
  CHECK_EQ(k.idle_for(true, 8, 2000), 200u);
}

TEST_CASE(pdc_keys_and_traffic_classes) {
  uint64_t peer = (uint64_t)0x7f000001 << 16 | 4793;
  CHECK(pdc_key(peer, false, 0) != pdc_key(peer, true, 0));
  CHECK(pdc_key(peer, false, 0) != pdc_key(peer, false, 10));
  CHECK(pdc_key(peer, true, 10) != pdc_key(peer + 1, true, 10));
  CHECK_EQ(pdc_key(peer, false, 0), peer);
  CHECK_EQ(dscp_of_tclass(0), -1);
  CHECK_EQ(dscp_of_tclass(0x100 | 10), 10);
  CHECK_EQ(dscp_of_tclass(0x100 | 63), 63);
  CHECK(dscp_of_tclass(0x100 | 64) < -1);
  CHECK_EQ(dscp_of_tclass(0x201), 46);  // FI_TC_LOW_LATENCY: EF
  CHECK_EQ(dscp_of_tclass(0x205), 48);  // FI_TC_NETWORK_CTRL: CS6
  CHECK(dscp_of_tclass(0x206) < -1);
  CHECK(dscp_of_tclass(0x300) < -1);
}

TEST_CASE(tx_window_peer_range) {
  TxWindow w;
  w.init(10);
  CHECK_EQ(w.peer_range(), 128u);  // until an ACK advertises the peer's MPR
  for (int i = 0; i < 128; i++) w.push();
  CHECK(!w.can_send(256));
  w.set_peer_mpr(2);
  CHECK(w.can_send(256));
  CHECK(!w.can_send(128));
  w.set_peer_mpr(0);  // 0 is read as the minimum range
  CHECK_EQ(w.peer_range(), 128u);
}

NLF_TEST_MAIN()
