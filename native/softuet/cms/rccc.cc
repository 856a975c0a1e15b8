#include "cms/rccc.h"

#include <cerrno>

#include <cmath>

namespace softuet::cms {

namespace {
bool bad(double v) { return !std::isfinite(v) || v < 0; }
}  // namespace

int RcccSender::enqueue(double bytes) {
  if (bad(bytes)) return -EINVAL;
  backlog_ += bytes;
  return 0;
}

RcccSender::RcccSender(double mtu, double speculative_bytes)
    : spec_left_(speculative_bytes > 0 ? speculative_bytes : mtu), spec_bytes_(spec_left_) {
  spec_ = spec_left_ > 0;
}

bool RcccSender::idle() {
  if (backlog_ > 0 || spec_bytes_ <= 0) return false;
  spec_ = true;
  spec_left_ = spec_bytes_;
  return true;
}

double RcccSender::creditTarget() const {
  const double uncovered = backlog_ - (spec_ ? spec_left_ : 0);
  return used_total_ + (uncovered > 0 ? uncovered : 0);
}

bool RcccSender::canSend(double pkt) const {
  if (pkt > backlog_) return false;
  if (spec_ && spec_left_ >= pkt) return true;
  return credit_ >= pkt;
}

int RcccSender::onSend(double pkt) {
  if (bad(pkt)) return -EINVAL;
  if (!canSend(pkt)) return -EAGAIN;
  backlog_ -= pkt;
  if (spec_ && spec_left_ >= pkt) {
    spec_left_ -= pkt;
    return 1;
  }
  credit_ -= pkt;
  used_total_ += pkt;
  return 0;
}

int RcccSender::onGrant(double bytes) {
  if (bad(bytes)) return -EINVAL;
  credit_ += bytes;
  granted_total_ += bytes;
  spec_ = false;
  spec_left_ = 0;
  return 0;
}

int RcccReceiver::validate(double link_rate_gbps, double mtu, double pull_quantum, double rate_fraction) {
  if (!std::isfinite(link_rate_gbps) || link_rate_gbps <= 0 || !std::isfinite(mtu) || mtu <= 0) return -EINVAL;
  if (bad(pull_quantum) || !std::isfinite(rate_fraction) || rate_fraction <= 0 || rate_fraction > 1) return -EINVAL;
  return 0;
}

RcccReceiver::RcccReceiver(double link_rate_gbps, double mtu, double pull_quantum, double rate_fraction)
    : quantum_(pull_quantum > 0 ? pull_quantum : 4 * mtu),
      rate_((link_rate_gbps / 8) * (rate_fraction > 0 && rate_fraction <= 1 ? rate_fraction : 1)) {}

RcccReceiver::Peer* RcccReceiver::find(uint32_t id) {
  for (auto& p : peers_)
    if (p.id == id) return &p;
  return nullptr;
}

const RcccReceiver::Peer* RcccReceiver::find(uint32_t id) const {
  for (const auto& p : peers_)
    if (p.id == id) return &p;
  return nullptr;
}

int RcccReceiver::onRequest(uint32_t sender, double credit_target, double now_ns) {
  if (bad(credit_target) || !std::isfinite(now_ns)) return -EINVAL;
  Peer* p = find(sender);
  if (!p) {
    peers_.push_back(Peer{sender, 0, 0});
    p = &peers_.back();
  }
  if (credit_target > p->requested) p->requested = credit_target;
  if (idle_ && p->requested > p->granted) {
    idle_ = false;
    if (next_grant_ < now_ns) next_grant_ = now_ns;
  }
  return 0;
}

int RcccReceiver::onData(uint32_t, double bytes, bool speculative, double now_ns) {
  if (bad(bytes) || !std::isfinite(now_ns)) return -EINVAL;
  if (!speculative) return 0;
  if (next_grant_ < now_ns) next_grant_ = now_ns;
  next_grant_ += bytes / rate_;
  return 0;
}

bool RcccReceiver::forget(uint32_t sender) {
  for (size_t i = 0; i < peers_.size(); i++) {
    if (peers_[i].id != sender) continue;
    peers_.erase(peers_.begin() + (long)i);
    if (i < rr_) rr_--;
    if (rr_ >= peers_.size()) rr_ = 0;
    return true;
  }
  return false;
}

double RcccReceiver::demand(uint32_t sender) const {
  const Peer* p = find(sender);
  return p ? p->requested - p->granted : 0;
}

bool RcccReceiver::pick(Grant& g) {
  const size_t n = peers_.size();
  for (size_t i = 0; i < n; i++) {
    const size_t idx = (rr_ + i) % n;
    Peer& p = peers_[idx];
    const double want = p.requested - p.granted;
    if (want > 0) {
      const double bytes = want < quantum_ ? want : quantum_;
      p.granted += bytes;
      rr_ = (idx + 1) % n;
      g = Grant{p.id, bytes};
      return true;
    }
  }
  return false;
}

size_t RcccReceiver::poll(double now_ns, std::vector<Grant>& out) {
  size_t n = 0;
  while (next_grant_ <= now_ns) {
    Grant g{};
    if (!pick(g)) {
      idle_ = true;
      break;
    }
    out.push_back(g);
    n++;
    next_grant_ += g.bytes / rate_;
  }
  return n;
}

double RcccReceiver::nextWakeNs() const {
  for (const auto& p : peers_)
    if (p.requested > p.granted) return next_grant_;
  return -1;
}

}  // namespace softuet::cms
