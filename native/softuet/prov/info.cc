// Provider entry point, fi_getinfo and the fabric object.
#include <arpa/inet.h>
#include <netdb.h>

#include <cstdlib>
#include <cstring>

#include "prov/prov.h"

namespace softuet {

namespace {
constexpr uint64_t kMsgCaps = FI_MSG | FI_SEND | FI_RECV;
constexpr uint64_t kRdmCaps = FI_MSG | FI_TAGGED | FI_RMA | FI_ATOMIC | FI_READ | FI_WRITE | FI_SEND | FI_RECV |
                              FI_REMOTE_READ | FI_REMOTE_WRITE | FI_DIRECTED_RECV | FI_SOURCE | FI_LOCAL_COMM |
                              FI_REMOTE_COMM | FI_MULTI_RECV;
constexpr uint64_t kDgramCaps = FI_MSG | FI_SEND | FI_RECV | FI_DIRECTED_RECV | FI_SOURCE | FI_LOCAL_COMM |
                                FI_REMOTE_COMM;
constexpr uint64_t kMrSupported = FI_MR_VIRT_ADDR | FI_MR_PROV_KEY;
const char kFabricName[] = "softuet";
const char kDomainName[] = "udp";

// Payload per packet of an endpoint on `src` (null: the default address).
size_t mtu(const sockaddr_in *src) { return EngineConfig::from_env(src).mtu; }

uint64_t implied(uint64_t caps) {
  if ((caps & (FI_MSG | FI_TAGGED)) && !(caps & (FI_SEND | FI_RECV))) caps |= FI_SEND | FI_RECV;
  if ((caps & (FI_RMA | FI_ATOMIC)) && !(caps & (FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE)))
    caps |= FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
  return caps;
}

int resolve(const char *node, const char *service, bool numeric, sockaddr_in &out) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if (numeric) hints.ai_flags |= AI_NUMERICHOST;
  if (!node) hints.ai_flags |= AI_PASSIVE;
  int r = getaddrinfo(node ? node : "127.0.0.1", service, &hints, &res);
  if (r || !res) return -FI_ENODATA;
  memcpy(&out, res->ai_addr, sizeof out);
  freeaddrinfo(res);
  return 0;
}

fi_info *make_info(fi_ep_type type, const fi_info *hints, const sockaddr_in *src, const sockaddr_in *dst) {
  fi_info *fi = fi_allocinfo();
  if (!fi) return nullptr;
  bool rdm = type == FI_EP_RDM;
  uint64_t sup = rdm ? kRdmCaps : kDgramCaps;
  uint64_t caps = sup;
  if (hints && hints->caps) caps = implied(hints->caps) & sup;
  if (hints && hints->caps && (caps & (FI_MSG | FI_TAGGED | FI_RMA | FI_ATOMIC)) == 0) caps |= FI_MSG;
  caps |= FI_LOCAL_COMM | FI_REMOTE_COMM;
  fi->caps = caps;
  fi->mode = 0;
  fi->addr_format = FI_SOCKADDR_IN;
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (src) s = *src;
  fi->src_addr = malloc(sizeof s);
  memcpy(fi->src_addr, &s, sizeof s);
  fi->src_addrlen = sizeof s;
  if (dst) {
    fi->dest_addr = malloc(sizeof *dst);
    memcpy(fi->dest_addr, dst, sizeof *dst);
    fi->dest_addrlen = sizeof *dst;
  }
  size_t m = mtu(src);
  // RUD gives send-after-send through in-order matching; asking for more selects ROD.
  uint64_t want = (hints && hints->tx_attr ? hints->tx_attr->msg_order : 0) |
                  (hints && hints->rx_attr ? hints->rx_attr->msg_order : 0);
  uint64_t order = rdm ? ((want & ~(uint64_t)FI_ORDER_SAS) || rod_forced() ? kRodMsgOrder : (uint64_t)FI_ORDER_SAS) : 0;
  fi->tx_attr->caps =
      caps & ~(FI_RECV | FI_REMOTE_READ | FI_REMOTE_WRITE | FI_DIRECTED_RECV | FI_SOURCE | FI_MULTI_RECV);
  fi->tx_attr->mode = 0;
  fi->tx_attr->op_flags = hints && hints->tx_attr ? hints->tx_attr->op_flags & (FI_COMPLETION | FI_TRANSMIT_COMPLETE | FI_DELIVERY_COMPLETE | FI_INJECT_COMPLETE) : 0;
  fi->tx_attr->msg_order = order;
  fi->tx_attr->comp_order = FI_ORDER_NONE;
  fi->tx_attr->inject_size = m;
  fi->tx_attr->size = 4096;
  fi->tx_attr->iov_limit = 4;
  fi->tx_attr->rma_iov_limit = rdm ? 4 : 1;
  fi->tx_attr->tclass = hints && hints->tx_attr ? hints->tx_attr->tclass : 0;
  fi->rx_attr->caps = caps & ~(FI_SEND | FI_READ | FI_WRITE);
  fi->rx_attr->mode = 0;
  fi->rx_attr->op_flags = hints && hints->rx_attr ? hints->rx_attr->op_flags & FI_COMPLETION : 0;
  fi->rx_attr->msg_order = order;
  fi->rx_attr->comp_order = FI_ORDER_NONE;
  fi->rx_attr->total_buffered_recv = EngineConfig::from_env().unexpected_limit;
  fi->rx_attr->size = 4096;
  fi->rx_attr->iov_limit = 4;
  fi->ep_attr->type = type;
  fi->ep_attr->protocol = FI_PROTO_UDP;
  fi->ep_attr->protocol_version = 1;
  fi->ep_attr->max_msg_size = rdm ? (1u << 30) : m;
  fi->ep_attr->msg_prefix_size = 0;
  // On ROD PDCs the orderings hold for whole operations, whatever their size.
  size_t ordered = (order & FI_ORDER_RAW) ? fi->ep_attr->max_msg_size : 0;
  fi->ep_attr->max_order_raw_size = ordered;
  fi->ep_attr->max_order_war_size = ordered;
  fi->ep_attr->max_order_waw_size = ordered;
  fi->ep_attr->mem_tag_format = rdm ? 0xAAAAAAAAAAAAAAAAULL : 0;
  fi->ep_attr->tx_ctx_cnt = 1;
  fi->ep_attr->rx_ctx_cnt = 1;
  fi->domain_attr->name = strdup(kDomainName);
  fi->domain_attr->threading = FI_THREAD_SAFE;
  bool manual = hints && hints->domain_attr && hints->domain_attr->data_progress == FI_PROGRESS_MANUAL;
  fi->domain_attr->control_progress = manual ? FI_PROGRESS_MANUAL : FI_PROGRESS_AUTO;
  fi->domain_attr->data_progress = manual ? FI_PROGRESS_MANUAL : FI_PROGRESS_AUTO;
  fi->domain_attr->resource_mgmt = FI_RM_ENABLED;
  fi->domain_attr->av_type = hints && hints->domain_attr && hints->domain_attr->av_type != FI_AV_UNSPEC
                                 ? hints->domain_attr->av_type
                                 : FI_AV_TABLE;
  int mr_mode = FI_MR_VIRT_ADDR | FI_MR_PROV_KEY;
  if (hints && hints->domain_attr) {
    int h = hints->domain_attr->mr_mode;
    if (h == FI_MR_BASIC || h == FI_MR_SCALABLE) mr_mode = h;
    else mr_mode = h & (int)kMrSupported;
  }
  fi->domain_attr->mr_mode = mr_mode;
  fi->domain_attr->mr_key_size = 8;
  fi->domain_attr->cq_data_size = 8;
  fi->domain_attr->cq_cnt = 1024;
  fi->domain_attr->ep_cnt = 1024;
  fi->domain_attr->tx_ctx_cnt = 1024;
  fi->domain_attr->rx_ctx_cnt = 1024;
  fi->domain_attr->max_ep_tx_ctx = 1;
  fi->domain_attr->max_ep_rx_ctx = 1;
  fi->domain_attr->max_ep_stx_ctx = 0;
  fi->domain_attr->max_ep_srx_ctx = 0;
  fi->domain_attr->cntr_cnt = 1024;
  fi->domain_attr->mr_iov_limit = 1;
  fi->domain_attr->caps = FI_LOCAL_COMM | FI_REMOTE_COMM;
  fi->domain_attr->mr_cnt = 1 << 16;
  fi->domain_attr->max_err_data = 64;
  fi->fabric_attr->name = strdup(kFabricName);
  fi->fabric_attr->prov_version = FI_VERSION(1, 0);
  fi->fabric_attr->api_version = FI_VERSION(FI_MAJOR_VERSION, FI_MINOR_VERSION);
  return fi;
}

// Returns false when the hints ask for something this endpoint type cannot give.
bool satisfies(fi_ep_type type, const fi_info *h, const sockaddr_in *src) {
  if (!h) return true;
  bool rdm = type == FI_EP_RDM;
  uint64_t sup = (rdm ? kRdmCaps : kDgramCaps) | FI_LOCAL_COMM | FI_REMOTE_COMM;
  if (h->caps & ~sup) return false;
  // ofi_rxd queries its core provider for DGRAM with exactly FI_LOCAL_MR | FI_CONTEXT |
  // FI_MSG_PREFIX (no FI_CONTEXT2). softuet offers RDM itself, and "softuet;ofi_rxd"
  // would otherwise be listed ahead of it and picked by applications taking the first.
  if (!rdm && (h->mode & FI_MSG_PREFIX) && (h->mode & FI_LOCAL_MR) && !(h->mode & FI_CONTEXT2)) return false;
  if (h->addr_format != FI_FORMAT_UNSPEC && h->addr_format != FI_SOCKADDR_IN && h->addr_format != FI_SOCKADDR)
    return false;
  if (h->ep_attr) {
    if (h->ep_attr->type != FI_EP_UNSPEC && h->ep_attr->type != type) return false;
    if (h->ep_attr->protocol != FI_PROTO_UNSPEC && h->ep_attr->protocol != FI_PROTO_UDP) return false;
    size_t maxmsg = rdm ? (1u << 30) : mtu(src);
    if (h->ep_attr->max_msg_size > maxmsg) return false;
    if (h->ep_attr->tx_ctx_cnt > 1 && h->ep_attr->tx_ctx_cnt != FI_SHARED_CONTEXT) return false;
    if (h->ep_attr->rx_ctx_cnt > 1 && h->ep_attr->rx_ctx_cnt != FI_SHARED_CONTEXT) return false;
    if (h->ep_attr->tx_ctx_cnt == FI_SHARED_CONTEXT || h->ep_attr->rx_ctx_cnt == FI_SHARED_CONTEXT) return false;
  }
  if (h->tx_attr) {
    if (h->tx_attr->inject_size > mtu(src)) return false;
    if (h->tx_attr->msg_order & ~(rdm ? kRodMsgOrder : 0)) return false;
    if (h->tx_attr->comp_order & ~(uint64_t)FI_ORDER_NONE) return false;
    if (h->tx_attr->iov_limit > 4 || h->tx_attr->rma_iov_limit > (rdm ? 4u : 1u)) return false;
    if (h->tx_attr->tclass && dscp_of_tclass(h->tx_attr->tclass) < 0) return false;
  }
  if (h->rx_attr) {
    if (h->rx_attr->msg_order & ~(rdm ? kRodMsgOrder : 0)) return false;
    if (h->rx_attr->comp_order & ~(uint64_t)FI_ORDER_NONE) return false;
    if (h->rx_attr->iov_limit > 4) return false;
  }
  if (h->domain_attr) {
    const fi_domain_attr *d = h->domain_attr;
    if (d->name && strcmp(d->name, kDomainName)) return false;
    if (d->cq_data_size > 8) return false;
    if (d->av_type != FI_AV_UNSPEC && d->av_type != FI_AV_MAP && d->av_type != FI_AV_TABLE) return false;
  }
  if (h->fabric_attr && h->fabric_attr->name && strcmp(h->fabric_attr->name, kFabricName)) return false;
  return true;
}

int getinfo(uint32_t version, const char *node, const char *service, uint64_t flags, const fi_info *hints,
            fi_info **info) {
  *info = nullptr;
  sockaddr_in src{}, dst{};
  bool have_src = false, have_dst = false;
  if (hints && hints->src_addr) {
    if (hints->src_addrlen < sizeof(sockaddr_in) || ((sockaddr *)hints->src_addr)->sa_family != AF_INET)
      return -FI_ENODATA;
    memcpy(&src, hints->src_addr, sizeof src);
    have_src = true;
  }
  if (hints && hints->dest_addr) {
    if (hints->dest_addrlen < sizeof(sockaddr_in) || ((sockaddr *)hints->dest_addr)->sa_family != AF_INET)
      return -FI_ENODATA;
    memcpy(&dst, hints->dest_addr, sizeof dst);
    have_dst = true;
  }
  if (node || service) {
    sockaddr_in a{};
    bool numeric = flags & FI_NUMERICHOST;
    if (resolve(node, service, numeric, a)) return -FI_ENODATA;
    if (flags & FI_SOURCE) {
      src = a;
      have_src = true;
    } else if (node) {
      dst = a;
      have_dst = true;
    }
  }
  fi_info *head = nullptr, *tail = nullptr;
  for (fi_ep_type t : {FI_EP_RDM, FI_EP_DGRAM}) {
    if (!satisfies(t, hints, have_src ? &src : nullptr)) continue;
    fi_info *fi = make_info(t, hints, have_src ? &src : nullptr, have_dst ? &dst : nullptr);
    if (!fi) break;
    if (!head) head = fi;
    else tail->next = fi;
    tail = fi;
  }
  if (!head) return -FI_ENODATA;
  *info = head;
  return 0;
}

void cleanup() {}

// ------------------------------------------------------------------ fabric
int fabric_close(fid *f) {
  delete reinterpret_cast<SuFabric *>(f);
  return 0;
}

fi_ops fabric_fi_ops;
fi_ops_fabric fabric_ops;

}  // namespace

int trywait(fid_fabric *fab, fid **fids, int count);

int fabric_open(fi_fabric_attr *attr, fid_fabric **out, void *ctx) {
  if (attr && attr->name && strcmp(attr->name, kFabricName)) return -FI_EINVAL;
  static bool init = [] {
    fabric_fi_ops.size = sizeof(fi_ops);
    fabric_fi_ops.close = fabric_close;
    fabric_fi_ops.bind = enosys;
    fabric_fi_ops.control = enosys;
    fabric_fi_ops.ops_open = enosys;
    fabric_fi_ops.tostr = enosys;
    fabric_fi_ops.ops_set = enosys;
    fabric_ops.size = sizeof(fi_ops_fabric);
    fabric_ops.domain = domain_open;
    fabric_ops.passive_ep = enosys;
    fabric_ops.eq_open = eq_open;
    fabric_ops.wait_open = enosys;
    fabric_ops.trywait = trywait;
    fabric_ops.domain2 = enosys;
    return true;
  }();
  (void)init;
  auto *f = new SuFabric;
  f->f.fid.fclass = FI_CLASS_FABRIC;
  f->f.fid.context = ctx;
  f->f.fid.ops = &fabric_fi_ops;
  f->f.ops = &fabric_ops;
  f->f.api_version = FI_VERSION(FI_MAJOR_VERSION, FI_MINOR_VERSION);
  *out = &f->f;
  return 0;
}

fi_provider g_prov = {
    FI_VERSION(1, 0),
    FI_VERSION(FI_MAJOR_VERSION, FI_MINOR_VERSION),
    {},
    "softuet",
    getinfo,
    fabric_open,
    cleanup,
};

}  // namespace softuet

extern "C" __attribute__((visibility("default"))) fi_provider *fi_prov_ini(void) { return &softuet::g_prov; }
