// Domain (with its progress thread), MR, AV, CQ, counter and EQ objects.
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "fi_softuet.h"
#include "prov/prov.h"

namespace softuet {

namespace {
template <class T>
void fill_fi_ops(fi_ops &o, int (*close)(fid *)) {
  o.size = sizeof(fi_ops);
  o.close = close;
  o.bind = enosys;
  o.control = enosys;
  o.ops_open = enosys;
  o.tostr = enosys;
  o.ops_set = enosys;
}
uint64_t now_ms() { return Engine::now_ns() / 1000000; }
constexpr uint64_t kSreadSpinNs = 20000;
// Every this many empty inline polls in a row, fi_cq_read yields the CPU once. On a
// host with more runnable threads than CPUs the peer this reader waits for is often
// queued behind it on the same CPU; when nothing else is runnable the yield returns
// at once.
constexpr uint32_t kYieldEvery = 16;
}  // namespace

// ------------------------------------------------------------------ domain
void SuDomain::wake() {
  uint64_t one = 1;
  if (wakefd >= 0) (void)!write(wakefd, &one, sizeof one);
}

void SuDomain::flush_locked() {
  tx_deferred.store(false, std::memory_order_relaxed);
  for (SuEp *ep : eps)
    if (ep->eng) ep->eng->flush();
}

void SuDomain::progress_locked(bool timers, bool defer) {
  if (tx_deferred.load(std::memory_order_relaxed)) flush_locked();
  for (SuEp *ep : eps)
    if (ep->eng) ep->eng->poll_rx(256, !defer);
  uint64_t now = Engine::now_ns();
  if (timers || now - last_timer >= 1000000) {
    last_timer = now;
    for (SuEp *ep : eps)
      if (ep->eng) ep->eng->on_timer(now);
  }
}

namespace {
void progress_main(SuDomain *d) {
  epoll_event evs[16];
  while (!d->stop.load()) {
    if (Engine::now_ns() - d->app_poll_ns.load(std::memory_order_relaxed) < 2000000) {
      // The application is polling and progressing itself: stay off the lock and the
      // CPU. A blocking reader (sread, trywait) clears app_poll_ns and wakes us.
      pollfd pw{d->wakefd, POLLIN, 0};
      if (poll(&pw, 1, d->tx_deferred.load(std::memory_order_relaxed) ? 1 : 5) > 0) {
        uint64_t v;
        (void)!read(d->wakefd, &v, sizeof v);
      }
      if (d->tx_deferred.load(std::memory_order_relaxed)) {
        std::lock_guard<std::mutex> g(d->mu);
        if (d->tx_deferred.load(std::memory_order_relaxed)) d->flush_locked();
      }
      continue;
    }
    bool busy = false;
    uint64_t due = UINT64_MAX;
    {
      std::lock_guard<std::mutex> g(d->mu);
      for (SuEp *ep : d->eps) {
        if (ep->eng && ep->eng->busy()) busy = true;
        if (ep->eng) due = std::min(due, ep->eng->cc_due_ns());
      }
    }
    d->idle_wait.store(!busy);
    if (!busy && d->tx_deferred.load()) {
      busy = true;
      d->idle_wait.store(false);
    }
    int n;
    uint64_t now = Engine::now_ns();
    if (due < now + 1000000) {
      // RCCC grants fall due within the millisecond epoll_wait can resolve: sleep only
      // until then (ppoll on the epoll fd), so credit is not held back a whole tick.
      timespec ts{0, (long)(due > now ? due - now : 0)};
      pollfd pe{d->epfd, POLLIN, 0};
      n = ppoll(&pe, 1, &ts, nullptr) > 0 ? epoll_wait(d->epfd, evs, 16, 0) : 0;
    } else {
      n = epoll_wait(d->epfd, evs, 16, busy ? 1 : 50);
    }
    d->idle_wait.store(false);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == nullptr) {
        uint64_t v;
        (void)!read(d->wakefd, &v, sizeof v);
      }
    }
    if (d->stop.load()) break;
    std::lock_guard<std::mutex> g(d->mu);
    uint64_t t0 = Engine::now_ns();
    d->progress_locked(false);
    d->thread_passes.fetch_add(1, std::memory_order_relaxed);
    d->thread_ns.fetch_add(Engine::now_ns() - t0, std::memory_order_relaxed);
  }
}

int domain_close(fid *f) {
  auto *d = reinterpret_cast<SuDomain *>(f);
  if (d->refs.load() > 0) return -FI_EBUSY;
  d->stop = true;
  d->wake();
  if (d->prog.joinable()) d->prog.join();
  if (d->epfd >= 0) close(d->epfd);
  if (d->wakefd >= 0) close(d->wakefd);
  delete d;
  return 0;
}

fi_softuet_ops g_softuet_ops = {sizeof(fi_softuet_ops), ep_stats};

int domain_ops_open(fid *f, const char *name, uint64_t flags, void **ops, void *ctx) {
  if (!name || strcmp(name, FI_SOFTUET_OPS_NAME)) return -FI_ENOSYS;
  *ops = &g_softuet_ops;
  return 0;
}

fi_ops domain_fi_ops;
fi_ops_domain domain_ops;
fi_ops_mr mr_ops;
}  // namespace

int domain_open(fid_fabric *fab, fi_info *info, fid_domain **out, void *ctx) {
  if (!info || !info->domain_attr) return -FI_EINVAL;
  if (info->domain_attr->name && strcmp(info->domain_attr->name, "udp")) return -FI_EINVAL;
  static bool init = [] {
    fill_fi_ops<SuDomain>(domain_fi_ops, domain_close);
    domain_fi_ops.ops_open = domain_ops_open;
    domain_ops.size = sizeof(fi_ops_domain);
    domain_ops.av_open = av_open;
    domain_ops.cq_open = cq_open;
    domain_ops.endpoint = ep_open;
    domain_ops.scalable_ep = enosys;
    domain_ops.cntr_open = cntr_open;
    domain_ops.poll_open = enosys;
    domain_ops.stx_ctx = enosys;
    domain_ops.srx_ctx = enosys;
    domain_ops.query_atomic = query_atomic;
    domain_ops.query_collective = enosys;
    domain_ops.endpoint2 = enosys;
    mr_ops.size = sizeof(fi_ops_mr);
    mr_ops.reg = mr_reg;
    mr_ops.regv = mr_regv;
    mr_ops.regattr = mr_regattr;
    return true;
  }();
  (void)init;
  auto *d = new SuDomain;
  d->fab = reinterpret_cast<SuFabric *>(fab);
  d->d.fid.fclass = FI_CLASS_DOMAIN;
  d->d.fid.context = ctx;
  d->d.fid.ops = &domain_fi_ops;
  d->d.ops = &domain_ops;
  d->d.mr = &mr_ops;
  int mm = info->domain_attr->mr_mode;
  if (mm == FI_MR_BASIC) {
    d->virt_addr = d->prov_key = true;
  } else if (mm == FI_MR_SCALABLE) {
    d->virt_addr = d->prov_key = false;
  } else {
    d->virt_addr = mm & FI_MR_VIRT_ADDR;
    d->prov_key = mm & FI_MR_PROV_KEY;
  }
  d->manual = info->domain_attr->data_progress == FI_PROGRESS_MANUAL;
  d->faults = FaultConfig::from_env();
  d->epfd = epoll_create1(EPOLL_CLOEXEC);
  d->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (d->epfd < 0 || d->wakefd < 0) {
    if (d->epfd >= 0) close(d->epfd);
    if (d->wakefd >= 0) close(d->wakefd);
    delete d;
    return -FI_ENOMEM;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->wakefd, &ev);
  if (!d->manual) d->prog = std::thread(progress_main, d);
  *out = &d->d;
  return 0;
}

// ------------------------------------------------------------------ MR
namespace {
int mr_close(fid *f) {
  auto *m = reinterpret_cast<SuMr *>(f);
  {
    std::lock_guard<std::mutex> g(m->dom->mu);
    auto it = m->dom->mrs.find(m->m.key);
    if (it != m->dom->mrs.end() && it->second == m) m->dom->mrs.erase(it);
  }
  m->dom->refs--;
  delete m;
  return 0;
}
int mr_bind(fid *f, fid *b, uint64_t flags) { return 0; }
int mr_control(fid *f, int cmd, void *arg) { return cmd == FI_ENABLE ? 0 : -FI_ENOSYS; }
fi_ops mr_fi_ops;
uint64_t random_key() {
  static std::mt19937_64 rng(std::random_device{}() ^ ((uint64_t)getpid() << 32));
  uint64_t k;
  do k = rng(); while (k == 0 || k == FI_KEY_NOTAVAIL);
  return k;
}
}  // namespace

int mr_reg(fid *fid, const void *buf, size_t len, uint64_t access, uint64_t offset, uint64_t requested_key,
           uint64_t flags, fid_mr **out, void *ctx) {
  if (fid->fclass != FI_CLASS_DOMAIN) return -FI_EINVAL;
  if (!buf && len) return -FI_EINVAL;
  static bool init = [] {
    fill_fi_ops<SuMr>(mr_fi_ops, mr_close);
    mr_fi_ops.bind = mr_bind;
    mr_fi_ops.control = mr_control;
    return true;
  }();
  (void)init;
  auto *d = reinterpret_cast<SuDomain *>(fid);
  auto *m = new SuMr;
  m->dom = d;
  m->ptr = (uint8_t *)buf;
  m->len = len;
  m->access = access ? access : (FI_REMOTE_READ | FI_REMOTE_WRITE | FI_READ | FI_WRITE | FI_SEND | FI_RECV);
  m->base = d->virt_addr ? (uint64_t)(uintptr_t)buf : offset;
  m->m.fid.fclass = FI_CLASS_MR;
  m->m.fid.context = ctx;
  m->m.fid.ops = &mr_fi_ops;
  m->m.mem_desc = m;
  std::lock_guard<std::mutex> g(d->mu);
  if (d->prov_key) {
    do m->m.key = random_key(); while (d->mrs.count(m->m.key));
  } else {
    if (d->mrs.count(requested_key)) {
      delete m;
      return -FI_ENOKEY;
    }
    m->m.key = requested_key;
  }
  d->mrs[m->m.key] = m;
  d->refs++;
  *out = &m->m;
  return 0;
}

int mr_regv(fid *fid, const iovec *iov, size_t count, uint64_t access, uint64_t offset, uint64_t requested_key,
            uint64_t flags, fid_mr **mr, void *ctx) {
  if (count != 1) return -FI_EINVAL;
  return mr_reg(fid, iov[0].iov_base, iov[0].iov_len, access, offset, requested_key, flags, mr, ctx);
}

int mr_regattr(fid *fid, const fi_mr_attr *attr, uint64_t flags, fid_mr **mr) {
  if (!attr || attr->iov_count != 1) return -FI_EINVAL;
  return mr_reg(fid, attr->mr_iov[0].iov_base, attr->mr_iov[0].iov_len, attr->access, attr->offset,
                attr->requested_key, flags, mr, attr->context);
}

// ------------------------------------------------------------------ AV
namespace {
inline uint64_t skey(const sockaddr_in &s) { return (uint64_t)s.sin_addr.s_addr << 16 | s.sin_port; }

int av_close(fid *f) {
  auto *a = reinterpret_cast<SuAv *>(f);
  if (a->refs.load() > 0) return -FI_EBUSY;
  a->dom->refs--;
  delete a;
  return 0;
}

int av_insert(fid_av *av, const void *addr, size_t count, fi_addr_t *fi_addr, uint64_t flags, void *ctx) {
  auto *a = reinterpret_cast<SuAv *>(av);
  std::lock_guard<std::mutex> g(a->dom->mu);
  int ok = 0;
  for (size_t i = 0; i < count; i++) {
    sockaddr_in s;
    memcpy(&s, (const uint8_t *)addr + i * sizeof(sockaddr_in), sizeof s);
    if (s.sin_family != AF_INET) {
      if (fi_addr) fi_addr[i] = FI_ADDR_NOTAVAIL;
      continue;
    }
    fi_addr_t idx = a->addrs.size();
    a->addrs.push_back(s);
    a->valid.push_back(true);
    a->rev.emplace(skey(s), idx);
    if (fi_addr) fi_addr[i] = idx;
    ok++;
  }
  return ok;
}

int av_insertsvc(fid_av *av, const char *node, const char *service, fi_addr_t *fi_addr, uint64_t flags,
                 void *ctx) {
  if (!node || !service) return -FI_EINVAL;
  sockaddr_in s{};
  s.sin_family = AF_INET;
  if (inet_pton(AF_INET, node, &s.sin_addr) != 1) {
    if (!strcmp(node, "localhost")) s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else return -FI_EINVAL;
  }
  char *end;
  long port = strtol(service, &end, 10);
  if (*end || port < 0 || port > 65535) return -FI_EINVAL;
  s.sin_port = htons((uint16_t)port);
  return av_insert(av, &s, 1, fi_addr, flags, ctx);
}

int av_remove(fid_av *av, fi_addr_t *fi_addr, size_t count, uint64_t flags) {
  auto *a = reinterpret_cast<SuAv *>(av);
  std::lock_guard<std::mutex> g(a->dom->mu);
  for (size_t i = 0; i < count; i++) {
    fi_addr_t x = fi_addr[i];
    if (x >= a->addrs.size() || !a->valid[x]) return -FI_EINVAL;
    a->valid[x] = false;
    auto it = a->rev.find(skey(a->addrs[x]));
    if (it != a->rev.end() && it->second == x) a->rev.erase(it);
  }
  return 0;
}

int av_lookup(fid_av *av, fi_addr_t fi_addr, void *addr, size_t *addrlen) {
  auto *a = reinterpret_cast<SuAv *>(av);
  sockaddr_in s;
  {
    std::lock_guard<std::mutex> g(a->dom->mu);
    if (!a->lookup(fi_addr, s)) return -FI_EINVAL;
  }
  size_t n = std::min(*addrlen, sizeof s);
  memcpy(addr, &s, n);
  *addrlen = sizeof s;
  return 0;
}

const char *av_straddr(fid_av *av, const void *addr, char *buf, size_t *len) {
  const sockaddr_in *s = (const sockaddr_in *)addr;
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
  char tmp[64];
  int n = snprintf(tmp, sizeof tmp, "fi_sockaddr_in://%s:%u", ip, ntohs(s->sin_port));
  if (buf && *len) {
    size_t c = std::min((size_t)n + 1, *len);
    memcpy(buf, tmp, c);
    buf[c - 1] = 0;
  }
  *len = (size_t)n + 1;
  return buf;
}

fi_ops av_fi_ops;
fi_ops_av av_ops;
}  // namespace

bool SuAv::lookup(fi_addr_t x, sockaddr_in &out) const {
  if (x >= addrs.size() || !valid[x]) return false;
  out = addrs[x];
  return true;
}

fi_addr_t SuAv::reverse(const sockaddr_in &s) const {
  auto it = rev.find(skey(s));
  return it == rev.end() ? FI_ADDR_NOTAVAIL : it->second;
}

int av_open(fid_domain *dom, fi_av_attr *attr, fid_av **out, void *ctx) {
  if (!attr) return -FI_EINVAL;
  if (attr->type != FI_AV_UNSPEC && attr->type != FI_AV_MAP && attr->type != FI_AV_TABLE) return -FI_EINVAL;
  if (attr->name || (attr->flags & FI_EVENT)) return -FI_ENOSYS;
  static bool init = [] {
    fill_fi_ops<SuAv>(av_fi_ops, av_close);
    av_ops.size = sizeof(fi_ops_av);
    av_ops.insert = av_insert;
    av_ops.insertsvc = av_insertsvc;
    av_ops.insertsym = enosys;
    av_ops.remove = av_remove;
    av_ops.lookup = av_lookup;
    av_ops.straddr = av_straddr;
    av_ops.av_set = enosys;
    return true;
  }();
  (void)init;
  auto *a = new SuAv;
  a->dom = reinterpret_cast<SuDomain *>(dom);
  a->type = attr->type == FI_AV_UNSPEC ? FI_AV_TABLE : attr->type;
  attr->type = a->type;
  a->a.fid.fclass = FI_CLASS_AV;
  a->a.fid.context = ctx;
  a->a.fid.ops = &av_fi_ops;
  a->a.ops = &av_ops;
  a->dom->refs++;
  *out = &a->a;
  return 0;
}

// ------------------------------------------------------------------ CQ
void SuCq::push(const CqEntry &e) {
  q.push_back(e);
  n.store(q.size(), std::memory_order_release);
  uint64_t one = 1;
  if (efd >= 0 && !signaled) {
    signaled = true;
    (void)!write(efd, &one, sizeof one);
  }
}

// Called on every way to sleep (an idle reader's safety timer too), so the set is only
// touched when the CQ's endpoints changed (a closing endpoint takes itself out with
// unwatch, so a new one at the same address and fd is not taken for it). A socket
// already in the set is refused with EEXIST, which is harmless.
void SuCq::watch_sockets() {
  if (wfd < 0) return;
  std::vector<std::pair<SuEp *, int>> now;
  for (SuEp *ep : dom->eps)
    if (ep->enabled && (ep->txcq == this || ep->rxcq == this)) now.emplace_back(ep, ep->sock.fd());
  if (now == watched) return;
  for (auto &[ep, fd] : now) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = ep;
    epoll_ctl(wfd, EPOLL_CTL_ADD, fd, &ev);
  }
  watched.swap(now);
}

void SuCq::unwatch(SuEp *ep) {
  for (size_t i = 0; i < watched.size(); i++)
    if (watched[i].first == ep) {
      epoll_ctl(wfd, EPOLL_CTL_DEL, watched[i].second, nullptr);
      watched.erase(watched.begin() + i);
      return;
    }
}

namespace {
int cq_close(fid *f) {
  auto *c = reinterpret_cast<SuCq *>(f);
  if (c->refs.load() > 0) return -FI_EBUSY;
  if (c->wfd >= 0) close(c->wfd);
  if (c->efd >= 0) close(c->efd);
  c->dom->refs--;
  delete c;
  return 0;
}

size_t entry_size(fi_cq_format f) {
  switch (f) {
    case FI_CQ_FORMAT_CONTEXT: return sizeof(fi_cq_entry);
    case FI_CQ_FORMAT_MSG: return sizeof(fi_cq_msg_entry);
    case FI_CQ_FORMAT_DATA: return sizeof(fi_cq_data_entry);
    case FI_CQ_FORMAT_TAGGED: return sizeof(fi_cq_tagged_entry);
    default: return 0;
  }
}

ssize_t cq_readfrom(fid_cq *cq, void *buf, size_t count, fi_addr_t *src) {
  auto *c = reinterpret_cast<SuCq *>(cq);
  SuDomain *d = c->dom;
  std::unique_lock<std::mutex> g(d->mu, std::defer_lock);
  if (c->n.load(std::memory_order_acquire) == 0) {
    // Progress inline, but never wait for the lock: the progress thread has it.
    if (!g.try_lock()) return -FI_EAGAIN;
    d->app_poll_ns.store(Engine::now_ns(), std::memory_order_relaxed);
    d->progress_locked(false, true);
    if (c->q.empty()) {
      d->flush_locked();
      if (++d->empty_polls % kYieldEvery == 0) {
        // A reader spinning on nothing: let a peer sharing this CPU run and answer.
        g.unlock();
        sched_yield();
      }
      return -FI_EAGAIN;
    }
    d->empty_polls = 0;
    // Completions for the caller: what this pass queued leaves with its next post.
    // A progress thread in its long idle wait must not hold them back (seq_cst pairs
    // with its store of idle_wait before it looks at tx_deferred).
    d->tx_deferred.store(true);
    if (d->idle_wait.load()) d->wake();
  } else {
    g.lock();
  }
  if (c->q.empty()) return -FI_EAGAIN;
  if (c->q.front().err) return -FI_EAVAIL;
  size_t es = entry_size(c->fmt);
  size_t n = 0;
  while (n < count && !c->q.empty() && !c->q.front().err) {
    CqEntry &e = c->q.front();
    memcpy((uint8_t *)buf + n * es, &e.e, es);
    if (src) src[n] = e.src;
    c->q.pop_front();
    n++;
  }
  c->n.store(c->q.size(), std::memory_order_release);
  return (ssize_t)n;
}

ssize_t cq_read(fid_cq *cq, void *buf, size_t count) { return cq_readfrom(cq, buf, count, nullptr); }

ssize_t cq_readerr(fid_cq *cq, fi_cq_err_entry *buf, uint64_t flags) {
  auto *c = reinterpret_cast<SuCq *>(cq);
  std::lock_guard<std::mutex> g(c->dom->mu);
  if (c->q.empty() || !c->q.front().err) return -FI_EAGAIN;
  CqEntry e = c->q.front();
  c->q.pop_front();
  c->n.store(c->q.size(), std::memory_order_release);
  void *user_data = buf->err_data;
  size_t user_size = buf->err_data_size;
  buf->op_context = e.e.op_context;
  buf->flags = e.e.flags;
  buf->len = e.e.len;
  buf->buf = e.e.buf;
  buf->data = e.e.data;
  buf->tag = e.e.tag;
  buf->olen = e.olen;
  buf->err = e.err;
  buf->prov_errno = e.prov_errno;
  c->errtext = e.prov_errno ? pkt::rc_name((unsigned)e.prov_errno) : fi_strerror(e.err);
  if (user_size && user_data) {
    size_t n = std::min(user_size, c->errtext.size() + 1);
    memcpy(user_data, c->errtext.c_str(), n);
    ((char *)user_data)[n - 1] = 0;
    buf->err_data_size = n;
  } else {
    buf->err_data = (void *)c->errtext.c_str();
    buf->err_data_size = c->errtext.size() + 1;
  }
  return 1;
}

ssize_t cq_sreadfrom(fid_cq *cq, void *buf, size_t count, fi_addr_t *src, const void *cond, int timeout) {
  auto *c = reinterpret_cast<SuCq *>(cq);
  uint64_t deadline = timeout < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout;
  // Poll inline for a few microseconds first: an answer that is already on its way
  // then costs no sleep, no wake-up and no hand-off through the progress thread.
  uint64_t spin_end = timeout == 0 ? 0 : Engine::now_ns() + kSreadSpinNs;
  for (;;) {
    ssize_t r = cq_readfrom(cq, buf, count, src);
    if (r != -FI_EAGAIN) return r;
    if (Engine::now_ns() < spin_end) continue;
    uint64_t now = now_ms();
    if (now >= deadline) return -FI_EAGAIN;
    c->dom->hand_off();  // the thread takes over
    pollfd p{c->efd, POLLIN, 0};
    int wait = (int)std::min<uint64_t>(deadline - now, c->dom->manual ? 1 : 100);
    if (poll(&p, 1, wait) > 0) {
      std::lock_guard<std::mutex> g(c->dom->mu);
      uint64_t v;
      (void)!read(c->efd, &v, sizeof v);
      c->signaled = false;
    }
  }
}

ssize_t cq_sread(fid_cq *cq, void *buf, size_t count, const void *cond, int timeout) {
  return cq_sreadfrom(cq, buf, count, nullptr, cond, timeout);
}

int cq_signal(fid_cq *cq) {
  auto *c = reinterpret_cast<SuCq *>(cq);
  uint64_t one = 1;
  (void)!write(c->efd, &one, sizeof one);
  return 0;
}

const char *cq_strerror(fid_cq *cq, int prov_errno, const void *err_data, char *buf, size_t len) {
  const char *s = pkt::rc_name((unsigned)prov_errno);
  if (buf && len) {
    snprintf(buf, len, "%s", s);
    return buf;
  }
  return s;
}

int cq_control(fid *f, int cmd, void *arg) {
  auto *c = reinterpret_cast<SuCq *>(f);
  switch (cmd) {
    case FI_GETWAIT:
      if (c->wait == FI_WAIT_NONE) return -FI_ENODATA;
      *(int *)arg = c->wfd >= 0 ? c->wfd : c->efd;
      return 0;
    case FI_GETWAITOBJ:
      *(fi_wait_obj *)arg = c->wait == FI_WAIT_NONE ? FI_WAIT_NONE : FI_WAIT_FD;
      return 0;
    default:
      return -FI_ENOSYS;
  }
}

fi_ops cq_fi_ops;
fi_ops_cq cq_ops;
}  // namespace

int cq_open(fid_domain *dom, fi_cq_attr *attr, fid_cq **out, void *ctx) {
  if (!attr) return -FI_EINVAL;
  fi_cq_format fmt = attr->format == FI_CQ_FORMAT_UNSPEC ? FI_CQ_FORMAT_CONTEXT : attr->format;
  if (!entry_size(fmt)) return -FI_ENOSYS;
  if (attr->wait_obj != FI_WAIT_NONE && attr->wait_obj != FI_WAIT_UNSPEC && attr->wait_obj != FI_WAIT_FD)
    return -FI_ENOSYS;
  static bool init = [] {
    fill_fi_ops<SuCq>(cq_fi_ops, cq_close);
    cq_fi_ops.control = cq_control;
    cq_ops.size = sizeof(fi_ops_cq);
    cq_ops.read = cq_read;
    cq_ops.readfrom = cq_readfrom;
    cq_ops.readerr = cq_readerr;
    cq_ops.sread = cq_sread;
    cq_ops.sreadfrom = cq_sreadfrom;
    cq_ops.signal = cq_signal;
    cq_ops.strerror = cq_strerror;
    return true;
  }();
  (void)init;
  auto *c = new SuCq;
  c->dom = reinterpret_cast<SuDomain *>(dom);
  c->fmt = fmt;
  c->wait = attr->wait_obj == FI_WAIT_UNSPEC ? FI_WAIT_FD : attr->wait_obj;
  c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (c->efd < 0) {
    delete c;
    return -FI_ENOMEM;
  }
  if (c->wait != FI_WAIT_NONE) {
    c->wfd = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    if (c->wfd >= 0 && epoll_ctl(c->wfd, EPOLL_CTL_ADD, c->efd, &ev)) {
      close(c->wfd);
      c->wfd = -1;
    }
  }
  c->c.fid.fclass = FI_CLASS_CQ;
  c->c.fid.context = ctx;
  c->c.fid.ops = &cq_fi_ops;
  c->c.ops = &cq_ops;
  c->dom->refs++;
  *out = &c->c;
  return 0;
}

// ------------------------------------------------------------------ counters
namespace {
int cntr_close(fid *f) {
  auto *c = reinterpret_cast<SuCntr *>(f);
  if (c->refs.load() > 0) return -FI_EBUSY;
  c->dom->refs--;
  delete c;
  return 0;
}
uint64_t cntr_read(fid_cntr *f) {
  auto *c = reinterpret_cast<SuCntr *>(f);
  if (c->dom->manual) {
    std::lock_guard<std::mutex> g(c->dom->mu);
    c->dom->progress_locked(true);
  }
  return c->val.load();
}
uint64_t cntr_readerr(fid_cntr *f) { return reinterpret_cast<SuCntr *>(f)->err.load(); }
int cntr_add(fid_cntr *f, uint64_t v) { reinterpret_cast<SuCntr *>(f)->val += v; return 0; }
int cntr_set(fid_cntr *f, uint64_t v) { reinterpret_cast<SuCntr *>(f)->val = v; return 0; }
int cntr_adderr(fid_cntr *f, uint64_t v) { reinterpret_cast<SuCntr *>(f)->err += v; return 0; }
int cntr_seterr(fid_cntr *f, uint64_t v) { reinterpret_cast<SuCntr *>(f)->err = v; return 0; }
int cntr_wait(fid_cntr *f, uint64_t threshold, int timeout) {
  auto *c = reinterpret_cast<SuCntr *>(f);
  uint64_t deadline = timeout < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout;
  uint64_t err0 = c->err.load();
  for (;;) {
    if (c->val.load() >= threshold) return 0;
    if (c->err.load() != err0) return -FI_EAVAIL;
    if (now_ms() >= deadline) return -FI_ETIMEDOUT;
    if (c->dom->manual) {
      std::lock_guard<std::mutex> g(c->dom->mu);
      c->dom->progress_locked(false);
    }
    usleep(200);
  }
}
fi_ops cntr_fi_ops;
fi_ops_cntr cntr_ops;
}  // namespace

int cntr_open(fid_domain *dom, fi_cntr_attr *attr, fid_cntr **out, void *ctx) {
  if (attr && attr->events != FI_CNTR_EVENTS_COMP) return -FI_ENOSYS;
  if (attr && attr->wait_obj != FI_WAIT_NONE && attr->wait_obj != FI_WAIT_UNSPEC) return -FI_ENOSYS;
  static bool init = [] {
    fill_fi_ops<SuCntr>(cntr_fi_ops, cntr_close);
    cntr_ops.size = sizeof(fi_ops_cntr);
    cntr_ops.read = cntr_read;
    cntr_ops.readerr = cntr_readerr;
    cntr_ops.add = cntr_add;
    cntr_ops.set = cntr_set;
    cntr_ops.wait = cntr_wait;
    cntr_ops.adderr = cntr_adderr;
    cntr_ops.seterr = cntr_seterr;
    return true;
  }();
  (void)init;
  auto *c = new SuCntr;
  c->dom = reinterpret_cast<SuDomain *>(dom);
  c->c.fid.fclass = FI_CLASS_CNTR;
  c->c.fid.context = ctx;
  c->c.fid.ops = &cntr_fi_ops;
  c->c.ops = &cntr_ops;
  c->dom->refs++;
  *out = &c->c;
  return 0;
}

// ------------------------------------------------------------------ EQ
namespace {
int eq_close(fid *f) {
  delete reinterpret_cast<SuEq *>(f);
  return 0;
}
ssize_t eq_read(fid_eq *eq, uint32_t *event, void *buf, size_t len, uint64_t flags) {
  auto *e = reinterpret_cast<SuEq *>(eq);
  std::lock_guard<std::mutex> g(e->mu);
  if (e->q.empty()) return -FI_EAGAIN;
  auto &front = e->q.front();
  if (len < front.second.size()) return -FI_ETOOSMALL;
  if (event) *event = front.first;
  size_t n = front.second.size();
  memcpy(buf, front.second.data(), n);
  if (!(flags & FI_PEEK)) e->q.pop_front();
  return (ssize_t)n;
}
ssize_t eq_readerr(fid_eq *eq, fi_eq_err_entry *buf, uint64_t flags) { return -FI_EAGAIN; }
ssize_t eq_write(fid_eq *eq, uint32_t event, const void *buf, size_t len, uint64_t flags) {
  auto *e = reinterpret_cast<SuEq *>(eq);
  std::lock_guard<std::mutex> g(e->mu);
  e->q.emplace_back(event, std::vector<uint8_t>((const uint8_t *)buf, (const uint8_t *)buf + len));
  return (ssize_t)len;
}
ssize_t eq_sread(fid_eq *eq, uint32_t *event, void *buf, size_t len, int timeout, uint64_t flags) {
  uint64_t deadline = timeout < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout;
  for (;;) {
    ssize_t r = eq_read(eq, event, buf, len, flags);
    if (r != -FI_EAGAIN || now_ms() >= deadline) return r;
    usleep(1000);
  }
}
const char *eq_strerror(fid_eq *eq, int prov_errno, const void *err_data, char *buf, size_t len) {
  const char *s = fi_strerror(prov_errno);
  if (buf && len) {
    snprintf(buf, len, "%s", s);
    return buf;
  }
  return s;
}
fi_ops eq_fi_ops;
fi_ops_eq eq_ops;
}  // namespace

int eq_open(fid_fabric *fab, fi_eq_attr *attr, fid_eq **out, void *ctx) {
  static bool init = [] {
    fill_fi_ops<SuEq>(eq_fi_ops, eq_close);
    eq_ops.size = sizeof(fi_ops_eq);
    eq_ops.read = eq_read;
    eq_ops.readerr = eq_readerr;
    eq_ops.write = eq_write;
    eq_ops.sread = eq_sread;
    eq_ops.strerror = eq_strerror;
    return true;
  }();
  (void)init;
  auto *e = new SuEq;
  e->e.fid.fclass = FI_CLASS_EQ;
  e->e.fid.context = ctx;
  e->e.fid.ops = &eq_fi_ops;
  e->e.ops = &eq_ops;
  *out = &e->e;
  return 0;
}

// ------------------------------------------------------------------ trywait
int trywait(fid_fabric *fab, fid **fids, int count) {
  for (int i = 0; i < count; i++) {
    if (fids[i]->fclass == FI_CLASS_CQ) {
      auto *c = reinterpret_cast<SuCq *>(fids[i]);
      c->dom->hand_off();  // the caller will block
      std::lock_guard<std::mutex> g(c->dom->mu);
      if (!c->q.empty()) return -FI_EAGAIN;
      uint64_t v;
      while (read(c->efd, &v, sizeof v) > 0) {
      }
      c->signaled = false;
      c->watch_sockets();
      // A packet already waiting on a socket of the set would wake the caller at once:
      // reading the CQ (which progresses inline) is what it should do instead.
      epoll_event ev;
      if (c->wfd >= 0 && epoll_wait(c->wfd, &ev, 1, 0) > 0) return -FI_EAGAIN;
    } else if (fids[i]->fclass == FI_CLASS_CNTR) {
      continue;
    } else {
      return -FI_EINVAL;
    }
  }
  return 0;
}

}  // namespace softuet
