// engine_cost: CPU cost of softuet's data path per MiB, free of scheduling.
//
// Two softuet engines (initiator and target) with real UDP sockets on 127.0.0.1 are
// driven by one thread in turn, so no process waits for another to be scheduled and no
// reader spins: the thread's CPU time (user and system, getrusage RUSAGE_THREAD) over
// the bytes moved is the work the stack does per MiB on both sides together, kernel
// copies included. On a shared host wall-clock bandwidth follows whatever else runs;
// this figure moves only with the code (and the cache), so it is what before/after
// comparisons of the data path use. Run under callgrind for instruction counts.
//
//   engine_cost [-t write|tsend|send] [-s bytes] [-n messages] [-w window] [-2]
//
// -2 runs each engine on its own thread instead (each polling only its own engine, as
// two processes would): the wall-clock figure then includes the pipeline, i.e. how the
// PSN window and the ACK timing let the two sides overlap, without the libfabric glue.
//
// The target buffer is checked against the source pattern after the run (exit 3 on a
// mismatch), and every run is bounded (10 s without progress fails with exit 2).
#include <rdma/fabric.h>
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "io/udp.h"
#include "ses/engine.h"

using namespace softuet;

namespace {

struct Side : Host {
  uint8_t *mem = nullptr;
  uint64_t mem_len = 0;
  std::atomic<long> tx{0}, rx{0}, remote{0}, errors{0};
  void tx_done(const Completion &c) override {
    if (c.err) errors++;
    tx++;
  }
  void rx_done(const Completion &c) override {
    if (c.err) errors++;
    rx++;
  }
  void remote_done(uint64_t, const Completion &) override { remote++; }
  bool find_mr(uint64_t key, MrView &out) override {
    if (key != 1 || !mem) return false;
    out.ptr = mem;
    out.base = 0;
    out.len = mem_len;
    out.access = FI_REMOTE_WRITE | FI_REMOTE_READ;
    return true;
  }
};

double cpu_s(int who) {
  rusage u{};
  getrusage(who, &u);
  return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

double user_s() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6;
}

double wall_s() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

uint8_t pattern(size_t i) { return (uint8_t)(i * 131u + 0x5au); }

// "4096", "64k", "1m": bytes, binary suffixes; 0 when malformed.
size_t parse_size(const char *s) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return 0;
  switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
  }
  return *end ? 0 : (size_t)v;
}

}  // namespace

int main(int argc, char **argv) {
  std::string op = "write";
  size_t size = 1 << 20;
  long count = 200;
  int window = 64;
  bool threads = false;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "-2") {
      threads = true;
      i--;
    } else if (i + 1 >= argc) {
      fprintf(stderr, "engine_cost: %s needs a value\n", argv[i]);
      return 1;
    } else if (a == "-t") op = argv[i + 1];
    else if (a == "-s") size = parse_size(argv[i + 1]);
    else if (a == "-n") count = strtol(argv[i + 1], nullptr, 0);
    else if (a == "-w") window = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "usage: engine_cost [-t write|tsend|send] [-s bytes] [-n messages] [-w window] [-2]\n");
      return 1;
    }
  }
  if ((op != "write" && op != "tsend" && op != "send") || size == 0 || size > (256u << 20) || count < 1 ||
      window < 1 || window > 4096) {
    fprintf(stderr, "engine_cost: bad arguments\n");
    return 1;
  }
  EngineConfig cfg = EngineConfig::from_env();
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  UdpSock sa, sb;
  if (sa.open(lo, 20000) || sb.open(lo, 20000)) {
    fprintf(stderr, "engine_cost: cannot bind UDP sockets on 127.0.0.1\n");
    return 2;
  }
  Side a, b;
  std::vector<uint8_t> src(size), dst(size, 0);
  for (size_t i = 0; i < size; i++) src[i] = pattern(i);
  b.mem = dst.data();
  b.mem_len = size;
  Engine ea(&a, &sa, cfg), eb(&b, &sb, cfg);
  bool rma = op == "write";
  bool tagged = op == "tsend";
  auto post_recv = [&] {
    auto *r = new RecvEntry;
    r->tagged = tagged;
    r->tag = 7;
    r->iov.add(dst.data(), size);
    eb.post_recv(r);
  };
  auto post_one = [&] {
    auto *t = new TxOp;
    t->peer = sb.local();
    t->kind = rma ? OpKind::WRITE : tagged ? OpKind::TSEND : OpKind::SEND;
    t->length = (uint32_t)size;
    t->key = 1;
    t->tag = 7;
    t->local.add(src.data(), size);
    return ea.post(t);
  };
  if (!rma)
    for (int i = 0; i < window && i < count; i++) post_recv();
  long posted = 0, recv_posted = rma ? 0 : std::min<long>(window, count);
  double c0 = cpu_s(RUSAGE_THREAD), u0 = user_s(), w0 = wall_s(), last_progress = w0;
  long last_done = 0;
  uint64_t last_timer = Engine::now_ns();
  std::atomic<bool> stop{false};
  std::atomic<double> peer_cpu{0};
  std::thread target;
  if (threads)
    target = std::thread([&] {
      double t0 = cpu_s(RUSAGE_THREAD);
      uint64_t tl = Engine::now_ns();
      uint32_t empty = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Yield now and then when idle, as the provider's CQ reader does, so that on a
        // host with more runnable threads than CPUs the initiator gets to run.
        if (eb.poll_rx(256) == 0 && ++empty % 16 == 0) std::this_thread::yield();
        if (!rma)
          while (recv_posted < count && recv_posted - b.rx < window) {
            post_recv();
            recv_posted++;
          }
        uint64_t now = Engine::now_ns();
        if (now - tl >= 1000000) {
          tl = now;
          eb.on_timer(now);
        }
      }
      peer_cpu = cpu_s(RUSAGE_THREAD) - t0;
    });
  int rc = 0;
  while (a.tx < count) {
    while (posted < count && posted - a.tx < window) {
      if (post_one()) {
        fprintf(stderr, "engine_cost: post failed\n");
        rc = 2;
        break;
      }
      posted++;
    }
    if (rc) break;
    if (!threads) eb.poll_rx(256);
    if (ea.poll_rx(256) == 0 && threads) std::this_thread::yield();
    if (!rma && !threads)
      while (recv_posted < count && recv_posted - b.rx < window) {
        post_recv();
        recv_posted++;
      }
    uint64_t now = Engine::now_ns();
    if (now - last_timer >= 1000000) {
      last_timer = now;
      ea.on_timer(now);
      if (!threads) eb.on_timer(now);
    }
    if (a.tx != last_done) {
      last_done = a.tx;
      last_progress = wall_s();
    } else if (wall_s() - last_progress > 10) {
      fprintf(stderr, "engine_cost: no progress for 10 s (%ld of %ld done)\n", a.tx.load(), count);
      rc = 2;
      break;
    }
  }
  double wall_end = wall_s();
  if (threads) {
    // The target may still be placing the last bytes its response already covered.
    double until = wall_s() + 0.5;
    while (!rma && b.rx < count && wall_s() < until) std::this_thread::yield();
    stop = true;
    target.join();
  }
  if (rc) return rc;
  double cpu = cpu_s(RUSAGE_THREAD) - c0 + peer_cpu.load(), user = user_s() - u0, wall = wall_end - w0;
  double mib = (double)size * count / (1 << 20);
  bool ok = a.errors == 0 && b.errors == 0 && memcmp(src.data(), dst.data(), size) == 0;
  const Stats &st = ea.stats();
  if (threads)
    printf("op %s size %zu messages %ld mtu %zu mpr %u threads 2: %.1f MB/s, cpu %.3f ms/MiB (both threads), "
           "pkts %" PRIu64 " acks %" PRIu64 " retransmits %" PRIu64 " check %s\n",
           op.c_str(), size, count, cfg.mtu, cfg.mpr, mib * 1.048576 / wall, cpu * 1e3 / mib, st.tx_pkts,
           st.acks_rx, st.retransmits, ok ? "ok" : "MISMATCH");
  else
    printf("op %s size %zu messages %ld mtu %zu: cpu %.3f ms/MiB (user %.3f, sys %.3f), wall %.3f ms/MiB, "
           "pkts %" PRIu64 " acks %" PRIu64 " retransmits %" PRIu64 " check %s\n",
           op.c_str(), size, count, cfg.mtu, cpu * 1e3 / mib, user * 1e3 / mib, (cpu - user) * 1e3 / mib,
           wall * 1e3 / mib, st.tx_pkts, st.acks_rx, st.retransmits, ok ? "ok" : "MISMATCH");
  return ok ? 0 : 3;
}
