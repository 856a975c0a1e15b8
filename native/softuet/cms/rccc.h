// RCCC: receiver credit-based congestion control (EQDS-style pull). Port of
// lib/cms/rccc.ts; both replay test/vectors/cms-rccc.json.
//
// Sender side (one per PDC):
//   RcccSender s(mtu, speculative_bytes);     // speculative_bytes 0 -> one MTU
//   s.enqueue(bytes);                          // new data or a retransmission
//   if (s.canSend(pkt)) { int spec = s.onSend(pkt); put s.creditTarget() in the
//                         RUD_CC_REQ credit_target field; }
//   on ACK_CC(CREDIT)/CP CREDIT: s.onGrant(bytes);
//   nothing queued or unacknowledged: s.idle();   // the next burst speculates again
// creditTarget() is cumulative (monotonic), so a lost request needs no repair.
//
// Receiver side (one per CCC, i.e. per local NIC port):
//   RcccReceiver r(link_rate_gbps, mtu);       // pull quantum 4 MTUs, full link rate
//   on each data packet: r.onRequest(sender, credit_target, now);
//                        r.onData(sender, bytes, speculative, now);
//   r.poll(now, cb) emits due grants (sender, bytes); re-arm a timer at r.nextWakeNs().
// Grants are round robin over senders with demand, paced at the link rate; speculative
// arrivals are charged to the pacer. No clock, no I/O; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace softuet::cms {

class RcccSender {
 public:
  RcccSender(double mtu, double speculative_bytes = 0);

  double credit() const { return credit_; }
  double backlog() const { return backlog_; }
  bool speculating() const { return spec_; }
  double specRemaining() const { return spec_left_; }
  double granted() const { return granted_total_; }
  double creditTarget() const;

  // Negative or non-finite byte counts are refused with -EINVAL and change nothing.
  int enqueue(double bytes);
  bool canSend(double pkt) const;
  // Accounts one packet: 1 if it went out speculatively, 0 if it used credit, -EAGAIN
  // (nothing changed) if canSend(pkt) was false.
  int onSend(double pkt);
  int onGrant(double bytes);
  // Nothing queued (and, for the caller, nothing unacknowledged): re-arms speculation for
  // the next burst, keeping leftover credit. False (no change) while backlog remains.
  bool idle();

 private:
  double credit_ = 0;
  double backlog_ = 0;
  double used_total_ = 0;
  double granted_total_ = 0;
  bool spec_;
  double spec_left_;
  double spec_bytes_;
};

struct Grant {
  uint32_t sender;
  double bytes;
};

class RcccReceiver {
 public:
  // 0, or -EINVAL unless link rate and mtu are finite and > 0, pull_quantum >= 0 (0 = 4 MTUs)
  // and rate_fraction in (0, 1]. Construct only from a validated configuration.
  static int validate(double link_rate_gbps, double mtu, double pull_quantum = 0, double rate_fraction = 1);
  RcccReceiver(double link_rate_gbps, double mtu, double pull_quantum = 0, double rate_fraction = 1);

  double pullQuantum() const { return quantum_; }
  // Both return 0, or -EINVAL (nothing changed) for a negative or non-finite value.
  int onRequest(uint32_t sender, double credit_target, double now_ns);
  int onData(uint32_t sender, double bytes, bool speculative, double now_ns);
  double demand(uint32_t sender) const;
  // The sender's context is gone (PDC closed): drop it and its outstanding demand.
  bool forget(uint32_t sender);
  // Appends grants due at now_ns to out, in issue order; returns how many.
  size_t poll(double now_ns, std::vector<Grant>& out);
  // Time of the next grant, or a negative value while nobody wants credit.
  double nextWakeNs() const;

 private:
  struct Peer {
    uint32_t id;
    double requested;
    double granted;
  };
  Peer* find(uint32_t id);
  const Peer* find(uint32_t id) const;
  bool pick(Grant& g);

  double quantum_;
  double rate_;
  std::vector<Peer> peers_;  // in first-request order, which is the round-robin order
  size_t rr_ = 0;
  double next_grant_ = 0;
  bool idle_ = true;
};

}  // namespace softuet::cms
