// The UDP layer alone on 127.0.0.1: datagrams queued as [header, payload] iovec pairs,
// the payload referenced where it lies (no user-space copy), leave as UDP GSO trains
// and come back, split by GRO, byte for byte and in order: equal segments from an
// unaligned source, a short last one, and runs broken by a size change or a peer change.
#include <arpa/inet.h>

#include <cstring>
#include <vector>

#include "common/check.h"
#include "io/udp.h"

using namespace softuet;

namespace {

sockaddr_in loopback() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

struct Dgram {
  std::vector<uint8_t> bytes;
  uint16_t to_port;
};

// Receives until n datagrams arrived or a bounded number of empty polls.
std::vector<std::vector<uint8_t>> receive(UdpSock &s, size_t n) {
  std::vector<std::vector<uint8_t>> got;
  for (int idle = 0; got.size() < n && idle < 200000; idle++) {
    int k = s.recv_batch(32);
    REQUIRE(k >= 0);
    for (int i = 0; i < k; i++) got.emplace_back(s.buf(i), s.buf(i) + s.len(i));
    if (k) idle = 0;
  }
  return got;
}

}  // namespace

TEST_CASE(gso_trains_of_referenced_payloads) {
  UdpSock tx, rx1, rx2;
  REQUIRE(tx.open(loopback(), 47800) == 0);
  REQUIRE(rx1.open(loopback(), 47900) == 0);
  REQUIRE(rx2.open(loopback(), 48000) == 0);
  // One source buffer, read from an odd offset so no payload is aligned.
  std::vector<uint8_t> src(200000);
  for (size_t i = 0; i < src.size(); i++) src[i] = (uint8_t)(i * 7 + (i >> 9));
  const size_t seg = 4096, hdr = 44;
  std::vector<Dgram> want;
  size_t off = 3;
  auto queue = [&](UdpSock &to, size_t plen) {
    uint8_t h[hdr];
    for (size_t i = 0; i < hdr; i++) h[i] = (uint8_t)(want.size() * 31 + i);
    iovec iov[2] = {{h, hdr}, {src.data() + off, plen}};
    REQUIRE(tx.send(to.local(), iov, 2) == (ssize_t)(hdr + plen));
    Dgram d{std::vector<uint8_t>(h, h + hdr), to.local().sin_port};
    d.bytes.insert(d.bytes.end(), src.data() + off, src.data() + off + plen);
    want.push_back(std::move(d));
    off += plen;
  };
  for (int i = 0; i < 20; i++) queue(rx1, seg);  // one run, more than one GSO send
  queue(rx1, 1000);                              // short last segment ends the run
  for (int i = 0; i < 3; i++) queue(rx1, seg);   // a new run after it
  for (int i = 0; i < 3; i++) queue(rx2, seg);   // another peer
  queue(rx1, 300);                               // back, alone
  // The header buffer is reused (overwritten) after send(): it must have been copied.
  REQUIRE(tx.flush() == 0u);
  std::vector<Dgram> w1, w2;
  for (auto &d : want) (d.to_port == rx1.local().sin_port ? w1 : w2).push_back(d);
  auto g1 = receive(rx1, w1.size()), g2 = receive(rx2, w2.size());
  REQUIRE(g1.size() == w1.size());
  REQUIRE(g2.size() == w2.size());
  for (size_t i = 0; i < w1.size(); i++) CHECK(g1[i] == w1[i].bytes);
  for (size_t i = 0; i < w2.size(); i++) CHECK(g2[i] == w2[i].bytes);
  CHECK(!tx.pending());
}

// lead_next: what is queued after it leaves first, in its own order, and a run of equal
// datagrams is not joined across the mark (their iovecs are not contiguous then).
TEST_CASE(lead_next_sends_the_later_datagrams_first) {
  UdpSock tx, rx;
  REQUIRE(tx.open(loopback(), 48100) == 0);
  REQUIRE(rx.open(loopback(), 48200) == 0);
  auto queue = [&](uint8_t id, size_t len) {
    std::vector<uint8_t> d(len, id);
    iovec v{d.data(), d.size()};
    REQUIRE(tx.send(rx.local(), &v, 1) == (ssize_t)len);
  };
  queue(1, 48);  // queued ACKs
  queue(2, 48);
  tx.lead_next();
  queue(3, 48);  // the reply, the same size as the ACKs
  tx.lead_next();  // a second mark in the same batch moves nothing
  queue(4, 48);
  REQUIRE(tx.flush() == 0u);
  auto got = receive(rx, 4);
  REQUIRE(got.size() == 4u);
  std::vector<uint8_t> order;
  for (auto &g : got) {
    CHECK(g.size() == 48u);
    order.push_back(g[0]);
  }
  CHECK((order == std::vector<uint8_t>{3, 4, 1, 2}));
  // The mark ends with the flush: the next batch leaves in queue order.
  queue(5, 48);
  queue(6, 48);
  REQUIRE(tx.flush() == 0u);
  got = receive(rx, 2);
  REQUIRE(got.size() == 2u);
  CHECK(got[0][0] == 5);
  CHECK(got[1][0] == 6);
}

NLF_TEST_MAIN()
