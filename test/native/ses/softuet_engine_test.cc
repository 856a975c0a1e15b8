// The softuet protocol core end to end without sockets or libfabric: two engines whose
// packets are carried by the test, which can drop, duplicate and reorder them. Checks
// segmentation/reassembly, matching order, RMA placement, MR protection and atomics,
// ROD PDCs, PDC keys, CLEAR and idle CLOSE, plus the atomic engine alone and the fuzz
// entry point on hostile input.
#include <unistd.h>
#include <arpa/inet.h>
#include <rdma/fabric.h>
#include <rdma/fi_errno.h>

#include <cstring>
#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include "common/check.h"
#include "common/engine_net.h"
#include "ses/atomic.h"
#include "ses/engine.h"

using namespace softuet;

namespace {
using Net = nlf::test::EngineNet;

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = (uint8_t)((i * 131 + seed * 7) ^ (i >> 8));
  return v;
}

TxOp *op(OpKind k, std::vector<uint8_t> &buf, size_t len) {
  auto *o = new TxOp;
  o->kind = k;
  o->peer = Net::addr();
  if (len) o->local.add(buf.data(), len);
  o->length = (uint32_t)len;
  return o;
}

// Exposes mem at b under key 0x9 (remote write) and returns a write of data's first
// len bytes to its start.
TxOp *write_to_b(Net &n, std::vector<uint8_t> &mem, std::vector<uint8_t> &data, size_t len) {
  n.hb.mrs[0x9] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_WRITE};
  TxOp *w = op(OpKind::WRITE, data, len);
  w->key = 0x9;
  return w;
}

RecvEntry *recv(std::vector<uint8_t> &buf, void *ctx) {
  auto *r = new RecvEntry;
  r->context = ctx;
  r->iov.add(buf.data(), buf.size());
  return r;
}

void transfer_suite(int drop, int dup, bool reorder) {
  Net n;
  n.drop_pct = drop;
  n.dup_pct = dup;
  n.reorder = reorder;
  // Sends of several sizes, posted receives.
  std::vector<std::vector<uint8_t>> src, dst;
  int ctx[4];
  size_t sizes[4] = {0, 100, 4096 * 3 + 5, 300000};
  for (int i = 0; i < 4; i++) {
    src.push_back(pattern(sizes[i], i));
    dst.emplace_back(sizes[i] + 10, 0);
    n.b.post_recv(recv(dst[i], &ctx[i]));
  }
  for (int i = 0; i < 4; i++) REQUIRE(n.a.post(op(OpKind::SEND, src[i], sizes[i])) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 4 && n.hb.rx.size() == 4; }));
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(n.hb.rx[i].context, (void *)&ctx[i]);  // matched in send order
    CHECK_EQ(n.hb.rx[i].len, sizes[i]);
    CHECK(memcmp(dst[i].data(), src[i].data(), sizes[i]) == 0);
    CHECK_EQ(n.ha.tx[i].err, 0);
  }
  // RMA write then read back, 1 MiB.
  size_t big = 1 << 20;
  std::vector<uint8_t> mem(big, 0), data = pattern(big, 9), back(big, 0);
  n.hb.mrs[0x77] = MrView{mem.data(), 0x1000, big, FI_REMOTE_READ | FI_REMOTE_WRITE};
  TxOp *w = op(OpKind::WRITE, data, big);
  w->key = 0x77;
  w->remote_addr = 0x1000;
  REQUIRE(n.a.post(w) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 5; }));
  CHECK_EQ(n.ha.tx[4].err, 0);
  CHECK(mem == data);
  TxOp *r = op(OpKind::READ, back, big);
  r->key = 0x77;
  r->remote_addr = 0x1000;
  REQUIRE(n.a.post(r) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 6; }));
  CHECK_EQ(n.ha.tx[5].err, 0);
  CHECK(back == data);
  // Fetching atomic executes exactly once even when its response is lost/duplicated.
  uint64_t *cell = (uint64_t *)mem.data();
  *cell = 5;
  std::vector<uint8_t> none;
  uint64_t old = 0;
  TxOp *f = op(OpKind::FETCH_ATOMIC, none, 0);
  f->key = 0x77;
  f->remote_addr = 0x1000;
  f->amo_op = AMO_SUM;
  f->amo_dt = AMO_UINT64;
  f->amo_count = 1;
  f->owned.resize(8);
  uint64_t one = 1;
  memcpy(f->owned.data(), &one, 8);
  f->length = 8;
  f->result.add(&old, 8);
  REQUIRE(n.a.post(f) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 7; }));
  CHECK_EQ(old, 5u);
  CHECK_EQ(*cell, 6u);
  // Sends after a read and a fetching atomic: those consumed message ids the target
  // must account for, or matching (in message-id order) stalls behind them.
  std::vector<uint8_t> after = pattern(5000, 11), after_dst(5000, 0);
  int after_ctx;
  n.b.post_recv(recv(after_dst, &after_ctx));
  REQUIRE(n.a.post(op(OpKind::SEND, after, after.size())) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 8 && n.hb.rx.size() == 5; }));
  CHECK_EQ(n.hb.rx[4].context, (void *)&after_ctx);
  CHECK_EQ(n.hb.rx[4].err, 0);
  CHECK(after_dst == after);
  // Each completion exactly once: nothing more shows up.
  n.run([] { return false; }, 200);
  CHECK_EQ(n.ha.tx.size(), 8u);
  CHECK_EQ(n.hb.rx.size(), 5u);
}
}  // namespace

TEST_CASE(clean_network) { transfer_suite(0, 0, false); }
TEST_CASE(lossy_network) { transfer_suite(15, 0, false); }
TEST_CASE(reordering_duplicating_network) { transfer_suite(5, 20, true); }

// Reads and sends alternating past the 16-bit message id wrap: the target's record of
// a finished read must give way to the send that reuses its id 65536 messages later.
TEST_CASE(reads_and_sends_across_id_wrap) {
  Net n;
  std::vector<uint8_t> mem = pattern(6000, 3), back(6000, 0), src = pattern(64, 4), dst(64, 0);
  n.hb.mrs[0x55] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_READ};
  const int pairs = 34000, batch = 50;  // 68000 message ids
  size_t reads = 0;
  int ctx;
  for (int i = 0; i < pairs; i += batch) {
    for (int k = 0; k < batch; k++) {
      // Every 500th read spans two READ requests (one id, two PSNs).
      size_t len = (i + k) % 500 == 0 ? mem.size() : 100;
      TxOp *r = op(OpKind::READ, back, len);
      r->key = 0x55;
      REQUIRE(n.a.post(r) == 0);
      n.b.post_recv(recv(dst, &ctx));
      REQUIRE(n.a.post(op(OpKind::SEND, src, src.size())) == 0);
    }
    REQUIRE(n.run([&] { return n.ha.tx.size() == 2 * batch && n.hb.rx.size() == batch; }));
    for (auto &c : n.ha.tx) CHECK_EQ(c.err, 0);
    for (auto &c : n.hb.rx) CHECK_EQ(c.err, 0);
    n.ha.tx.clear();
    n.hb.rx.clear();
    reads += batch;
  }
  CHECK_EQ(reads, (size_t)pairs);
  CHECK(back == mem);
  CHECK(dst == src);
}

TEST_CASE(protection_and_unexpected) {
  Net n;
  std::vector<uint8_t> mem(4096, 0xAB), data = pattern(8192, 3);
  n.hb.mrs[1] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_READ};
  TxOp *w = op(OpKind::WRITE, data, 8192);
  w->key = 2;
  REQUIRE(n.a.post(w) == 0);
  w = op(OpKind::WRITE, data, 100);
  w->key = 1;  // read-only region
  REQUIRE(n.a.post(w) == 0);
  w = op(OpKind::WRITE, data, 100);
  w->key = 1;
  w->remote_addr = 4000;  // crosses the end
  REQUIRE(n.a.post(w) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 3; }));
  CHECK_EQ(n.ha.tx[0].err, FI_EACCES);
  CHECK_EQ(n.ha.tx[0].uet_rc, pkt::RC_BAD_MKEY);
  CHECK_EQ(n.ha.tx[1].uet_rc, pkt::RC_PERM_VIOLATION);
  CHECK_EQ(n.ha.tx[2].uet_rc, pkt::RC_PERM_VIOLATION);  // access is checked before bounds
  for (uint8_t c : mem) CHECK_EQ(c, 0xAB);
  // A send before its receive: staged, then delivered on post_recv.
  std::vector<uint8_t> s = pattern(9000, 4), d(9000);
  REQUIRE(n.a.post(op(OpKind::SEND, s, 9000)) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 4; }));
  CHECK(n.hb.rx.empty());
  int ctx;
  n.b.post_recv(recv(d, &ctx));
  CHECK_EQ(n.hb.rx.size(), 1u);
  CHECK(d == s);
  CHECK_EQ(n.b.stats().unexpected_msgs, 1u);
}

// Write and (matched) send payloads are placed while their CRC is checked when they
// fill a chunk of the message that nothing has written yet. A corrupt packet may then leave garbage there,
// but only there: never in bytes already placed, never outside the message, and the
// authentic packet still to come overwrites it.
void corrupt_packets_touch_only_unwritten_chunks(OpKind kind) {
  Net n;
  const bool write = kind == OpKind::WRITE;
  int ctx[2];
  const size_t mtu = n.b.config().mtu, len = 4 * mtu, at = mtu;
  std::vector<uint8_t> mem(len + 3 * mtu, 0xEE), data = pattern(len, 9);
  n.hb.mrs[1] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_WRITE};
  // Packets carry SYN (and are always checked first) until the PDC is established.
  std::vector<uint8_t> first = pattern(8, 1);
  std::vector<uint8_t> sink(8);
  if (!write) n.b.post_recv(recv(sink, &ctx[0]));
  TxOp *w = op(kind, first, 8);
  w->key = 1;
  w->remote_addr = at;
  REQUIRE(n.a.post(w) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  n.ha.tx.clear();
  n.hb.remote.clear();
  n.hb.rx.clear();
  std::fill(mem.begin(), mem.end(), 0xEE);
  if (!write) {
    auto *r = new RecvEntry;
    r->context = &ctx[1];
    r->iov.add(mem.data() + at, len);
    n.b.post_recv(r);
  }
  w = op(kind, data, len);
  w->key = 1;
  w->remote_addr = at;
  REQUIRE(n.a.post(w) == 0);
  std::vector<std::vector<uint8_t>> pk = std::move(n.a.sent);
  n.a.sent.clear();
  REQUIRE(pk.size() == 4u);
  auto deliver = [&](const std::vector<uint8_t> &p) { n.b.on_packet(p.data(), p.size(), Net::addr()); };
  auto flip_payload = [](std::vector<uint8_t> p) {
    p[p.size() - 4 - 100] ^= 0x40;
    return p;
  };
  // Rewrites SES fields of a copy, keeping the now wrong trailer.
  auto rewrite = [&](std::vector<uint8_t> p, uint32_t offset, uint64_t buffer_offset) {
    pkt::PdsReq r;
    uint8_t nh;
    size_t h = pkt::get_req(p.data(), p.size() - 4, r, nh);
    pkt::SesStd s;
    REQUIRE(h && pkt::get_ses(p.data() + h, p.size() - 4 - h, s));
    s.message_offset = offset;
    s.buffer_offset = buffer_offset;
    if (!write && buffer_offset != at) s.memory_key ^= 1;  // sends: another tag
    pkt::put_ses(p.data() + h, s);
    return p;
  };
  auto region_ok = [&](size_t chunk) {
    return std::memcmp(mem.data() + at + chunk * mtu, data.data() + chunk * mtu, mtu) == 0;
  };
  auto outside_untouched = [&] {
    for (size_t i = 0; i < at; i++)
      if (mem[i] != 0xEE) return false;
    for (size_t i = at + len; i < mem.size(); i++)
      if (mem[i] != 0xEE) return false;
    return true;
  };
  deliver(pk[0]);
  deliver(pk[1]);
  REQUIRE(region_ok(0) && region_ok(1));
  uint64_t crc0 = n.b.stats().drops_crc;
  deliver(flip_payload(pk[1]));          // chunk already placed: checked first, not written
  CHECK(region_ok(1));
  deliver(rewrite(pk[3], 0, at));          // points at placed chunk 0: not written
  CHECK(region_ok(0));
  deliver(rewrite(pk[2], 2 * mtu, at + len));  // points past the message: not written
  deliver(rewrite(pk[2], 2 * mtu, 0));          // another base: not written
  auto bad = flip_payload(pk[2]);
  deliver(bad);                            // unwritten chunk: placed while checked, dropped
  CHECK(std::memcmp(mem.data() + at + 2 * mtu, bad.data() + bad.size() - 4 - mtu, mtu) == 0);
  CHECK(outside_untouched());
  CHECK_EQ(n.b.stats().drops_crc, crc0 + 5);
  CHECK(n.hb.remote.empty() && n.hb.rx.empty() && n.ha.tx.empty());
  deliver(pk[3]);
  deliver(pk[2]);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  CHECK_EQ(n.ha.tx[0].err, 0);
  if (!write) {
    REQUIRE(n.run([&] { return n.hb.rx.size() == 1; }));
    CHECK_EQ(n.hb.rx[0].len, len);
  }
  CHECK(std::memcmp(mem.data() + at, data.data(), len) == 0);
  CHECK(outside_untouched());
}

TEST_CASE(corrupt_write_packets_touch_only_unwritten_chunks) { corrupt_packets_touch_only_unwritten_chunks(OpKind::WRITE); }
TEST_CASE(corrupt_send_packets_touch_only_unwritten_chunks) { corrupt_packets_touch_only_unwritten_chunks(OpKind::SEND); }

TEST_CASE(unexpected_budget) {
  EngineConfig cfg;
  cfg.unexpected_limit = 10000;
  Net n(cfg);
  std::vector<uint8_t> big = pattern(50000, 1), small = pattern(6000, 2), d(50000);
  // Matched on arrival: the staging budget does not apply.
  int ctx;
  n.b.post_recv(recv(d, &ctx));
  REQUIRE(n.a.post(op(OpKind::SEND, big, big.size())) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1 && n.hb.rx.size() == 1; }));
  CHECK_EQ(n.ha.tx[0].err, 0);
  CHECK(d == big);
  // Unmatched and larger than the whole budget: refused with TOO_LONG.
  REQUIRE(n.a.post(op(OpKind::SEND, big, big.size())) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 2; }));
  CHECK_EQ(n.ha.tx[1].uet_rc, pkt::RC_TOO_LONG);
  // Two unmatched 6000-byte sends: the second waits (NO_PKT_BUFFER NACKs) until the
  // first is consumed, then lands.
  REQUIRE(n.a.post(op(OpKind::SEND, small, small.size())) == 0);
  REQUIRE(n.a.post(op(OpKind::SEND, small, small.size())) == 0);
  n.run([] { return false; }, 300);
  std::vector<uint8_t> r1(50000), r2(6000), r3(6000);
  n.b.post_recv(recv(r1, &ctx));  // takes the TOO_LONG message, in error
  n.b.post_recv(recv(r2, &ctx));
  n.b.post_recv(recv(r3, &ctx));
  REQUIRE(n.run([&] { return n.ha.tx.size() == 4 && n.hb.rx.size() == 4; }));
  CHECK(n.hb.rx[1].err != 0);
  CHECK_EQ(n.hb.rx[2].err, 0);
  CHECK_EQ(n.hb.rx[3].err, 0);
  CHECK(r2 == small);
  CHECK(r3 == small);
  CHECK(n.b.stats().nack_tx[pkt::NACK_NO_PKT_BUFFER] > 0);
}

// ROD under reordering and loss: writes and reads of one cell posted back to back
// each read exactly the value written just before it.
TEST_CASE(rod_ordered_under_reordering) {
  Net n;
  n.swap_pct = 20;
  n.drop_pct = 5;
  std::vector<uint8_t> mem(8, 0);
  n.hb.mrs[0x9] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_READ | FI_REMOTE_WRITE};
  const int count = 150;
  std::vector<uint64_t> vals(count), got(count, ~0ull);
  std::vector<std::vector<uint8_t>> wsrc(count), rdst(count);
  for (int i = 0; i < count; i++) {
    vals[i] = 0x5000 + i;
    wsrc[i].resize(8);
    memcpy(wsrc[i].data(), &vals[i], 8);
    rdst[i].resize(8);
    TxOp *w = op(OpKind::WRITE, wsrc[i], 8);
    w->key = 0x9;
    w->rod = true;
    REQUIRE(n.a.post(w) == 0);
    TxOp *r = op(OpKind::READ, rdst[i], 8);
    r->key = 0x9;
    r->rod = true;
    REQUIRE(n.a.post(r) == 0);
  }
  CHECK_EQ(n.a.sent.front()[0] >> 3, (int)pkt::PDS_ROD_REQ);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 2u * count; }));
  int bad = 0;
  for (int i = 0; i < count; i++) {
    memcpy(&got[i], rdst[i].data(), 8);
    bad += got[i] != vals[i];
  }
  CHECK_EQ(bad, 0);
  for (auto &c : n.ha.tx) CHECK_EQ(c.err, 0);
  CHECK(n.b.stats().rod_ooo_drops > 0);
  CHECK(n.b.stats().nack_tx[pkt::NACK_ROD_OOO] > 0);
  CHECK(n.a.stats().rod_goback > 0);
}

// One PDC per {peer, mode, traffic class}; each opens with SYN.
TEST_CASE(pdc_per_mode_and_traffic_class) {
  Net n;
  std::vector<uint8_t> s = pattern(100, 1);
  std::vector<std::vector<uint8_t>> d(5, std::vector<uint8_t>(100));
  int ctx[5];
  for (int i = 0; i < 5; i++) n.b.post_recv(recv(d[i], &ctx[i]));
  struct { bool rod; uint8_t tc; } k[5] = {{false, 0}, {true, 0}, {false, 10}, {false, 0}, {true, 10}};
  for (int i = 0; i < 5; i++) {
    TxOp *o = op(OpKind::SEND, s, 100);
    o->rod = k[i].rod;
    o->tc = k[i].tc;
    REQUIRE(n.a.post(o) == 0);
  }
  REQUIRE(n.run([&] { return n.ha.tx.size() == 5 && n.hb.rx.size() == 5; }));
  CHECK_EQ(n.a.stats().pdc_opened, 4u);
  CHECK_EQ(n.b.stats().pdc_opened, 4u);
  for (auto &c : n.hb.rx) CHECK_EQ(c.err, 0);
}

// Idle PDCs: CLEAR first, then the CLOSE handshake frees both sides; the next
// operation opens a new PDC. Under loss the CLOSE or its ACK may be lost.
void idle_close_rounds(int drop) {
  EngineConfig cfg;
  cfg.pdc_idle_ns = 100'000'000;
  Net n(cfg);
  n.drop_pct = drop;
  std::vector<uint8_t> s = pattern(20000, 2);
  for (int round = 1; round <= 4; round++) {
    std::vector<uint8_t> d(20000);
    int ctx;
    n.b.post_recv(recv(d, &ctx));
    REQUIRE(n.a.post(op(OpKind::SEND, s, s.size())) == 0);
    REQUIRE(n.run([&] { return n.ha.tx.size() == (size_t)round && n.hb.rx.size() == (size_t)round; }));
    CHECK(d == s);
    CHECK_EQ(n.a.stats().pdc_opened, (uint64_t)round);
    REQUIRE(n.run([&] { return n.a.stats().pdc_closed == (uint64_t)round && n.b.stats().pdc_closed == (uint64_t)round; },
                  2000));
    CHECK(!n.b.has_targets());
    CHECK(!n.a.busy());
  }
  for (auto &c : n.ha.tx) CHECK_EQ(c.err, 0);
  CHECK(n.a.stats().clear_tx >= 1);
  CHECK_EQ(n.a.stats().pdc_failed, 0u);
  if (!drop) CHECK_EQ(n.a.stats().close_tx, 4u);
}
TEST_CASE(idle_close_clean) { idle_close_rounds(0); }
TEST_CASE(idle_close_lossy) { idle_close_rounds(30); }

// An initiator that never closes on its own closes when the idle target asks.
TEST_CASE(target_requests_close) {
  EngineConfig ca, cb;
  ca.pdc_idle_ns = 0;
  cb.pdc_idle_ns = 50'000'000;
  Net n(ca, cb);
  std::vector<uint8_t> s = pattern(300, 3), d(300);
  int ctx;
  n.b.post_recv(recv(d, &ctx));
  REQUIRE(n.a.post(op(OpKind::SEND, s, s.size())) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1 && n.hb.rx.size() == 1; }));
  REQUIRE(n.run([&] { return n.a.stats().pdc_closed == 1 && n.b.stats().pdc_closed == 1; }, 2000));
  CHECK(n.b.stats().close_req_tx >= 1);
}

// SES JobID check: requests of another job are answered BAD_JOBID, never executed.
TEST_CASE(foreign_job_refused) {
  EngineConfig ca, cb;
  ca.job_id = 7;
  cb.job_id = 1;
  Net n(ca, cb);
  std::vector<uint8_t> mem(4096, 0x11), data = pattern(9000, 5), back(100), d(9000);
  n.hb.mrs[0x3] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_READ | FI_REMOTE_WRITE};
  int ctx;
  n.b.post_recv(recv(d, &ctx));
  REQUIRE(n.a.post(op(OpKind::SEND, data, data.size())) == 0);
  TxOp *w = op(OpKind::WRITE, data, 100);
  w->key = 0x3;
  REQUIRE(n.a.post(w) == 0);
  TxOp *r = op(OpKind::READ, back, 100);
  r->key = 0x3;
  REQUIRE(n.a.post(r) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 3; }));
  for (auto &c : n.ha.tx) {
    CHECK_EQ(c.err, FI_EACCES);
    CHECK_EQ(c.uet_rc, pkt::RC_BAD_JOBID);
  }
  CHECK(n.hb.rx.empty());
  for (uint8_t x : mem) CHECK_EQ(x, 0x11);
  CHECK(n.b.stats().bad_job_rx >= 3);
}

// The initiator keeps at most the peer's advertised range (ACK_CC mpr x 128) in flight,
// and 128 before the first ACK.
TEST_CASE(mpr_window_follows_peer) {
  for (uint32_t peer_mpr : {128u, 256u}) {
    EngineConfig ca, cb;
    ca.mpr = 256;
    cb.mpr = peer_mpr;
    ca.nscc = ca.rccc = false;  // the PDS window alone: no CC window or credit in the way
    Net n(ca, cb);
    size_t big = 4096 * 400;
    std::vector<uint8_t> mem(big), data = pattern(big, 1);
    n.hb.mrs[0x4] = MrView{mem.data(), 0, big, FI_REMOTE_WRITE};
    TxOp *w = op(OpKind::WRITE, data, big);
    w->key = 0x4;
    w->length = (uint32_t)big;
    REQUIRE(n.a.post(w) == 0);
    CHECK_EQ(n.a.sent.size(), 128u);  // the peer's range is not known yet
    size_t most = 0;
    for (int i = 0; i < 6; i++) {
      // Each step delivers what is in flight and returns the ACKs; what a sends in
      // answer (plus what is still unacknowledged) stays within the range.
      n.step();
      most = std::max(most, n.a.sent.size());
    }
    if (peer_mpr == 128) CHECK(most <= 128u);
    else CHECK(most > 128u);
    REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
    CHECK(mem == data);
  }
}

// A target that is merely late: the RTO resends only the oldest packet, and the ACK of
// that packet's original (no retx flag), arriving while the rest of the window is
// still on its way, must not set off a resend of the whole window; only the answer to
// the retransmission may.
TEST_CASE(late_ack_of_original_resends_nothing) {
  EngineConfig c;
  c.nscc = c.rccc = false;
  c.mpr = 256;
  Net n(c);
  size_t len = 4096 * 64;
  std::vector<uint8_t> mem(len), data = pattern(len, 3);
  REQUIRE(n.a.post(write_to_b(n, mem, data, len)) == 0);
  auto originals = std::move(n.a.sent);
  n.a.sent.clear();
  REQUIRE(originals.size() == 64u);
  n.a.on_timer(Engine::now_ns() + 11'000'000);  // the target has not run for an RTO
  CHECK_EQ(n.a.stats().retransmits, 1u);
  auto retx = std::move(n.a.sent);
  n.a.sent.clear();
  // The target takes the first original (SYN: ACKed at once) and its ACK comes back.
  n.b.on_packet(originals[0].data(), originals[0].size(), Net::addr());
  n.b.flush();
  REQUIRE(!n.b.sent.empty());
  for (auto &p : n.b.sent) n.a.on_packet(p.data(), p.size(), Net::addr());
  n.b.sent.clear();
  n.a.flush();
  CHECK_EQ(n.a.stats().retransmits, 1u);  // nothing more: the rest is still in flight
  // The rest, then the retransmission, arrive; its answer finds everything acknowledged.
  for (size_t i = 1; i < originals.size(); i++) n.b.on_packet(originals[i].data(), originals[i].size(), Net::addr());
  for (auto &p : retx) n.b.on_packet(p.data(), p.size(), Net::addr());
  n.b.flush();
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  CHECK_EQ(n.ha.tx[0].err, 0);
  CHECK(mem == data);
  CHECK_EQ(n.a.stats().retransmits, 1u);
  CHECK_EQ(n.b.stats().duplicates, 1u);
}

// Sprayed packets: trains of 8 take one of four paths in turn, path k being k ticks
// slower, so whole trains overtake each other by up to 3 ticks while the initiator's
// timer runs every tick. That reordering must cost no resend (the count rule alone
// resent every hole three PSNs below a SACK); a packet really lost on the way is
// still resent from the SACK gap, long before the RTO. A tick is 1 ms and the
// reordering window at least 10 ms (base RTT 40 ms), so the time post() spends
// sending the first window, which ages those packets, has 6 ms of slack on a busy host.
namespace {
struct PathNet {
  Net n;
  uint64_t t = Engine::now_ns();
  size_t sent = 0;
  std::multimap<int, std::vector<uint8_t>> wire;  // by the tick it arrives
  int tick = 0;
  int delay = 0;  // ticks every packet takes one way; 0: paths of 1-4 ticks by train
  explicit PathNet(const EngineConfig &c) : n(c) {}
  void step(std::function<bool(size_t)> drop) {
    for (auto &p : n.a.sent) {
      size_t i = sent++;
      if (drop(i)) continue;
      wire.emplace(tick + (delay ? delay : 1 + (int)(i / 8 % 4)), std::move(p));
    }
    n.a.sent.clear();
    for (auto it = wire.begin(); it != wire.end() && it->first <= tick;) {
      n.b.on_packet(it->second.data(), it->second.size(), Net::addr());
      it = wire.erase(it);
    }
    n.b.flush();
    for (auto &p : n.b.sent) n.a.on_packet(p.data(), p.size(), Net::addr());
    n.b.sent.clear();
    n.a.flush();
    t += 1'000'000;
    tick++;
    n.a.on_timer(t);
    n.b.on_timer(t);
  }
};

void sprayed_write(bool lose_one) {
  EngineConfig c;
  c.nscc = c.rccc = false;
  c.mpr = 256;
  c.base_rtt_ns = 40'000'000;
  c.rto_ns = 1'000'000'000;
  PathNet pn(c);
  Net &n = pn.n;
  size_t len = 4096 * 1024;
  std::vector<uint8_t> mem(len), data = pattern(len, 5);
  REQUIRE(n.a.post(write_to_b(n, mem, data, len)) == 0);
  pn.t = Engine::now_ns();  // the engines' clock from here on: never behind the post
  int ticks = 0;
  while (n.ha.tx.empty() && ticks++ < 20000) pn.step([&](size_t i) { return lose_one && i == 300; });
  REQUIRE(n.ha.tx.size() == 1u);
  CHECK_EQ(n.ha.tx[0].err, 0);
  CHECK(mem == data);
  CHECK(n.b.stats().rx_late > 0);  // the paths did reorder
  CHECK(n.b.stats().rx_late_max >= 8);
  CHECK_EQ(n.a.stats().retx_rto, 0u);
  CHECK_EQ(n.a.stats().retx_gap, lose_one ? 1u : 0u);
  CHECK_EQ(n.a.stats().retransmits, lose_one ? 1u : 0u);
  CHECK_EQ(n.b.stats().duplicates, 0u);
  fprintf(stderr, "sprayed write: %d ticks, %llu late (max %llu PSNs), %llu resent\n", ticks,
          (unsigned long long)n.b.stats().rx_late, (unsigned long long)n.b.stats().rx_late_max,
          (unsigned long long)n.a.stats().retransmits);
}
}  // namespace

TEST_CASE(sprayed_reordering_resends_nothing) { sprayed_write(false); }
TEST_CASE(sprayed_loss_resent_from_sack_gap) { sprayed_write(true); }

// Round trips of 25 ms against a 10 ms RTO floor (a peer descheduled on a loaded host
// looks like this): the first operation's RTT samples raise the RTO to SRTT + 4 RTTVAR,
// after which whole windows wait for their ACKs instead of being resent; a real loss
// is still resent, from the SACK gap.
TEST_CASE(rto_follows_long_round_trips) {
  EngineConfig c;
  c.nscc = c.rccc = false;
  c.rto_ns = 10'000'000;
  PathNet pn(c);
  pn.delay = 25;
  Net &n = pn.n;
  size_t len = 1024 * 1024;
  std::vector<uint8_t> mem(len), data = pattern(len, 6);
  auto write = [&](size_t bytes, std::function<bool(size_t)> drop) {
    TxOp *w = write_to_b(n, mem, data, bytes);
    size_t done = n.ha.tx.size();
    // post() stamps packets with the real clock, which the ticks (1 ms each) run ahead
    // of: wait for it, so that no packet looks older than it is.
    while (Engine::now_ns() < pn.t) usleep(1000);
    REQUIRE(n.a.post(w) == 0);
    pn.t = Engine::now_ns();
    int ticks = 0;
    while (n.ha.tx.size() == done && ticks++ < 5000) pn.step(drop);
    REQUIRE(n.ha.tx.size() == done + 1);
    CHECK_EQ(n.ha.tx.back().err, 0);
  };
  write(64 * 1024, [](size_t) { return false; });  // the floor expires before any sample
  uint64_t rto0 = n.a.stats().retx_rto;
  for (int i = 0; i < 3; i++) write(len, [](size_t) { return false; });
  CHECK(mem == data);
  CHECK_EQ(n.a.stats().retx_rto, rto0);
  CHECK_EQ(n.a.stats().retx_gap, 0u);
  size_t lose = pn.sent + 100;
  std::fill(mem.begin(), mem.end(), 0);
  write(len, [&](size_t i) { return i == lose; });
  CHECK(mem == data);
  CHECK_EQ(n.a.stats().retx_gap, 1u);
  fprintf(stderr, "long round trips: %llu RTO resends (first op), %llu in all\n", (unsigned long long)rto0,
          (unsigned long long)n.a.stats().retx_rto);
}

// A target whose initiator went silent asks for CLOSE three times, then frees its
// side in error; what it still buffers unexpected from that peer keeps it alive. When
// the initiator comes back, its operations reopen the PDC.
TEST_CASE(target_drops_silent_initiator) {
  EngineConfig ca, cb;
  ca.pdc_idle_ns = 0;
  cb.pdc_idle_ns = 40'000'000;
  Net n(ca, cb);
  std::vector<uint8_t> s = pattern(500, 4), d(500);
  REQUIRE(n.a.post(op(OpKind::SEND, s, s.size())) == 0);  // unexpected at b
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  n.drop_pct = 100;  // the initiator is gone
  n.run([] { return false; }, 40);  // 800 ms of timers
  CHECK(n.b.has_targets());  // held by the unexpected message
  CHECK_EQ(n.b.stats().close_req_tx, 3u);
  int ctx;
  n.b.post_recv(recv(d, &ctx));
  CHECK(d == s);
  REQUIRE(n.run([&] { return !n.b.has_targets(); }, 100));
  CHECK_EQ(n.b.stats().pdc_closed_err, 1u);
  CHECK_EQ(n.b.stats().pdc_closed, 0u);
  // The initiator was only unreachable: its next operations meet INV_DPDCID and move to
  // a new PDC (SYN) instead of failing.
  n.drop_pct = 0;
  std::vector<uint8_t> s2 = pattern(9000, 5), d2(9000), d3(500);
  n.b.post_recv(recv(d2, &ctx));
  n.b.post_recv(recv(d3, &ctx));
  REQUIRE(n.a.post(op(OpKind::SEND, s2, s2.size())) == 0);
  REQUIRE(n.a.post(op(OpKind::SEND, s, s.size())) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 3 && n.hb.rx.size() == 3; }));
  for (auto &c : n.ha.tx) CHECK_EQ(c.err, 0);
  CHECK(d2 == s2);
  CHECK(d3 == s);
  CHECK_EQ(n.a.stats().pdc_reopened, 1u);
  CHECK_EQ(n.a.stats().pdc_failed, 0u);
}

TEST_CASE(atomic_engine) {
  int32_t t[3] = {1, -2, 3}, a[3] = {5, 5, 5}, old[3];
  CHECK_EQ(amo_apply(AMO_MAX, AMO_INT32, t, a, nullptr, old, 3), pkt::RC_OK);
  CHECK(t[0] == 5 && t[1] == 5 && t[2] == 5);
  CHECK(old[1] == -2);
  uint16_t u = 0xf0f0, m = 0x00ff, v = 0x1234;
  CHECK_EQ(amo_apply(AMO_MSWAP, AMO_UINT16, &u, &v, &m, nullptr, 1), pkt::RC_OK);
  CHECK_EQ(u, 0xf034);
  double d = 2, dv = 3, dc = 2;
  CHECK_EQ(amo_apply(AMO_CSWAP_GE, AMO_DOUBLE, &d, &dv, &dc, nullptr, 1), pkt::RC_OK);  // 2 >= 2
  CHECK(d == 3);
  CHECK_EQ(amo_apply(AMO_BOR, AMO_FLOAT, &d, &dv, nullptr, nullptr, 1), pkt::RC_AMO_UNSUPPORTED_OP);
  CHECK_EQ(amo_apply(AMO_SUM, 0x0E, &d, &dv, nullptr, nullptr, 1), pkt::RC_AMO_UNSUPPORTED_DT);
  int8_t i8 = 100, a8 = 100;
  CHECK_EQ(amo_apply(AMO_SUM, AMO_INT8, &i8, &a8, nullptr, nullptr, 1), pkt::RC_OK);  // wraps
  CHECK_EQ(i8, (int8_t)200);
}

TEST_CASE(fuzz_entry_survives_garbage) {
  std::mt19937 rng(1);
  std::vector<uint8_t> buf(2000);
  for (int i = 0; i < 3000; i++) {
    size_t len = rng() % buf.size();
    for (auto &b : buf) b = (uint8_t)rng();
    if (i % 3 == 0 && len > 2) buf[0] = (uint8_t)((2 + rng() % 12) << 3);  // plausible PDS types
    softuet_rx_fuzz_one(buf.data(), len);
  }
  // And one well-formed request built by the core itself.
  Net n;
  std::vector<uint8_t> s = pattern(100, 1);
  REQUIRE(n.a.post(op(OpKind::SEND, s, 100)) == 0);
  REQUIRE(!n.a.sent.empty());
  softuet_rx_fuzz_one(n.a.sent[0].data(), n.a.sent[0].size());
  CHECK(true);
}

NLF_TEST_MAIN()
