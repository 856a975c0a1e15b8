// Entropy value (EV) selection; port of lib/cms/entropy.ts, replaying
// test/vectors/cms-entropy.json. Modes: Ecmp (one EV per connection), Oblivious (a random
// permutation of `paths` EVs per round), Bitmap (oblivious skipping penalised EVs: ECN +1,
// NACK +4, timeout = max), Reps (recycle EVs of unmarked ACKs once each; a timeout freezes:
// for freeze_packets selections cycle over the last good EVs seen, accept none, then send
// explore_count random EVs).
//
//   EntropyConfig c; c.mode = EntropyMode::Reps; c.seed = pdc_seed; c.paths = 8;
//   if (EntropySelector::validate(c)) -> -FI_EINVAL
//   EntropySelector sel(c);
//   uint16_t ev = sel.next();            // per packet: UDP source port / entropy header
//   sel.onAck(ev_echo, ecn); sel.onNack(ev_echo); sel.onTimeout(ev_of_lost_packet);
//
// Deterministic for a given seed. No clock, no allocation after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "cms/prng.h"

namespace softuet::cms {

enum class EntropyMode : uint8_t { Ecmp, Oblivious, Bitmap, Reps };

struct EntropyConfig {
  EntropyMode mode = EntropyMode::Oblivious;
  uint32_t seed = 1;
  uint32_t paths = 8;  // power of two, 1..65536
  uint32_t max_penalty = 15;
  uint32_t reps_buffer_size = 8;
  uint32_t freeze_packets = 256;
  uint32_t explore_count = 16;
};

class EntropySelector {
 public:
  static int validate(const EntropyConfig& c);
  explicit EntropySelector(const EntropyConfig& c);

  uint16_t next();
  void onAck(uint16_t ev, bool ecn);
  void onNack(uint16_t ev);
  void onTimeout(uint16_t ev);

  uint16_t last() const { return last_ev_; }
  uint32_t penalty(uint32_t path) const { return path < penalty_.size() ? penalty_[path] : 0; }
  uint32_t cached() const { return count_; }
  bool frozen() const { return frozen_; }

 private:
  uint16_t nextOblivious();
  uint16_t nextBitmap();
  uint16_t nextReps();
  void bump(uint16_t ev, uint32_t by);

  EntropyMode mode_;
  uint32_t paths_;
  Xorshift32 rng_;
  uint32_t base_;
  uint32_t max_penalty_;
  uint32_t idx_ = 0;
  uint32_t xor_mask_ = 0;
  std::vector<uint32_t> penalty_;
  std::vector<uint16_t> ring_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  uint32_t filled_ = 0;  // ring slots ever written; a freeze reuses them
  bool frozen_ = false;
  uint32_t frozen_sent_ = 0;
  uint32_t cycle_pos_ = 0;
  uint32_t explore_left_ = 0;
  uint32_t freeze_packets_;
  uint32_t explore_count_;
  uint16_t last_ev_ = 0;
};

}  // namespace softuet::cms
