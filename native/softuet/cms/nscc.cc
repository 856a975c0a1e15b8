#include "cms/nscc.h"

#include <cerrno>
#include <cmath>

namespace softuet::cms {

namespace {
constexpr double kReferenceBdp = 150000;  // 100 Gb/s x 12 us
constexpr double kReferenceRtt = 12000;

bool finite_pos(double v) { return std::isfinite(v) && v > 0; }
bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }
}  // namespace

const char* to_string(NsccAction a) {
  switch (a) {
    case NsccAction::Qa: return "qa";
    case NsccAction::Ignored: return "ignored";
    case NsccAction::Fair: return "fair";
    case NsccAction::Proportional: return "proportional";
    case NsccAction::Fast: return "fast";
    case NsccAction::Md: return "md";
    case NsccAction::MdHold: return "md_hold";
    case NsccAction::Noop: return "noop";
    case NsccAction::Nack: return "nack";
    case NsccAction::Timeout: return "timeout";
    case NsccAction::Tick: return "tick";
    case NsccAction::Rejected: return "rejected";
  }
  return "?";
}

int Nscc::validate(const NsccConfig& c) {
  if (!finite_pos(c.link_rate_gbps) || !finite_pos(c.base_rtt_ns) || !std::isfinite(c.mtu) || c.mtu < 1)
    return -EINVAL;
  if (!std::isfinite(c.target_qdelay_ns) || c.target_qdelay_ns < 0) return -EINVAL;
  return 0;
}

NsccParams Nscc::derive(const NsccConfig& c) {
  NsccParams p;
  const double rate = c.link_rate_gbps / 8;
  const double rtt = c.base_rtt_ns;
  const double mtu = c.mtu;
  const double target = c.target_qdelay_ns > 0 ? c.target_qdelay_ns : c.trimming ? 0.75 * rtt : rtt;
  const double bdp = rate * rtt;
  const double a = bdp / kReferenceBdp;
  const double b = target / kReferenceRtt;
  const double maxwnd = 1.5 * bdp;
  p.mss = mtu;
  p.rate_bytes_per_ns = rate;
  p.network_rtt_ns = rtt;
  p.bdp = bdp;
  p.scaling_a = a;
  p.scaling_b = b;
  p.target_qdelay_ns = target;
  p.alpha = (4.0 * mtu * a * b) / target;
  p.fi = 5 * mtu * a;
  p.eta = 0.15 * mtu * a;
  p.gamma = 0.8;
  p.md_floor = 0.5;
  p.fi_scale = 0.25 * a;
  p.ewma_gain = 0.0125;
  p.qa_threshold_ns = 4 * target;
  p.qa_gate = 3;
  p.adjust_period_ns = rtt;
  p.adjust_bytes = 8 * mtu;
  p.maxwnd = maxwnd;
  p.min_cwnd = mtu;
  p.initial_cwnd = maxwnd;
  p.fast_increase_delay_ns = 1000;
  p.rccc_active = c.rccc_active;
  return p;
}

Nscc::Nscc(const NsccConfig& cfg) : Nscc(derive(cfg), false) {}

Nscc::Nscc(const NsccParams& p, bool maxwnd_fixed)
    : p_(p),
      maxwnd_from_config_(maxwnd_fixed),
      cwnd_(p.initial_cwnd < p.maxwnd ? p.initial_cwnd : p.maxwnd),
      base_rtt_(p.network_rtt_ns) {}

NsccAction Nscc::onAck(double bytes, double rtt_ns, bool ecn, double now_ns, double in_flight) {
  if (!finite_nonneg(bytes) || !finite_nonneg(rtt_ns) || !std::isfinite(now_ns) || !finite_nonneg(in_flight))
    return NsccAction::Rejected;
  if (rtt_ns < base_rtt_) {
    base_rtt_ = rtt_ns;
    if (!maxwnd_from_config_) p_.maxwnd = 1.5 * p_.rate_bytes_per_ns * base_rtt_;
  }
  const double delay = rtt_ns - base_rtt_;
  updateAvgDelay(delay, ecn);
  qa_achieved_ += bytes;
  received_bytes_ += bytes;
  if (delay > p_.qa_threshold_ns) qa_trigger_ = true;
  if (quickAdapt(now_ns, in_flight)) return finish(NsccAction::Qa);
  if (bytes_to_ignore_ > 0) {
    const double left = bytes_to_ignore_ - bytes;
    bytes_to_ignore_ = left > 0 ? left : 0;
    return finish(NsccAction::Ignored);
  }
  const double target = p_.target_qdelay_ns;
  NsccAction action;
  if (!ecn) {
    if (delay >= target) {
      fast_bytes_ = 0;
      inc_bytes_ += p_.fi * bytes;
      saw_increase_ = true;
      action = NsccAction::Fair;
    } else {
      bool fast = false;
      if (delay < p_.fast_increase_delay_ns) {
        fast_bytes_ += bytes;
        if (fast_bytes_ >= cwnd_) {
          cwnd_ += bytes * p_.fi_scale;
          fast = true;
        }
      } else {
        fast_bytes_ = 0;
      }
      if (fast) {
        action = NsccAction::Fast;
      } else {
        inc_bytes_ += p_.alpha * bytes * (target - delay);
        action = NsccAction::Proportional;
      }
      saw_increase_ = true;
    }
  } else {
    fast_bytes_ = 0;
    if (delay >= target) {
      const bool due = !has_decreased_ || now_ns - last_decrease_ns_ >= base_rtt_;
      if (due && avg_delay_ > target) {
        const double f0 = 1 - (p_.gamma * (avg_delay_ - target)) / avg_delay_;
        cwnd_ *= f0 > p_.md_floor ? f0 : p_.md_floor;
        last_decrease_ns_ = now_ns;
        has_decreased_ = true;
        action = NsccAction::Md;
      } else {
        action = NsccAction::MdHold;
      }
    } else {
      action = NsccAction::Noop;
    }
  }
  fulfill(now_ns, false);
  return finish(action);
}

NsccAction Nscc::onNack(double bytes, double now_ns, bool last_hop, double in_flight) {
  if (!finite_nonneg(bytes) || !std::isfinite(now_ns) || !finite_nonneg(in_flight)) return NsccAction::Rejected;
  updateAvgDelay(base_rtt_ + p_.network_rtt_ns, true);
  qa_trigger_ = true;
  const bool fired = quickAdapt(now_ns, in_flight);
  if (!fired && !(last_hop && p_.rccc_active)) cwnd_ -= bytes;
  return finish(fired ? NsccAction::Qa : NsccAction::Nack);
}

NsccAction Nscc::onTimeout(double bytes, double now_ns, double in_flight) {
  if (!finite_nonneg(bytes) || !std::isfinite(now_ns) || !finite_nonneg(in_flight)) return NsccAction::Rejected;
  qa_trigger_ = true;
  const bool fired = quickAdapt(now_ns, in_flight);
  if (!fired) cwnd_ -= bytes;
  return finish(fired ? NsccAction::Qa : NsccAction::Timeout);
}

NsccAction Nscc::onTick(double now_ns) {
  if (!std::isfinite(now_ns)) return NsccAction::Rejected;
  fulfill(now_ns, true);
  return finish(NsccAction::Tick);
}

void Nscc::updateAvgDelay(double delay, bool ecn) {
  // An unmarked sample above target is most likely a transient elsewhere on the path.
  const double sample = !ecn && delay > p_.target_qdelay_ns ? base_rtt_ / 4 : delay;
  avg_delay_ = p_.ewma_gain * sample + (1 - p_.ewma_gain) * avg_delay_;
}

bool Nscc::quickAdapt(double now_ns, double in_flight) {
  if (now_ns - qa_window_start_ns_ < base_rtt_ + p_.target_qdelay_ns) return false;
  const bool fire = qa_trigger_ && qa_achieved_ < p_.maxwnd / std::pow(2.0, p_.qa_gate);
  if (fire) {
    cwnd_ = qa_achieved_ > p_.min_cwnd ? qa_achieved_ : p_.min_cwnd;
    bytes_to_ignore_ = in_flight;
    inc_bytes_ = 0;
    saw_increase_ = false;
    fast_bytes_ = 0;
  }
  qa_window_start_ns_ = now_ns;
  qa_achieved_ = 0;
  qa_trigger_ = false;
  return fire;
}

void Nscc::fulfill(double now_ns, bool tick_only) {
  const bool period_elapsed = now_ns - last_adjust_ns_ >= p_.adjust_period_ns;
  if (period_elapsed || (!tick_only && received_bytes_ > p_.adjust_bytes)) {
    if (inc_bytes_ > 0) cwnd_ += inc_bytes_ / cwnd_;
    if (period_elapsed) {
      if (saw_increase_) cwnd_ += p_.eta;
      saw_increase_ = false;
      last_adjust_ns_ = now_ns;
    }
    inc_bytes_ = 0;
    received_bytes_ = 0;
  }
}

NsccAction Nscc::finish(NsccAction a) {
  if (cwnd_ < p_.min_cwnd) cwnd_ = p_.min_cwnd;
  if (cwnd_ > p_.maxwnd) cwnd_ = p_.maxwnd;
  last_ = a;
  return a;
}

}  // namespace softuet::cms
