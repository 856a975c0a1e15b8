// UDP transport of one endpoint: a single socket bound to 127.0.0.1 (or the address the
// application asked for), port = first free one from FI_SOFTUET_PORT_BASE (4793) up.
//
// Entropy: UET over UDP carries the entropy value in the UDP source port, and one
// socket has one port. open_ev_pool() adds send-only sockets on the same address (the
// kernel picks their ports), one per EV path; send() with src = slot puts a datagram
// on that socket, so the engine can vary the EV per packet. The endpoint's address
// stays the main socket's: peers answer there (requests name it in SES `initiator`).
//
// Batching: send() only queues; flush() hands the queue to one sendmmsg, where each run
// of equal-sized datagrams to one peer is a single UDP GSO (UDP_SEGMENT) message, and
// the socket asks for UDP_GRO so such runs arrive as one buffer that recv_batch splits
// back into datagrams. Per-datagram cost in the kernel (routing, skb set-up, wakeups)
// dominated the data path; with GSO it is paid once per run of up to 64 datagrams.
//
// Fault injection (FI_SOFTUET_FAULT_DROP/_DUP/_REORDER/_CORRUPT, percent, seeded with
// FI_SOFTUET_FAULT_SEED) is applied here on the transmit path so every packet kind
// (requests, ACKs, NACKs, control) is subject to it. With faults on, datagrams are sent
// one by one as they are queued, so each one is dropped or delayed on its own.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
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

// MTU of the interface that holds address `a` (an address of its subnet: 127.0.0.2 is
// on lo), 0 when no interface does (INADDR_ANY, an address not configured here).
size_t link_mtu(const in_addr &a);

class UdpSock {
 public:
  ~UdpSock();
  // Binds to addr; if addr->sin_port is 0, tries port_base, port_base+1, ... (256 tries).
  int open(const sockaddr_in &addr, uint16_t port_base);
  int fd() const { return fd_; }
  // Opens n send-only sockets bound to the main socket's IP (ports chosen by the kernel),
  // with the given IP TOS; 0 or -errno (then none stay open).
  int open_ev_pool(int n, int tos);
  int ev_slots() const { return (int)ev_fds_.size(); }
  uint16_t ev_port(int slot) const { return ev_ports_[slot]; }  // network order
  const sockaddr_in &local() const { return local_; }
  void set_faults(const FaultConfig &f);
  // Queues one datagram made of iov[0..n) for the next flush(). Entries up to
  // kCopyMax bytes (headers, trailers) are copied; larger ones are referenced and must
  // stay valid until flush(). Returns bytes, or -errno when it cannot be sent at all.
  // src: an EV pool slot to send from, or -1 for the main socket.
  ssize_t send(const sockaddr_in &to, const iovec *iov, int n, int src = -1);
  // Sends everything queued (sendmmsg; runs of equal-sized datagrams to one peer go as
  // one UDP GSO send) and any packet held back for reordering. Returns the number of
  // datagrams that could not be sent.
  size_t flush();
  // Datagrams queued from the first call on until the next flush leave ahead of those
  // queued before it.
  void lead_next() {
    if (lead_ < 0) lead_ = nq_;
  }
  bool pending() const { return nq_ > 0 || have_held_; }
  // Receives up to max datagrams; returns count (0 when none), or -errno. A GRO
  // super-datagram counts as the segments it is made of.
  int recv_batch(int max);
  // Whether the last recv_batch drained the socket (it returned fewer messages than it
  // asked for), so another call would only cost an empty syscall.
  bool drained() const { return drained_; }
  const uint8_t *buf(int i) const { return rx_[i].p; }
  size_t len(int i) const { return rx_[i].len; }
  const sockaddr_in &from(int i) const { return froms_[rx_[i].from]; }
  FaultCounters faults;

  static constexpr int kQueue = 64;      // datagrams per flush
  static constexpr size_t kCopyMax = 256;
  static constexpr int kIovPer = 12;     // iovecs one datagram may have
  // Payload bytes one GSO send carries at most: IPv4's datagram limit, rounded down.
  static constexpr size_t kGsoMaxBytes = 65000;

 private:
  ssize_t raw_send(const sockaddr_in &to, const iovec *iov, int n, int src = -1);
  int src_fd(int src) const { return src < 0 ? fd_ : ev_fds_[src]; }
  size_t flush_queue();
  int fd_ = -1;
  sockaddr_in local_{};
  FaultConfig fc_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> held_;
  sockaddr_in held_to_{};
  bool have_held_ = false;
  int held_src_ = -1;
  std::vector<int> ev_fds_;
  std::vector<uint16_t> ev_ports_;
  // transmit queue
  struct TxSlot {
    sockaddr_in to;
    int src;
    int iov0, niov;
    size_t len;
    uint8_t copy[kIovPer * kCopyMax];
  };
  std::vector<TxSlot> q_ = std::vector<TxSlot>(kQueue);
  std::vector<iovec> qiov_ = std::vector<iovec>(kQueue * kIovPer);
  int nq_ = 0, nqiov_ = 0, lead_ = -1;
  bool gso_ = true, gro_ = false;
  // receive
  struct RxView {
    const uint8_t *p;
    size_t len;
    int from;
  };
  std::vector<std::vector<uint8_t>> bufs_;
  // recvmmsg arguments, set up once: an empty poll is then one syscall and nothing more.
  std::vector<mmsghdr> rmsgs_;
  std::vector<iovec> riovs_;
  std::vector<std::array<uint8_t, 64>> rctl_;
  bool drained_ = true;
  std::vector<RxView> rx_;
  std::vector<sockaddr_in> froms_;
};

}  // namespace softuet
