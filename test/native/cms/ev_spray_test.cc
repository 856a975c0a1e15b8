// Per-packet entropy in softuet, through the libfabric API: RUD requests leave from the
// endpoint's EV sockets (the UDP source port is the EV) while the target still knows
// the initiator by its endpoint address; ROD PDCs and FI_SOFTUET_EV=off keep one port.
// A plain UDP socket posing as a peer sees the datagrams as they are on the wire.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "pds/pkt.h"
#include "prov/fixture.h"

using namespace suet_test;

namespace {
struct Pair {
  Peer a, b;
  bool ok = false;
  Pair() {
    int r = a.open();
    if (!r) r = b.open();
    if (!r) r = connect(a, b);
    if (r) fprintf(stderr, "pair setup failed: %d (%s)\n", r, fi_strerror(-r));
    ok = r == 0;
  }
};

uint16_t port_of(const Peer &p) {
  sockaddr_in s;
  memcpy(&s, p.name, sizeof s);
  return ntohs(s.sin_port);
}

// 1 MiB write a -> b, then a send b -> a (FI_SOURCE must name b's endpoint).
void exchange(Pair &p) {
  write_checked(p.a, p.b, 1u << 20, 7);

  auto msg = pattern(64 << 10, 9);
  std::vector<uint8_t> dst(msg.size());
  int rctx, sctx;
  REQUIRE(fi_recv(p.a.ep, dst.data(), dst.size(), nullptr, FI_ADDR_UNSPEC, &rctx) == 0);
  REQUIRE(fi_send(p.b.ep, msg.data(), msg.size(), nullptr, p.b.remote, &sctx) == 0);
  Comp rc, sc;
  REQUIRE(wait_comp(p.a.rxcq, rc));
  REQUIRE(wait_comp(p.b.txcq, sc));
  CHECK_EQ(rc.err, 0);
  CHECK_EQ(sc.err, 0);
  CHECK(rc.src == p.a.remote);  // b's endpoint, not one of its EV ports
  CHECK(memcmp(dst.data(), msg.data(), msg.size()) == 0);
}

struct EnvGuard {
  const char *name;
  EnvGuard(const char *n, const char *v) : name(n) { setenv(n, v, 1); }
  ~EnvGuard() { unsetenv(name); }
};

// The packet and train counts below are those of 4 KiB payloads (256 packets per MiB,
// 15 per GSO train), not of the larger default a loopback interface gets.
const EnvGuard kMtu("FI_SOFTUET_MTU", "4096");
}  // namespace

TEST_CASE(rud_sprays_over_ev_ports) {
  EnvGuard mode("FI_SOFTUET_EV", "reps");
  EnvGuard paths("FI_SOFTUET_EV_PATHS", "4");
  Pair p;
  REQUIRE(p.ok);
  exchange(p);
  // 256 data packets, each with an EV drawn per packet (REPS), over 4 sockets.
  CHECK(stat(p.a, "ev_sprayed") >= 256);
  uint64_t ports = stat(p.b, "rx_src_ports");
  CHECK(ports >= 2);
  CHECK(ports <= 4);
  CHECK(stat(p.a, "rx_src_ports") >= 1);
  CHECK(stat(p.a, "drops.unknown_pdc") == 0);
  CHECK(stat(p.b, "drops.unknown_pdc") == 0);
  CHECK(stat(p.b, "drops.crc") == 0);  // the CRC covers the EV port actually used
  CHECK_EQ(stat(p.b, "pdc_opened"), 2u);  // one target PDC for a, one initiator PDC to a
  fprintf(stderr, "sprayed: %llu packets over %llu ports, %llu retransmits, %llu duplicates at the target\n",
          (unsigned long long)stat(p.a, "ev_sprayed"), (unsigned long long)ports,
          (unsigned long long)stat(p.a, "retransmits"), (unsigned long long)stat(p.b, "duplicates"));
}

TEST_CASE(oblivious_uses_every_path) {
  EnvGuard mode("FI_SOFTUET_EV", "oblivious");
  EnvGuard paths("FI_SOFTUET_EV_PATHS", "8");
  Pair p;
  REQUIRE(p.ok);
  exchange(p);
  // A permutation of the 8 EVs per round of 8 packets: all of them within 256 packets.
  CHECK_EQ(stat(p.b, "rx_src_ports"), 8u);
}

// With the environment as the caller set it, every data packet leaves from the
// endpoint's own port.
void expect_one_port() {
  Pair p;
  REQUIRE(p.ok);
  exchange(p);
  CHECK_EQ(stat(p.a, "ev_sprayed"), 0u);
  CHECK_EQ(stat(p.b, "rx_src_ports"), 1u);
}

TEST_CASE(rod_and_off_keep_one_port) {
  {
    EnvGuard rod("FI_SOFTUET_PDC_MODE", "rod");
    EnvGuard mode("FI_SOFTUET_EV", "reps");
    expect_one_port();
  }
  {
    EnvGuard mode("FI_SOFTUET_EV", "off");
    expect_one_port();
  }
}

TEST_CASE(reps_by_default_in_gso_trains) {
  // No FI_SOFTUET_EV: REPS over 4 paths, one EV per train of 15 packets (one GSO send
  // at the 4 KiB MTU): the 256 data packets make 18 trains and reach the target from
  // more than one port, and no SACK gap is read as loss.
  Pair p;
  REQUIRE(p.ok);
  exchange(p);
  CHECK(stat(p.a, "ev_sprayed") >= 256);
  CHECK(stat(p.b, "rx_src_ports") >= 2);
  CHECK_EQ(stat(p.a, "retx_gap"), 0u);
  // Trains reach the target whole and in order on one host: nothing arrives late
  // except what a resend (RTO on a descheduled peer) brings.
  CHECK(stat(p.b, "rx_late") <= stat(p.a, "retransmits"));
}

TEST_CASE(wire_source_ports_and_initiator_field) {
  // A silent UDP socket as the peer: the endpoint resends its SYN requests (RTO), each
  // time with a fresh EV, and every datagram names the endpoint's port in `initiator`.
  EnvGuard mode("FI_SOFTUET_EV", "oblivious");
  EnvGuard paths("FI_SOFTUET_EV_PATHS", "4");
  EnvGuard rto("FI_SOFTUET_RTO_MS", "2");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof me;
  REQUIRE(bind(fd, (sockaddr *)&me, sizeof me) == 0);
  REQUIRE(getsockname(fd, (sockaddr *)&me, &l) == 0);
  Peer a;
  REQUIRE(a.open() == 0);
  fi_addr_t sink;
  REQUIRE(fi_av_insert(a.av, &me, 1, &sink, 0, nullptr) == 1);
  auto msg = pattern(4 * 4096, 3);
  int ctx;
  REQUIRE(fi_send(a.ep, msg.data(), msg.size(), nullptr, sink, &ctx) == 0);
  std::set<uint16_t> ports;
  size_t dgrams = 0, bad = 0;
  uint64_t end = now_ms() + 3000;
  uint8_t buf[65536];
  fi_cq_tagged_entry e;
  while (now_ms() < end && (ports.size() < 4 || dgrams < 16)) {
    fi_cq_read(a.txcq, &e, 1);  // drives progress (RTO resends)
    pollfd pf{fd, POLLIN, 0};
    if (poll(&pf, 1, 5) <= 0) continue;
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (sockaddr *)&from, &fl);
    if (r <= 0) continue;
    dgrams++;
    softuet::pkt::PdsReq q;
    softuet::pkt::SesStd s;
    uint8_t nh;
    size_t h = softuet::pkt::get_req(buf, (size_t)r, q, nh);
    if (!h || !softuet::pkt::get_ses(buf + h, (size_t)r - h, s)) {
      bad++;
      continue;
    }
    if (s.initiator != port_of(a)) bad++;
    ports.insert(ntohs(from.sin_port));
  }
  CHECK(dgrams >= 4);
  CHECK_EQ(bad, 0u);
  CHECK_EQ(ports.size(), 4u);
  CHECK(!ports.count(port_of(a)));  // never the endpoint's own port
  a.close();
  close(fd);
}

NLF_TEST_MAIN()
