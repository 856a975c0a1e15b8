// libfabric object glue of the softuet provider. One mutex per domain guards every
// object below it (endpoints, CQs, counters, AVs, MRs): the progress thread and
// application threads take it, which makes the domain FI_THREAD_SAFE.
#pragma once
#include <rdma/fabric.h>
#include <rdma/fi_atomic.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_collective.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>
#include <rdma/providers/fi_prov.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "io/udp.h"
#include "ses/engine.h"

namespace softuet {

extern fi_provider g_prov;

// Orderings a ROD endpoint gives: the target executes requests in PSN order, and keeps
// read responses and fetched atomic results until cleared, so a resent request never
// executes again (it would see later writes).
constexpr uint64_t kRodMsgOrder = FI_ORDER_STRICT | FI_ORDER_RMA_RAR | FI_ORDER_RMA_RAW | FI_ORDER_RMA_WAR |
                                  FI_ORDER_RMA_WAW | FI_ORDER_ATOMIC_RAR | FI_ORDER_ATOMIC_RAW |
                                  FI_ORDER_ATOMIC_WAR | FI_ORDER_ATOMIC_WAW;
// FI_SOFTUET_PDC_MODE=rod makes every RDM endpoint ordered, whatever it asks.
inline bool rod_forced() {
  const char *v = getenv("FI_SOFTUET_PDC_MODE");
  return v && !strcmp(v, "rod");
}

// Every ops table slot starts as one of these; the real entries are then overwritten.
template <class R, class... A>
R enosys(A...) {
  return (R)-FI_ENOSYS;
}

struct SuFabric {
  fid_fabric f{};
};

struct SuEp;
struct SuMr;

struct SuDomain {
  fid_domain d{};
  SuFabric *fab = nullptr;
  std::mutex mu;
  bool manual = false;
  bool virt_addr = true, prov_key = true;
  std::unordered_map<uint64_t, SuMr *> mrs;
  std::vector<SuEp *> eps;
  int epfd = -1, wakefd = -1;
  std::thread prog;
  std::atomic<bool> stop{false};
  std::atomic<int> refs{0};
  uint64_t last_timer = 0;
  // When the application polls a CQ in a loop it progresses the domain itself; the
  // progress thread then stays out of the lock so the two do not ping-pong it.
  std::atomic<uint64_t> app_poll_ns{0};
  std::atomic<bool> idle_wait{false};  // progress thread in its long (idle) epoll wait
  FaultConfig faults;
  // Transmissions left queued by a CQ read that returned completions: the application
  // usually answers at once and they leave together with its reply, else the next
  // progress call (or the progress thread within a millisecond) sends them.
  std::atomic<bool> tx_deferred{false};
  uint32_t empty_polls = 0;  // consecutive CQ reads whose progress found nothing
  // The progress thread's share of the data path (stats): passes it made over the
  // endpoints while no application thread was polling, their time, and how often a
  // reader about to block handed progress to it.
  std::atomic<uint64_t> thread_passes{0}, thread_ns{0}, handoffs{0};
  void hand_off() {
    if (app_poll_ns.exchange(0, std::memory_order_relaxed)) {
      handoffs.fetch_add(1, std::memory_order_relaxed);
      wake();
    }
  }
  void progress_locked(bool timers, bool defer = false);
  void flush_locked();
  void wake();
  void kick() {
    if (idle_wait.load(std::memory_order_relaxed)) wake();
  }
};

struct CqEntry {
  fi_cq_tagged_entry e{};
  fi_addr_t src = FI_ADDR_NOTAVAIL;
  int err = 0;
  int prov_errno = 0;
  size_t olen = 0;
};

struct SuCq {
  fid_cq c{};
  SuDomain *dom = nullptr;
  fi_cq_format fmt = FI_CQ_FORMAT_CONTEXT;
  fi_wait_obj wait = FI_WAIT_NONE;
  std::deque<CqEntry> q;
  // Entries queued, readable without the domain lock so that an application spinning
  // on an empty CQ does not starve the progress thread of that lock.
  std::atomic<size_t> n{0};
  int efd = -1;
  // efd has been written and not read back since: level-triggered waiters already see
  // it readable, so further entries need no write (a syscall per completion). Read and
  // cleared only under the domain lock, like push.
  bool signaled = false;
  // The fd FI_GETWAIT hands out: an epoll set of efd and, from the first fi_trywait on,
  // the sockets of the endpoints bound to this CQ. A reader asleep on it wakes when a
  // packet lands and progresses inline, instead of after the progress thread took the
  // packet, pushed the completion and wrote efd (one more thread wake-up per message).
  int wfd = -1;
  std::vector<std::pair<SuEp *, int>> watched;  // what watch_sockets last added to wfd
  std::atomic<int> refs{0};
  std::string errtext;
  void push(const CqEntry &e);
  void watch_sockets();     // under the domain lock
  void unwatch(SuEp *ep);   // under the domain lock, when ep closes
};

struct SuCntr {
  fid_cntr c{};
  SuDomain *dom = nullptr;
  std::atomic<uint64_t> val{0}, err{0};
  std::atomic<int> refs{0};
};

struct SuAv {
  fid_av a{};
  SuDomain *dom = nullptr;
  fi_av_type type = FI_AV_TABLE;
  std::vector<sockaddr_in> addrs;
  std::vector<bool> valid;
  std::unordered_map<uint64_t, fi_addr_t> rev;
  std::atomic<int> refs{0};
  bool lookup(fi_addr_t a, sockaddr_in &out) const;
  fi_addr_t reverse(const sockaddr_in &s) const;
};

struct SuMr {
  fid_mr m{};
  SuDomain *dom = nullptr;
  uint8_t *ptr = nullptr;
  uint64_t len = 0, access = 0, base = 0;
};

struct SuEq {
  fid_eq e{};
  std::mutex mu;
  std::deque<std::pair<uint32_t, std::vector<uint8_t>>> q;
};

struct SuEp;
// The fid handed to the application; owner leads back to the endpoint object (SuEp is
// polymorphic, so offsetof cannot be used on it).
struct SuEpFid {
  fid_ep e{};
  SuEp *owner = nullptr;
};

struct SuEp : public Host {
  SuEpFid f;
  fid_ep &e = f.e;
  SuDomain *dom = nullptr;
  fi_ep_type type = FI_EP_RDM;
  uint64_t caps = 0, tx_flags = 0, rx_flags = 0;
  UdpSock sock;
  Engine *eng = nullptr;
  SuCq *txcq = nullptr, *rxcq = nullptr;
  bool tx_selective = false, rx_selective = false;
  SuCntr *c_send = nullptr, *c_recv = nullptr, *c_read = nullptr, *c_write = nullptr, *c_rread = nullptr,
         *c_rwrite = nullptr;
  SuAv *av = nullptr;
  bool enabled = false;
  sockaddr_in want{};
  bool rod = false;       // msg_order beyond FI_ORDER_SAS: ROD PDCs
  uint32_t tclass = 0;    // fi_tx_attr tclass
  uint8_t dscp = 0;       // its DSCP, the traffic class of this endpoint's PDCs
  size_t min_multi_recv = 64;
  EngineConfig::Own own;  // FI_OPT_SOFTUET_* settings, applied when the engine is made
  size_t inject_size = kMaxMtu;  // the info's: an own smaller MTU does not lower it
  // fi_writemsg / fi_readmsg with several remote segments: one engine operation per
  // segment, reported as one completion when the last of them is done.
  struct MultiOp {
    void *context = nullptr;
    uint64_t flags = 0;
    bool report = true;
    uint32_t remaining = 0;
    int err = 0;
    uint8_t uet_rc = 0;
  };
  std::unordered_set<MultiOp *> multi_ops;
  ~SuEp() override {
    for (MultiOp *m : multi_ops) delete m;
  }
  // Host
  void tx_done(const Completion &c) override;
  void rx_done(const Completion &c) override;
  void remote_done(uint64_t flags, const Completion &c) override;
  bool find_mr(uint64_t key, MrView &out) override;
  fi_addr_t src_of(const Completion &c) const;
};

// object constructors (prov/*.cc)
int fabric_open(fi_fabric_attr *attr, fid_fabric **fab, void *ctx);
int domain_open(fid_fabric *fab, fi_info *info, fid_domain **dom, void *ctx);
int eq_open(fid_fabric *fab, fi_eq_attr *attr, fid_eq **eq, void *ctx);
int cq_open(fid_domain *d, fi_cq_attr *attr, fid_cq **cq, void *ctx);
int cntr_open(fid_domain *d, fi_cntr_attr *attr, fid_cntr **cntr, void *ctx);
int av_open(fid_domain *d, fi_av_attr *attr, fid_av **av, void *ctx);
int ep_open(fid_domain *d, fi_info *info, fid_ep **ep, void *ctx);
int mr_reg(fid *fid, const void *buf, size_t len, uint64_t access, uint64_t offset, uint64_t requested_key,
           uint64_t flags, fid_mr **mr, void *ctx);
int mr_regv(fid *fid, const iovec *iov, size_t count, uint64_t access, uint64_t offset, uint64_t requested_key,
            uint64_t flags, fid_mr **mr, void *ctx);
int mr_regattr(fid *fid, const fi_mr_attr *attr, uint64_t flags, fid_mr **mr);
int query_atomic(fid_domain *d, fi_datatype dt, fi_op op, fi_atomic_attr *attr, uint64_t flags);
int ep_stats(fid_ep *ep, struct fi_softuet_stat *stats, size_t *count);
bool is_softuet_ep(fid_ep *ep);
int trywait(fid_fabric *fab, fid **fids, int count);

}  // namespace softuet
