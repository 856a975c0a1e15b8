#include "io/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
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
}  // namespace

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
}

int UdpSock::open(const sockaddr_in &addr, uint16_t port_base) {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return -errno;
  int sz = 8 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
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
  lens_.assign(kBatch, 0);
  froms_.assign(kBatch, sockaddr_in{});
  return 0;
}

void UdpSock::set_faults(const FaultConfig &f) {
  fc_ = f;
  rng_.seed(f.seed ^ ((uint64_t)ntohs(local_.sin_port) << 32));
}

ssize_t UdpSock::raw_send(const sockaddr_in &to, const iovec *iov, int n) {
  msghdr m{};
  m.msg_name = (void *)&to;
  m.msg_namelen = sizeof to;
  m.msg_iov = (iovec *)iov;
  m.msg_iovlen = n;
  for (int tries = 0; tries < 1000; tries++) {
    ssize_t r = sendmsg(fd_, &m, 0);
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

ssize_t UdpSock::send(const sockaddr_in &to, const iovec *iov, int n) {
  if (!fc_.any()) return raw_send(to, iov, n);
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
  const iovec *src = copy.empty() ? iov : &one;
  int cnt = copy.empty() ? n : 1;
  if (reorder && !have_held_) {
    faults.reordered++;
    held_ = std::move(copy);
    held_to_ = to;
    have_held_ = true;
    return (ssize_t)total;
  }
  ssize_t r = raw_send(to, src, cnt);
  if (fc_.dup > 0 && u(rng_) < fc_.dup) {
    faults.duplicated++;
    raw_send(to, src, cnt);
  }
  flush();
  return r;
}

void UdpSock::flush() {
  if (!have_held_) return;
  have_held_ = false;
  iovec one{held_.data(), held_.size()};
  raw_send(held_to_, &one, 1);
}

int UdpSock::recv_batch(int max) {
  if (max > kBatch) max = kBatch;
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  for (int i = 0; i < max; i++) {
    iovs[i] = {bufs_[i].data(), kMaxDgram};
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &froms_[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }
  int r = recvmmsg(fd_, msgs, max, MSG_DONTWAIT, nullptr);
  if (r < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -errno;
  for (int i = 0; i < r; i++) lens_[i] = msgs[i].msg_len;
  return r;
}

}  // namespace softuet
