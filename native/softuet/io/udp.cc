#include "io/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <cstring>

namespace softuet {

namespace {
double env_pct(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) return 0;
  double d = strtod(v, nullptr);
  if (d < 0) d = 0;
  if (d > 100) d = 100;
  return d;
}
constexpr size_t kMaxDgram = 65536;
constexpr int kBatch = 32;
// One GSO send: the kernel's segment limit (the byte limit is UdpSock::kGsoMaxBytes).
constexpr int kGsoMaxSegs = 64;
}  // namespace

size_t link_mtu(const in_addr &a) {
  ifaddrs *list = nullptr;
  if (a.s_addr == htonl(INADDR_ANY) || getifaddrs(&list)) return 0;
  size_t mtu = 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  for (ifaddrs *i = list; i && fd >= 0; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask) continue;
    uint32_t ip = ((const sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
    uint32_t mask = ((const sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;
    if ((ip ^ a.s_addr) & mask) continue;
    ifreq r{};
    strncpy(r.ifr_name, i->ifa_name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFMTU, &r) == 0 && r.ifr_mtu > 0) {
      mtu = (size_t)r.ifr_mtu;
      if (ip == a.s_addr) break;  // the exact address beats a subnet match
    }
  }
  if (fd >= 0) close(fd);
  freeifaddrs(list);
  return mtu;
}

FaultConfig FaultConfig::from_env() {
  FaultConfig f;
  f.drop = env_pct("FI_SOFTUET_FAULT_DROP");
  f.dup = env_pct("FI_SOFTUET_FAULT_DUP");
  f.reorder = env_pct("FI_SOFTUET_FAULT_REORDER");
  f.corrupt = env_pct("FI_SOFTUET_FAULT_CORRUPT");
  if (const char *s = getenv("FI_SOFTUET_FAULT_SEED")) f.seed = strtoull(s, nullptr, 0);
  return f;
}

UdpSock::~UdpSock() {
  if (fd_ >= 0) close(fd_);
  for (int f : ev_fds_) close(f);
}

int UdpSock::open_ev_pool(int n, int tos) {
  if (fd_ < 0) return -EBADF;
  for (int i = 0; i < n; i++) {
    int f = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = f < 0 ? -errno : 0;
    if (!err) {
      // Nothing is sent to these ports; a minimal receive buffer bounds what a stray
      // datagram can hold. The send buffer matches the main socket's.
      int small = 1, sz = 8 << 20;
      setsockopt(f, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      if (setsockopt(f, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz)) setsockopt(f, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
      if (tos && setsockopt(f, IPPROTO_IP, IP_TOS, &tos, sizeof tos)) err = -errno;
    }
    sockaddr_in a = local_;
    a.sin_port = 0;
    socklen_t l = sizeof a;
    if (!err && (bind(f, (sockaddr *)&a, sizeof a) || getsockname(f, (sockaddr *)&a, &l))) err = -errno;
    if (err) {
      if (f >= 0) close(f);
      for (int g : ev_fds_) close(g);
      ev_fds_.clear();
      ev_ports_.clear();
      return err;
    }
    ev_fds_.push_back(f);
    ev_ports_.push_back(a.sin_port);
  }
  return 0;
}

int UdpSock::open(const sockaddr_in &addr, uint16_t port_base) {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return -errno;
  // The FORCE variants pass rmem_max/wmem_max (often 4 MiB or less) when the process
  // may; a full receive buffer drops, and each drop costs an RTO or a SACK round.
  int sz = 8 << 20;
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz)) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz)) setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  sockaddr_in a = addr;
  a.sin_family = AF_INET;
  int err = -EADDRINUSE;
  if (a.sin_port != 0) {
    if (bind(fd_, (sockaddr *)&a, sizeof a) == 0) err = 0;
    else err = -errno;
  } else {
    for (int i = 0; i < 256; i++) {
      a.sin_port = htons((uint16_t)(port_base + i));
      if (bind(fd_, (sockaddr *)&a, sizeof a) == 0) {
        err = 0;
        break;
      }
      if (errno != EADDRINUSE && errno != EACCES) {
        err = -errno;
        break;
      }
    }
  }
  if (err) {
    close(fd_);
    fd_ = -1;
    return err;
  }
  socklen_t l = sizeof local_;
  getsockname(fd_, (sockaddr *)&local_, &l);
  bufs_.assign(kBatch, std::vector<uint8_t>(kMaxDgram));
  froms_.assign(kBatch, sockaddr_in{});
  rx_.reserve(kBatch * 64);
  // Receive GSO trains whole (one copy-out, then split here) instead of as segments.
  int on = 1;
  gro_ = setsockopt(fd_, IPPROTO_UDP, UDP_GRO, &on, sizeof on) == 0;
  rmsgs_.assign(kBatch, mmsghdr{});
  riovs_.assign(kBatch, iovec{});
  rctl_.assign(kBatch, {});
  for (int i = 0; i < kBatch; i++) riovs_[i] = {bufs_[i].data(), kMaxDgram};
  return 0;
}

void UdpSock::set_faults(const FaultConfig &f) {
  fc_ = f;
  rng_.seed(f.seed ^ ((uint64_t)ntohs(local_.sin_port) << 32));
}

ssize_t UdpSock::raw_send(const sockaddr_in &to, const iovec *iov, int n, int src) {
  msghdr m{};
  m.msg_name = (void *)&to;
  m.msg_namelen = sizeof to;
  m.msg_iov = (iovec *)iov;
  m.msg_iovlen = n;
  for (int tries = 0; tries < 1000; tries++) {
    ssize_t r = sendmsg(src_fd(src), &m, 0);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == ENOBUFS) {
      // The socket buffer is full: the peer is slow. Losing the packet is legal (it is
      // retransmitted), but a short yield usually lets it drain.
      if (tries < 3) { usleep(50); continue; }
      return -errno;
    }
    return -errno;
  }
  return -EAGAIN;
}

ssize_t UdpSock::send(const sockaddr_in &to, const iovec *iov, int n, int src) {
  if (src >= (int)ev_fds_.size()) src = -1;
  if (!fc_.any()) {
    if (n > kIovPer) return -EINVAL;
    if (nq_ == kQueue || nqiov_ + n > (int)qiov_.size()) flush_queue();
    TxSlot &t = q_[nq_];
    t.to = to;
    t.src = src;
    t.iov0 = nqiov_;
    t.len = 0;
    size_t used = 0;
    iovec *out = &qiov_[nqiov_];
    int k = 0;
    for (int i = 0; i < n; i++) {
      size_t l = iov[i].iov_len;
      if (!l) continue;
      if (l <= kCopyMax) {
        uint8_t *dst = t.copy + used;
        memcpy(dst, iov[i].iov_base, l);
        used += l;
        // Adjacent copied pieces become one iovec.
        if (k && (uint8_t *)out[k - 1].iov_base + out[k - 1].iov_len == dst) out[k - 1].iov_len += l;
        else out[k++] = {dst, l};
      } else {
        out[k++] = iov[i];
      }
      t.len += l;
    }
    t.niov = k;
    nqiov_ += k;
    nq_++;
    return (ssize_t)t.len;
  }
  flush_queue();
  std::uniform_real_distribution<double> u(0, 100);
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  if (fc_.drop > 0 && u(rng_) < fc_.drop) {
    faults.dropped++;
    return (ssize_t)total;
  }
  std::vector<uint8_t> copy;
  bool corrupt = fc_.corrupt > 0 && u(rng_) < fc_.corrupt;
  bool reorder = fc_.reorder > 0 && u(rng_) < fc_.reorder;
  if (corrupt || reorder) {
    copy.resize(total);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
      memcpy(copy.data() + o, iov[i].iov_base, iov[i].iov_len);
      o += iov[i].iov_len;
    }
    if (corrupt && total) {
      faults.corrupted++;
      copy[rng_() % total] ^= (uint8_t)(1u << (rng_() % 8));
    }
  }
  iovec one{copy.data(), copy.size()};
  const iovec *data = copy.empty() ? iov : &one;
  int cnt = copy.empty() ? n : 1;
  if (reorder && !have_held_) {
    faults.reordered++;
    held_ = std::move(copy);
    held_to_ = to;
    held_src_ = src;
    have_held_ = true;
    return (ssize_t)total;
  }
  ssize_t r = raw_send(to, data, cnt, src);
  if (fc_.dup > 0 && u(rng_) < fc_.dup) {
    faults.duplicated++;
    raw_send(to, data, cnt, src);
  }
  flush();
  return r;
}

size_t UdpSock::flush() {
  size_t lost = flush_queue();
  if (!have_held_) return lost;
  have_held_ = false;
  iovec one{held_.data(), held_.size()};
  if (raw_send(held_to_, &one, 1, held_src_) < 0) lost++;
  return lost;
}

size_t UdpSock::flush_queue() {
  if (!nq_) return 0;
  // One message per run of datagrams to the same peer whose sizes are equal (the last
  // may be shorter): with UDP_SEGMENT the stack handles the run as one packet until it
  // is delivered, which is where a per-datagram send spends most of its time.
  mmsghdr msgs[kQueue];
  int first[kQueue], count[kQueue];
  alignas(cmsghdr) char ctl[kQueue][CMSG_SPACE(sizeof(uint16_t))];
  int nm = 0;
  // Datagrams from lead_ on go first (lead_next); a run never spans the two ranges.
  const int lead = lead_ < 0 ? 0 : lead_;
  const int lo[2] = {lead, 0}, hi[2] = {nq_, lead};
  for (int range = 0; range < 2; range++)
  for (int i = lo[range], end = hi[range]; i < end;) {
    int j = i + 1;
    size_t total = q_[i].len;
    if (gso_) {
      while (j < end && j - i < kGsoMaxSegs && q_[j].len <= q_[i].len && total + q_[j].len <= kGsoMaxBytes &&
             q_[j].to.sin_addr.s_addr == q_[i].to.sin_addr.s_addr && q_[j].to.sin_port == q_[i].to.sin_port &&
             q_[j].src == q_[i].src) {
        total += q_[j].len;
        bool last = q_[j].len < q_[i].len;
        j++;
        if (last) break;
      }
    }
    msghdr &m = msgs[nm].msg_hdr;
    memset(&msgs[nm], 0, sizeof msgs[nm]);
    m.msg_name = &q_[i].to;
    m.msg_namelen = sizeof(sockaddr_in);
    m.msg_iov = &qiov_[q_[i].iov0];
    m.msg_iovlen = (size_t)(q_[j - 1].iov0 + q_[j - 1].niov - q_[i].iov0);
    if (j - i > 1) {
      memset(ctl[nm], 0, sizeof ctl[nm]);
      m.msg_control = ctl[nm];
      m.msg_controllen = sizeof ctl[nm];
      cmsghdr *c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t seg = (uint16_t)q_[i].len;
      memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
    first[nm] = i;
    count[nm] = j - i;
    nm++;
    i = j;
  }
  size_t lost = 0;
  int done = 0, tries = 0;
  while (done < nm) {
    // One sendmmsg per run of messages from the same socket (EV), in queue order.
    int src = q_[first[done]].src, run = 1;
    while (done + run < nm && q_[first[done + run]].src == src) run++;
    int r = sendmmsg(src_fd(src), msgs + done, (unsigned)run, 0);
    if (r > 0) {
      done += r;
      tries = 0;
      continue;
    }
    int e = r < 0 ? errno : EAGAIN;
    if (e == EINTR) continue;
    if ((e == EAGAIN || e == ENOBUFS) && tries++ < 3) {
      // The socket buffer is full: the peer is slow. Losing the packets is legal (they
      // are retransmitted), but a short yield usually lets it drain.
      usleep(50);
      continue;
    }
    if (count[done] > 1 && (e == EIO || e == EINVAL || e == ENOPROTOOPT || e == EOPNOTSUPP)) {
      // No UDP GSO here (old kernel, or a device without checksum offload): send the
      // run datagram by datagram from now on.
      gso_ = false;
      for (int k = first[done]; k < first[done] + count[done]; k++) {
        iovec *v = &qiov_[q_[k].iov0];
        if (raw_send(q_[k].to, v, q_[k].niov, q_[k].src) < 0) lost++;
      }
      done++;
      continue;
    }
    lost += count[done];
    done++;
    tries = 0;
  }
  nq_ = 0;
  nqiov_ = 0;
  lead_ = -1;
  return lost;
}

int UdpSock::recv_batch(int max) {
  if (max > kBatch) max = kBatch;
  mmsghdr *msgs = rmsgs_.data();
  static_assert(CMSG_SPACE(sizeof(int)) <= 64, "control buffer");
  for (int i = 0; i < max; i++) {
    // The kernel rewrites these two on every call; the rest stays as set up.
    msghdr &h = msgs[i].msg_hdr;
    h.msg_iov = &riovs_[i];
    h.msg_iovlen = 1;
    h.msg_name = &froms_[i];
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_control = gro_ ? rctl_[i].data() : nullptr;
    h.msg_controllen = gro_ ? CMSG_SPACE(sizeof(int)) : 0;
  }
  rx_.clear();
  int r = recvmmsg(fd_, msgs, max, MSG_DONTWAIT, nullptr);
  if (r < 0) {
    drained_ = true;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -errno;
  }
  drained_ = r < max;
  for (int i = 0; i < r; i++) {
    size_t len = msgs[i].msg_len, seg = 0;
    if (gro_) {
      msghdr &m = msgs[i].msg_hdr;
      for (cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int v;
          memcpy(&v, CMSG_DATA(c), sizeof v);
          if (v > 0) seg = (size_t)v;
        }
      }
    }
    const uint8_t *p = bufs_[i].data();
    if (!seg || seg >= len) {
      rx_.push_back({p, len, i});
      continue;
    }
    for (size_t off = 0; off < len; off += seg) rx_.push_back({p + off, std::min(seg, len - off), i});
  }
  return (int)rx_.size();
}

}  // namespace softuet
