// Two softuet engines joined by the test instead of sockets: it carries every queued
// packet across, and can drop, duplicate, reorder or watch them on the way.
#pragma once
#include <arpa/inet.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "ses/engine.h"

namespace nlf::test {

struct TestHost : softuet::Host {
  std::vector<softuet::Completion> tx, rx, remote;
  std::map<uint64_t, softuet::MrView> mrs;
  void tx_done(const softuet::Completion &c) override { tx.push_back(c); }
  void rx_done(const softuet::Completion &c) override { rx.push_back(c); }
  void remote_done(uint64_t, const softuet::Completion &c) override { remote.push_back(c); }
  bool find_mr(uint64_t key, softuet::MrView &out) override {
    auto it = mrs.find(key);
    if (it == mrs.end()) return false;
    out = it->second;
    return true;
  }
};

struct EngineNet {
  TestHost ha, hb;
  softuet::Engine a, b;
  std::mt19937 rng{7};
  int drop_pct = 0, dup_pct = 0;
  bool reorder = false;
  int swap_pct = 0;  // local reordering: neighbours trade places
  // Sees every packet before any fault is applied; dir 0 is a to b.
  std::function<void(int dir, const std::vector<uint8_t> &)> tap;

  explicit EngineNet(softuet::EngineConfig cfg = softuet::EngineConfig())
      : a(&ha, nullptr, cfg), b(&hb, nullptr, cfg) {}
  EngineNet(softuet::EngineConfig ca, softuet::EngineConfig cb) : a(&ha, nullptr, ca), b(&hb, nullptr, cb) {}

  static sockaddr_in addr() {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return s;
  }

  // Moves every queued packet across once; returns how many were moved.
  size_t step() {
    size_t n = 0;
    for (int dir = 0; dir < 2; dir++) {
      softuet::Engine &from = dir ? b : a, &to = dir ? a : b;
      auto pk = std::move(from.sent);
      from.sent.clear();
      if (reorder) std::shuffle(pk.begin(), pk.end(), rng);
      for (size_t i = 0; i + 1 < pk.size(); i++)
        if ((int)(rng() % 100) < swap_pct) std::swap(pk[i], pk[i + 1]);
      for (auto &p : pk) {
        n++;
        if (tap) tap(dir, p);
        if ((int)(rng() % 100) < drop_pct) continue;
        to.on_packet(p.data(), p.size(), addr());
        if ((int)(rng() % 100) < dup_pct) to.on_packet(p.data(), p.size(), addr());
      }
      to.flush();
    }
    return n;
  }

  // Runs until done() or a bounded number of rounds; timers advance 20 ms per idle round.
  template <class F>
  bool run(F done, int rounds = 20000) {
    uint64_t t = softuet::Engine::now_ns();
    for (int i = 0; i < rounds; i++) {
      if (done()) return true;
      if (!step()) {
        t += 20'000'000;
        a.on_timer(t);
        b.on_timer(t);
      }
    }
    return done();
  }
};

}  // namespace nlf::test
