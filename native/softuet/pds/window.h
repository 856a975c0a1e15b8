// PSN bookkeeping of one PDC, free of sockets and libfabric so it can be unit-tested:
// RxTracker is the target side (CACK, SACK bitmap, duplicate detection), TxWindow the
// initiator side (unacked packets, retirement by CACK/SACK, RTO and SACK-gap
// retransmission decisions). PSN arithmetic is modulo 2^32 (serial-number compare).
#pragma once
#include <cstdint>
#include <deque>
#include <vector>

namespace softuet {

inline bool psn_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
inline bool psn_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

class RxTracker {
 public:
  // How far beyond CACK a PSN is still tracked. Twice the largest MPR (1024) so that a
  // sender whose own base lags the target's CACK (ACKs lost) still lands inside.
  static constexpr uint32_t kWindow = 2048;
  enum Verdict { NEW, DUP, OUT_OF_WINDOW };

  void init(uint32_t start_psn) {
    cack_ = start_psn - 1;
    bits_.assign(kRing, 0);
    max_rcvd_ = cack_;
  }
  Verdict check(uint32_t psn) const {
    int32_t d = (int32_t)(psn - cack_);
    if (d <= 0) return DUP;
    if ((uint32_t)d > kWindow) return OUT_OF_WINDOW;
    return bits_[psn % kRing] ? DUP : NEW;
  }
  // Records a NEW psn and advances CACK over any contiguous run.
  void mark(uint32_t psn) {
    if (check(psn) != NEW) return;  // idempotent: never resurrect a PSN below CACK
    bits_[psn % kRing] = 1;
    if (psn_lt(max_rcvd_, psn)) max_rcvd_ = psn;
    while (bits_[(cack_ + 1) % kRing]) {
      cack_++;
      bits_[cack_ % kRing] = 0;
    }
  }
  uint32_t cack() const { return cack_; }
  uint32_t max_rcvd() const { return max_rcvd_; }
  bool has_gap() const { return max_rcvd_ != cack_; }
  // Bit i set when PSN base+i has been received (base = CACK + 1).
  uint64_t sack_bitmap() const {
    uint64_t m = 0;
    for (uint32_t i = 0; i < 64; i++)
      if (bits_[(cack_ + 1 + i) % kRing]) m |= 1ull << i;
    return m;
  }

 private:
  static constexpr uint32_t kRing = 4096;
  uint32_t cack_ = 0;
  uint32_t max_rcvd_ = 0;
  std::vector<uint8_t> bits_ = std::vector<uint8_t>(kRing, 0);
};

struct TxPkt {
  uint32_t psn = 0;
  void *op = nullptr;      // owner (an initiator operation)
  uint32_t offset = 0;     // byte offset inside the message
  uint32_t len = 0;        // payload bytes (or bytes requested, for reads)
  uint64_t sent_ns = 0;    // timer base: re-armed on RTO recovery, moved by a NACK's pause
  uint64_t xmit_ns = 0;    // when it last left (RTT samples)
  uint32_t retries = 0;
  bool acked = false;      // retired
  bool delivered = false;  // the target has it, but its response (data) is still due
  bool needs_rsp_data = false;
  bool fast_retx = false;
  bool eom = false;
  uint16_t ev = 0;         // entropy value it was last sent with (feedback goes to it)
};

class TxWindow {
 public:
  void init(uint32_t start_psn) {
    base_ = next_ = start_psn;
    pkts_.clear();
  }
  uint32_t next_psn() const { return next_; }
  uint32_t base() const { return base_; }
  size_t in_flight() const { return pkts_.size(); }
  // limit is this side's MPR; the peer's advertised range (ACK_CC mpr x 128) caps it
  // too, 128 until the first ACK tells (digest §2.7 MPR).
  bool can_send(uint32_t limit) const { return next_ - base_ < (limit < peer_range_ ? limit : peer_range_); }
  void set_peer_mpr(uint8_t mpr) { peer_range_ = (mpr ? mpr : 1) * 128u; }
  uint32_t peer_range() const { return peer_range_; }
  TxPkt &push() {
    pkts_.emplace_back();
    TxPkt &p = pkts_.back();
    p.psn = next_++;
    return p;
  }
  TxPkt *find(uint32_t psn) {
    uint32_t i = psn - base_;
    if (i >= pkts_.size()) return nullptr;
    return &pkts_[i];
  }
  // Applies a cumulative ACK; cb(pkt) runs for every packet newly retired or newly
  // known delivered. Returns the number of packets touched.
  template <class F>
  size_t on_cack(uint32_t cack, F &&cb) {
    size_t n = 0;
    for (auto &p : pkts_) {
      if (!psn_le(p.psn, cack)) break;
      n += settle(p, cb);
    }
    compact();
    return n;
  }
  template <class F>
  size_t on_sack(uint32_t sack_base, uint64_t bitmap, F &&cb) {
    size_t n = 0;
    uint32_t highest = 0;
    bool any = false;
    for (uint32_t i = 0; i < 64; i++) {
      if (!(bitmap >> i & 1)) continue;
      TxPkt *p = find(sack_base + i);
      if (!p) continue;
      n += settle(*p, cb);
      highest = sack_base + i;
      any = true;
    }
    if (any) highest_sacked_ = highest, have_sacked_ = true;
    compact();
    return n;
  }
  template <class F>
  size_t on_single(uint32_t psn, F &&cb) {
    TxPkt *p = find(psn);
    if (!p) return 0;
    size_t n = settle(*p, cb);
    compact();
    return n;
  }
  // Packets to resend now: RTO expired (with exponential backoff), or a hole at least
  // three PSNs below the highest SACKed one that has also been out for reo_ns (sent once
  // per hole). The count alone reads any reordering deeper than three packets as loss,
  // and sprayed packets reorder by whole trains; the time bound (RACK's rule: a packet
  // is lost once it is later than a round trip plus a reordering window) tolerates
  // that while still resending a real loss well before the RTO.
  void due(uint64_t now_ns, uint64_t rto_ns, std::vector<uint32_t> &out, uint64_t reo_ns = 0) {
    for (auto &p : pkts_) {
      if (p.acked) continue;
      uint64_t backoff = rto_ns << (p.retries < 6 ? p.retries : 6);
      bool rto = now_ns - p.sent_ns >= backoff;
      bool gap = !p.delivered && !p.fast_retx && have_sacked_ && psn_le(p.psn + 3, highest_sacked_) &&
                 now_ns - p.sent_ns >= reo_ns;
      if (rto || gap) {
        if (gap && !rto) p.fast_retx = true;
        out.push_back(p.psn);
      }
    }
  }
  void retire(TxPkt &p) {
    p.acked = true;
    compact();
  }
  // Drops the retired prefix after callers set `acked` on packets directly.
  void compact_front() { compact(); }
  template <class F>
  void for_each(F &&f) {
    for (auto &p : pkts_) f(p);
  }
  void clear() { pkts_.clear(); base_ = next_; }

 private:
  template <class F>
  size_t settle(TxPkt &p, F &cb) {
    if (p.acked) return 0;
    if (p.needs_rsp_data) {
      if (p.delivered) return 0;
      p.delivered = true;
      cb(p);
      return 1;
    }
    p.acked = true;
    cb(p);
    return 1;
  }
  void compact() {
    while (!pkts_.empty() && pkts_.front().acked) {
      pkts_.pop_front();
      base_++;
    }
    if (pkts_.empty()) base_ = next_;
  }
  uint32_t base_ = 0, next_ = 0;
  uint32_t peer_range_ = 128;
  uint32_t highest_sacked_ = 0;
  bool have_sacked_ = false;
  std::deque<TxPkt> pkts_;
};

}  // namespace softuet
