// Congestion management on the softuet data path, two engines without sockets: the
// initiator speculates a bounded window and then sends only against credit carried in
// ACK_CC (cc_type CREDIT), demand travels in RUD_CC_REQ credit_target, a target that
// grants nothing (RCCC off) does not stall the initiator, and a drained PDC speculates
// again on its next burst.
#include <arpa/inet.h>
#include <rdma/fabric.h>

#include <cstring>
#include <map>
#include <vector>

#include "common/check.h"
#include "common/engine_net.h"
#include "pds/pkt.h"
#include "ses/engine.h"
#include "wire/constants.h"

using namespace softuet;

namespace {

sockaddr_in addr() { return nlf::test::EngineNet::addr(); }

struct Seen {
  size_t reqs = 0, cc_reqs = 0, credit_acks = 0, nscc_acks = 0, credit_cps = 0;
  uint32_t first_target = 0, max_credit = 0;
};

void classify(const std::vector<uint8_t> &p, Seen &s) {
  size_t len = p.size() - pkt::CRC_LEN;
  uint8_t t = pkt::peek_type(p.data(), len);
  if (t == pkt::PDS_RUD_REQ || t == pkt::PDS_RUD_CC_REQ) {
    pkt::PdsReq r;
    uint8_t nh;
    REQUIRE(pkt::get_req(p.data(), len, r, nh) > 0);
    if (t == pkt::PDS_RUD_CC_REQ) {
      if (!s.cc_reqs) s.first_target = r.credit_target;
      s.cc_reqs++;
    } else {
      s.reqs++;
    }
  } else if (t == pkt::PDS_CP) {
    pkt::PdsCp c;
    REQUIRE(pkt::get_cp(p.data(), len, c) > 0);
    if (c.ctl_type == pkt::CP_CREDIT_REQ) s.credit_cps++;
  } else if (t == pkt::PDS_ACK_CC) {
    pkt::PdsAck a;
    REQUIRE(pkt::get_ack(p.data(), len, a) > 0);
    if (a.cc_type == (uint8_t)wire::CcType::kCredit) {
      s.credit_acks++;
      if (a.credit > s.max_credit) s.max_credit = a.credit;
    } else {
      s.nscc_acks++;
    }
  }
}

// Counts what each side sends.
struct Net : nlf::test::EngineNet {
  Seen from_a, from_b;
  Net(const EngineConfig &ca, const EngineConfig &cb) : EngineNet(ca, cb) {
    tap = [this](int dir, const std::vector<uint8_t> &p) { classify(p, dir ? from_b : from_a); };
  }
};

TxOp *write_op(std::vector<uint8_t> &src, uint64_t key) {
  auto *o = new TxOp;
  o->kind = OpKind::WRITE;
  o->peer = addr();
  o->local.add(src.data(), src.size());
  o->length = (uint32_t)src.size();
  o->key = key;
  o->remote_addr = 0;
  return o;
}

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(i * 131 + seed);
  return v;
}

size_t queued_reqs(const Engine &e) {
  size_t n = 0;
  for (auto &p : e.sent) {
    uint8_t t = pkt::peek_type(p.data(), p.size() - pkt::CRC_LEN);
    if (t == pkt::PDS_RUD_REQ || t == pkt::PDS_RUD_CC_REQ) n++;
  }
  return n;
}

}  // namespace

TEST_CASE(rccc_speculates_then_sends_against_credit) {
  EngineConfig cfg;  // defaults: NSCC + RCCC
  REQUIRE(cfg.rccc && cfg.nscc);
  Net n(cfg, cfg);
  const size_t big = 1 << 20;
  std::vector<uint8_t> mem(big, 0), src = pattern(big, 3);
  n.hb.mrs[0x51] = MrView{mem.data(), 0, big, FI_REMOTE_WRITE};
  REQUIRE(n.a.post(write_op(src, 0x51)) == 0);
  // Before any ACK: exactly the speculative window, 8 MTUs, went out.
  CHECK_EQ(queued_reqs(n.a), (size_t)8);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  CHECK_EQ(n.ha.tx[0].err, 0);
  CHECK(memcmp(mem.data(), src.data(), big) == 0);
  // Every request stated demand; the first one the part speculation does not cover.
  CHECK_EQ(n.from_a.reqs, (size_t)0);
  CHECK(n.from_a.cc_reqs >= big / cfg.mtu);
  CHECK_EQ(n.from_a.first_target, (uint32_t)((big - 8 * cfg.mtu) / 256));
  // Grants came back in ACK_CC of cc_type CREDIT and covered the demand.
  CHECK(n.from_b.credit_acks > 0);
  CHECK_EQ(n.from_b.nscc_acks, (size_t)0);
  CHECK(n.from_b.max_credit >= (uint32_t)((big - 8 * cfg.mtu) / 256));
}

// A window of writes posted as earlier ones complete, as an application streams them:
// each post raises the demand while the PDC waits for credit. Demand the target has seen
// and not yet granted needs no CP of its own (the request its grant lets out states the
// new demand): here 94 CREDIT_REQs for 400 writes, against 249 when every raise was
// sent at once.
TEST_CASE(streamed_writes_ask_for_credit_in_their_requests) {
  EngineConfig cfg;
  Net n(cfg, cfg);
  const size_t len = 64 << 10, slots = 16, total = 400;
  std::vector<uint8_t> mem(len * slots, 0), src = pattern(len, 11);
  n.hb.mrs[0x55] = MrView{mem.data(), 0, mem.size(), FI_REMOTE_WRITE};
  size_t posted = 0;
  auto post = [&] {
    TxOp *w = write_op(src, 0x55);
    w->remote_addr = (posted % slots) * len;
    REQUIRE(n.a.post(w) == 0);
    posted++;
  };
  while (posted < slots) post();
  REQUIRE(n.run([&] {
    while (posted < total && posted - n.ha.tx.size() < slots) post();
    return n.ha.tx.size() == total;
  }));
  for (auto &c : n.ha.tx) CHECK_EQ(c.err, 0);
  CHECK(memcmp(mem.data(), src.data(), len) == 0);
  CHECK(n.from_b.credit_acks > 0);
  CHECK(n.from_a.credit_cps < total / 3);
  fprintf(stderr, "streamed writes: %zu CREDIT_REQ CPs, %zu credit ACKs for %zu writes\n", n.from_a.credit_cps,
          n.from_b.credit_acks, total);
}

TEST_CASE(drained_pdc_speculates_again) {
  EngineConfig cfg;
  Net n(cfg, cfg);
  const size_t big = 256 << 10;
  std::vector<uint8_t> mem(big, 0), src = pattern(big, 5);
  n.hb.mrs[0x52] = MrView{mem.data(), 0, big, FI_REMOTE_WRITE};
  REQUIRE(n.a.post(write_op(src, 0x52)) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  // Quiet now; a new burst goes out at once without asking for credit first.
  std::vector<uint8_t> src2 = pattern(big, 6);
  REQUIRE(n.a.post(write_op(src2, 0x52)) == 0);
  CHECK(queued_reqs(n.a) >= (size_t)8);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 2; }));
  CHECK(memcmp(mem.data(), src2.data(), big) == 0);
}

TEST_CASE(target_without_rccc_does_not_stall_initiator) {
  EngineConfig ca, cb;
  cb.rccc = false;
  Net n(ca, cb);
  const size_t big = 1 << 20;
  std::vector<uint8_t> mem(big, 0), src = pattern(big, 7);
  n.hb.mrs[0x53] = MrView{mem.data(), 0, big, FI_REMOTE_WRITE};
  REQUIRE(n.a.post(write_op(src, 0x53)) == 0);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }, 2000));
  CHECK_EQ(n.ha.tx[0].err, 0);
  CHECK(memcmp(mem.data(), src.data(), big) == 0);
  CHECK(n.from_b.nscc_acks > 0);
  CHECK_EQ(n.from_b.credit_acks, (size_t)0);
}

TEST_CASE(cc_off_sends_plain_requests_up_to_mpr) {
  EngineConfig cfg;
  cfg.nscc = cfg.rccc = false;
  Net n(cfg, cfg);
  const size_t big = 1 << 20;
  std::vector<uint8_t> mem(big, 0), src = pattern(big, 9);
  n.hb.mrs[0x54] = MrView{mem.data(), 0, big, FI_REMOTE_WRITE};
  REQUIRE(n.a.post(write_op(src, 0x54)) == 0);
  CHECK_EQ(queued_reqs(n.a), (size_t)cfg.mpr);
  REQUIRE(n.run([&] { return n.ha.tx.size() == 1; }));
  CHECK(memcmp(mem.data(), src.data(), big) == 0);
  CHECK_EQ(n.from_a.cc_reqs, (size_t)0);
  CHECK(n.from_a.reqs >= big / cfg.mtu);
}

NLF_TEST_MAIN()
