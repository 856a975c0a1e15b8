// The protocol core of one softuet endpoint: SES (segmentation, matching, RMA
// placement, MR checks, atomics, responses) over PDS (PDCs per peer, PSNs, SYN
// establishment, CACK + SACK ACKs, NACKs, RTO / SACK-gap retransmission).
//
// It knows nothing of libfabric objects: the provider hands it operations and posted
// receives and gets completions back through Host. Everything here runs under the
// owner's (domain) lock. Packets leave through a UdpSock, or nowhere when the engine
// has none (fuzzing, unit tests): then they are recorded in `sent` for inspection.
//
// Reliability choices, beyond the digest:
// - A message completes at the initiator on the SES response carried in the ACK of
//   the packet that completed it at the target (delivery complete). If every packet
//   is ACKed but that response was lost, the initiator sends a CP ACK_REQ (payload =
//   message id) and the target answers with the response again.
// - fi_read is split into MTU-sized READ requests; each is answered by one ACK with
//   RSP_DATA. A lost response is recovered by resending the request (reads are
//   idempotent; on ROD PDCs the response bytes are kept until cleared, so a resent read
//   cannot observe a later write); fetching-atomic responses are cached per PSN so a
//   resent request does not execute twice.
// - ROD PDCs (TxOp::rod): the target takes only the next PSN and NACKs others with
//   ROD_OOO carrying the expected PSN; the initiator goes back and resends from there.
// - Send matching follows message-id order per PDC, so sends match in posting order
//   (FI_ORDER_SAS) even when packets arrive out of order.
// - Compare operands of compare-and-swap atomics travel in the payload after the swap
//   operands (count elements each), so vector CSWAP works with a 4-byte atomic ext.
#pragma once
#include <netinet/in.h>
#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/udp.h"
#include "pds/pdc.h"
#include "pds/pkt.h"
#include "pds/window.h"

namespace softuet {
namespace cms {
class RcccReceiver;
}

struct IoList {
  static constexpr size_t kMax = 8;
  iovec v[kMax];
  size_t n = 0;
  size_t total = 0;
  void add(void *p, size_t len) {
    v[n++] = {p, len};
    total += len;
  }
  void copy_in(size_t off, const void *src, size_t len) const;
  void copy_out(size_t off, void *dst, size_t len) const;
  // Appends up to max iovecs covering [off, off+len); returns how many.
  int slice(size_t off, size_t len, iovec *out, int max) const;
};

enum class OpKind : uint8_t { SEND, TSEND, WRITE, READ, ATOMIC, FETCH_ATOMIC, DGRAM };

struct TxOp {
  OpKind kind = OpKind::SEND;
  void *context = nullptr;
  uint64_t cq_flags = 0;    // libfabric completion flags
  bool completion = true;   // generate a CQ entry on success
  // FI_MORE: the application posts more at once, so what this op queued waits for them
  // (the caller must see that a flush follows).
  bool more = false;
  sockaddr_in peer{};
  IoList local;             // send/write source, read destination, atomic operands
  IoList result;            // fetching atomics: where the old values go
  std::vector<uint8_t> owned;  // injected data / operands + compare values
  uint64_t remote_addr = 0, key = 0, tag = 0, data = 0;
  bool has_data = false;
  uint32_t length = 0;
  uint8_t amo_op = 0, amo_dt = 0;
  uint32_t amo_count = 0;
  bool rod = false;   // PDC mode: reliable ordered delivery
  uint8_t tc = 0;     // traffic class (DSCP) of the PDC
  // progress
  uint16_t msg_id = 0;
  uint32_t next_off = 0;
  bool started = false, fully_sent = false, rsp = false;
  uint8_t rc = pkt::RC_OK;
  uint32_t unacked_pkts = 0, chunks_total = 0, chunks_done = 0;
  uint32_t eom_psn = 0;
  uint64_t all_acked_ns = 0, last_probe_ns = 0;
  uint32_t probes = 0;
};

// A FI_MULTI_RECV buffer, shared by the receives carved out of it: released once less
// than its minimum is left, and the last carved completion after that carries
// FI_MULTI_RECV so the application knows the buffer is its own again.
struct MultiRecv {
  size_t used = 0, min_free = 0;
  uint32_t outstanding = 0;
  bool released = false;
};

struct RecvEntry {
  void *context = nullptr;
  IoList iov;
  bool tagged = false;
  uint64_t tag = 0, ignore = 0;
  bool any_src = true;
  sockaddr_in src{};
  uint64_t flags = 0;
  std::shared_ptr<MultiRecv> multi;  // set on a multi-receive buffer and its pieces
};

struct Completion {
  void *context = nullptr;
  uint64_t flags = 0;
  size_t len = 0;
  void *buf = nullptr;
  uint64_t data = 0;
  uint64_t tag = 0;
  int err = 0;          // positive FI_E* code, 0 on success
  uint8_t uet_rc = 0;   // UET return code behind err, when there is one
  size_t olen = 0;
  sockaddr_in src{};
  bool has_src = false;
  bool report = true;  // false: counters only (inject, selective completion)
};

struct MrView {
  uint8_t *ptr = nullptr;   // start of the registered memory
  uint64_t base = 0;        // address the initiator uses for ptr (VA or 0)
  uint64_t len = 0;
  uint64_t access = 0;      // FI_REMOTE_READ / FI_REMOTE_WRITE bits
};

class Host {
 public:
  virtual ~Host() = default;
  virtual void tx_done(const Completion &c) = 0;
  virtual void rx_done(const Completion &c) = 0;
  // Remote RMA/atomic landed here (counters; CQ entry when it carried data).
  virtual void remote_done(uint64_t flags, const Completion &c) = 0;
  virtual bool find_mr(uint64_t key, MrView &out) = 0;
};

struct Stats {
  uint64_t tx_pkts = 0, rx_pkts = 0, tx_bytes = 0, rx_bytes = 0, retransmits = 0, acks_tx = 0,
           acks_rx = 0, duplicates = 0, drops_malformed = 0, drops_crc = 0, drops_unknown_pdc = 0,
           drops_no_recv = 0, drops_send_err = 0, probes_tx = 0, pdc_opened = 0, pdc_failed = 0,
           unexpected_msgs = 0, rsp_errors_tx = 0;
  uint64_t pdc_closed = 0, close_tx = 0, close_req_tx = 0, clear_tx = 0, clear_rx = 0, rod_ooo_drops = 0,
           rod_goback = 0, bad_job_rx = 0, pdc_closed_err = 0, pdc_reopened = 0;
  // Entropy: requests sent from an EV pool socket; distinct UDP source ports requests
  // arrived from (the EVs a target sees).
  uint64_t ev_sprayed = 0, rx_src_ports = 0;
  // Loss recovery split by trigger (SACK gap, RTO), and requests that arrived after a
  // higher PSN of their PDC (reordered or resent), with the largest such distance.
  uint64_t retx_gap = 0, retx_rto = 0, rx_late = 0, rx_late_max = 0;
  uint64_t nack_tx[256] = {}, nack_rx[256] = {};
};

// Payload bytes per packet at most: non-SOM requests and responses state their payload
// in 14 bits.
constexpr size_t kMaxMtu = 16000;

struct EngineConfig {
  size_t mtu = 4096;          // payload bytes per packet
  uint32_t mpr = 128;         // PSNs in flight per PDC
  uint64_t rto_ns = 10'000'000;
  uint32_t max_retries = 40;
  uint32_t max_msgs_in_flight = 1024;
  size_t unexpected_limit = 64u << 20;
  uint32_t job_id = 1;
  bool dgram = false;
  bool verify_crc = true;
  // Congestion management (FI_SOFTUET_CC: "nscc+rccc" by default, "nscc", "rccc" or
  // "off"). NSCC: a window per initiator PDC gates transmission. RCCC: initiators state
  // their demand in RUD_CC_REQ credit_target and send against credit the target's
  // pacer grants in ACK_CC (cc_type CREDIT); both fields count 256-byte quanta,
  // cumulative modulo 2^24, so lost or reordered ACKs and requests need no repair.
  bool nscc = true;
  bool rccc = true;
  double link_gbps = 100;          // FI_SOFTUET_LINK_GBPS: NSCC rate and RCCC pacer rate
  // FI_SOFTUET_BASE_RTT_US: the RTT NSCC derives target delay, quick-adapt threshold
  // and window from. A host's loopback round trip is 20-50 us idle but includes both
  // processes' scheduling, which on a loaded host reaches the millisecond: with 50 us,
  // quick adapt fired on that jitter about ten times as often and held the window down.
  uint64_t base_rtt_ns = 1000000;
  uint32_t cc_min_pkts = 8;        // FI_SOFTUET_CC_MIN_PKTS: NSCC window floor, packets
  // Entropy (FI_SOFTUET_EV: "reps" by default, "oblivious", "bitmap", "ecmp" or "off";
  // FI_SOFTUET_EV_PATHS: EVs, a power of two, 4). RUD requests leave from the pool
  // socket of their EV, so the UDP source port carries it. ROD PDCs, ACKs and control
  // packets keep the endpoint's own port. "off" opens no pool. The EV changes per train
  // of ev_train packets (FI_SOFTUET_EV_TRAIN; 0: as many as one UDP GSO send carries,
  // 15 at the 4 KiB MTU; 1: per packet), not per packet: a run on one socket is one
  // GSO send, while per-packet EVs made every datagram its own send and cost 2.5-3x of
  // 1 MiB write throughput. Retransmissions pick an EV each.
  uint8_t ev_mode = 4;             // 0 off, 1 ecmp, 2 oblivious, 3 bitmap, 4 reps
  uint32_t ev_paths = 4;
  uint32_t ev_train = 0;
  // A PDC with nothing in flight for this long is closed (CLOSE handshake); 0 keeps
  // PDCs open until the endpoint closes.
  uint64_t pdc_idle_ns = 1'000'000'000;
  // What one endpoint chose for itself (fi_setopt before it is enabled): it beats the
  // environment, which is process-wide. Zero / negative: not chosen.
  struct Own {
    size_t mtu = 0;
    int nscc = -1, rccc = -1;
  };
  // `local`: the endpoint's address, whose interface sets the default MTU (null: the
  // provider's default address, 127.0.0.1).
  static EngineConfig from_env(const sockaddr_in *local = nullptr, const Own *own = nullptr);
};

class Engine {
 public:
  Engine(Host *host, UdpSock *sock, const EngineConfig &cfg);
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Takes ownership of op. Returns 0 or a negative FI_E* code (op not taken then).
  int post(TxOp *op);
  void post_recv(RecvEntry *r);  // takes ownership
  // Cancels a posted receive with this context; true when found.
  bool cancel(void *context);
  void on_packet(const uint8_t *buf, size_t len, const sockaddr_in &from);
  // Reads the socket until empty or budget packets; returns packets handled. With
  // flush_now false, what the last batch produced (ACKs, data) stays queued for the
  // caller's flush() or the next post, so it can leave with the application's reply.
  int poll_rx(int budget, bool flush_now = true);
  void on_timer(uint64_t now_ns);
  void flush();  // pending coalesced ACKs, held reordered packet
  bool busy() const;  // anything that needs timers
  uint64_t cwnd_bytes() const;
  uint64_t cc_due_ns() const { return cc_due_ns_; }  // next RCCC grant (UINT64_MAX: none)
  bool has_targets() const;  // served as a target (peers may still want answers)  // largest congestion window over this engine's PDCs
  const Stats &stats() const { return st_; }
  const EngineConfig &config() const { return cfg_; }
  sockaddr_in local() const;
  static uint64_t now_ns();
  std::vector<std::vector<uint8_t>> sent;  // only without a socket

 private:
  struct RxMsg;
  struct InitPdc;
  struct TgtPdc;
  InitPdc *init_pdc(const sockaddr_in &peer, bool rod, uint8_t tc);
  void pump(InitPdc *p);
  void send_req(InitPdc *p, TxOp *op, TxPkt &pk, bool retx);
  void finish(InitPdc *p, TxOp *op, int err);
  void fail_pdc(InitPdc *p, int err);
  void handle_req(const uint8_t *b, size_t len, const sockaddr_in &from);
  void handle_uud(const pkt::SesStd &s, const uint8_t *pl, size_t plen, const sockaddr_in &from);
  void handle_ack(const uint8_t *b, size_t len, const sockaddr_in &from);
  void handle_nack(const uint8_t *b, size_t len, const sockaddr_in &from);
  void handle_cp(const uint8_t *b, size_t len, const sockaddr_in &from);
  // SES delivery of a new packet; false when it cannot be accepted now (no buffer).
  bool deliver(TgtPdc *t, uint32_t psn, const pkt::SesStd &s, const uint8_t *pl, size_t plen, bool &acked);
  // Where a write packet's payload may be placed before its CRC is checked, or null.
  uint8_t *prewrite_dst(const uint8_t *b, size_t len, const sockaddr_in &src, size_t &hdr);
  void note_answered(TgtPdc *t, const pkt::SesStd &s);
  void prune_msgs(TgtPdc *t, RxMsg *keep);
  void answer_dup(TgtPdc *t, uint32_t psn, const pkt::SesStd &s);
  void serve_read(TgtPdc *t, uint32_t psn, const pkt::SesStd &s);
  void msg_complete(TgtPdc *t, RxMsg *m, uint32_t psn);
  void release_in_order(TgtPdc *t);
  bool match_recv(RxMsg *m);
  void deliver_recv(RxMsg *m);
  void claim_unexpected(RxMsg *m, RecvEntry *r);
  void send_ack(TgtPdc *t, uint32_t psn, const pkt::SesRsp *rsp, bool with_data, const IoList *data,
                size_t data_off, size_t data_len);
  void send_nack(const sockaddr_in &to, uint16_t spdcid, uint16_t dpdcid, uint32_t psn, uint8_t code,
                 uint32_t payload);
  void send_cp(InitPdc *p, uint8_t type, uint32_t psn, uint32_t payload);
  void emit(const sockaddr_in &to, iovec *iov, int n, int src = -1);  // src: EV pool slot
  void flush_tx();
  void drop_tgt(TgtPdc *t);
  // PDC lifecycle (CLEAR, CLOSE, idle close) and ROD recovery.
  void pdc_timers(uint64_t now);
  void update_clear(InitPdc *p);
  void start_close(InitPdc *p, uint64_t now);
  void unlink_init(InitPdc *p);
  void note_clear(TgtPdc *t, uint32_t clear_psn);
  void purge_cleared(TgtPdc *t, bool all);
  bool tgt_live(TgtPdc *t) const;
  void tgt_close(TgtPdc *t, const pkt::PdsCp &c, const sockaddr_in &from);
  void send_bare_ack(const sockaddr_in &to, uint16_t spdcid, uint16_t dpdcid, uint32_t psn);
  void rod_goback(InitPdc *p, uint32_t from_psn, uint32_t to_psn);
  bool reopen_pdc(InitPdc *p);
  void refuse_foreign(TgtPdc *t, uint32_t psn, bool fresh, const pkt::SesStd &s);
  // FI_MULTI_RECV: carves the piece for a message of len bytes out of the buffer at
  // lst[i]; retires the buffer when it runs low. Null when the message does not fit.
  RecvEntry *carve_multi(std::deque<RecvEntry *> &lst, size_t i, size_t len);
  void post_multi_recv(RecvEntry *r);
  uint64_t recv_done_flags(RecvEntry *r);
  uint16_t alloc_pdcid();
  uint8_t check_mr(uint64_t key, uint64_t addr, uint64_t len, uint64_t access, uint8_t *&ptr);
  // Congestion management glue (NSCC window, RCCC credit), see engine.cc "cms".
  void cc_init_pdc(InitPdc *p);
  void cc_enqueue(InitPdc *p, const TxOp *op);
  bool cc_take_credit(InitPdc *p, const TxOp *op, uint32_t len);
  void cc_ask_credit(InitPdc *p);
  void cc_fill_req(InitPdc *p, pkt::PdsReq &r);
  uint64_t reorder_window(const InitPdc *p) const;
  uint64_t rto(const InitPdc *p) const;
  void cc_on_ack(InitPdc *p, const pkt::PdsAck &a);
  void cc_on_req(TgtPdc *t, const pkt::PdsReq &r, size_t plen);
  void cc_fill_ack(TgtPdc *t, pkt::PdsAck &a);
  void cc_pace();
  void cc_forget(TgtPdc *t);
  void note_src_port(const sockaddr_in &a);  // rx_src_ports
  void cc_note_due();  // cc_due_ns_ from the pacer
  void cc_pace_due();  // paces grants out on a quiet poll once they are due

  Host *host_;
  UdpSock *sock_;
  EngineConfig cfg_;
  Stats st_;
  uint64_t now_ = 0;
  uint16_t next_pdcid_ = 1;
  std::unordered_map<uint64_t, InitPdc *> init_by_peer_;
  std::unordered_map<uint64_t, TgtPdc *> tgt_by_key_;
  std::unordered_map<uint16_t, InitPdc *> init_by_id_;
  std::unordered_map<uint16_t, TgtPdc *> tgt_by_id_;
  std::deque<RecvEntry *> posted_msg_, posted_tag_;
  std::list<RxMsg *> unexp_msg_, unexp_tag_;
  size_t unexp_bytes_ = 0;
  std::vector<TgtPdc *> ack_pending_;
  std::vector<uint32_t> due_;
  // RCCC receiver context (one CCC for the endpoint's port) and its senders by key.
  std::unique_ptr<cms::RcccReceiver> ccc_;
  std::unordered_map<uint32_t, TgtPdc *> cc_by_key_;
  uint32_t cc_seq_ = 0;
  // The request on_packet is handling was a retransmission: its ACK carries the retx
  // flag, which the initiator's RTO recovery waits for.
  bool rx_retx_ = false;
  uint32_t rx_retx_psn_ = 0;
  uint64_t cc_due_ns_ = UINT64_MAX;  // when the RCCC pacer next has a grant to give
  // Payload of the packet being handled already placed here while its CRC was checked.
  uint8_t *preplaced_ = nullptr;
  struct RxHdr {
    bool valid = false;
    pkt::PdsReq r;
    uint8_t nh = 0;
    pkt::SesStd s;
    size_t n = 0, m = 0;
    void decode(const uint8_t *b, size_t len) {
      n = pkt::get_req(b, len, r, nh);
      m = n && nh == pkt::NH_REQ_STD ? pkt::get_ses(b + n, len - n, s) : 0;
    }
  } rx_hdr_;
  std::vector<uint64_t> rx_ports_;  // bitmap of request source ports seen (rx_src_ports)
};

}  // namespace softuet

extern "C" void softuet_rx_fuzz_one(const uint8_t *data, size_t size);
