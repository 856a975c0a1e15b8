// Endpoints (RDM over PDS/SES, DGRAM over UUD) and their data-transfer calls.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "fi_softuet.h"
#include "prov/prov.h"
#include "ses/atomic.h"

namespace softuet {

namespace {
fi_ops ep_fi_ops;
fi_ops_ep ep_ops;
fi_ops_cm cm_ops;
fi_ops_msg msg_ops;
fi_ops_tagged tag_ops;
fi_ops_rma rma_ops;
fi_ops_atomic atomic_ops;
fi_ops_collective coll_ops;

inline SuEp *EP(fid_ep *e) { return reinterpret_cast<SuEpFid *>(e)->owner; }
inline SuEp *EPF(fid *f) { return EP(reinterpret_cast<fid_ep *>(f)); }

void bump(SuCntr *c, int err) {
  if (!c) return;
  if (err) c->err++;
  else c->val++;
}
}  // namespace

// ------------------------------------------------------------------ Host
fi_addr_t SuEp::src_of(const Completion &c) const {
  if (!c.has_src || !av) return FI_ADDR_NOTAVAIL;
  return av->reverse(c.src);
}

void SuEp::tx_done(const Completion &c) {
  if (!multi_ops.empty()) {
    auto mi = multi_ops.find((MultiOp *)c.context);
    if (mi != multi_ops.end()) {
      MultiOp *m = *mi;
      if (c.err && !m->err) m->err = c.err, m->uet_rc = c.uet_rc;
      if (--m->remaining) return;
      multi_ops.erase(mi);
      Completion whole;
      whole.context = m->context;
      whole.flags = m->flags;
      whole.err = m->err;
      whole.uet_rc = m->uet_rc;
      whole.report = m->report || m->err;
      delete m;
      tx_done(whole);
      return;
    }
  }
  uint64_t f = c.flags;
  SuCntr *cn = (f & FI_READ) ? c_read : (f & (FI_WRITE)) ? c_write : c_send;
  if ((f & FI_ATOMIC) && !(f & FI_READ)) cn = c_write;
  bump(cn, c.err);
  if (!txcq) return;
  if (!c.err && !c.report) return;
  CqEntry e;
  e.e.op_context = c.context;
  e.e.flags = f;
  e.err = c.err;
  e.prov_errno = c.uet_rc;
  txcq->push(e);
}

void SuEp::rx_done(const Completion &c) {
  bump(c_recv, c.err);
  if (!rxcq) return;
  CqEntry e;
  e.e.op_context = c.context;
  e.e.flags = c.flags;
  e.e.len = c.len;
  e.e.buf = c.buf;
  e.e.data = c.data;
  e.e.tag = c.tag;
  e.src = src_of(c);
  e.err = c.err;
  e.prov_errno = c.uet_rc;
  e.olen = c.olen;
  rxcq->push(e);
}

void SuEp::remote_done(uint64_t flags, const Completion &c) {
  bump((flags & FI_REMOTE_WRITE) ? c_rwrite : c_rread, 0);
  if (!(flags & FI_REMOTE_CQ_DATA) || !rxcq) return;
  CqEntry e;
  e.e.flags = flags;
  e.e.len = c.len;
  e.e.data = c.data;
  e.src = src_of(c);
  rxcq->push(e);
}

bool SuEp::find_mr(uint64_t key, MrView &out) {
  auto it = dom->mrs.find(key);
  if (it == dom->mrs.end()) return false;
  SuMr *m = it->second;
  out.ptr = m->ptr;
  out.base = m->base;
  out.len = m->len;
  out.access = m->access;
  return true;
}

// ------------------------------------------------------------------ lifecycle
namespace {
// Like TCP's TIME_WAIT: the last ACK/response this endpoint sent may be lost, and the
// initiator then asks again (CP ACK_REQ or a resend). Keep answering until the peer is
// quiet for kLingerQuietMs (at most kLingerMaxMs), so a peer's final operation does not
// fail just because this process closed first.
constexpr uint64_t kLingerQuietMs = 60, kLingerMaxMs = 1000;

void linger(SuEp *ep) {
  const char *v = getenv("FI_SOFTUET_LINGER_MS");
  uint64_t quiet = v ? strtoull(v, nullptr, 10) : kLingerQuietMs;
  if (!quiet) return;
  uint64_t start = Engine::now_ns() / 1000000, last = start;
  for (;;) {
    uint64_t now = Engine::now_ns() / 1000000;
    if (now - last >= quiet || now - start >= kLingerMaxMs) return;
    {
      std::lock_guard<std::mutex> g(ep->dom->mu);
      if (!ep->eng || !ep->eng->has_targets()) return;
      if (ep->eng->poll_rx(64) > 0) last = now;
      ep->eng->on_timer(Engine::now_ns());
    }
    usleep(2000);
  }
}

int ep_close(fid *f) {
  SuEp *ep = EPF(f);
  SuDomain *d = ep->dom;
  if (ep->enabled) linger(ep);
  {
    std::lock_guard<std::mutex> g(d->mu);
    if (ep->enabled) epoll_ctl(d->epfd, EPOLL_CTL_DEL, ep->sock.fd(), nullptr);
    for (SuCq *c : {ep->txcq, ep->rxcq})
      if (c) c->unwatch(ep);
    for (size_t i = 0; i < d->eps.size(); i++)
      if (d->eps[i] == ep) {
        d->eps.erase(d->eps.begin() + i);
        break;
      }
    delete ep->eng;
    ep->eng = nullptr;
  }
  for (SuCq *c : {ep->txcq, ep->rxcq})
    if (c) c->refs--;
  for (SuCntr *c : {ep->c_send, ep->c_recv, ep->c_read, ep->c_write, ep->c_rread, ep->c_rwrite})
    if (c) c->refs--;
  if (ep->av) ep->av->refs--;
  d->refs--;
  delete ep;
  return 0;
}

int ep_bind(fid *f, fid *b, uint64_t flags) {
  SuEp *ep = EPF(f);
  if (ep->enabled) return -FI_EOPBADSTATE;
  switch (b->fclass) {
    case FI_CLASS_CQ: {
      auto *c = reinterpret_cast<SuCq *>(b);
      if (c->dom != ep->dom) return -FI_EINVAL;
      if (flags & FI_TRANSMIT) {
        if (ep->txcq) return -FI_EINVAL;
        ep->txcq = c;
        c->refs++;
        ep->tx_selective = flags & FI_SELECTIVE_COMPLETION;
      }
      if (flags & FI_RECV) {
        if (ep->rxcq) return -FI_EINVAL;
        ep->rxcq = c;
        c->refs++;
        ep->rx_selective = flags & FI_SELECTIVE_COMPLETION;
      }
      return 0;
    }
    case FI_CLASS_CNTR: {
      auto *c = reinterpret_cast<SuCntr *>(b);
      auto set = [&](SuCntr *&slot) {
        if (!slot) {
          slot = c;
          c->refs++;
        }
      };
      if (flags & FI_SEND) set(ep->c_send);
      if (flags & FI_RECV) set(ep->c_recv);
      if (flags & FI_READ) set(ep->c_read);
      if (flags & FI_WRITE) set(ep->c_write);
      if (flags & FI_REMOTE_READ) set(ep->c_rread);
      if (flags & FI_REMOTE_WRITE) set(ep->c_rwrite);
      return 0;
    }
    case FI_CLASS_AV: {
      if (ep->av) return -FI_EINVAL;
      ep->av = reinterpret_cast<SuAv *>(b);
      ep->av->refs++;
      return 0;
    }
    case FI_CLASS_EQ:
      return 0;
    default:
      return -FI_EINVAL;
  }
}

int ep_enable(SuEp *ep) {
  SuDomain *d = ep->dom;
  std::lock_guard<std::mutex> g(d->mu);
  if (ep->enabled) return 0;
  if (!ep->txcq && !ep->rxcq && !ep->c_send && !ep->c_recv) return -FI_ENOCQ;
  if (ep->sock.fd() < 0) {
    const char *pb = getenv("FI_SOFTUET_PORT_BASE");
    uint16_t base = pb ? (uint16_t)atoi(pb) : 4793;
    int r = ep->sock.open(ep->want, base);
    if (r) return -FI_EADDRINUSE;
  }
  ep->sock.set_faults(d->faults);
  if (ep->tclass) {
    // The traffic class travels as DSCP in the IP header of every packet.
    int tos = ep->dscp << 2;
    if (setsockopt(ep->sock.fd(), IPPROTO_IP, IP_TOS, &tos, sizeof tos)) return -FI_EINVAL;
  }
  EngineConfig cfg = EngineConfig::from_env(&ep->want, &ep->own);
  cfg.dgram = ep->type == FI_EP_DGRAM;
  // EV sockets for per-packet entropy on RUD PDCs; without them (none wanted, ROD or
  // DGRAM endpoint, no descriptors left) every packet leaves from the endpoint's port.
  if (cfg.ev_mode && cfg.ev_paths > 1 && !cfg.dgram && !ep->rod && ep->sock.ev_slots() == 0)
    ep->sock.open_ev_pool((int)cfg.ev_paths, ep->tclass ? ep->dscp << 2 : 0);
  ep->eng = new Engine(ep, &ep->sock, cfg);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = ep;
  epoll_ctl(d->epfd, EPOLL_CTL_ADD, ep->sock.fd(), &ev);
  d->eps.push_back(ep);
  ep->enabled = true;
  return 0;
}

int ep_control(fid *f, int cmd, void *arg) {
  SuEp *ep = EPF(f);
  switch (cmd) {
    case FI_ENABLE: return ep_enable(ep);
    case FI_GETOPSFLAG: {
      uint64_t *fl = (uint64_t *)arg;
      *fl = (*fl & FI_RECV) ? ep->rx_flags : ep->tx_flags;
      return 0;
    }
    case FI_SETOPSFLAG: {
      uint64_t fl = *(uint64_t *)arg;
      if (fl & FI_RECV) ep->rx_flags = fl & ~(uint64_t)(FI_RECV | FI_TRANSMIT);
      else ep->tx_flags = fl & ~(uint64_t)(FI_RECV | FI_TRANSMIT);
      return 0;
    }
    default: return -FI_ENOSYS;
  }
}

ssize_t ep_cancel(fid_t f, void *ctx) {
  SuEp *ep = EPF(f);
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (!ep->eng) return -FI_ENOENT;
  return ep->eng->cancel(ctx) ? 0 : -FI_ENOENT;
}

// What the endpoint's engine runs with, or would if it were enabled now.
EngineConfig effective_config(SuEp *ep) {
  return ep->eng ? ep->eng->config() : EngineConfig::from_env(&ep->want, &ep->own);
}

int ep_getopt(fid_t f, int level, int name, void *val, size_t *len) {
  if (level != FI_OPT_ENDPOINT) return -FI_ENOPROTOOPT;
  if (name == FI_OPT_SOFTUET_MTU || name == FI_OPT_SOFTUET_CC) {
    SuEp *ep = EPF(f);
    const size_t need = name == FI_OPT_SOFTUET_MTU ? sizeof(size_t) : sizeof(int);
    if (!val || !len || *len < need) return -FI_ETOOSMALL;
    std::lock_guard<std::mutex> g(ep->dom->mu);
    EngineConfig c = effective_config(ep);
    if (name == FI_OPT_SOFTUET_MTU) *(size_t *)val = c.mtu;
    else *(int *)val = (c.nscc ? FI_SOFTUET_CC_NSCC : 0) | (c.rccc ? FI_SOFTUET_CC_RCCC : 0);
    *len = need;
    return 0;
  }
  if (name == FI_OPT_MIN_MULTI_RECV) {
    if (*len < sizeof(size_t)) return -FI_ETOOSMALL;
    *(size_t *)val = EPF(f)->min_multi_recv;
    *len = sizeof(size_t);
    return 0;
  }
  if (name == FI_OPT_CM_DATA_SIZE) {
    if (*len < sizeof(size_t)) return -FI_ETOOSMALL;
    *(size_t *)val = 0;
    *len = sizeof(size_t);
    return 0;
  }
  return -FI_ENOPROTOOPT;
}

int ep_setopt(fid_t f, int level, int name, const void *val, size_t len) {
  if (level != FI_OPT_ENDPOINT) return -FI_ENOPROTOOPT;
  if (name == FI_OPT_MIN_MULTI_RECV) {
    if (len != sizeof(size_t) || !val) return -FI_EINVAL;
    std::lock_guard<std::mutex> g(EPF(f)->dom->mu);
    EPF(f)->min_multi_recv = *(const size_t *)val;
    return 0;
  }
  if (name == FI_OPT_SOFTUET_MTU || name == FI_OPT_SOFTUET_CC) {
    SuEp *ep = EPF(f);
    std::lock_guard<std::mutex> g(ep->dom->mu);
    // The engine, its PDC windows and its packet pools are sized from both when it is made.
    if (ep->enabled) return -FI_EOPBADSTATE;
    if (name == FI_OPT_SOFTUET_MTU) {
      if (len != sizeof(size_t) || !val) return -FI_EINVAL;
      size_t m = *(const size_t *)val;
      if (m && (m < 256 || m > kMaxMtu)) return -FI_EINVAL;
      ep->own.mtu = m;
    } else {
      if (len != sizeof(int) || !val) return -FI_EINVAL;
      int cc = *(const int *)val;
      if (cc & ~(FI_SOFTUET_CC_NSCC | FI_SOFTUET_CC_RCCC)) return -FI_EINVAL;
      ep->own.nscc = (cc & FI_SOFTUET_CC_NSCC) != 0;
      ep->own.rccc = (cc & FI_SOFTUET_CC_RCCC) != 0;
    }
    return 0;
  }
  return -FI_ENOPROTOOPT;
}

ssize_t ep_size_left(fid_ep *) { return 4096; }

int ep_getname(fid_t f, void *addr, size_t *addrlen) {
  SuEp *ep = EPF(f);
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (ep->sock.fd() < 0) {
    const char *pb = getenv("FI_SOFTUET_PORT_BASE");
    uint16_t base = pb ? (uint16_t)atoi(pb) : 4793;
    if (ep->sock.open(ep->want, base)) return -FI_EADDRINUSE;
  }
  sockaddr_in s = ep->sock.local();
  size_t n = std::min(*addrlen, sizeof s);
  if (addr) memcpy(addr, &s, n);
  bool small = *addrlen < sizeof s;
  *addrlen = sizeof s;
  return small ? -FI_ETOOSMALL : 0;
}

int ep_setname(fid_t f, void *addr, size_t addrlen) {
  SuEp *ep = EPF(f);
  if (addrlen < sizeof(sockaddr_in) || ((sockaddr *)addr)->sa_family != AF_INET) return -FI_EINVAL;
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (ep->enabled || ep->sock.fd() >= 0) return -FI_EOPBADSTATE;
  memcpy(&ep->want, addr, sizeof ep->want);
  return 0;
}

// ------------------------------------------------------------------ data path helpers
bool peer_of(SuEp *ep, fi_addr_t a, sockaddr_in &out) { return ep->av && ep->av->lookup(a, out); }

size_t iov_total(const iovec *iov, size_t count) {
  size_t total = 0;
  for (size_t i = 0; i < count; i++) total += iov[i].iov_len;
  return total;
}

// Points the op at the caller's buffers, or copies them when the caller may reuse them
// as soon as the call returns (inject).
void set_local(TxOp *op, const iovec *iov, size_t count, size_t total, bool copy) {
  if (copy) {
    op->owned.resize(total);
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
      memcpy(op->owned.data() + o, iov[i].iov_base, iov[i].iov_len);
      o += iov[i].iov_len;
    }
    op->local.add(op->owned.data(), total);
  } else {
    for (size_t i = 0; i < count; i++)
      if (iov[i].iov_len) op->local.add(iov[i].iov_base, iov[i].iov_len);
  }
}

// After a post: one made with FI_MORE leaves its packets queued for the posts that
// follow (should none follow, the next progress call sends them); otherwise a progress
// thread asleep is woken for the new work.
void posted(SuEp *ep, bool more) {
  if (more) ep->dom->tx_deferred.store(true, std::memory_order_relaxed);
  else ep->dom->kick();
}

// Hands the op to the engine, which owns it from then on; a refused op is freed here.
int submit(SuEp *ep, TxOp *op) {
  const bool more = op->more;
  int r = ep->eng->post(op);
  if (r) delete op;
  else posted(ep, more);
  return r;
}

ssize_t do_send(SuEp *ep, const iovec *iov, size_t count, fi_addr_t dest, void *ctx, uint64_t flags, bool has_data,
                uint64_t data, bool tagged, uint64_t tag, bool inject) {
  if (count > 4) return -FI_EINVAL;
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (!ep->eng) return -FI_EOPBADSTATE;
  sockaddr_in peer;
  if (!peer_of(ep, dest, peer)) return -FI_EINVAL;
  const size_t total = iov_total(iov, count);
  const bool copy = inject || (flags & FI_INJECT);
  if (total > (1u << 30) || (copy && total > ep->inject_size) ||
      (ep->type == FI_EP_DGRAM && total > ep->eng->config().mtu))
    return -FI_EMSGSIZE;
  auto *op = new TxOp;
  op->peer = peer;
  op->kind = ep->type == FI_EP_DGRAM ? OpKind::DGRAM : tagged ? OpKind::TSEND : OpKind::SEND;
  op->rod = ep->rod;
  op->tc = ep->dscp;
  op->context = ctx;
  op->cq_flags = FI_SEND | (tagged ? FI_TAGGED : FI_MSG);
  op->completion = !inject && (!ep->tx_selective || (flags & FI_COMPLETION));
  op->more = flags & FI_MORE;
  op->has_data = has_data;
  op->data = data;
  op->tag = tag;
  op->length = (uint32_t)total;
  set_local(op, iov, count, total, copy);
  return submit(ep, op);
}

ssize_t do_recv(SuEp *ep, const iovec *iov, size_t count, fi_addr_t src, void *ctx, uint64_t flags, bool tagged,
                uint64_t tag, uint64_t ignore) {
  if (count > 4) return -FI_EINVAL;
  bool multi = flags & FI_MULTI_RECV;
  if (multi && (tagged || ep->type != FI_EP_RDM)) return -FI_EOPNOTSUPP;
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (!ep->eng) return -FI_EOPBADSTATE;
  auto *r = new RecvEntry;
  if (multi) {
    r->multi = std::make_shared<MultiRecv>();
    r->multi->min_free = ep->min_multi_recv;
  }
  r->context = ctx;
  r->tagged = tagged;
  r->tag = tag;
  r->ignore = ignore;
  r->flags = flags;
  if (src != FI_ADDR_UNSPEC && (ep->caps & FI_DIRECTED_RECV)) {
    if (!peer_of(ep, src, r->src)) {
      delete r;
      return -FI_EINVAL;
    }
    r->any_src = false;
  }
  for (size_t i = 0; i < count; i++)
    if (iov[i].iov_len) r->iov.add(iov[i].iov_base, iov[i].iov_len);
  ep->eng->post_recv(r);
  return 0;
}

ssize_t do_rma(SuEp *ep, OpKind kind, const iovec *iov, size_t count, fi_addr_t dest, uint64_t addr, uint64_t key,
               void *ctx, uint64_t flags, bool has_data, uint64_t data, bool inject) {
  if (count > 4) return -FI_EINVAL;
  if (ep->type != FI_EP_RDM) return -FI_EOPNOTSUPP;
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (!ep->eng) return -FI_EOPBADSTATE;
  sockaddr_in peer;
  if (!peer_of(ep, dest, peer)) return -FI_EINVAL;
  const size_t total = iov_total(iov, count);
  if (total > (1u << 30)) return -FI_EMSGSIZE;
  auto *op = new TxOp;
  op->peer = peer;
  op->kind = kind;
  op->rod = ep->rod;
  op->tc = ep->dscp;
  op->context = ctx;
  op->cq_flags = FI_RMA | (kind == OpKind::READ ? FI_READ : FI_WRITE);
  op->completion = !inject && (!ep->tx_selective || (flags & FI_COMPLETION));
  op->more = flags & FI_MORE;
  op->remote_addr = addr;
  op->key = key;
  op->has_data = has_data;
  op->data = data;
  op->length = (uint32_t)total;
  set_local(op, iov, count, total, inject || (flags & FI_INJECT));
  return submit(ep, op);
}

// fi_writemsg / fi_readmsg: several remote segments map to one engine operation each
// over the matching slice of the local iov, joined into one completion (the parts
// complete in any order). CQ data goes with the last segment, so the target reports
// the message once its last part landed.
ssize_t do_rma_msg(SuEp *ep, OpKind kind, const fi_msg_rma *m, uint64_t flags, bool has_data) {
  if (!m || m->iov_count > 4 || m->rma_iov_count > 4 || m->rma_iov_count == 0) return -FI_EINVAL;
  if (m->rma_iov_count == 1)
    return do_rma(ep, kind, m->msg_iov, m->iov_count, m->addr, m->rma_iov[0].addr, m->rma_iov[0].key, m->context,
                  flags, has_data, m->data, false);
  if (ep->type != FI_EP_RDM) return -FI_EOPNOTSUPP;
  IoList local;
  for (size_t i = 0; i < m->iov_count; i++) local.add(m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
  size_t remote = 0;
  for (size_t i = 0; i < m->rma_iov_count; i++) remote += m->rma_iov[i].len;
  if (remote != local.total) return -FI_EINVAL;
  if (remote > (1u << 30)) return -FI_EMSGSIZE;
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (!ep->eng) return -FI_EOPBADSTATE;
  sockaddr_in peer;
  if (!peer_of(ep, m->addr, peer)) return -FI_EINVAL;
  bool inject = kind == OpKind::WRITE && (flags & FI_INJECT);
  auto *mo = new SuEp::MultiOp;
  mo->context = m->context;
  mo->flags = FI_RMA | (kind == OpKind::READ ? FI_READ : FI_WRITE);
  mo->report = !inject && (!ep->tx_selective || (flags & FI_COMPLETION));
  mo->remaining = (uint32_t)m->rma_iov_count;
  ep->multi_ops.insert(mo);
  size_t off = 0;
  for (size_t i = 0; i < m->rma_iov_count; i++) {
    auto *op = new TxOp;
    op->peer = peer;
    op->kind = kind;
    op->rod = ep->rod;
    op->tc = ep->dscp;
    op->context = mo;
    op->cq_flags = mo->flags;
    op->remote_addr = m->rma_iov[i].addr;
    op->key = m->rma_iov[i].key;
    size_t len = m->rma_iov[i].len;
    op->length = (uint32_t)len;
    if (has_data && i + 1 == m->rma_iov_count) {
      op->has_data = true;
      op->data = m->data;
    }
    if (inject) {
      op->owned.resize(len);
      local.copy_out(off, op->owned.data(), len);
      op->local.add(op->owned.data(), len);
    } else {
      iovec v[IoList::kMax];
      int k = local.slice(off, len, v, IoList::kMax);
      for (int j = 0; j < k; j++) op->local.add(v[j].iov_base, v[j].iov_len);
    }
    off += len;
    op->more = i + 1 < m->rma_iov_count || (flags & FI_MORE);
    int r = ep->eng->post(op);
    if (r) {
      delete op;
      ep->eng->flush();  // the parts posted before wait for no more
      // Parts already posted finish on their own; the whole reports this failure.
      mo->remaining -= (uint32_t)(m->rma_iov_count - i);
      if (!mo->remaining) {
        ep->multi_ops.erase(mo);
        delete mo;
        return r;
      }
      mo->err = -r;
      break;
    }
  }
  posted(ep, flags & FI_MORE);
  return 0;
}

ssize_t do_atomic(SuEp *ep, const void *buf, size_t count, const void *compare, void *result, fi_addr_t dest,
                  uint64_t addr, uint64_t key, fi_datatype dt, fi_op fop, void *ctx, uint64_t flags, bool fetch,
                  bool inject, const fi_ioc *resultv = nullptr, size_t rcount = 0) {
  if (ep->type != FI_EP_RDM) return -FI_EOPNOTSUPP;
  uint8_t op8, dt8;
  if (!amo_from_fi(fop, dt, op8, dt8)) return -FI_EOPNOTSUPP;
  bool cmp = amo_is_cswap(op8);
  if (cmp && op8 != AMO_MSWAP && !compare) return -FI_EINVAL;
  if (op8 == AMO_MSWAP && !compare) return -FI_EINVAL;
  if (!fetch && (op8 == AMO_READ || (cmp && !result))) return -FI_EINVAL;
  if (fetch && !result) return -FI_EINVAL;
  size_t es = amo_size(dt8);
  if (count == 0) return -FI_EINVAL;
  std::lock_guard<std::mutex> g(ep->dom->mu);
  if (!ep->eng) return -FI_EOPBADSTATE;
  size_t bytes = count * es;
  if (bytes * (cmp ? 2 : 1) > ep->eng->config().mtu) return -FI_EMSGSIZE;
  auto *op = new TxOp;
  if (!peer_of(ep, dest, op->peer)) {
    delete op;
    return -FI_EINVAL;
  }
  op->kind = fetch ? OpKind::FETCH_ATOMIC : OpKind::ATOMIC;
  op->rod = ep->rod;
  op->tc = ep->dscp;
  op->context = ctx;
  op->cq_flags = FI_ATOMIC | (fetch ? FI_READ : FI_WRITE);
  op->completion = !inject && (!ep->tx_selective || (flags & FI_COMPLETION));
  op->more = flags & FI_MORE;
  op->remote_addr = addr;
  op->key = key;
  op->amo_op = op8;
  op->amo_dt = dt8;
  op->amo_count = (uint32_t)count;
  op->length = (uint32_t)bytes;
  if (op8 != AMO_READ) {
    op->owned.resize(bytes * (cmp ? 2 : 1));
    memcpy(op->owned.data(), buf, bytes);
    if (cmp) memcpy(op->owned.data() + bytes, compare, bytes);
  }
  if (fetch) op->result.add(result, bytes);
  if (fetch && resultv) {
    op->result = IoList();
    for (size_t i = 0; i < rcount; i++) op->result.add(resultv[i].addr, resultv[i].count * es);
    if (op->result.total != bytes) {
      delete op;
      return -FI_EINVAL;
    }
  }
  return submit(ep, op);
}

// ------------------------------------------------------------------ msg
ssize_t m_recv(fid_ep *e, void *buf, size_t len, void *desc, fi_addr_t src, void *ctx) {
  iovec v{buf, len};
  return do_recv(EP(e), &v, 1, src, ctx, EP(e)->rx_flags, false, 0, 0);
}
ssize_t m_recvv(fid_ep *e, const iovec *iov, void **desc, size_t count, fi_addr_t src, void *ctx) {
  return do_recv(EP(e), iov, count, src, ctx, EP(e)->rx_flags, false, 0, 0);
}
ssize_t m_recvmsg(fid_ep *e, const fi_msg *m, uint64_t flags) {
  return do_recv(EP(e), m->msg_iov, m->iov_count, m->addr, m->context, flags, false, 0, 0);
}
ssize_t m_send(fid_ep *e, const void *buf, size_t len, void *desc, fi_addr_t dest, void *ctx) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, ctx, EP(e)->tx_flags, false, 0, false, 0, false);
}
ssize_t m_sendv(fid_ep *e, const iovec *iov, void **desc, size_t count, fi_addr_t dest, void *ctx) {
  return do_send(EP(e), iov, count, dest, ctx, EP(e)->tx_flags, false, 0, false, 0, false);
}
ssize_t m_sendmsg(fid_ep *e, const fi_msg *m, uint64_t flags) {
  return do_send(EP(e), m->msg_iov, m->iov_count, m->addr, m->context, flags, flags & FI_REMOTE_CQ_DATA, m->data,
                 false, 0, false);
}
ssize_t m_inject(fid_ep *e, const void *buf, size_t len, fi_addr_t dest) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, nullptr, 0, false, 0, false, 0, true);
}
ssize_t m_senddata(fid_ep *e, const void *buf, size_t len, void *desc, uint64_t data, fi_addr_t dest, void *ctx) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, ctx, EP(e)->tx_flags, true, data, false, 0, false);
}
ssize_t m_injectdata(fid_ep *e, const void *buf, size_t len, uint64_t data, fi_addr_t dest) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, nullptr, 0, true, data, false, 0, true);
}

// ------------------------------------------------------------------ tagged
ssize_t t_recv(fid_ep *e, void *buf, size_t len, void *desc, fi_addr_t src, uint64_t tag, uint64_t ignore,
               void *ctx) {
  iovec v{buf, len};
  return do_recv(EP(e), &v, 1, src, ctx, EP(e)->rx_flags, true, tag, ignore);
}
ssize_t t_recvv(fid_ep *e, const iovec *iov, void **desc, size_t count, fi_addr_t src, uint64_t tag,
                uint64_t ignore, void *ctx) {
  return do_recv(EP(e), iov, count, src, ctx, EP(e)->rx_flags, true, tag, ignore);
}
ssize_t t_recvmsg(fid_ep *e, const fi_msg_tagged *m, uint64_t flags) {
  if (flags & (FI_PEEK | FI_CLAIM)) return -FI_EOPNOTSUPP;
  return do_recv(EP(e), m->msg_iov, m->iov_count, m->addr, m->context, flags, true, m->tag, m->ignore);
}
ssize_t t_send(fid_ep *e, const void *buf, size_t len, void *desc, fi_addr_t dest, uint64_t tag, void *ctx) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, ctx, EP(e)->tx_flags, false, 0, true, tag, false);
}
ssize_t t_sendv(fid_ep *e, const iovec *iov, void **desc, size_t count, fi_addr_t dest, uint64_t tag, void *ctx) {
  return do_send(EP(e), iov, count, dest, ctx, EP(e)->tx_flags, false, 0, true, tag, false);
}
ssize_t t_sendmsg(fid_ep *e, const fi_msg_tagged *m, uint64_t flags) {
  return do_send(EP(e), m->msg_iov, m->iov_count, m->addr, m->context, flags, flags & FI_REMOTE_CQ_DATA, m->data,
                 true, m->tag, false);
}
ssize_t t_inject(fid_ep *e, const void *buf, size_t len, fi_addr_t dest, uint64_t tag) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, nullptr, 0, false, 0, true, tag, true);
}
ssize_t t_senddata(fid_ep *e, const void *buf, size_t len, void *desc, uint64_t data, fi_addr_t dest, uint64_t tag,
                   void *ctx) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, ctx, EP(e)->tx_flags, true, data, true, tag, false);
}
ssize_t t_injectdata(fid_ep *e, const void *buf, size_t len, uint64_t data, fi_addr_t dest, uint64_t tag) {
  iovec v{(void *)buf, len};
  return do_send(EP(e), &v, 1, dest, nullptr, 0, true, data, true, tag, true);
}

// ------------------------------------------------------------------ rma
ssize_t r_read(fid_ep *e, void *buf, size_t len, void *desc, fi_addr_t src, uint64_t addr, uint64_t key, void *ctx) {
  iovec v{buf, len};
  return do_rma(EP(e), OpKind::READ, &v, 1, src, addr, key, ctx, EP(e)->tx_flags, false, 0, false);
}
ssize_t r_readv(fid_ep *e, const iovec *iov, void **desc, size_t count, fi_addr_t src, uint64_t addr, uint64_t key,
                void *ctx) {
  return do_rma(EP(e), OpKind::READ, iov, count, src, addr, key, ctx, EP(e)->tx_flags, false, 0, false);
}
ssize_t r_readmsg(fid_ep *e, const fi_msg_rma *m, uint64_t flags) {
  return do_rma_msg(EP(e), OpKind::READ, m, flags, false);
}
ssize_t r_write(fid_ep *e, const void *buf, size_t len, void *desc, fi_addr_t dest, uint64_t addr, uint64_t key,
                void *ctx) {
  iovec v{(void *)buf, len};
  return do_rma(EP(e), OpKind::WRITE, &v, 1, dest, addr, key, ctx, EP(e)->tx_flags, false, 0, false);
}
ssize_t r_writev(fid_ep *e, const iovec *iov, void **desc, size_t count, fi_addr_t dest, uint64_t addr,
                 uint64_t key, void *ctx) {
  return do_rma(EP(e), OpKind::WRITE, iov, count, dest, addr, key, ctx, EP(e)->tx_flags, false, 0, false);
}
ssize_t r_writemsg(fid_ep *e, const fi_msg_rma *m, uint64_t flags) {
  return do_rma_msg(EP(e), OpKind::WRITE, m, flags, flags & FI_REMOTE_CQ_DATA);
}
ssize_t r_inject(fid_ep *e, const void *buf, size_t len, fi_addr_t dest, uint64_t addr, uint64_t key) {
  iovec v{(void *)buf, len};
  return do_rma(EP(e), OpKind::WRITE, &v, 1, dest, addr, key, nullptr, 0, false, 0, true);
}
ssize_t r_writedata(fid_ep *e, const void *buf, size_t len, void *desc, uint64_t data, fi_addr_t dest,
                    uint64_t addr, uint64_t key, void *ctx) {
  iovec v{(void *)buf, len};
  return do_rma(EP(e), OpKind::WRITE, &v, 1, dest, addr, key, ctx, EP(e)->tx_flags, true, data, false);
}
ssize_t r_injectdata(fid_ep *e, const void *buf, size_t len, uint64_t data, fi_addr_t dest, uint64_t addr,
                     uint64_t key) {
  iovec v{(void *)buf, len};
  return do_rma(EP(e), OpKind::WRITE, &v, 1, dest, addr, key, nullptr, 0, true, data, true);
}

// ------------------------------------------------------------------ atomics
ssize_t a_write(fid_ep *e, const void *buf, size_t count, void *desc, fi_addr_t dest, uint64_t addr, uint64_t key,
                fi_datatype dt, fi_op op, void *ctx) {
  return do_atomic(EP(e), buf, count, nullptr, nullptr, dest, addr, key, dt, op, ctx, EP(e)->tx_flags, false, false);
}
// Vector forms: the ioc lists are joined into one operand array (and one result list),
// so they become one atomic of the summed count on the contiguous remote range.
ssize_t do_atomicv(SuEp *ep, const fi_ioc *iov, size_t count, const fi_ioc *cmpv, size_t ccount, fi_ioc *resv,
                   size_t rcount, fi_addr_t dest, uint64_t addr, uint64_t key, fi_datatype dt, fi_op fop, void *ctx,
                   uint64_t flags, bool fetch) {
  uint8_t o8, d8;
  if (!amo_from_fi(fop, dt, o8, d8)) return -FI_EOPNOTSUPP;
  if (!iov || count == 0 || count > 4 || ccount > 4 || rcount > 4) return -FI_EINVAL;
  if ((fetch && (!resv || rcount == 0)) || (cmpv == nullptr) != (ccount == 0)) return -FI_EINVAL;
  size_t es = amo_size(d8);
  std::vector<uint8_t> buf, cmp;
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    if (iov[i].addr) buf.insert(buf.end(), (const uint8_t *)iov[i].addr, (const uint8_t *)iov[i].addr + iov[i].count * es);
    else if (o8 != AMO_READ && iov[i].count) return -FI_EINVAL;
    n += iov[i].count;
  }
  if (buf.size() < n * es) buf.resize(n * es);
  size_t cn = 0;
  for (size_t i = 0; i < ccount; i++) {
    if (!cmpv[i].addr) return -FI_EINVAL;
    cmp.insert(cmp.end(), (const uint8_t *)cmpv[i].addr, (const uint8_t *)cmpv[i].addr + cmpv[i].count * es);
    cn += cmpv[i].count;
  }
  if (ccount && cn != n) return -FI_EINVAL;
  return do_atomic(ep, buf.data(), n, ccount ? cmp.data() : nullptr, fetch ? resv[0].addr : nullptr, dest, addr, key,
                   dt, fop, ctx, flags, fetch, false, fetch ? resv : nullptr, rcount);
}
ssize_t a_writev(fid_ep *e, const fi_ioc *iov, void **desc, size_t count, fi_addr_t dest, uint64_t addr,
                 uint64_t key, fi_datatype dt, fi_op op, void *ctx) {
  return do_atomicv(EP(e), iov, count, nullptr, 0, nullptr, 0, dest, addr, key, dt, op, ctx, EP(e)->tx_flags, false);
}
ssize_t a_writemsg(fid_ep *e, const fi_msg_atomic *m, uint64_t flags) {
  if (m->rma_iov_count != 1) return -FI_EINVAL;
  return do_atomicv(EP(e), m->msg_iov, m->iov_count, nullptr, 0, nullptr, 0, m->addr, m->rma_iov[0].addr,
                    m->rma_iov[0].key, m->datatype, m->op, m->context, flags, false);
}
ssize_t a_inject(fid_ep *e, const void *buf, size_t count, fi_addr_t dest, uint64_t addr, uint64_t key,
                 fi_datatype dt, fi_op op) {
  return do_atomic(EP(e), buf, count, nullptr, nullptr, dest, addr, key, dt, op, nullptr, 0, false, true);
}
ssize_t a_readwrite(fid_ep *e, const void *buf, size_t count, void *desc, void *result, void *rdesc, fi_addr_t dest,
                    uint64_t addr, uint64_t key, fi_datatype dt, fi_op op, void *ctx) {
  return do_atomic(EP(e), buf, count, nullptr, result, dest, addr, key, dt, op, ctx, EP(e)->tx_flags, true, false);
}
ssize_t a_readwritev(fid_ep *e, const fi_ioc *iov, void **desc, size_t count, fi_ioc *resultv, void **rdesc,
                     size_t rcount, fi_addr_t dest, uint64_t addr, uint64_t key, fi_datatype dt, fi_op op,
                     void *ctx) {
  return do_atomicv(EP(e), iov, count, nullptr, 0, resultv, rcount, dest, addr, key, dt, op, ctx, EP(e)->tx_flags,
                    true);
}
ssize_t a_readwritemsg(fid_ep *e, const fi_msg_atomic *m, fi_ioc *resultv, void **rdesc, size_t rcount,
                       uint64_t flags) {
  if (m->rma_iov_count != 1) return -FI_EINVAL;
  return do_atomicv(EP(e), m->msg_iov, m->iov_count, nullptr, 0, resultv, rcount, m->addr, m->rma_iov[0].addr,
                    m->rma_iov[0].key, m->datatype, m->op, m->context, flags, true);
}
ssize_t a_compwrite(fid_ep *e, const void *buf, size_t count, void *desc, const void *compare, void *cdesc,
                    void *result, void *rdesc, fi_addr_t dest, uint64_t addr, uint64_t key, fi_datatype dt, fi_op op,
                    void *ctx) {
  return do_atomic(EP(e), buf, count, compare, result, dest, addr, key, dt, op, ctx, EP(e)->tx_flags, true, false);
}
ssize_t a_compwritev(fid_ep *e, const fi_ioc *iov, void **desc, size_t count, const fi_ioc *comparev, void **cdesc,
                     size_t ccount, fi_ioc *resultv, void **rdesc, size_t rcount, fi_addr_t dest, uint64_t addr,
                     uint64_t key, fi_datatype dt, fi_op op, void *ctx) {
  return do_atomicv(EP(e), iov, count, comparev, ccount, resultv, rcount, dest, addr, key, dt, op, ctx,
                    EP(e)->tx_flags, true);
}
ssize_t a_compwritemsg(fid_ep *e, const fi_msg_atomic *m, const fi_ioc *comparev, void **cdesc, size_t ccount,
                       fi_ioc *resultv, void **rdesc, size_t rcount, uint64_t flags) {
  if (m->rma_iov_count != 1) return -FI_EINVAL;
  return do_atomicv(EP(e), m->msg_iov, m->iov_count, comparev, ccount, resultv, rcount, m->addr, m->rma_iov[0].addr,
                    m->rma_iov[0].key, m->datatype, m->op, m->context, flags, true);
}
int valid_common(fid_ep *e, fi_datatype dt, fi_op op, size_t *count, bool cmp) {
  uint8_t o, d;
  if (!amo_from_fi(op, dt, o, d)) return -FI_EOPNOTSUPP;
  if (cmp != (amo_is_cswap(o))) return -FI_EOPNOTSUPP;
  size_t es = amo_size(d);
  SuEp *ep = EP(e);
  size_t mtu;
  {
    std::lock_guard<std::mutex> g(ep->dom->mu);
    mtu = effective_config(ep).mtu;
  }
  *count = mtu / es / (cmp ? 2 : 1);
  return 0;
}
int a_valid(fid_ep *e, fi_datatype dt, fi_op op, size_t *count) {
  if (op == FI_ATOMIC_READ) return -FI_EOPNOTSUPP;
  return valid_common(e, dt, op, count, false);
}
int a_fetchvalid(fid_ep *e, fi_datatype dt, fi_op op, size_t *count) { return valid_common(e, dt, op, count, false); }
int a_compvalid(fid_ep *e, fi_datatype dt, fi_op op, size_t *count) { return valid_common(e, dt, op, count, true); }

void init_ops() {
  ep_fi_ops.size = sizeof(fi_ops);
  ep_fi_ops.close = ep_close;
  ep_fi_ops.bind = ep_bind;
  ep_fi_ops.control = ep_control;
  ep_fi_ops.ops_open = enosys;
  ep_fi_ops.tostr = enosys;
  ep_fi_ops.ops_set = enosys;
  ep_ops.size = sizeof(fi_ops_ep);
  ep_ops.cancel = ep_cancel;
  ep_ops.getopt = ep_getopt;
  ep_ops.setopt = ep_setopt;
  ep_ops.tx_ctx = enosys;
  ep_ops.rx_ctx = enosys;
  ep_ops.rx_size_left = ep_size_left;
  ep_ops.tx_size_left = ep_size_left;
  cm_ops.size = sizeof(fi_ops_cm);
  cm_ops.setname = ep_setname;
  cm_ops.getname = ep_getname;
  cm_ops.getpeer = enosys;
  cm_ops.connect = enosys;
  cm_ops.listen = enosys;
  cm_ops.accept = enosys;
  cm_ops.reject = enosys;
  cm_ops.shutdown = enosys;
  cm_ops.join = enosys;
  msg_ops = {sizeof(fi_ops_msg), m_recv, m_recvv, m_recvmsg, m_send, m_sendv, m_sendmsg, m_inject, m_senddata,
             m_injectdata};
  tag_ops = {sizeof(fi_ops_tagged), t_recv, t_recvv, t_recvmsg, t_send, t_sendv, t_sendmsg, t_inject, t_senddata,
             t_injectdata};
  rma_ops = {sizeof(fi_ops_rma), r_read, r_readv, r_readmsg, r_write, r_writev, r_writemsg, r_inject, r_writedata,
             r_injectdata};
  atomic_ops.size = sizeof(fi_ops_atomic);
  atomic_ops.write = a_write;
  atomic_ops.writev = a_writev;
  atomic_ops.writemsg = a_writemsg;
  atomic_ops.inject = a_inject;
  atomic_ops.readwrite = a_readwrite;
  atomic_ops.readwritev = a_readwritev;
  atomic_ops.readwritemsg = a_readwritemsg;
  atomic_ops.compwrite = a_compwrite;
  atomic_ops.compwritev = a_compwritev;
  atomic_ops.compwritemsg = a_compwritemsg;
  atomic_ops.writevalid = a_valid;
  atomic_ops.readwritevalid = a_fetchvalid;
  atomic_ops.compwritevalid = a_compvalid;
  coll_ops.size = sizeof(fi_ops_collective);
  coll_ops.barrier = enosys;
  coll_ops.broadcast = enosys;
  coll_ops.alltoall = enosys;
  coll_ops.allreduce = enosys;
  coll_ops.allgather = enosys;
  coll_ops.reduce_scatter = enosys;
  coll_ops.reduce = enosys;
  coll_ops.scatter = enosys;
  coll_ops.gather = enosys;
  coll_ops.barrier2 = enosys;
}

// DGRAM endpoints refuse tagged/RMA/atomic calls with ENOSYS through these tables.
fi_ops_tagged dgram_tag_ops;
fi_ops_rma dgram_rma_ops;
fi_ops_atomic dgram_atomic_ops;
void init_dgram_ops() {
  dgram_tag_ops = {sizeof(fi_ops_tagged), enosys, enosys, enosys, enosys, enosys, enosys, enosys, enosys, enosys};
  dgram_rma_ops = {sizeof(fi_ops_rma), enosys, enosys, enosys, enosys, enosys, enosys, enosys, enosys, enosys};
  dgram_atomic_ops = {sizeof(fi_ops_atomic), enosys, enosys, enosys, enosys, enosys, enosys, enosys, enosys,
                      enosys, enosys, enosys, enosys, enosys};
}
}  // namespace

bool is_softuet_ep(fid_ep *e) { return e && e->fid.fclass == FI_CLASS_EP && e->fid.ops == &ep_fi_ops; }

int ep_open(fid_domain *dom, fi_info *info, fid_ep **out, void *ctx) {
  if (!info || !info->ep_attr) return -FI_EINVAL;
  static bool init = [] {
    init_ops();
    init_dgram_ops();
    return true;
  }();
  (void)init;
  fi_ep_type t = info->ep_attr->type;
  if (t != FI_EP_RDM && t != FI_EP_DGRAM) return -FI_EINVAL;
  auto *ep = new SuEp;
  ep->f.owner = ep;
  ep->dom = reinterpret_cast<SuDomain *>(dom);
  ep->type = t;
  ep->caps = info->caps ? info->caps : (FI_MSG | FI_TAGGED | FI_RMA | FI_ATOMIC | FI_DIRECTED_RECV);
  if (info->tx_attr) {
    ep->tx_flags = info->tx_attr->op_flags;
    if (info->tx_attr->inject_size) ep->inject_size = std::min(ep->inject_size, info->tx_attr->inject_size);
  }
  if (info->rx_attr) ep->rx_flags = info->rx_attr->op_flags;
  uint64_t order = (info->tx_attr ? info->tx_attr->msg_order : 0) | (info->rx_attr ? info->rx_attr->msg_order : 0);
  if (order & ~(uint64_t)(FI_ORDER_SAS | kRodMsgOrder)) {
    delete ep;
    return -FI_EINVAL;  // an ordering ROD does not give either
  }
  // RUD already matches sends in order; anything stricter needs ordered PDCs.
  ep->rod = t == FI_EP_RDM && ((order & ~(uint64_t)FI_ORDER_SAS) || rod_forced());
  if (info->tx_attr && info->tx_attr->tclass) {
    int d = dscp_of_tclass(info->tx_attr->tclass);
    if (d < 0) {
      delete ep;
      return -FI_EINVAL;
    }
    ep->tclass = info->tx_attr->tclass;
    ep->dscp = (uint8_t)d;
  }
  ep->want.sin_family = AF_INET;
  ep->want.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (info->src_addr && info->src_addrlen >= sizeof(sockaddr_in) &&
      ((sockaddr *)info->src_addr)->sa_family == AF_INET)
    memcpy(&ep->want, info->src_addr, sizeof ep->want);
  ep->e.fid.fclass = FI_CLASS_EP;
  ep->e.fid.context = ctx;
  ep->e.fid.ops = &ep_fi_ops;
  ep->e.ops = &ep_ops;
  ep->e.cm = &cm_ops;
  ep->e.msg = &msg_ops;
  ep->e.tagged = t == FI_EP_RDM ? &tag_ops : &dgram_tag_ops;
  ep->e.rma = t == FI_EP_RDM ? &rma_ops : &dgram_rma_ops;
  ep->e.atomic = t == FI_EP_RDM ? &atomic_ops : &dgram_atomic_ops;
  ep->e.collective = &coll_ops;
  ep->dom->refs++;
  *out = &ep->e;
  return 0;
}

int query_atomic(fid_domain *d, fi_datatype dt, fi_op op, fi_atomic_attr *attr, uint64_t flags) {
  uint8_t o, t;
  if (!amo_from_fi(op, dt, o, t)) return -FI_EOPNOTSUPP;
  bool cmp = flags & FI_COMPARE_ATOMIC;
  if (cmp != amo_is_cswap(o)) return -FI_EOPNOTSUPP;
  if (o == AMO_READ && !(flags & FI_FETCH_ATOMIC)) return -FI_EOPNOTSUPP;
  attr->size = amo_size(t);
  attr->count = EngineConfig::from_env().mtu / attr->size / (cmp ? 2 : 1);
  return 0;
}

// ------------------------------------------------------------------ stats extension
int ep_stats(fid_ep *e, fi_softuet_stat *out, size_t *count) {
  if (!is_softuet_ep(e) || !count || (!out && *count)) return -FI_EINVAL;
  SuEp *ep = EP(e);
  std::lock_guard<std::mutex> g(ep->dom->mu);
  static std::vector<std::string> nack_tx_names, nack_rx_names;
  static bool init = [] {
    for (int i = 0; i < 256; i++) {
      nack_tx_names.push_back(std::string("nack_tx.") + pkt::nack_name(i));
      nack_rx_names.push_back(std::string("nack_rx.") + pkt::nack_name(i));
    }
    return true;
  }();
  (void)init;
  Stats s;
  if (ep->eng) s = ep->eng->stats();
  const FaultCounters &f = ep->sock.faults;
  std::vector<fi_softuet_stat> v = {
      {"tx_pkts", s.tx_pkts},
      {"rx_pkts", s.rx_pkts},
      {"tx_bytes", s.tx_bytes},
      {"rx_bytes", s.rx_bytes},
      {"retransmits", s.retransmits},
      {"acks_tx", s.acks_tx},
      {"acks_rx", s.acks_rx},
      {"duplicates", s.duplicates},
      {"probes_tx", s.probes_tx},
      {"drops.malformed", s.drops_malformed},
      {"drops.crc", s.drops_crc},
      {"drops.unknown_pdc", s.drops_unknown_pdc},
      {"drops.no_recv", s.drops_no_recv},
      {"drops.send_error", s.drops_send_err},
      {"pdc_opened", s.pdc_opened},
      {"pdc_failed", s.pdc_failed},
      {"pdc_closed", s.pdc_closed},
      {"pdc_closed_err", s.pdc_closed_err},
      {"pdc_reopened", s.pdc_reopened},
      {"close_tx", s.close_tx},
      {"close_req_tx", s.close_req_tx},
      {"clear_tx", s.clear_tx},
      {"clear_rx", s.clear_rx},
      {"rod_ooo_drops", s.rod_ooo_drops},
      {"rod_goback", s.rod_goback},
      {"bad_job_rx", s.bad_job_rx},
      {"rod", ep->rod ? 1u : 0u},
      {"dscp", ep->tclass ? (uint64_t)ep->dscp : 0},
      {"unexpected_msgs", s.unexpected_msgs},
      {"rsp_errors_tx", s.rsp_errors_tx},
      {"fault.dropped", f.dropped},
      {"fault.duplicated", f.duplicated},
      {"fault.reordered", f.reordered},
      {"fault.corrupted", f.corrupted},
      {"cwnd", ep->eng ? ep->eng->cwnd_bytes() : 0},
      {"ev_sprayed", s.ev_sprayed},
      {"rx_src_ports", s.rx_src_ports},
      {"retx_gap", s.retx_gap},
      {"retx_rto", s.retx_rto},
      {"rx_late", s.rx_late},
      {"rx_late_max", s.rx_late_max},
      {"thread_passes", ep->dom->thread_passes.load(std::memory_order_relaxed)},
      {"thread_us", ep->dom->thread_ns.load(std::memory_order_relaxed) / 1000},
      {"handoffs", ep->dom->handoffs.load(std::memory_order_relaxed)},
  };
  uint64_t ntx = 0, nrx = 0;
  for (int i = 0; i < 256; i++) ntx += s.nack_tx[i], nrx += s.nack_rx[i];
  v.push_back({"nack_tx", ntx});
  v.push_back({"nack_rx", nrx});
  for (int i = 0; i < 256; i++) {
    if (s.nack_tx[i]) v.push_back({nack_tx_names[i].c_str(), s.nack_tx[i]});
    if (s.nack_rx[i]) v.push_back({nack_rx_names[i].c_str(), s.nack_rx[i]});
  }
  size_t n = std::min(*count, v.size());
  for (size_t i = 0; i < n; i++) out[i] = v[i];
  *count = n;
  return 0;
}

}  // namespace softuet
