#include "cms/entropy.h"

#include <cerrno>

namespace softuet::cms {

int EntropySelector::validate(const EntropyConfig& c) {
  if (c.mode > EntropyMode::Reps) return -EINVAL;
  if (c.paths < 1 || c.paths > 65536 || (c.paths & (c.paths - 1)) != 0) return -EINVAL;
  if (c.reps_buffer_size < 1) return -EINVAL;
  return 0;
}

EntropySelector::EntropySelector(const EntropyConfig& c)
    : mode_(c.mode),
      paths_(c.paths),
      rng_(c.seed),
      base_(0),
      max_penalty_(c.max_penalty),
      penalty_(c.paths, 0),
      ring_(c.reps_buffer_size ? c.reps_buffer_size : 1, 0),
      freeze_packets_(c.freeze_packets),
      explore_count_(c.explore_count) {
  base_ = rng_.next_u32() & 0xffffu & ~(paths_ - 1);
  if (mode_ == EntropyMode::Ecmp)
    last_ev_ = static_cast<uint16_t>(rng_.next_u32() & 0xffffu);
  else
    xor_mask_ = rng_.below(paths_);
}

uint16_t EntropySelector::next() {
  uint16_t ev = last_ev_;
  switch (mode_) {
    case EntropyMode::Ecmp: break;
    case EntropyMode::Oblivious: ev = nextOblivious(); break;
    case EntropyMode::Bitmap: ev = nextBitmap(); break;
    case EntropyMode::Reps: ev = nextReps(); break;
  }
  last_ev_ = ev;
  return ev;
}

void EntropySelector::onAck(uint16_t ev, bool ecn) {
  if (mode_ == EntropyMode::Bitmap) {
    if (ecn) bump(ev, 1);
  } else if (mode_ == EntropyMode::Reps) {
    if (ecn || frozen_) return;
    const uint32_t n = static_cast<uint32_t>(ring_.size());
    ring_[(head_ + count_) % n] = ev;
    if (filled_ < n) filled_++;
    if (count_ < n)
      count_++;
    else
      head_ = (head_ + 1) % n;
  }
}

void EntropySelector::onNack(uint16_t ev) {
  if (mode_ == EntropyMode::Bitmap) bump(ev, 4);
}

void EntropySelector::onTimeout(uint16_t ev) {
  if (mode_ == EntropyMode::Bitmap) {
    penalty_[ev & (paths_ - 1)] = max_penalty_;
  } else if (mode_ == EntropyMode::Reps && !frozen_) {
    frozen_ = true;
    frozen_sent_ = 0;
    cycle_pos_ = 0;
  }
}

void EntropySelector::bump(uint16_t ev, uint32_t by) {
  uint32_t& p = penalty_[ev & (paths_ - 1)];
  const uint32_t v = p + by;
  p = v > max_penalty_ ? max_penalty_ : v;
}

uint16_t EntropySelector::nextOblivious() {
  const uint32_t ev = base_ | ((idx_ ^ xor_mask_) & (paths_ - 1));
  if (++idx_ == paths_) {
    idx_ = 0;
    xor_mask_ = rng_.below(paths_);
  }
  return static_cast<uint16_t>(ev);
}

uint16_t EntropySelector::nextBitmap() {
  bool skipped = false;
  uint16_t ev = 0;
  for (uint32_t i = 0; i < paths_; i++) {
    ev = nextOblivious();
    const uint32_t p = ev & (paths_ - 1);
    if (penalty_[p] == 0) return ev;
    if (!skipped) {
      skipped = true;
      penalty_[p]--;
    }
  }
  return ev;
}

uint16_t EntropySelector::nextReps() {
  const uint32_t n = static_cast<uint32_t>(ring_.size());
  if (frozen_) {
    if (frozen_sent_ >= freeze_packets_) {
      frozen_ = false;
      explore_left_ = explore_count_;
    } else {
      frozen_sent_++;
      if (filled_ > 0) {
        // Most recent good EVs first, cycling without consuming them.
        const uint32_t tail = (head_ + count_) % n;
        const uint16_t ev = ring_[(tail + n - 1 - (cycle_pos_ % filled_)) % n];
        cycle_pos_++;
        return ev;
      }
      return static_cast<uint16_t>(rng_.next_u32() & 0xffffu);
    }
  }
  if (explore_left_ > 0) {
    explore_left_--;
    return static_cast<uint16_t>(rng_.next_u32() & 0xffffu);
  }
  if (count_ > 0) {
    const uint16_t ev = ring_[head_];
    head_ = (head_ + 1) % n;
    count_--;
    return ev;
  }
  return static_cast<uint16_t>(rng_.next_u32() & 0xffffu);
}

}  // namespace softuet::cms
