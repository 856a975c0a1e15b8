// Every data path of the softuet provider through the public libfabric API, between
// two endpoints of one process. Run under fault injection (FI_SOFTUET_FAULT_*) by
// test/softuet/loss.test.ts; SUET_BIG sets the large-transfer size (default 1 MiB).
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include "prov/fixture.h"

using namespace suet_test;

namespace {
size_t big() {
  const char *v = getenv("SUET_BIG");
  return v ? strtoull(v, nullptr, 0) : (1u << 20);
}

struct Pair {
  Peer a, b;
  bool ok = false;
  explicit Pair(fi_ep_type t = FI_EP_RDM, bool manual = false) {
    int r = a.open(t, 0, manual);
    if (!r) r = b.open(t, 0, manual);
    if (!r) r = connect(a, b);
    if (r) fprintf(stderr, "pair setup failed: %d (%s)\n", r, fi_strerror(-r));
    ok = r == 0;
  }
};

// After the expected completions, nothing more may arrive: each op completes once.
void expect_quiet(fid_cq *cq) {
  fi_cq_tagged_entry e;
  uint64_t end = now_ms() + 30;
  while (now_ms() < end) {
    ssize_t r = fi_cq_read(cq, &e, 1);
    CHECK(r == -FI_EAGAIN);
    if (r != -FI_EAGAIN) return;
  }
}

void send_recv(Pair &p, size_t len, uint32_t seed) {
  auto src = pattern(len, seed);
  std::vector<uint8_t> dst(len + 16, 0xEE);
  int rctx = 0, sctx = 0;
  REQUIRE(fi_recv(p.b.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  REQUIRE(fi_send(p.a.ep, src.data(), len, nullptr, p.a.remote, &sctx) == 0);
  Comp rc, sc;
  REQUIRE(wait_comp(p.b.rxcq, rc));
  REQUIRE(wait_comp(p.a.txcq, sc));
  CHECK_EQ(rc.err, 0);
  CHECK_EQ(sc.err, 0);
  CHECK(rc.e.op_context == &rctx);
  CHECK(sc.e.op_context == &sctx);
  CHECK_EQ(rc.e.len, len);
  CHECK((rc.e.flags & (FI_RECV | FI_MSG)) == (FI_RECV | FI_MSG));
  CHECK(rc.src == p.b.remote);
  CHECK(memcmp(dst.data(), src.data(), len) == 0);
  CHECK(dst[len] == 0xEE);
}
}  // namespace

TEST_CASE(getinfo_attributes) {
  provider_path();
  fi_info *hints = fi_allocinfo(), *info = nullptr;
  hints->fabric_attr->prov_name = strdup("softuet");
  hints->ep_attr->type = FI_EP_RDM;
  REQUIRE(fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info) == 0);
  CHECK(!strcmp(info->fabric_attr->prov_name, "softuet"));
  CHECK_EQ(info->addr_format, (uint32_t)FI_SOCKADDR_IN);
  CHECK_EQ(info->domain_attr->cq_data_size, 8u);
  CHECK(info->tx_attr->inject_size >= 64);
  CHECK(info->caps & FI_RMA);
  CHECK(info->caps & FI_ATOMIC);
  fi_freeinfo(info);
  // A capability softuet does not have must not come back.
  hints->caps = FI_MSG | FI_MULTICAST;
  info = nullptr;
  CHECK(fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info) == -FI_ENODATA);
  if (info) fi_freeinfo(info);
  fi_freeinfo(hints);
}

TEST_CASE(msg_sizes) {
  Pair p;
  REQUIRE(p.ok);
  for (size_t len : {(size_t)0, (size_t)1, (size_t)4095, (size_t)4096, (size_t)4097, (size_t)65537, big()})
    send_recv(p, len, (uint32_t)len);
  expect_quiet(p.a.txcq);
  expect_quiet(p.b.rxcq);
}

TEST_CASE(msg_unexpected_and_order) {
  Pair p;
  REQUIRE(p.ok);
  // Sends before any receive is posted: buffered, then matched in posting order.
  const int n = 8;
  std::vector<std::vector<uint8_t>> src;
  int sctx[n];
  for (int i = 0; i < n; i++) {
    src.push_back(pattern(1000 + i * 3000, 100 + i));
    REQUIRE(fi_send(p.a.ep, src[i].data(), src[i].size(), nullptr, p.a.remote, &sctx[i]) == 0);
  }
  for (int i = 0; i < n; i++) {
    Comp c;
    REQUIRE(wait_comp(p.a.txcq, c));
    CHECK_EQ(c.err, 0);
  }
  for (int i = 0; i < n; i++) {
    std::vector<uint8_t> dst(40000);
    int rctx;
    REQUIRE(fi_recv(p.b.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
    Comp c;
    REQUIRE(wait_comp(p.b.rxcq, c));
    CHECK_EQ(c.e.len, src[i].size());
    CHECK(memcmp(dst.data(), src[i].data(), src[i].size()) == 0);
  }
}

TEST_CASE(msg_truncation) {
  Pair p;
  REQUIRE(p.ok);
  auto src = pattern(5000, 9);
  std::vector<uint8_t> dst(100);
  int rctx, sctx;
  REQUIRE(fi_recv(p.b.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  REQUIRE(fi_send(p.a.ep, src.data(), src.size(), nullptr, p.a.remote, &sctx) == 0);
  Comp c;
  REQUIRE(wait_comp(p.b.rxcq, c));
  CHECK_EQ(c.err, FI_ETRUNC);
  CHECK(memcmp(dst.data(), src.data(), dst.size()) == 0);
}

TEST_CASE(tagged_matching) {
  Pair p;
  REQUIRE(p.ok);
  auto s1 = pattern(3000, 1), s2 = pattern(70000, 2);
  std::vector<uint8_t> d1(3000), d2(70000);
  int r1, r2, c1, c2;
  // r2 matches any tag 0x5500..0x55ff; r1 wants exactly 0x1234.
  REQUIRE(fi_trecv(p.b.ep, d2.data(), d2.size(), nullptr, FI_ADDR_UNSPEC, 0x5500, 0xff, &r2) == 0);
  REQUIRE(fi_trecv(p.b.ep, d1.data(), d1.size(), nullptr, p.b.remote, 0x1234, 0, &r1) == 0);
  REQUIRE(fi_tsend(p.a.ep, s1.data(), s1.size(), nullptr, p.a.remote, 0x1234, &c1) == 0);
  REQUIRE(fi_tsend(p.a.ep, s2.data(), s2.size(), nullptr, p.a.remote, 0x55aa, &c2) == 0);
  Comp x, y;
  REQUIRE(wait_comp(p.b.rxcq, x));
  REQUIRE(wait_comp(p.b.rxcq, y));
  if (x.e.op_context != &r1) std::swap(x, y);
  CHECK(x.e.op_context == &r1);
  CHECK(y.e.op_context == &r2);
  CHECK_EQ(x.e.tag, 0x1234u);
  CHECK_EQ(y.e.tag, 0x55aau);
  CHECK(x.e.flags & FI_TAGGED);
  CHECK(memcmp(d1.data(), s1.data(), s1.size()) == 0);
  CHECK(memcmp(d2.data(), s2.data(), s2.size()) == 0);
  Comp t1, t2;
  REQUIRE(wait_comp(p.a.txcq, t1));
  REQUIRE(wait_comp(p.a.txcq, t2));
  // A tag nobody waits for stays unexpected until a matching receive shows up.
  int c3, r3;
  REQUIRE(fi_tinject(p.a.ep, s1.data(), 64, p.a.remote, 0x777) == 0);
  REQUIRE(fi_tsend(p.a.ep, s1.data(), 10, nullptr, p.a.remote, 0x888, &c3) == 0);
  Comp t3;
  REQUIRE(wait_comp(p.a.txcq, t3));
  std::vector<uint8_t> d3(64);
  REQUIRE(fi_trecv(p.b.ep, d3.data(), d3.size(), nullptr, FI_ADDR_UNSPEC, 0x888, 0, &r3) == 0);
  Comp z;
  REQUIRE(wait_comp(p.b.rxcq, z));
  CHECK(z.e.op_context == &r3);
  CHECK_EQ(z.e.len, 10u);
  REQUIRE(fi_trecv(p.b.ep, d3.data(), d3.size(), nullptr, FI_ADDR_UNSPEC, 0x777, 0, &r3) == 0);
  REQUIRE(wait_comp(p.b.rxcq, z));
  CHECK_EQ(z.e.len, 64u);
  CHECK(memcmp(d3.data(), s1.data(), 64) == 0);
}

TEST_CASE(senddata_and_cancel) {
  Pair p;
  REQUIRE(p.ok);
  auto s = pattern(100, 5);
  std::vector<uint8_t> d(100);
  int r, c;
  REQUIRE(fi_recv(p.b.ep, d.data(), d.size(), nullptr, FI_ADDR_UNSPEC, &r) == 0);
  REQUIRE(fi_senddata(p.a.ep, s.data(), s.size(), nullptr, 0xfeedfacecafebeefull, p.a.remote, &c) == 0);
  Comp x;
  REQUIRE(wait_comp(p.b.rxcq, x));
  CHECK(x.e.flags & FI_REMOTE_CQ_DATA);
  CHECK_EQ(x.e.data, 0xfeedfacecafebeefull);
  int r2;
  REQUIRE(fi_recv(p.b.ep, d.data(), d.size(), nullptr, FI_ADDR_UNSPEC, &r2) == 0);
  CHECK(fi_cancel(&p.b.ep->fid, &r2) == 0);
  Comp y;
  REQUIRE(wait_comp(p.b.rxcq, y));
  CHECK_EQ(y.err, FI_ECANCELED);
  CHECK(y.e.op_context == &r2);
  size_t optlen = sizeof(size_t);
  size_t v;
  CHECK(fi_getopt(&p.b.ep->fid, FI_OPT_ENDPOINT, FI_OPT_MIN_MULTI_RECV, &v, &optlen) == 0);
  CHECK_EQ(optlen, sizeof(size_t));
  CHECK(fi_getopt(&p.b.ep->fid, FI_OPT_ENDPOINT, FI_OPT_BUFFERED_MIN, &v, &optlen) == -FI_ENOPROTOOPT);
}

TEST_CASE(rma_write_read) {
  Pair p;
  REQUIRE(p.ok);
  size_t n = big();
  std::vector<uint8_t> target(n, 0), local = pattern(n, 77), back(n, 0);
  fid_mr *mr = reg(p.b, target.data(), n, FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(mr != nullptr);
  uint64_t key = fi_mr_key(mr);
  uint64_t addr = (uint64_t)(uintptr_t)target.data();
  int c;
  REQUIRE(fi_write(p.a.ep, local.data(), n, nullptr, p.a.remote, addr, key, &c) == 0);
  Comp w;
  REQUIRE(wait_comp(p.a.txcq, w));
  CHECK_EQ(w.err, 0);
  CHECK(w.e.flags & FI_WRITE);
  CHECK(memcmp(target.data(), local.data(), n) == 0);
  CHECK(fi_cntr_read(p.b.rw_cntr) >= 1);
  // Read it back into a fresh buffer.
  REQUIRE(fi_read(p.a.ep, back.data(), n, nullptr, p.a.remote, addr, key, &c) == 0);
  Comp rd;
  REQUIRE(wait_comp(p.a.txcq, rd));
  CHECK_EQ(rd.err, 0);
  CHECK(rd.e.flags & FI_READ);
  CHECK(memcmp(back.data(), local.data(), n) == 0);
  // Unaligned sub-range write + read.
  auto small = pattern(777, 3);
  REQUIRE(fi_write(p.a.ep, small.data(), small.size(), nullptr, p.a.remote, addr + 12345, key, &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, w));
  CHECK(memcmp(target.data() + 12345, small.data(), small.size()) == 0);
  std::vector<uint8_t> sb(777);
  REQUIRE(fi_read(p.a.ep, sb.data(), sb.size(), nullptr, p.a.remote, addr + 12345, key, &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, rd));
  CHECK(memcmp(sb.data(), small.data(), small.size()) == 0);
  expect_quiet(p.a.txcq);
  fi_close(&mr->fid);
}

// Reads and fetching atomics take a message id on the PDC like sends do; the target
// must account for them, or send matching (which follows message-id order) stalls
// behind an id it never sees as a message.
TEST_CASE(ops_after_read) {
  Pair p;
  REQUIRE(p.ok);
  size_t n = 3 * 4096 + 100;  // several READ chunks, last one short
  auto remote = pattern(n, 31);
  std::vector<uint8_t> back(n, 0);
  alignas(8) uint8_t amo[64] = {};
  fid_mr *mr = reg(p.b, remote.data(), n, FI_REMOTE_READ | FI_REMOTE_WRITE);
  fid_mr *amr = reg(p.b, amo, sizeof amo, FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(mr && amr);
  uint64_t key = fi_mr_key(mr), addr = (uint64_t)(uintptr_t)remote.data();
  int c;
  Comp e;
  for (int round = 0; round < 2; round++) {
    REQUIRE(fi_read(p.a.ep, back.data(), n, nullptr, p.a.remote, addr, key, &c) == 0);
    REQUIRE(wait_comp(p.a.txcq, e, 5000));
    CHECK_EQ(e.err, 0);
    CHECK(memcmp(back.data(), remote.data(), n) == 0);
    send_recv(p, 5000 + round, 40 + round);
    // Tagged, posted after the send so it goes through the unexpected list too.
    auto ts = pattern(9000, 50 + round);
    std::vector<uint8_t> td(9000);
    int tc, tr;
    REQUIRE(fi_tsend(p.a.ep, ts.data(), ts.size(), nullptr, p.a.remote, 0xabc0 + round, &tc) == 0);
    REQUIRE(wait_comp(p.a.txcq, e, 5000));
    CHECK_EQ(e.err, 0);
    REQUIRE(fi_trecv(p.b.ep, td.data(), td.size(), nullptr, FI_ADDR_UNSPEC, 0xabc0 + round, 0, &tr) == 0);
    REQUIRE(wait_comp(p.b.rxcq, e, 5000));
    CHECK(e.e.op_context == &tr);
    CHECK(memcmp(td.data(), ts.data(), ts.size()) == 0);
    auto w = pattern(6000, 60 + round);
    REQUIRE(fi_write(p.a.ep, w.data(), w.size(), nullptr, p.a.remote, addr + 7, key, &c) == 0);
    REQUIRE(wait_comp(p.a.txcq, e, 5000));
    CHECK_EQ(e.err, 0);
    CHECK(memcmp(remote.data() + 7, w.data(), w.size()) == 0);
    // Fetching atomic, then a send again.
    uint64_t v = 5, old = 99;
    REQUIRE(fi_fetch_atomic(p.a.ep, &v, 1, nullptr, &old, nullptr, p.a.remote, (uint64_t)(uintptr_t)amo,
                            fi_mr_key(amr), FI_UINT64, FI_SUM, &c) == 0);
    REQUIRE(wait_comp(p.a.txcq, e, 5000));
    CHECK_EQ(e.err, 0);
    CHECK_EQ(old, 5u * round);
    send_recv(p, 100, 70 + round);
    // Refresh what the next round reads back.
    memcpy(remote.data(), pattern(n, 80 + round).data(), n);
  }
  expect_quiet(p.a.txcq);
  expect_quiet(p.b.rxcq);
  fi_close(&amr->fid);
  fi_close(&mr->fid);
}

TEST_CASE(rma_writedata) {
  Pair p;
  REQUIRE(p.ok);
  std::vector<uint8_t> target(10000, 0);
  auto src = pattern(10000, 8);
  fid_mr *mr = reg(p.b, target.data(), target.size(), FI_REMOTE_WRITE);
  REQUIRE(mr);
  int c;
  REQUIRE(fi_writedata(p.a.ep, src.data(), src.size(), nullptr, 0x42424242, p.a.remote,
                       (uint64_t)(uintptr_t)target.data(), fi_mr_key(mr), &c) == 0);
  Comp t, r;
  REQUIRE(wait_comp(p.a.txcq, t));
  REQUIRE(wait_comp(p.b.rxcq, r));
  CHECK(r.e.flags & FI_REMOTE_CQ_DATA);
  CHECK(r.e.flags & FI_REMOTE_WRITE);
  CHECK_EQ(r.e.data, 0x42424242u);
  CHECK(memcmp(target.data(), src.data(), src.size()) == 0);
  fi_close(&mr->fid);
}

TEST_CASE(rma_protection) {
  Pair p;
  REQUIRE(p.ok);
  std::vector<uint8_t> target(8192, 0x11), ro(8192, 0x22);
  fid_mr *mr = reg(p.b, target.data(), target.size(), FI_REMOTE_READ | FI_REMOTE_WRITE);
  fid_mr *mr_ro = reg(p.b, ro.data(), ro.size(), FI_REMOTE_READ);
  REQUIRE(mr && mr_ro);
  uint64_t addr = (uint64_t)(uintptr_t)target.data();
  auto src = pattern(5000, 4);
  int c;
  Comp e;
  // Wrong key.
  REQUIRE(fi_write(p.a.ep, src.data(), 100, nullptr, p.a.remote, addr, fi_mr_key(mr) ^ 0x5a5a, &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, e));
  CHECK_EQ(e.err, FI_EACCES);
  CHECK(e.err_text.find("BAD_MKEY") != std::string::npos);
  // Past the end of the region (multi-packet).
  REQUIRE(fi_write(p.a.ep, src.data(), 5000, nullptr, p.a.remote, addr + 4000, fi_mr_key(mr), &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, e));
  CHECK_EQ(e.err, FI_EINVAL);
  CHECK(e.err_text.find("OUT_OF_RANGE") != std::string::npos);
  // Below the start.
  REQUIRE(fi_read(p.a.ep, src.data(), 16, nullptr, p.a.remote, addr - 16, fi_mr_key(mr), &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, e));
  CHECK_EQ(e.err, FI_EINVAL);
  // Write into read-only memory.
  REQUIRE(fi_write(p.a.ep, src.data(), 100, nullptr, p.a.remote, (uint64_t)(uintptr_t)ro.data(), fi_mr_key(mr_ro),
                   &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, e));
  CHECK_EQ(e.err, FI_EACCES);
  CHECK(e.err_text.find("PERM_VIOLATION") != std::string::npos);
  // Atomic into read-only memory.
  uint64_t one = 1;
  REQUIRE(fi_atomic(p.a.ep, &one, 1, nullptr, p.a.remote, (uint64_t)(uintptr_t)ro.data(), fi_mr_key(mr_ro),
                    FI_UINT64, FI_SUM, &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, e));
  CHECK_EQ(e.err, FI_EACCES);
  // Closed region: its key is gone.
  uint64_t old_key = fi_mr_key(mr);
  fi_close(&mr->fid);
  REQUIRE(fi_write(p.a.ep, src.data(), 10, nullptr, p.a.remote, addr, old_key, &c) == 0);
  REQUIRE(wait_comp(p.a.txcq, e));
  CHECK_EQ(e.err, FI_EACCES);
  for (uint8_t b : target) CHECK_EQ(b, 0x11);
  for (uint8_t b : ro) CHECK_EQ(b, 0x22);
  CHECK(stat(p.b, "rsp_errors_tx") >= 5);
  fi_close(&mr_ro->fid);
}

TEST_CASE(atomics) {
  Pair p;
  REQUIRE(p.ok);
  alignas(8) uint8_t mem[256] = {};
  fid_mr *mr = reg(p.b, mem, sizeof mem, FI_REMOTE_READ | FI_REMOTE_WRITE);
  REQUIRE(mr);
  uint64_t key = fi_mr_key(mr), base = (uint64_t)(uintptr_t)mem;
  int c;
  Comp e;
  auto run = [&](int r) {
    REQUIRE(r == 0);
    REQUIRE(wait_comp(p.a.txcq, e));
    CHECK_EQ(e.err, 0);
  };
  uint64_t *u64 = (uint64_t *)mem;
  *u64 = 10;
  uint64_t v = 32;
  run(fi_atomic(p.a.ep, &v, 1, nullptr, p.a.remote, base, key, FI_UINT64, FI_SUM, &c));
  CHECK_EQ(*u64, 42u);
  uint64_t old = 0;
  v = 8;
  run(fi_fetch_atomic(p.a.ep, &v, 1, nullptr, &old, nullptr, p.a.remote, base, key, FI_UINT64, FI_SUM, &c));
  CHECK_EQ(old, 42u);
  CHECK_EQ(*u64, 50u);
  uint64_t cmp = 50, swp = 7;
  run(fi_compare_atomic(p.a.ep, &swp, 1, nullptr, &cmp, nullptr, &old, nullptr, p.a.remote, base, key, FI_UINT64,
                        FI_CSWAP, &c));
  CHECK_EQ(old, 50u);
  CHECK_EQ(*u64, 7u);
  cmp = 99;
  swp = 1;
  run(fi_compare_atomic(p.a.ep, &swp, 1, nullptr, &cmp, nullptr, &old, nullptr, p.a.remote, base, key, FI_UINT64,
                        FI_CSWAP, &c));
  CHECK_EQ(*u64, 7u);
  run(fi_fetch_atomic(p.a.ep, nullptr, 1, nullptr, &old, nullptr, p.a.remote, base, key, FI_UINT64,
                      FI_ATOMIC_READ, &c));
  CHECK_EQ(old, 7u);
  int32_t *i32 = (int32_t *)(mem + 16);
  i32[0] = 5;
  i32[1] = -5;
  int32_t mins[2] = {-3, -9};
  run(fi_atomic(p.a.ep, mins, 2, nullptr, p.a.remote, base + 16, key, FI_INT32, FI_MIN, &c));
  CHECK_EQ(i32[0], -3);
  CHECK_EQ(i32[1], -9);
  double *d = (double *)(mem + 32);
  *d = 1.5;
  double dv = 2.25;
  run(fi_atomic(p.a.ep, &dv, 1, nullptr, p.a.remote, base + 32, key, FI_DOUBLE, FI_MAX, &c));
  CHECK(*d == 2.25);
  run(fi_atomic(p.a.ep, &dv, 1, nullptr, p.a.remote, base + 32, key, FI_DOUBLE, FI_PROD, &c));
  CHECK(*d == 2.25 * 2.25);
  float *f = (float *)(mem + 40);
  *f = 1.0f;
  float fv = 0.5f;
  run(fi_atomic(p.a.ep, &fv, 1, nullptr, p.a.remote, base + 40, key, FI_FLOAT, FI_SUM, &c));
  CHECK(*f == 1.5f);
  uint8_t *u8 = mem + 48;
  *u8 = 0x0f;
  uint8_t b = 0xf0;
  run(fi_atomic(p.a.ep, &b, 1, nullptr, p.a.remote, base + 48, key, FI_UINT8, FI_BOR, &c));
  CHECK_EQ(*u8, 0xff);
  b = 0x3c;
  run(fi_atomic(p.a.ep, &b, 1, nullptr, p.a.remote, base + 48, key, FI_UINT8, FI_BXOR, &c));
  CHECK_EQ(*u8, 0xc3);
  run(fi_atomic(p.a.ep, &b, 1, nullptr, p.a.remote, base + 48, key, FI_UINT8, FI_BAND, &c));
  CHECK_EQ(*u8, 0x00);
  int16_t *i16 = (int16_t *)(mem + 64);
  *i16 = 0;
  int16_t one16 = 1;
  run(fi_atomic(p.a.ep, &one16, 1, nullptr, p.a.remote, base + 64, key, FI_INT16, FI_LOR, &c));
  CHECK_EQ(*i16, 1);
  run(fi_atomic(p.a.ep, &one16, 1, nullptr, p.a.remote, base + 64, key, FI_INT16, FI_LXOR, &c));
  CHECK_EQ(*i16, 0);
  uint32_t *u32 = (uint32_t *)(mem + 72);
  *u32 = 3;
  uint32_t w32 = 77, o32;
  run(fi_fetch_atomic(p.a.ep, &w32, 1, nullptr, &o32, nullptr, p.a.remote, base + 72, key, FI_UINT32,
                      FI_ATOMIC_WRITE, &c));
  CHECK_EQ(o32, 3u);
  CHECK_EQ(*u32, 77u);
  // Bitwise ops on floating point are refused locally.
  CHECK(fi_atomic(p.a.ep, &dv, 1, nullptr, p.a.remote, base + 32, key, FI_DOUBLE, FI_BOR, &c) == -FI_EOPNOTSUPP);
  size_t count = 0;
  CHECK(fi_atomicvalid(p.a.ep, FI_UINT64, FI_SUM, &count) == 0);
  CHECK(count >= 1);
  fi_close(&mr->fid);
}

TEST_CASE(many_messages) {
  Pair p;
  REQUIRE(p.ok);
  const char *v = getenv("SUET_MANY");
  int n = v ? atoi(v) : 2000;
  std::vector<uint8_t> src(256), dst(256);
  int got = 0, sent = 0, done = 0;
  const int window = 64;
  int posted = 0;
  int ctx;
  uint64_t end = now_ms() + 120000;
  while ((got < n || done < n) && now_ms() < end) {
    while (posted < n && posted - got < window) {
      REQUIRE(fi_recv(p.b.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &ctx) == 0);
      posted++;
    }
    while (sent < n && sent - done < window) {
      memcpy(src.data(), &sent, sizeof sent);
      REQUIRE(fi_send(p.a.ep, src.data(), src.size(), nullptr, p.a.remote, &ctx) == 0);
      sent++;
    }
    fi_cq_tagged_entry e[16];
    ssize_t r = fi_cq_read(p.b.rxcq, e, 16);
    if (r > 0) got += (int)r;
    if (!(r > 0 || r == -FI_EAGAIN)) fprintf(stderr, "rx cq read %zd\n", r);
    REQUIRE(r > 0 || r == -FI_EAGAIN);
    r = fi_cq_read(p.a.txcq, e, 16);
    if (r > 0) done += (int)r;
    if (r == -FI_EAVAIL) {
      Comp x;
      wait_comp(p.a.txcq, x, 10);
      fprintf(stderr, "tx error %d %s\n", x.err, x.err_text.c_str());
      for (const char *k : {"tx_pkts", "rx_pkts", "retransmits", "probes_tx", "duplicates", "nack_rx", "nack_tx",
                            "drops.malformed", "drops.unknown_pdc", "acks_rx", "acks_tx", "unexpected_msgs"})
        fprintf(stderr, "  %s a=%llu b=%llu\n", k, (unsigned long long)stat(p.a, k), (unsigned long long)stat(p.b, k));
      fprintf(stderr, "  sent=%d done=%d got=%d\n", sent, done, got);
    }
    REQUIRE(r > 0 || r == -FI_EAGAIN);
  }
  CHECK_EQ(got, n);
  CHECK_EQ(done, n);
}

TEST_CASE(dgram) {
  Pair p(FI_EP_DGRAM);
  REQUIRE(p.ok);
  auto s = pattern(1000, 6);
  std::vector<uint8_t> d(4096);
  int r, c;
  REQUIRE(fi_recv(p.b.ep, d.data(), d.size(), nullptr, FI_ADDR_UNSPEC, &r) == 0);
  // Datagrams are unreliable by definition: under injected loss, send until one lands.
  Comp x;
  bool got = false;
  for (int i = 0; i < 50 && !got; i++) {
    REQUIRE(fi_send(p.a.ep, s.data(), s.size(), nullptr, p.a.remote, &c) == 0);
    Comp t;
    REQUIRE(wait_comp(p.a.txcq, t, 5000));
    got = wait_comp(p.b.rxcq, x, 200);
  }
  REQUIRE(got);
  CHECK_EQ(x.e.len, 1000u);
  CHECK(memcmp(d.data(), s.data(), 1000) == 0);
  std::vector<uint8_t> huge(70000);
  CHECK(fi_send(p.a.ep, huge.data(), huge.size(), nullptr, p.a.remote, &c) == -FI_EMSGSIZE);
}

TEST_CASE(stats_and_loss) {
  Pair p;
  REQUIRE(p.ok);
  size_t n = big();
  write_checked(p.a, p.b, n, 21);
  CHECK(stat(p.a, "tx_pkts") >= n / 16000);  // split into packets of at most the largest MTU
  CHECK(stat(p.b, "rx_pkts") >= n / 16000);
  CHECK(stat(p.a, "acks_rx") >= 1);
  CHECK(stat(p.a, "cwnd") >= 1);
  // Injected faults are seen and repaired. At 1 % and 16000-byte packets a MiB is about
  // 70 packets, which a fault may miss: more checked writes until it has hit some.
  auto both = [&](const char *name) { return stat(p.a, name) + stat(p.b, name); };
  auto hit = [&](const char *env, const char *counter) {
    const char *v = getenv(env);
    if (!v || atof(v) < 1) return false;
    for (uint32_t i = 0; i < 32 && !both(counter); i++) write_checked(p.a, p.b, 1u << 20, 22 + i);
    CHECK(both(counter) > 0);
    return true;
  };
  if (hit("FI_SOFTUET_FAULT_DROP", "fault.dropped")) CHECK(stat(p.a, "retransmits") + stat(p.a, "probes_tx") > 0);
  hit("FI_SOFTUET_FAULT_CORRUPT", "drops.crc");
  fi_softuet_ops *ops = nullptr;
  REQUIRE(fi_open_ops(&p.a.dom->fid, FI_SOFTUET_OPS_NAME, 0, (void **)&ops, nullptr) == 0);
  size_t cnt = 2;
  fi_softuet_stat st[2];
  CHECK(ops->ep_stats(p.a.ep, st, &cnt) == 0);
  CHECK_EQ(cnt, 2u);
  CHECK(ops->ep_stats((fid_ep *)p.a.av, st, &cnt) == -FI_EINVAL);
}

TEST_CASE(open_close_cycle) {
  for (int i = 0; i < 10; i++) {
    Pair p;
    REQUIRE(p.ok);
    char buf[128] = {};
    fid_mr *mr = reg(p.b, buf, sizeof buf, FI_REMOTE_WRITE | FI_REMOTE_READ);
    REQUIRE(mr);
    int c;
    REQUIRE(fi_write(p.a.ep, "hello", 5, nullptr, p.a.remote, (uint64_t)(uintptr_t)buf, fi_mr_key(mr), &c) == 0);
    Comp w;
    REQUIRE(wait_comp(p.a.txcq, w));
    CHECK(!memcmp(buf, "hello", 5));
    // A receive left posted and a send left unmatched must be released by close.
    char r[16];
    REQUIRE(fi_recv(p.a.ep, r, sizeof r, nullptr, FI_ADDR_UNSPEC, &c) == 0);
    REQUIRE(fi_send(p.a.ep, "x", 1, nullptr, p.a.remote, &c) == 0);
    fi_close(&mr->fid);
  }
}

TEST_CASE(manual_progress) {
  // FI_PROGRESS_MANUAL: no progress thread; reading the CQs drives both endpoints.
  Pair p(FI_EP_RDM, true);
  REQUIRE(p.ok);
  CHECK_EQ(p.a.info->domain_attr->data_progress, FI_PROGRESS_MANUAL);
  auto src = pattern(200000, 12);
  std::vector<uint8_t> dst(200000);
  int r, c;
  REQUIRE(fi_recv(p.b.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &r) == 0);
  REQUIRE(fi_send(p.a.ep, src.data(), src.size(), nullptr, p.a.remote, &c) == 0);
  bool rx = false, tx = false;
  uint64_t end = now_ms() + 20000;
  while ((!rx || !tx) && now_ms() < end) {
    fi_cq_tagged_entry e;
    if (fi_cq_read(p.b.rxcq, &e, 1) == 1) rx = true;
    if (fi_cq_read(p.a.txcq, &e, 1) == 1) tx = true;
  }
  CHECK(rx);
  CHECK(tx);
  CHECK(dst == src);
}

// FI_MORE: posts flagged with it queue their packets until a post without it, which
// sends them all in one go; if none comes, the next progress call sends them. Manual
// progress, so no thread flushes behind the test's back.
TEST_CASE(fi_more_holds_packets_for_the_next_post) {
  Pair p(FI_EP_RDM, true);
  REQUIRE(p.ok);
  const size_t n = 32, len = 512;
  std::vector<uint8_t> target(n * len, 0);
  auto local = pattern(n * len, 31);
  fid_mr *mr = reg(p.b, target.data(), target.size(), FI_REMOTE_WRITE);
  REQUIRE(mr != nullptr);
  const uint64_t key = fi_mr_key(mr), base = (uint64_t)(uintptr_t)target.data();
  std::vector<int> ctx(n + 1);
  auto post = [&](size_t i, uint64_t flags) {
    iovec v{local.data() + i * len, len};
    fi_rma_iov r{base + i * len, len, key};
    fi_msg_rma m{};
    m.msg_iov = &v;
    m.iov_count = 1;
    m.addr = p.a.remote;
    m.rma_iov = &r;
    m.rma_iov_count = 1;
    m.context = &ctx[i];
    REQUIRE(fi_writemsg(p.a.ep, &m, flags) == 0);
  };
  // What left reaches the target's socket at once on loopback; a read of its CQ takes
  // it in (the initiator is not progressed meanwhile).
  auto arrived = [&]() {
    fi_cq_tagged_entry e;
    for (int i = 0; i < 3; i++) fi_cq_read(p.b.rxcq, &e, 1);
    return stat(p.b, "rx_pkts");
  };
  // Fault injection sends (or drops) each datagram on its own: then only the data counts.
  bool faults = false;
  for (const char *f : {"FI_SOFTUET_FAULT_DROP", "FI_SOFTUET_FAULT_DUP", "FI_SOFTUET_FAULT_REORDER",
                        "FI_SOFTUET_FAULT_CORRUPT"})
    faults = faults || (getenv(f) && atof(getenv(f)) > 0);
  const uint64_t before = arrived();
  for (size_t i = 0; i + 1 < n; i++) post(i, FI_MORE);
  if (!faults) CHECK_EQ(arrived(), before);  // held
  post(n - 1, 0);
  // All sent by the last post itself; the netns test runs this over a kernel path that
  // drops 10 %, so half of them arriving is the mark (held ones would all be missing).
  if (!faults) CHECK(arrived() >= before + n / 2);
  auto reap = [&](size_t count) {
    size_t got = 0;
    uint64_t end = now_ms() + 20000;
    while (got < count && now_ms() < end) {
      fi_cq_tagged_entry e;
      fi_cq_read(p.b.rxcq, &e, 1);  // drives the target
      ssize_t r = fi_cq_read(p.a.txcq, &e, 1);
      if (r == 1) got++;
      else CHECK(r == -FI_EAGAIN);
    }
    return got;
  };
  CHECK_EQ(reap(n), n);
  CHECK(target == local);
  // A last post with FI_MORE and nothing after it: progress sends it.
  std::fill(target.begin(), target.end(), 0);
  post(0, FI_MORE);
  CHECK_EQ(reap(1), 1u);
  CHECK(memcmp(target.data(), local.data(), len) == 0);
  expect_quiet(p.a.txcq);
  fi_close(&mr->fid);
}

TEST_CASE(wait_fd) {
  Pair p;
  REQUIRE(p.ok);
  int fd = -1;
  REQUIRE(fi_control(&p.b.rxcq->fid, FI_GETWAIT, &fd) == 0);
  CHECK(fd >= 0);
  fid *fids[1] = {&p.b.rxcq->fid};
  CHECK(fi_trywait(p.b.fab, fids, 1) == 0);  // empty: safe to block
  char buf[16];
  int r, c;
  REQUIRE(fi_recv(p.b.ep, buf, sizeof buf, nullptr, FI_ADDR_UNSPEC, &r) == 0);
  REQUIRE(fi_send(p.a.ep, "ping", 5, nullptr, p.a.remote, &c) == 0);
  pollfd pf{fd, POLLIN, 0};
  CHECK(poll(&pf, 1, 10000) == 1);  // the fd wakes on the completion
  CHECK(fi_trywait(p.b.fab, fids, 1) == -FI_EAGAIN);  // an entry is waiting
  Comp x;
  REQUIRE(wait_comp(p.b.rxcq, x));
  CHECK(!strcmp(buf, "ping"));
  // sread with a timeout returns -FI_EAGAIN when nothing comes.
  fi_cq_tagged_entry e;
  uint64_t t0 = now_ms();
  CHECK(fi_cq_sread(p.b.rxcq, &e, 1, nullptr, 50) == -FI_EAGAIN);
  CHECK(now_ms() - t0 >= 45);
}

// While the application does not poll, the provider's thread carries the data path, and
// a reader about to block hands it over; both show in the domain-wide statistics.
TEST_CASE(progress_thread_statistics) {
  Pair p;
  REQUIRE(p.ok);
  fi_cq_tagged_entry e;
  CHECK(fi_cq_read(p.b.rxcq, &e, 1) == -FI_EAGAIN);  // the application now polls b's domain
  uint64_t handoffs = stat(p.b, "handoffs");
  fid *fids[1] = {&p.b.rxcq->fid};
  CHECK(fi_trywait(p.b.fab, fids, 1) == 0);
  CHECK_EQ(stat(p.b, "handoffs"), handoffs + 1);
  uint64_t passes = stat(p.b, "thread_passes"), rx = stat(p.b, "rx_pkts");
  char buf[16];
  int r, c;
  REQUIRE(fi_recv(p.b.ep, buf, sizeof buf, nullptr, FI_ADDR_UNSPEC, &r) == 0);
  REQUIRE(fi_send(p.a.ep, "ping", 5, nullptr, p.a.remote, &c) == 0);
  // Nothing reads b's CQ until the packet is in: only b's thread can have taken it.
  uint64_t end = now_ms() + 10000;
  while (stat(p.b, "rx_pkts") == rx && now_ms() < end) usleep(1000);
  CHECK(stat(p.b, "rx_pkts") > rx);
  CHECK(stat(p.b, "thread_passes") > passes);
  Comp x;
  REQUIRE(wait_comp(p.b.rxcq, x));
  CHECK(!strcmp(buf, "ping"));
}

TEST_CASE(av_cntr_and_misc_api) {
  Pair p;
  REQUIRE(p.ok);
  char buf[64];
  size_t len = sizeof buf;
  CHECK(fi_av_straddr(p.a.av, p.b.name, buf, &len) == buf);
  CHECK(std::string(buf).rfind("fi_sockaddr_in://127.0.0.1:", 0) == 0);
  sockaddr_in back{};
  size_t alen = sizeof back;
  REQUIRE(fi_av_lookup(p.a.av, p.a.remote, &back, &alen) == 0);
  CHECK(!memcmp(&back, p.b.name, sizeof back));
  CHECK(fi_av_lookup(p.a.av, 999, &back, &alen) == -FI_EINVAL);
  // FI_AV_MAP works the same way.
  fi_av_attr aa{};
  aa.type = FI_AV_MAP;
  fid_av *map = nullptr;
  REQUIRE(fi_av_open(p.a.dom, &aa, &map, nullptr) == 0);
  fi_addr_t fa = FI_ADDR_NOTAVAIL;
  CHECK(fi_av_insert(map, p.b.name, 1, &fa, 0, nullptr) == 1);
  CHECK(fa != FI_ADDR_NOTAVAIL);
  fi_close(&map->fid);
  // Counters: the remote-write counter of b counts writes landing there.
  std::vector<uint8_t> target(4096);
  fid_mr *mr = reg(p.b, target.data(), target.size(), FI_REMOTE_WRITE);
  REQUIRE(mr);
  uint64_t before = fi_cntr_read(p.b.rw_cntr);
  for (int i = 0; i < 3; i++)
    REQUIRE(fi_inject_write(p.a.ep, "abc", 3, p.a.remote, (uint64_t)(uintptr_t)target.data() + i * 8,
                            fi_mr_key(mr)) == 0);
  CHECK(fi_cntr_wait(p.b.rw_cntr, before + 3, 10000) == 0);
  CHECK(!memcmp(target.data() + 16, "abc", 3));
  CHECK(fi_cntr_set(p.b.rw_cntr, 100) == 0);
  CHECK(fi_cntr_add(p.b.rw_cntr, 5) == 0);
  CHECK_EQ(fi_cntr_read(p.b.rw_cntr), 105u);
  CHECK(fi_cntr_wait(p.b.rw_cntr, 1000, 20) == -FI_ETIMEDOUT);
  // Injected writes produce no CQ entry.
  fi_cq_tagged_entry e;
  CHECK(fi_cq_read(p.a.txcq, &e, 1) == -FI_EAGAIN);
  // Objects still in use refuse to close; a removed address refuses sends.
  CHECK(fi_close(&p.a.txcq->fid) == -FI_EBUSY);
  fi_addr_t gone = p.a.remote;
  REQUIRE(fi_av_remove(p.a.av, &gone, 1, 0) == 0);
  CHECK(fi_send(p.a.ep, "x", 1, nullptr, gone, nullptr) == -FI_EINVAL);
  // Bad key lookups in fi_getname with a short buffer.
  char small[4];
  size_t sl = sizeof small;
  CHECK(fi_getname(&p.a.ep->fid, small, &sl) == -FI_ETOOSMALL);
  CHECK_EQ(sl, sizeof(sockaddr_in));
  fi_close(&mr->fid);
}

TEST_CASE(latency_report) {
  // Not a benchmark: reports the round trip so regressions show in the log, and
  // checks that 200 inject/recv round trips finish.
  Pair p;
  REQUIRE(p.ok);
  char a[64] = {}, b[64] = {};
  int ctx;
  uint64_t t0 = now_ms();
  int rounds = 200;
  for (int i = 0; i < rounds; i++) {
    REQUIRE(fi_recv(p.b.ep, b, sizeof b, nullptr, FI_ADDR_UNSPEC, &ctx) == 0);
    REQUIRE(fi_recv(p.a.ep, a, sizeof a, nullptr, FI_ADDR_UNSPEC, &ctx) == 0);
    REQUIRE(fi_inject(p.a.ep, a, 32, p.a.remote) == 0);
    Comp c;
    REQUIRE(wait_comp(p.b.rxcq, c));
    REQUIRE(fi_inject(p.b.ep, b, 32, p.b.remote) == 0);
    REQUIRE(wait_comp(p.a.rxcq, c));
  }
  fprintf(stderr, "round trip: %.1f us\n", (now_ms() - t0) * 1000.0 / rounds);
}

NLF_TEST_MAIN()
