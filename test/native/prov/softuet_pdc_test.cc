// PDC modes and lifecycle of the softuet provider through the libfabric API: ROD chosen
// by msg_order (in-order execution under injected reordering and loss), CLEAR and the
// idle CLOSE handshake with reopening, traffic classes as DSCP on the wire, and the
// vector forms (several RMA segments, FI_MULTI_RECV buffers, atomic ioc lists).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "prov/fixture.h"

using namespace suet_test;

namespace {
// Environment for the endpoints opened while it lives (the provider reads it at
// domain open / endpoint enable), restored afterwards.
struct Env {
  std::vector<std::pair<std::string, std::string>> saved;
  std::vector<std::string> unset_later;
  void set(const char *k, const char *v) {
    const char *old = getenv(k);
    if (old) saved.emplace_back(k, old);
    else unset_later.push_back(k);
    setenv(k, v, 1);
  }
  ~Env() {
    for (auto &kv : saved) setenv(kv.first.c_str(), kv.second.c_str(), 1);
    for (auto &k : unset_later) unsetenv(k.c_str());
  }
};

struct Opts {
  uint64_t msg_order = 0;
  uint32_t tclass = 0;
  size_t own_mtu = 0;  // FI_OPT_SOFTUET_MTU before fi_enable when set
  int own_cc = -1;     // FI_OPT_SOFTUET_CC before fi_enable when >= 0
};

// Peer::open with the hints this test needs.
int open_peer(Peer &p, const Opts &o) {
  provider_path();
  fi_info *hints = fi_allocinfo();
  hints->ep_attr->type = FI_EP_RDM;
  hints->caps = FI_MSG | FI_TAGGED | FI_RMA | FI_ATOMIC | FI_DIRECTED_RECV | FI_SOURCE | FI_MULTI_RECV;
  hints->fabric_attr->prov_name = strdup("softuet");
  hints->domain_attr->mr_mode = FI_MR_VIRT_ADDR | FI_MR_PROV_KEY | FI_MR_ALLOCATED;
  hints->tx_attr->msg_order = o.msg_order;
  hints->rx_attr->msg_order = o.msg_order;
  hints->tx_attr->tclass = o.tclass;
  int r = fi_getinfo(FI_VERSION(1, 17), "127.0.0.1", nullptr, FI_SOURCE, hints, &p.info);
  fi_freeinfo(hints);
  if (r) return r;
  if ((r = fi_fabric(p.info->fabric_attr, &p.fab, nullptr))) return r;
  if ((r = fi_domain(p.fab, p.info, &p.dom, nullptr))) return r;
  fi_av_attr aa{};
  aa.type = FI_AV_TABLE;
  if ((r = fi_av_open(p.dom, &aa, &p.av, nullptr))) return r;
  fi_cq_attr ca{};
  ca.format = FI_CQ_FORMAT_TAGGED;
  ca.wait_obj = FI_WAIT_FD;
  if ((r = fi_cq_open(p.dom, &ca, &p.txcq, nullptr))) return r;
  if ((r = fi_cq_open(p.dom, &ca, &p.rxcq, nullptr))) return r;
  fi_cntr_attr na{};
  na.events = FI_CNTR_EVENTS_COMP;
  if ((r = fi_cntr_open(p.dom, &na, &p.rw_cntr, nullptr))) return r;
  if ((r = fi_endpoint(p.dom, p.info, &p.ep, nullptr))) return r;
  if ((r = fi_ep_bind(p.ep, &p.av->fid, 0))) return r;
  if ((r = fi_ep_bind(p.ep, &p.txcq->fid, FI_TRANSMIT))) return r;
  if ((r = fi_ep_bind(p.ep, &p.rxcq->fid, FI_RECV))) return r;
  if ((r = fi_ep_bind(p.ep, &p.rw_cntr->fid, FI_REMOTE_WRITE))) return r;
  if (o.own_mtu && (r = fi_setopt(&p.ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &o.own_mtu, sizeof o.own_mtu)))
    return r;
  if (o.own_cc >= 0 && (r = fi_setopt(&p.ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_CC, &o.own_cc, sizeof o.own_cc)))
    return r;
  if ((r = fi_enable(p.ep))) return r;
  p.namelen = sizeof p.name;
  return fi_getname(&p.ep->fid, p.name, &p.namelen);
}

struct Pair {
  Peer a, b;
  bool ok = false;
  explicit Pair(const Opts &o = Opts()) {
    int r = open_peer(a, o);
    if (!r) r = open_peer(b, o);
    if (!r) r = connect(a, b);
    if (r) fprintf(stderr, "pair setup failed: %d (%s)\n", r, fi_strerror(-r));
    ok = r == 0;
  }
};

void send_recv(Peer &from, Peer &to, size_t len, uint32_t seed) {
  auto src = pattern(len, seed);
  std::vector<uint8_t> dst(len + 8, 0xEE);
  int rctx = 0, sctx = 0;
  REQUIRE(fi_recv(to.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  REQUIRE(fi_send(from.ep, src.data(), len, nullptr, from.remote, &sctx) == 0);
  Comp rc, sc;
  REQUIRE(wait_comp(to.rxcq, rc));
  REQUIRE(wait_comp(from.txcq, sc));
  CHECK_EQ(rc.err, 0);
  CHECK_EQ(sc.err, 0);
  CHECK_EQ(rc.e.len, len);
  CHECK(memcmp(dst.data(), src.data(), len) == 0);
}
void send_recv(Pair &p, size_t len, uint32_t seed) { send_recv(p.a, p.b, len, seed); }

// Polls a stat until it reaches at least want (the progress thread does the work).
bool wait_stat(Peer &p, const char *name, uint64_t want, int timeout_ms = 5000) {
  uint64_t end = now_ms() + timeout_ms;
  while (now_ms() < end) {
    if (stat(p, name) >= want) return true;
    usleep(2000);
  }
  return stat(p, name) >= want;
}

constexpr uint64_t kRodAsk = FI_ORDER_SAS | FI_ORDER_RAW | FI_ORDER_WAW;
}  // namespace

TEST_CASE(rod_getinfo_reports_order) {
  provider_path();
  fi_info *hints = fi_allocinfo(), *info = nullptr;
  hints->fabric_attr->prov_name = strdup("softuet");
  hints->ep_attr->type = FI_EP_RDM;
  // Nothing asked: RUD, which gives send-after-send only.
  REQUIRE(fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info) == 0);
  CHECK_EQ(info->tx_attr->msg_order, (uint64_t)FI_ORDER_SAS);
  CHECK_EQ(info->ep_attr->max_order_raw_size, 0u);
  CHECK(info->tx_attr->rma_iov_limit >= 2);
  CHECK(info->caps & FI_MULTI_RECV);
  fi_freeinfo(info);
  // Read-after-write asked: ROD, and everything ROD gives is reported.
  hints->tx_attr->msg_order = FI_ORDER_RAW;
  info = nullptr;
  REQUIRE(fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info) == 0);
  uint64_t o = info->tx_attr->msg_order;
  CHECK((o & (FI_ORDER_RAW | FI_ORDER_WAW | FI_ORDER_SAS | FI_ORDER_SAW | FI_ORDER_RMA_RAW)) ==
        (FI_ORDER_RAW | FI_ORDER_WAW | FI_ORDER_SAS | FI_ORDER_SAW | FI_ORDER_RMA_RAW));
  CHECK((o & FI_ORDER_STRICT) == FI_ORDER_STRICT);
  CHECK_EQ(info->rx_attr->msg_order, o);
  CHECK_EQ(info->ep_attr->max_order_raw_size, info->ep_attr->max_msg_size);
  CHECK_EQ(info->ep_attr->max_order_war_size, info->ep_attr->max_msg_size);
  fi_freeinfo(info);
  // An ordering softuet cannot keep is refused.
  hints->tx_attr->msg_order = FI_ORDER_DATA;
  info = nullptr;
  CHECK(fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info) == -FI_ENODATA);
  if (info) fi_freeinfo(info);
  hints->tx_attr->msg_order = 0;
  hints->tx_attr->tclass = 0x777;  // not a traffic class
  info = nullptr;
  CHECK(fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info) == -FI_ENODATA);
  if (info) fi_freeinfo(info);
  fi_freeinfo(hints);
}

// Back-to-back write then read of one cell, never waiting in between: every read must
// return exactly the value written just before it, not an older one (read after write:
// ordered execution at the target) and not a newer one (write after read: a resent read
// is answered from the kept response). Under injected reordering and loss, the ROD
// target drops what is ahead of the expected PSN and the initiator goes back.
TEST_CASE(rod_read_after_write_under_reordering) {
  Env env;
  env.set("FI_SOFTUET_FAULT_REORDER", "25");
  env.set("FI_SOFTUET_FAULT_DROP", "3");
  env.set("FI_SOFTUET_FAULT_SEED", "11");
  env.set("FI_SOFTUET_RTO_MS", "4");
  Opts o;
  o.msg_order = kRodAsk;
  Pair p(o);
  REQUIRE(p.ok);
  CHECK_EQ(stat(p.a, "rod"), 1u);
  const int n = 200;
  std::vector<uint64_t> cell(1, 0);
  fid_mr *mr = reg(p.b, cell.data(), sizeof(uint64_t), FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(mr);
  uint64_t key = fi_mr_key(mr), addr = (uint64_t)(uintptr_t)cell.data();
  std::vector<uint64_t> vals(n), got(n, ~0ull);
  // Sends interleaved with the RMA: matched in order too, and a big one spans packets.
  auto big = pattern(200000, 5);
  std::vector<uint8_t> big_dst(big.size());
  int rctx;
  REQUIRE(fi_recv(p.b.ep, big_dst.data(), big_dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  int posted = 0;
  for (int i = 0; i < n; i++) {
    vals[i] = 0x1000 + i;
    if (i == n / 2) {
      REQUIRE(fi_send(p.a.ep, big.data(), big.size(), nullptr, p.a.remote, nullptr) == 0);
      posted++;
    }
    ssize_t r;
    while ((r = fi_write(p.a.ep, &vals[i], 8, nullptr, p.a.remote, addr, key, nullptr)) == -FI_EAGAIN) usleep(100);
    REQUIRE(r == 0);
    while ((r = fi_read(p.a.ep, &got[i], 8, nullptr, p.a.remote, addr, key, nullptr)) == -FI_EAGAIN) usleep(100);
    REQUIRE(r == 0);
    posted += 2;
  }
  for (int i = 0; i < posted; i++) {
    Comp c;
    REQUIRE(wait_comp(p.a.txcq, c, 30000));
    CHECK_EQ(c.err, 0);
  }
  int bad = 0;
  for (int i = 0; i < n; i++) {
    if (got[i] != vals[i]) fprintf(stderr, "read %d: got %llx want %llx\n", i, (unsigned long long)got[i], (unsigned long long)vals[i]);
    bad += got[i] != vals[i];
  }
  CHECK_EQ(bad, 0);
  Comp rc;
  REQUIRE(wait_comp(p.b.rxcq, rc, 30000));
  CHECK_EQ(rc.err, 0);
  CHECK(big_dst == big);
  // The ordered path really ran: out-of-order arrivals were refused and recovered.
  CHECK(stat(p.a, "fault.reordered") > 0);
  CHECK(stat(p.b, "rod_ooo_drops") > 0);
  CHECK(stat(p.b, "nack_tx.ROD_OOO") > 0);
  CHECK(stat(p.a, "rod_goback") > 0);
  fi_close(&mr->fid);
}

// The same exchange on RUD: the target takes packets as they come (no ROD drops).
TEST_CASE(rud_stays_default) {
  Env env;
  env.set("FI_SOFTUET_FAULT_REORDER", "25");
  env.set("FI_SOFTUET_FAULT_SEED", "11");
  Pair p;
  REQUIRE(p.ok);
  CHECK_EQ(stat(p.a, "rod"), 0u);
  for (int i = 0; i < 20; i++) send_recv(p, 30000, i);
  CHECK_EQ(stat(p.b, "rod_ooo_drops"), 0u);
}

// Idle PDCs close on both sides (CLOSE handshake, after a CLEAR), and the next
// operation opens a new PDC with SYN. A message the target still holds unexpected
// outlives the close.
TEST_CASE(idle_close_and_reopen) {
  Env env;
  env.set("FI_SOFTUET_PDC_IDLE_MS", "150");
  Pair p;
  REQUIRE(p.ok);
  send_recv(p, 10000, 1);
  uint64_t opened = stat(p.a, "pdc_opened");
  CHECK(opened >= 1);
  // An unexpected message: the target PDC may only go once it has been received.
  auto un = pattern(9000, 3);
  int sctx;
  REQUIRE(fi_send(p.a.ep, un.data(), un.size(), nullptr, p.a.remote, &sctx) == 0);
  Comp sc;
  REQUIRE(wait_comp(p.a.txcq, sc));
  CHECK_EQ(sc.err, 0);
  REQUIRE(wait_stat(p.a, "pdc_closed", stat(p.a, "pdc_opened")));
  CHECK(stat(p.a, "close_tx") >= 1);
  usleep(20000);
  CHECK_EQ(stat(p.b, "pdc_closed") + 1, stat(p.b, "pdc_opened"));  // held open by the unexpected message
  std::vector<uint8_t> d(9000);
  int rctx;
  REQUIRE(fi_recv(p.b.ep, d.data(), d.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  Comp rc;
  REQUIRE(wait_comp(p.b.rxcq, rc));
  CHECK_EQ(rc.err, 0);
  CHECK(d == un);
  REQUIRE(wait_stat(p.b, "pdc_closed", stat(p.b, "pdc_opened")));
  // Reuse: a new PDC with SYN, data intact, both directions, then closed again.
  opened = stat(p.a, "pdc_opened");
  for (int i = 0; i < 3; i++) send_recv(p, 5000 + i, 10 + i);
  CHECK(stat(p.a, "pdc_opened") > opened);
  send_recv(p.b, p.a, 7000, 20);
  // Everything opened on either side gets closed, cleanly.
  REQUIRE(wait_stat(p.a, "pdc_closed", stat(p.a, "pdc_opened")));
  REQUIRE(wait_stat(p.b, "pdc_closed", stat(p.b, "pdc_opened")));
  CHECK_EQ(stat(p.a, "pdc_failed"), 0u);
  CHECK_EQ(stat(p.b, "pdc_failed"), 0u);
  send_recv(p, 3000, 30);
}

// With idle close off, an idle initiator still sends its clear point in a CLEAR CP,
// and the PDC stays open.
TEST_CASE(clear_when_idle) {
  Env env;
  env.set("FI_SOFTUET_PDC_IDLE_MS", "0");
  Pair p;
  REQUIRE(p.ok);
  for (int i = 0; i < 5; i++) send_recv(p, 3000 + i, 50 + i);
  REQUIRE(wait_stat(p.a, "clear_tx", 1));
  REQUIRE(wait_stat(p.b, "clear_rx", 1));
  uint64_t sent = stat(p.a, "clear_tx");
  usleep(30000);
  CHECK_EQ(stat(p.a, "clear_tx"), sent);  // once per clear point, not per tick
  CHECK_EQ(stat(p.a, "pdc_closed"), 0u);
  CHECK_EQ(stat(p.a, "close_tx"), 0u);
  send_recv(p, 100, 60);
  CHECK_EQ(stat(p.a, "pdc_opened"), 1u);
}

// Close under loss: a lost CLOSE or its lost ACK is retransmitted and answered, also
// after the target already freed its side.
TEST_CASE(idle_close_under_loss) {
  Env env;
  env.set("FI_SOFTUET_PDC_IDLE_MS", "30");
  env.set("FI_SOFTUET_RTO_MS", "3");
  env.set("FI_SOFTUET_FAULT_DROP", "30");
  env.set("FI_SOFTUET_FAULT_SEED", "5");
  Pair p;
  REQUIRE(p.ok);
  for (int round = 0; round < 4; round++) {
    send_recv(p, 20000, 40 + round);
    REQUIRE(wait_stat(p.a, "pdc_closed", stat(p.a, "pdc_opened"), 15000));
  }
  CHECK(stat(p.a, "pdc_opened") >= 4u);
  CHECK_EQ(stat(p.a, "pdc_failed"), 0u);
  REQUIRE(wait_stat(p.b, "pdc_closed", stat(p.b, "pdc_opened"), 15000));
}

// The traffic class reaches the wire as DSCP: a plain UDP socket stands in for a peer
// and reads the TOS byte of what arrives. The PDS type shows the PDC mode.
TEST_CASE(tclass_dscp_and_mode_on_wire) {
  struct Case {
    uint32_t tclass;
    uint64_t order;
    int dscp;
    uint8_t pds_type;
  } cases[] = {
      // Unordered PDCs carry RCCC demand (default FI_SOFTUET_CC): RUD_CC_REQ (13).
      {fi_tc_dscp_set(10), 0, 10, 13},
      {FI_TC_LOW_LATENCY, kRodAsk, 46, 3},
      {0, 0, 0, 13},
  };
  for (auto &k : cases) {
    Peer a;
    Opts o;
    o.tclass = k.tclass;
    o.msg_order = k.order;
    REQUIRE(open_peer(a, o) == 0);
    CHECK_EQ(stat(a, "dscp"), (uint64_t)k.dscp);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(s >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(s, (sockaddr *)&sa, sizeof sa) == 0);
    socklen_t sl = sizeof sa;
    getsockname(s, (sockaddr *)&sa, &sl);
    int one = 1;
    setsockopt(s, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
    fi_addr_t fa;
    REQUIRE(fi_av_insert(a.av, &sa, 1, &fa, 0, nullptr) == 1);
    char msg[100] = "x";
    REQUIRE(fi_send(a.ep, msg, sizeof msg, nullptr, fa, nullptr) == 0);
    pollfd pf{s, POLLIN, 0};
    REQUIRE(poll(&pf, 1, 3000) == 1);
    uint8_t buf[2048];
    char ctl[256];
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    ssize_t n = recvmsg(s, &mh, 0);
    REQUIRE(n > 12);
    int tos = -1;
    for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) tos = *(uint8_t *)CMSG_DATA(c);
    CHECK_EQ(tos >> 2, k.dscp);
    CHECK_EQ(buf[0] >> 3, (int)k.pds_type);
    CHECK(buf[1] & 0x04);  // SYN: a new PDC
    close(s);
    a.close();  // the send never completes: no peer answers; close must still be clean
  }
}

// fi_writemsg / fi_readmsg with several remote segments, in two MRs.
TEST_CASE(rma_multi_segment) {
  Pair p;
  REQUIRE(p.ok);
  std::vector<uint8_t> r1(40000, 0), r2(10000, 0);
  fid_mr *m1 = reg(p.b, r1.data(), r1.size(), FI_REMOTE_READ | FI_REMOTE_WRITE);
  fid_mr *m2 = reg(p.b, r2.data(), r2.size(), FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(m1 && m2);
  auto src = pattern(30000, 7);
  // Local: two pieces (12000 + 18000); remote: 5000 @ r1+100, 20000 @ r1+20000, 5000 @ r2+0.
  iovec liov[2] = {{src.data(), 12000}, {src.data() + 12000, 18000}};
  fi_rma_iov riov[3] = {{(uint64_t)(uintptr_t)r1.data() + 100, 5000, fi_mr_key(m1)},
                        {(uint64_t)(uintptr_t)r1.data() + 20000, 20000, fi_mr_key(m1)},
                        {(uint64_t)(uintptr_t)r2.data(), 5000, fi_mr_key(m2)}};
  int ctx;
  fi_msg_rma msg{};
  msg.msg_iov = liov;
  msg.iov_count = 2;
  msg.addr = p.a.remote;
  msg.rma_iov = riov;
  msg.rma_iov_count = 3;
  msg.context = &ctx;
  msg.data = 0xabcdef;
  REQUIRE(fi_writemsg(p.a.ep, &msg, FI_REMOTE_CQ_DATA) == 0);
  Comp c;
  REQUIRE(wait_comp(p.a.txcq, c));
  CHECK_EQ(c.err, 0);
  CHECK(c.e.op_context == &ctx);
  CHECK((c.e.flags & (FI_RMA | FI_WRITE)) == (FI_RMA | FI_WRITE));
  CHECK(memcmp(r1.data() + 100, src.data(), 5000) == 0);
  CHECK(memcmp(r1.data() + 20000, src.data() + 5000, 20000) == 0);
  CHECK(memcmp(r2.data(), src.data() + 25000, 5000) == 0);
  CHECK_EQ(r1[99], 0);
  CHECK_EQ(r1[5100], 0);
  Comp rc;  // CQ data once, for the whole message
  REQUIRE(wait_comp(p.b.rxcq, rc));
  CHECK_EQ(rc.e.data, 0xabcdefu);
  fi_cq_tagged_entry extra;
  usleep(20000);
  CHECK(fi_cq_read(p.b.rxcq, &extra, 1) == -FI_EAGAIN);
  CHECK(fi_cq_read(p.a.txcq, &extra, 1) == -FI_EAGAIN);  // one completion, not three
  // Read it back in one local buffer.
  std::vector<uint8_t> back(30000, 0);
  iovec biov{back.data(), back.size()};
  msg.msg_iov = &biov;
  msg.iov_count = 1;
  REQUIRE(fi_readmsg(p.a.ep, &msg, 0) == 0);
  REQUIRE(wait_comp(p.a.txcq, c));
  CHECK_EQ(c.err, 0);
  CHECK(back == src);
  // A failing segment (bad key) fails the whole operation, once.
  riov[1].key ^= 0x55;
  REQUIRE(fi_readmsg(p.a.ep, &msg, 0) == 0);
  REQUIRE(wait_comp(p.a.txcq, c));
  CHECK_EQ(c.err, FI_EACCES);
  CHECK(c.e.op_context == &ctx);
  usleep(20000);
  CHECK(fi_cq_read(p.a.txcq, &extra, 1) == -FI_EAGAIN);
  // Lengths that do not add up are refused.
  riov[1].len = 19999;
  CHECK(fi_writemsg(p.a.ep, &msg, 0) == -FI_EINVAL);
  fi_close(&m1->fid);
  fi_close(&m2->fid);
}

// FI_MULTI_RECV: one buffer takes several messages, each completion points at its
// piece, and the completion that hands the buffer back carries FI_MULTI_RECV.
TEST_CASE(multi_recv_buffer) {
  Pair p;
  REQUIRE(p.ok);
  size_t minfree = 1000;
  REQUIRE(fi_setopt(&p.b.ep->fid, FI_OPT_ENDPOINT, FI_OPT_MIN_MULTI_RECV, &minfree, sizeof minfree) == 0);
  size_t got = 0, gl = sizeof got;
  REQUIRE(fi_getopt(&p.b.ep->fid, FI_OPT_ENDPOINT, FI_OPT_MIN_MULTI_RECV, &got, &gl) == 0);
  CHECK_EQ(got, minfree);
  // Three messages arrive before the buffer is posted (unexpected), three after.
  std::vector<std::vector<uint8_t>> src;
  for (int i = 0; i < 6; i++) src.push_back(pattern(5000 + i, 60 + i));
  for (int i = 0; i < 3; i++) REQUIRE(fi_send(p.a.ep, src[i].data(), src[i].size(), nullptr, p.a.remote, nullptr) == 0);
  for (int i = 0; i < 3; i++) {
    Comp c;
    REQUIRE(wait_comp(p.a.txcq, c));
    CHECK_EQ(c.err, 0);
  }
  // Room for four messages, then less than minfree is left: released with the 4th.
  std::vector<uint8_t> buf(5000 * 4 + 6 + 500, 0);
  std::vector<uint8_t> buf2(100000, 0);
  int ctx1, ctx2;
  iovec v1{buf.data(), buf.size()}, v2{buf2.data(), buf2.size()};
  fi_msg m{};
  m.msg_iov = &v1;
  m.iov_count = 1;
  m.addr = FI_ADDR_UNSPEC;
  m.context = &ctx1;
  REQUIRE(fi_recvmsg(p.b.ep, &m, FI_MULTI_RECV) == 0);
  m.msg_iov = &v2;
  m.context = &ctx2;
  REQUIRE(fi_recvmsg(p.b.ep, &m, FI_MULTI_RECV) == 0);
  for (int i = 3; i < 6; i++) REQUIRE(fi_send(p.a.ep, src[i].data(), src[i].size(), nullptr, p.a.remote, nullptr) == 0);
  std::vector<Comp> comps;
  for (int i = 0; i < 6; i++) {
    Comp c;
    REQUIRE(wait_comp(p.b.rxcq, c));
    CHECK_EQ(c.err, 0);
    comps.push_back(c);
  }
  // Messages in order: 0..3 in buf (at consecutive offsets), 4 and 5 in buf2.
  size_t off = 0;
  int released = 0;
  for (int i = 0; i < 6; i++) {
    Comp &c = comps[i];
    uint8_t *base = i < 4 ? buf.data() : buf2.data();
    if (i == 4) off = 0;
    CHECK(c.e.op_context == (i < 4 ? (void *)&ctx1 : (void *)&ctx2));
    CHECK(c.e.buf == base + off);
    CHECK_EQ(c.e.len, src[i].size());
    CHECK(memcmp(base + off, src[i].data(), src[i].size()) == 0);
    if (c.e.flags & FI_MULTI_RECV) {
      released++;
      CHECK(c.e.op_context == &ctx1);
    }
    off += src[i].size();
  }
  CHECK_EQ(released, 1);
  for (int i = 3; i < 6; i++) {  // the sources must outlive their sends
    Comp c;
    REQUIRE(wait_comp(p.a.txcq, c));
  }
  // The second buffer is still posted; cancelling hands it back.
  CHECK(fi_cancel(&p.b.ep->fid, &ctx2) == 0);
  Comp cc;
  REQUIRE(wait_comp(p.b.rxcq, cc));
  CHECK_EQ(cc.err, FI_ECANCELED);
  // Multi-receive is for untagged receives.
  fi_msg_tagged tm{};
  tm.msg_iov = &v2;
  tm.iov_count = 1;
  tm.addr = FI_ADDR_UNSPEC;
  CHECK(fi_trecvmsg(p.b.ep, &tm, FI_MULTI_RECV) == -FI_EOPNOTSUPP);
}

// A message larger than what is left retires the buffer and lands in the next one.
TEST_CASE(multi_recv_retire_on_no_room) {
  Pair p;
  REQUIRE(p.ok);
  size_t minfree = 16;
  REQUIRE(fi_setopt(&p.b.ep->fid, FI_OPT_ENDPOINT, FI_OPT_MIN_MULTI_RECV, &minfree, sizeof minfree) == 0);
  std::vector<uint8_t> buf(10000), buf2(10000);
  int c1, c2;
  iovec v1{buf.data(), buf.size()}, v2{buf2.data(), buf2.size()};
  fi_msg m{};
  m.msg_iov = &v1;
  m.iov_count = 1;
  m.addr = FI_ADDR_UNSPEC;
  m.context = &c1;
  REQUIRE(fi_recvmsg(p.b.ep, &m, FI_MULTI_RECV) == 0);
  m.msg_iov = &v2;
  m.context = &c2;
  REQUIRE(fi_recvmsg(p.b.ep, &m, FI_MULTI_RECV) == 0);
  auto s1 = pattern(6000, 1), s2 = pattern(6000, 2);
  REQUIRE(fi_send(p.a.ep, s1.data(), s1.size(), nullptr, p.a.remote, nullptr) == 0);
  Comp x;
  REQUIRE(wait_comp(p.b.rxcq, x));
  CHECK(x.e.op_context == &c1);
  CHECK(!(x.e.flags & FI_MULTI_RECV));
  REQUIRE(fi_send(p.a.ep, s2.data(), s2.size(), nullptr, p.a.remote, nullptr) == 0);
  Comp y, z;
  REQUIRE(wait_comp(p.b.rxcq, y));
  REQUIRE(wait_comp(p.b.rxcq, z));
  // y: buf released empty-handed (4000 left, 6000 needed); z: the message in buf2.
  CHECK(y.e.op_context == &c1);
  CHECK(y.e.flags & FI_MULTI_RECV);
  CHECK_EQ(y.e.len, 0u);
  CHECK(z.e.op_context == &c2);
  CHECK(z.e.buf == buf2.data());
  CHECK(memcmp(buf2.data(), s2.data(), s2.size()) == 0);
  CHECK(memcmp(buf.data(), s1.data(), s1.size()) == 0);
  // The sources must outlive their sends: a late retransmission still reads them.
  Comp t1, t2;
  REQUIRE(wait_comp(p.a.txcq, t1));
  REQUIRE(wait_comp(p.a.txcq, t2));
}

// Atomic ioc lists join into one operand array over a contiguous remote range.
TEST_CASE(atomic_ioc_vectors) {
  Pair p;
  REQUIRE(p.ok);
  uint64_t cells[5] = {1, 2, 3, 4, 5};
  fid_mr *mr = reg(p.b, cells, sizeof cells, FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(mr);
  uint64_t addr = (uint64_t)(uintptr_t)cells, key = fi_mr_key(mr);
  uint64_t a[2] = {10, 20}, b[3] = {30, 40, 50};
  fi_ioc iov[2] = {{a, 2}, {b, 3}};
  REQUIRE(fi_atomicv(p.a.ep, iov, nullptr, 2, p.a.remote, addr, key, FI_UINT64, FI_SUM, nullptr) == 0);
  Comp c;
  REQUIRE(wait_comp(p.a.txcq, c));
  CHECK_EQ(c.err, 0);
  CHECK(cells[0] == 11 && cells[1] == 22 && cells[2] == 33 && cells[3] == 44 && cells[4] == 55);
  // Fetch with the result split over two iocs.
  uint64_t r1[1], r2[4];
  fi_ioc res[2] = {{r1, 1}, {r2, 4}};
  REQUIRE(fi_fetch_atomicv(p.a.ep, iov, nullptr, 2, res, nullptr, 2, p.a.remote, addr, key, FI_UINT64, FI_SUM,
                           nullptr) == 0);
  REQUIRE(wait_comp(p.a.txcq, c));
  CHECK_EQ(c.err, 0);
  CHECK(r1[0] == 11 && r2[0] == 22 && r2[3] == 55);
  CHECK(cells[0] == 21 && cells[4] == 105);
  // Compare-and-swap vector: element 1 and 3 match.
  uint64_t cmp[5] = {0, 42, 0, 84, 0}, sw[5] = {7, 7, 7, 7, 7};
  cells[1] = 42;
  cells[3] = 84;
  fi_ioc cv[2] = {{cmp, 2}, {cmp + 2, 3}}, sv[1] = {{sw, 5}};
  uint64_t old[5];
  fi_ioc ov[1] = {{old, 5}};
  REQUIRE(fi_compare_atomicv(p.a.ep, sv, nullptr, 1, cv, nullptr, 2, ov, nullptr, 1, p.a.remote, addr, key,
                             FI_UINT64, FI_CSWAP, nullptr) == 0);
  REQUIRE(wait_comp(p.a.txcq, c));
  CHECK_EQ(c.err, 0);
  CHECK(cells[0] == 21 && cells[1] == 7 && cells[2] != 7 && cells[3] == 7);
  CHECK_EQ(old[1], 42u);
  // Counts that disagree are refused.
  fi_ioc cbad[1] = {{cmp, 4}};
  CHECK(fi_compare_atomicv(p.a.ep, sv, nullptr, 1, cbad, nullptr, 1, ov, nullptr, 1, p.a.remote, addr, key,
                           FI_UINT64, FI_CSWAP, nullptr) == -FI_EINVAL);
  fi_close(&mr->fid);
}

// Each side cuts its packets by its own MTU (FI_SOFTUET_MTU, or its interface's): reads
// are answered in the chunks the initiator asks for, so every op works between
// endpoints that disagree, in both directions.
TEST_CASE(mismatched_mtus_every_op) {
  Peer a, b;
  {
    Env env;
    env.set("FI_SOFTUET_MTU", "1024");
    REQUIRE(open_peer(a, Opts()) == 0);
    env.set("FI_SOFTUET_MTU", "16000");
    REQUIRE(open_peer(b, Opts()) == 0);
  }
  REQUIRE(connect(a, b) == 0);
  CHECK_EQ(a.info->tx_attr->inject_size, 1024u);
  CHECK_EQ(b.info->tx_attr->inject_size, 16000u);
  const size_t n = 300000 + 123;  // not a multiple of either MTU
  for (int dir = 0; dir < 2; dir++) {
    Peer &x = dir ? b : a, &y = dir ? a : b;
    write_checked(x, y, n, 11 + dir);
    send_recv(x, y, n, 21 + dir);
    auto mem = pattern(n, 31 + dir);
    fid_mr *mr = reg(y, mem.data(), n, FI_REMOTE_READ | FI_REMOTE_WRITE);
    REQUIRE(mr);
    std::vector<uint8_t> back(n, 0);
    int ctx;
    REQUIRE(fi_read(x.ep, back.data(), n, nullptr, x.remote, (uint64_t)(uintptr_t)mem.data(), fi_mr_key(mr), &ctx) == 0);
    Comp c;
    REQUIRE(wait_comp(x.txcq, c));
    CHECK_EQ(c.err, 0);
    CHECK(back == mem);
    // A read of one byte and one that ends one byte into a chunk of either side.
    for (size_t len : {(size_t)1, (size_t)16001, (size_t)1025}) {
      std::vector<uint8_t> part(len, 0);
      REQUIRE(fi_read(x.ep, part.data(), len, nullptr, x.remote, (uint64_t)(uintptr_t)mem.data() + 7, fi_mr_key(mr),
                      &ctx) == 0);
      REQUIRE(wait_comp(x.txcq, c));
      CHECK_EQ(c.err, 0);
      CHECK(memcmp(part.data(), mem.data() + 7, len) == 0);
    }
    // As many atomic elements as the initiator's MTU carries.
    size_t count = 0;
    REQUIRE(fi_atomicvalid(x.ep, FI_UINT64, FI_SUM, &count) == 0);
    CHECK_EQ(count, (dir ? 16000u : 1024u) / 8);
    std::vector<uint64_t> cells(count, 5), add(count, 2), old(count, 0);
    fid_mr *amr = reg(y, cells.data(), count * 8, FI_REMOTE_READ | FI_REMOTE_WRITE);
    REQUIRE(amr);
    REQUIRE(fi_fetch_atomic(x.ep, add.data(), count, nullptr, old.data(), nullptr, x.remote,
                            (uint64_t)(uintptr_t)cells.data(), fi_mr_key(amr), FI_UINT64, FI_SUM, &ctx) == 0);
    REQUIRE(wait_comp(x.txcq, c));
    CHECK_EQ(c.err, 0);
    CHECK(old[0] == 5 && old[count - 1] == 5 && cells[0] == 7 && cells[count - 1] == 7);
    fi_close(&amr->fid);
    fi_close(&mr->fid);
  }
  CHECK_EQ(stat(a, "rsp_errors_tx") + stat(b, "rsp_errors_tx"), 0u);
}

// Without FI_SOFTUET_MTU the payload is what the bound interface carries whole, at most
// 16000 bytes: loopback's 65536-byte MTU gives the maximum.
TEST_CASE(default_mtu_from_the_interface) {
  FILE *f = fopen("/sys/class/net/lo/mtu", "r");
  REQUIRE(f);
  unsigned lo = 0;
  REQUIRE(fscanf(f, "%u", &lo) == 1);
  fclose(f);
  Env env;
  env.set("FI_SOFTUET_MTU", "");  // empty: as if unset
  Peer p;
  REQUIRE(open_peer(p, Opts()) == 0);
  if (lo >= 16200) CHECK_EQ(p.info->tx_attr->inject_size, 16000u);
  else CHECK(p.info->tx_attr->inject_size < lo && p.info->tx_attr->inject_size + 200 > lo);
  size_t count = 0;
  REQUIRE(fi_atomicvalid(p.ep, FI_UINT32, FI_SUM, &count) == 0);
  CHECK_EQ(count, p.info->tx_attr->inject_size / 4);
}

// Per-endpoint settings (fi_setopt before fi_enable) beat the process-wide environment,
// so endpoints of one process can differ; the endpoint still honours its info.
TEST_CASE(endpoint_options_beat_the_environment) {
  Env env;
  env.set("FI_SOFTUET_MTU", "4096");
  env.set("FI_SOFTUET_CC", "nscc+rccc");
  env.set("FI_SOFTUET_MPR", "100");
  Peer a, b;
  Opts own;
  own.own_mtu = 1024;
  own.own_cc = 0;
  REQUIRE(open_peer(a, own) == 0);
  REQUIRE(open_peer(b, Opts()) == 0);
  REQUIRE(connect(a, b) == 0);
  auto get_mtu = [](Peer &p) {
    size_t v = 0, len = sizeof v;
    REQUIRE(fi_getopt(&p.ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &v, &len) == 0);
    CHECK_EQ(len, sizeof v);
    return v;
  };
  auto get_cc = [](Peer &p) {
    int v = -1;
    size_t len = sizeof v;
    REQUIRE(fi_getopt(&p.ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_CC, &v, &len) == 0);
    return v;
  };
  CHECK_EQ(get_mtu(a), 1024u);
  CHECK_EQ(get_mtu(b), 4096u);
  CHECK_EQ(get_cc(a), 0);
  CHECK_EQ(get_cc(b), FI_SOFTUET_CC_NSCC | FI_SOFTUET_CC_RCCC);
  // Packets of each side's own size, data intact both ways.
  const size_t n = 64 * 1024;
  uint64_t a0 = stat(a, "tx_pkts");
  write_checked(a, b, n, 41);
  CHECK(stat(a, "tx_pkts") - a0 >= n / 1024);
  uint64_t b0 = stat(b, "tx_pkts");
  write_checked(b, a, n, 42);
  CHECK(stat(b, "tx_pkts") - b0 < n / 1024);
  // No congestion window: the PDC's window is MPR packets of the endpoint's own MTU.
  CHECK_EQ(stat(a, "cwnd"), 100u * 1024u);
  size_t count = 0;
  REQUIRE(fi_atomicvalid(a.ep, FI_UINT64, FI_SUM, &count) == 0);
  CHECK_EQ(count, 1024u / 8);
  // The info's inject size stands, carried in several packets.
  REQUIRE(a.info->tx_attr->inject_size == 4096u);
  auto small = pattern(4096, 43);
  std::vector<uint8_t> dst(4096, 0);
  int rctx = 0;
  REQUIRE(fi_recv(b.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  REQUIRE(fi_inject(a.ep, small.data(), small.size(), a.remote) == 0);
  Comp rc;
  REQUIRE(wait_comp(b.rxcq, rc));
  CHECK_EQ(rc.err, 0);
  CHECK(dst == small);
  CHECK(fi_inject(a.ep, small.data(), 4097, a.remote) == -FI_EMSGSIZE);
  // Only before fi_enable, and only values the provider can run with.
  size_t m = 2048;
  CHECK(fi_setopt(&a.ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &m, sizeof m) == -FI_EOPBADSTATE);
  fid_ep *fresh = nullptr;
  REQUIRE(fi_endpoint(a.dom, a.info, &fresh, nullptr) == 0);
  CHECK_EQ(([&] {
             size_t v = 0, len = sizeof v;
             fi_getopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &v, &len);
             return v;
           })(),
           4096u);  // what it would use if enabled now: the environment's
  for (size_t bad : {(size_t)100, (size_t)16001})
    CHECK(fi_setopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &bad, sizeof bad) == -FI_EINVAL);
  int bad_cc = 4;
  CHECK(fi_setopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_CC, &bad_cc, sizeof bad_cc) == -FI_EINVAL);
  CHECK(fi_setopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_CC, &m, sizeof m) == -FI_EINVAL);  // not an int
  CHECK(fi_setopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &m, sizeof m) == 0);
  size_t v = 0, len = 2;
  CHECK(fi_getopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &v, &len) == -FI_ETOOSMALL);
  len = sizeof v;
  CHECK(fi_getopt(&fresh->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &v, &len) == 0);
  CHECK_EQ(v, 2048u);
  fi_close(&fresh->fid);
}

// SES JobID: endpoints of different jobs cannot reach each other's memory or queues.
TEST_CASE(foreign_job_refused) {
  Peer a, b;
  {
    Env env;
    env.set("FI_SOFTUET_JOB_ID", "42");
    REQUIRE(open_peer(a, Opts()) == 0);
  }
  REQUIRE(open_peer(b, Opts()) == 0);
  REQUIRE(connect(a, b) == 0);
  std::vector<uint8_t> mem(1000, 0x5a), src = pattern(1000, 1), d(1000, 0);
  fid_mr *mr = reg(b, mem.data(), mem.size(), FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(mr);
  int rctx;
  REQUIRE(fi_recv(b.ep, d.data(), d.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  REQUIRE(fi_send(a.ep, src.data(), src.size(), nullptr, a.remote, nullptr) == 0);
  REQUIRE(fi_write(a.ep, src.data(), 500, nullptr, a.remote, (uint64_t)(uintptr_t)mem.data(), fi_mr_key(mr), nullptr) == 0);
  for (int i = 0; i < 2; i++) {
    Comp c;
    REQUIRE(wait_comp(a.txcq, c));
    CHECK_EQ(c.err, FI_EACCES);
    CHECK(c.err_text.find("JOB") != std::string::npos);
  }
  for (uint8_t x : mem) CHECK_EQ(x, 0x5a);
  fi_cq_tagged_entry e;
  CHECK(fi_cq_read(b.rxcq, &e, 1) == -FI_EAGAIN);
  CHECK(stat(b, "bad_job_rx") >= 2);
  CHECK(fi_cancel(&b.ep->fid, &rctx) == 0);
  fi_close(&mr->fid);
}

// A peer restarted at the same address no longer knows the PDC: the first operation
// after the restart meets INV_DPDCID and moves to a new PDC instead of failing.
TEST_CASE(peer_restart_reopens_pdc) {
  Env env;
  env.set("FI_SOFTUET_PDC_IDLE_MS", "0");  // keep the PDC open across the restart
  // Other programs on this host (parallel tests) scan for free ports from the same base
  // and may take the freed port in the moment between giving it up and rebinding it; the
  // restart is then not at the same address, and the scenario starts over.
  for (int attempt = 1;; attempt++) {
    Pair p;
    REQUIRE(p.ok);
    send_recv(p, 1000, 1);
    sockaddr_in old{};
    memcpy(&old, p.b.name, sizeof old);
    p.b.close();
    int hold = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(hold >= 0);
    if (bind(hold, (sockaddr *)&old, sizeof old) != 0) {
      close(hold);
      REQUIRE(attempt < 5);
      continue;
    }
    close(hold);
    Env port;
    port.set("FI_SOFTUET_PORT_BASE", std::to_string(ntohs(old.sin_port)).c_str());
    REQUIRE(open_peer(p.b, Opts()) == 0);
    sockaddr_in now{};
    memcpy(&now, p.b.name, sizeof now);
    if (now.sin_port != old.sin_port) {
      REQUIRE(attempt < 5);
      continue;
    }
    REQUIRE(fi_av_insert(p.b.av, p.a.name, 1, &p.b.remote, 0, nullptr) == 1);
    send_recv(p, 20000, 2);
    send_recv(p, 10, 3);
    CHECK_EQ(stat(p.a, "pdc_reopened"), 1u);
    CHECK_EQ(stat(p.a, "pdc_failed"), 0u);
    CHECK(stat(p.a, "nack_rx.INV_DPDCID") >= 1);
    break;
  }
}

NLF_TEST_MAIN()
