// UDP transport of one endpoint: a single socket bound to 127.0.0.1 (or the address the
// application asked for), port = first free one from FI_SOFTUET_PORT_BASE (4793) up.
//
// Entropy: UET over UDP carries the entropy value in the UDP source port. With one
// bound socket per endpoint the source port is the endpoint's address, so softuet does
// not vary it per packet; the EV is therefore constant per endpoint (= its port).
// Spraying over extra sockets bound to EV ports would cost one fd per EV and is left
// out on purpose: on a single host there are no ECMP paths to spread over.
//
// Fault injection (FI_SOFTUET_FAULT_DROP/_DUP/_REORDER/_CORRUPT, percent, seeded with
// FI_SOFTUET_FAULT_SEED) is applied here on the transmit path so every packet kind
// (requests, ACKs, NACKs, control) is subject to it.
#pragma once
#include <netinet/in.h>
#include <sys/uio.h>

#include <cstdint>
#include <random>
#include <vector>

namespace softuet {

struct FaultConfig {
  double drop = 0, dup = 0, reorder = 0, corrupt = 0;  // percent
  uint64_t seed = 1;
  bool any() const { return drop > 0 || dup > 0 || reorder > 0 || corrupt > 0; }
  static FaultConfig from_env();
};

struct FaultCounters {
  uint64_t dropped = 0, duplicated = 0, reordered = 0, corrupted = 0;
};

class UdpSock {
 public:
  ~UdpSock();
  // Binds to addr; if addr->sin_port is 0, tries port_base, port_base+1, ... (256 tries).
  int open(const sockaddr_in &addr, uint16_t port_base);
  int fd() const { return fd_; }
  const sockaddr_in &local() const { return local_; }
  void set_faults(const FaultConfig &f);
  // Sends one datagram made of iov[0..n). Returns bytes or -errno.
  ssize_t send(const sockaddr_in &to, const iovec *iov, int n);
  // Releases a packet held back for reordering.
  void flush();
  // Receives up to max datagrams; returns count (0 when none), or -errno.
  int recv_batch(int max);
  const uint8_t *buf(int i) const { return bufs_[i].data(); }
  size_t len(int i) const { return lens_[i]; }
  const sockaddr_in &from(int i) const { return froms_[i]; }
  FaultCounters faults;

 private:
  ssize_t raw_send(const sockaddr_in &to, const iovec *iov, int n);
  int fd_ = -1;
  sockaddr_in local_{};
  FaultConfig fc_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> held_;
  sockaddr_in held_to_{};
  bool have_held_ = false;
  std::vector<std::vector<uint8_t>> bufs_;
  std::vector<size_t> lens_;
  std::vector<sockaddr_in> froms_;
};

}  // namespace softuet
