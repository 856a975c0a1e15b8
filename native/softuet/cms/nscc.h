// NSCC: UET sender-side, window-based congestion control (ECN + delay). Port of
// lib/cms/nscc.ts, operation for operation, so both replay test/vectors/cms-nscc.json.
//
// Provider usage (all times in ns from any monotonic origin, sizes in payload bytes):
//
//   softuet::cms::NsccConfig cfg;            // link rate, base RTT, MTU [, target delay]
//   if (softuet::cms::Nscc::validate(cfg)) -> reject with -FI_EINVAL
//   softuet::cms::Nscc cc(cfg);             // or Nscc(params, maxwnd_fixed) to override
//   while (cc.canSend(in_flight, pkt)) send ...      // cwnd >= in_flight + pkt
//   on ACK:     cc.onAck(bytes, rtt_ns, ecn, now_ns, in_flight_after_ack);
//   on NACK:    cc.onNack(bytes, now_ns, last_hop_trim, in_flight_after_nack);
//   on RTO:     cc.onTimeout(bytes, now_ns, in_flight_after_loss);
//   periodic:   cc.onTick(now_ns);       // at least once per base RTT while active
//
// No clock, no allocation after construction, no I/O: safe on the data path. Not
// thread-safe; one instance per PDC (or per CCC) under the caller's lock.
#pragma once

#include <cstdint>

namespace softuet::cms {

struct NsccParams {
  double mss = 0;
  double rate_bytes_per_ns = 0;
  double network_rtt_ns = 0;
  double bdp = 0;
  double scaling_a = 0;
  double scaling_b = 0;
  double target_qdelay_ns = 0;
  double alpha = 0;
  double fi = 0;
  double eta = 0;
  double gamma = 0;
  double md_floor = 0;
  double fi_scale = 0;
  double ewma_gain = 0;
  double qa_threshold_ns = 0;
  double qa_gate = 0;
  double adjust_period_ns = 0;
  double adjust_bytes = 0;
  double maxwnd = 0;
  double min_cwnd = 0;
  double initial_cwnd = 0;
  double fast_increase_delay_ns = 0;
  bool rccc_active = false;
};

struct NsccConfig {
  double link_rate_gbps = 100;   // bits per ns
  double base_rtt_ns = 12000;
  double mtu = 4096;
  double target_qdelay_ns = 0;   // 0: base RTT, or 0.75 x base RTT with trimming
  bool trimming = false;
  bool rccc_active = false;
};

// Rejected: the event carried a negative or non-finite value and was dropped without
// touching any state (the TypeScript reference throws CmsError instead).
enum class NsccAction : uint8_t { Qa, Ignored, Fair, Proportional, Fast, Md, MdHold, Noop, Nack, Timeout, Tick, Rejected };

const char* to_string(NsccAction a);

class Nscc {
 public:
  // 0 if cfg is usable, else a negative errno (-EINVAL), matching -FI_EINVAL.
  static int validate(const NsccConfig& cfg);
  static NsccParams derive(const NsccConfig& cfg);

  explicit Nscc(const NsccConfig& cfg);
  // Overriding: p = Nscc::derive(cfg); p.fi = ...; Nscc cc(p, maxwnd_fixed). With
  // maxwnd_fixed false, maxwnd follows 1.5 x rate x min observed RTT.
  Nscc(const NsccParams& p, bool maxwnd_fixed);

  double cwnd() const { return cwnd_; }
  double baseRtt() const { return base_rtt_; }
  double avgDelay() const { return avg_delay_; }
  double bytesToIgnore() const { return bytes_to_ignore_; }
  NsccAction lastAction() const { return last_; }
  const NsccParams& params() const { return p_; }

  bool canSend(double in_flight, double pkt) const { return cwnd_ >= in_flight + pkt; }

  NsccAction onAck(double bytes, double rtt_ns, bool ecn, double now_ns, double in_flight = 0);
  NsccAction onNack(double bytes, double now_ns, bool last_hop = false, double in_flight = 0);
  NsccAction onTimeout(double bytes, double now_ns, double in_flight = 0);
  NsccAction onTick(double now_ns);

 private:
  void updateAvgDelay(double delay, bool ecn);
  bool quickAdapt(double now_ns, double in_flight);
  void fulfill(double now_ns, bool tick_only);
  NsccAction finish(NsccAction a);

  NsccParams p_;
  bool maxwnd_from_config_;
  double cwnd_;
  double base_rtt_;
  double avg_delay_ = 0;
  double inc_bytes_ = 0;
  bool saw_increase_ = false;
  double received_bytes_ = 0;
  double last_adjust_ns_ = 0;
  double last_decrease_ns_ = 0;
  bool has_decreased_ = false;
  double qa_window_start_ns_ = 0;
  double qa_achieved_ = 0;
  bool qa_trigger_ = false;
  double bytes_to_ignore_ = 0;
  double fast_bytes_ = 0;
  NsccAction last_ = NsccAction::Tick;
};

}  // namespace softuet::cms
