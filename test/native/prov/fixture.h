// Two softuet endpoints in one process, each with its own fabric, domain, CQ, AV and
// counters, wired to each other through their AVs: enough to drive every data path
// of the provider through the public libfabric API.
#pragma once
#include <rdma/fabric.h>
#include <rdma/fi_atomic.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/check.h"
#include "../../../native/softuet/include/fi_softuet.h"

namespace suet_test {

inline void provider_path() {
  // The runner normally sets this; ctest and hand runs fall back to the build tree.
  if (!getenv("FI_PROVIDER_PATH")) setenv("FI_PROVIDER_PATH", NLF_SOURCE_DIR "/build/native/prov", 1);
  setenv("FI_PROVIDER", "softuet", 0);
}

inline uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct Peer {
  fi_info *info = nullptr;
  fid_fabric *fab = nullptr;
  fid_domain *dom = nullptr;
  fid_av *av = nullptr;
  fid_cq *txcq = nullptr, *rxcq = nullptr;
  fid_cntr *rw_cntr = nullptr;
  fid_ep *ep = nullptr;
  fi_addr_t remote = FI_ADDR_NOTAVAIL;
  char name[64] = {};
  size_t namelen = sizeof name;

  int open(fi_ep_type type = FI_EP_RDM, uint64_t caps = 0, bool manual = false) {
    provider_path();
    fi_info *hints = fi_allocinfo();
    hints->ep_attr->type = type;
    hints->caps = caps ? caps
                       : (type == FI_EP_RDM ? (FI_MSG | FI_TAGGED | FI_RMA | FI_ATOMIC | FI_DIRECTED_RECV | FI_SOURCE)
                                            : FI_MSG);
    hints->fabric_attr->prov_name = strdup("softuet");
    hints->domain_attr->mr_mode = FI_MR_VIRT_ADDR | FI_MR_PROV_KEY | FI_MR_ALLOCATED;
    if (manual) hints->domain_attr->data_progress = FI_PROGRESS_MANUAL;
    int r = fi_getinfo(FI_VERSION(1, 17), "127.0.0.1", nullptr, FI_SOURCE, hints, &info);
    fi_freeinfo(hints);
    if (r) return r;
    if ((r = fi_fabric(info->fabric_attr, &fab, nullptr))) return r;
    if ((r = fi_domain(fab, info, &dom, nullptr))) return r;
    fi_av_attr aa{};
    aa.type = FI_AV_TABLE;
    if ((r = fi_av_open(dom, &aa, &av, nullptr))) return r;
    fi_cq_attr ca{};
    ca.format = FI_CQ_FORMAT_TAGGED;
    ca.wait_obj = FI_WAIT_FD;
    if ((r = fi_cq_open(dom, &ca, &txcq, nullptr))) return r;
    if ((r = fi_cq_open(dom, &ca, &rxcq, nullptr))) return r;
    fi_cntr_attr na{};
    na.events = FI_CNTR_EVENTS_COMP;
    if ((r = fi_cntr_open(dom, &na, &rw_cntr, nullptr))) return r;
    if ((r = fi_endpoint(dom, info, &ep, nullptr))) return r;
    if ((r = fi_ep_bind(ep, &av->fid, 0))) return r;
    if ((r = fi_ep_bind(ep, &txcq->fid, FI_TRANSMIT))) return r;
    if ((r = fi_ep_bind(ep, &rxcq->fid, FI_RECV))) return r;
    if (type == FI_EP_RDM && (r = fi_ep_bind(ep, &rw_cntr->fid, FI_REMOTE_WRITE))) return r;
    if ((r = fi_enable(ep))) return r;
    namelen = sizeof name;
    return fi_getname(&ep->fid, name, &namelen);
  }
  void close() {
    if (ep) fi_close(&ep->fid);
    if (rw_cntr) fi_close(&rw_cntr->fid);
    if (txcq) fi_close(&txcq->fid);
    if (rxcq) fi_close(&rxcq->fid);
    if (av) fi_close(&av->fid);
    if (dom) fi_close(&dom->fid);
    if (fab) fi_close(&fab->fid);
    if (info) fi_freeinfo(info);
    ep = nullptr, rw_cntr = nullptr, txcq = rxcq = nullptr, av = nullptr, dom = nullptr, fab = nullptr;
    info = nullptr;
  }
  ~Peer() { close(); }
};

inline int connect(Peer &a, Peer &b) {
  int r = fi_av_insert(a.av, b.name, 1, &a.remote, 0, nullptr);
  if (r != 1) return -1;
  r = fi_av_insert(b.av, a.name, 1, &b.remote, 0, nullptr);
  return r == 1 ? 0 : -1;
}

struct Comp {
  fi_cq_tagged_entry e{};
  fi_addr_t src = FI_ADDR_NOTAVAIL;
  int err = 0;
  int prov_errno = 0;
  std::string err_text;
};

// Waits for one completion (or error) on cq, up to timeout_ms. Returns false on timeout.
inline bool wait_comp(fid_cq *cq, Comp &out, int timeout_ms = 20000) {
  uint64_t end = now_ms() + timeout_ms;
  for (;;) {
    fi_addr_t src = FI_ADDR_NOTAVAIL;
    ssize_t r = fi_cq_readfrom(cq, &out.e, 1, &src);
    if (r == 1) {
      out.src = src;
      out.err = 0;
      return true;
    }
    if (r == -FI_EAVAIL) {
      fi_cq_err_entry ee{};
      if (fi_cq_readerr(cq, &ee, 0) != 1) return false;
      out.e.op_context = ee.op_context;
      out.e.flags = ee.flags;
      out.e.len = ee.len;
      out.err = ee.err;
      out.prov_errno = ee.prov_errno;
      out.err_text = fi_cq_strerror(cq, ee.prov_errno, ee.err_data, nullptr, 0);
      return true;
    }
    if (now_ms() > end) return false;
    fi_cq_sread(cq, &out.e, 0, nullptr, 5);
  }
}

inline std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    v[i] = (uint8_t)(x >> 16);
  }
  return v;
}

inline fid_mr *reg(Peer &p, void *buf, size_t len, uint64_t access) {
  fid_mr *mr = nullptr;
  if (fi_mr_reg(p.dom, buf, len, access, 0, 0, 0, &mr, nullptr)) return nullptr;
  return mr;
}

// Writes n bytes of pattern(seed) from a into zeroed memory registered at b (a.remote)
// and checks them byte for byte.
inline void write_checked(Peer &a, Peer &b, size_t n, uint32_t seed) {
  std::vector<uint8_t> target(n, 0);
  auto src = pattern(n, seed);
  fid_mr *mr = reg(b, target.data(), n, FI_REMOTE_WRITE);
  REQUIRE(mr);
  int c;
  REQUIRE(fi_write(a.ep, src.data(), n, nullptr, a.remote, (uint64_t)(uintptr_t)target.data(), fi_mr_key(mr), &c) ==
          0);
  Comp w;
  REQUIRE(wait_comp(a.txcq, w));
  CHECK_EQ(w.err, 0);
  CHECK(memcmp(target.data(), src.data(), n) == 0);
  fi_close(&mr->fid);
}

inline uint64_t stat(Peer &p, const char *name) {
  fi_softuet_ops *ops = nullptr;
  if (fi_open_ops(&p.dom->fid, FI_SOFTUET_OPS_NAME, 0, (void **)&ops, nullptr)) return ~0ull;
  fi_softuet_stat st[FI_SOFTUET_MAX_STATS];
  size_t n = FI_SOFTUET_MAX_STATS;
  if (ops->ep_stats(p.ep, st, &n)) return ~0ull;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(st[i].name, name)) return st[i].value;
  return 0;
}

}  // namespace suet_test
