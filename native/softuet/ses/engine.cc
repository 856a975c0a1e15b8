#include "ses/engine.h"

#include <arpa/inet.h>
#include <rdma/fabric.h>
#include <rdma/fi_errno.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>

#include "wire/constants.h"
#include "wire/crc32c.h"
#include "wire/packet.h"
#if __has_include("cms/nscc.h")
#include "cms/entropy.h"
#include "cms/nscc.h"
#include "cms/rccc.h"
#define SOFTUET_HAVE_NSCC 1
#endif
#include "ses/atomic.h"

namespace softuet {
using namespace pkt;

namespace {
inline uint64_t peer_key(const sockaddr_in &a) {
  return (uint64_t)a.sin_addr.s_addr << 16 | a.sin_port;
}
// Where [off, off + len) of io lies, when it lies within one iovec.
uint8_t *contiguous_at(const IoList &io, size_t off, size_t len) {
  for (size_t i = 0; i < io.n; i++) {
    if (off < io.v[i].iov_len) return off + len <= io.v[i].iov_len ? (uint8_t *)io.v[i].iov_base + off : nullptr;
    off -= io.v[i].iov_len;
  }
  return nullptr;
}

inline bool same_peer(const sockaddr_in &a, const sockaddr_in &b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}
uint32_t random_start_psn() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return (uint32_t)(rng() % ((1u << 31) - (1u << 16))) + (1u << 16);
}
int rc_to_err(uint8_t rc) {
  switch (rc) {
    case RC_OK: return 0;
    case RC_BAD_MKEY: case RC_PERM_VIOLATION: case RC_AT_PERM: case RC_OP_VIOLATION: return FI_EACCES;
    case RC_BAD_JOBID: case RC_BAD_PID: return FI_EACCES;
    case RC_AT_OUT_OF_RANGE: case RC_BAD_ADDR: return FI_EINVAL;
    case RC_AMO_UNSUPPORTED_OP: case RC_AMO_UNSUPPORTED_DT: case RC_UNSUPPORTED_OP: return FI_EOPNOTSUPP;
    case RC_TOO_LONG: return FI_ETRUNC;
    case RC_CANCELLED: return FI_ECANCELED;
    default: return FI_EIO;
  }
}
// What the CRC32C trailer covers besides the UET bytes (wire::CrcCover): both IPv4
// addresses, then the UDP header with a zero checksum (the kernel fills the real one
// after the trailer is computed). uet_len counts the trailer.
struct CrcPseudo {
  uint8_t ip[wire::kCrcIpv4AddrLen];
  uint8_t udp[wire::kUdpHeaderLen];
  CrcPseudo(const sockaddr_in &src, const sockaddr_in &dst, size_t uet_len) {
    memcpy(ip, &src.sin_addr.s_addr, 4);
    memcpy(ip + 4, &dst.sin_addr.s_addr, 4);
    memcpy(udp, &src.sin_port, 2);
    memcpy(udp + 2, &dst.sin_port, 2);
    uint16_t l = htons((uint16_t)(wire::kUdpHeaderLen + uet_len));
    memcpy(udp + 4, &l, 2);
    udp[6] = udp[7] = 0;
  }
};
size_t env_size(const char *n, size_t def) {
  const char *v = getenv(n);
  if (!v || !*v) return def;
  char *end;
  unsigned long long x = strtoull(v, &end, 0);
  return end == v ? def : (size_t)x;
}
}  // namespace

// ---------------------------------------------------------------- IoList
void IoList::copy_in(size_t off, const void *src, size_t len) const {
  const uint8_t *s = (const uint8_t *)src;
  for (size_t i = 0; i < n && len; i++) {
    if (off >= v[i].iov_len) { off -= v[i].iov_len; continue; }
    size_t c = std::min(len, v[i].iov_len - off);
    memcpy((uint8_t *)v[i].iov_base + off, s, c);
    s += c; len -= c; off = 0;
  }
}
void IoList::copy_out(size_t off, void *dst, size_t len) const {
  uint8_t *d = (uint8_t *)dst;
  for (size_t i = 0; i < n && len; i++) {
    if (off >= v[i].iov_len) { off -= v[i].iov_len; continue; }
    size_t c = std::min(len, v[i].iov_len - off);
    memcpy(d, (const uint8_t *)v[i].iov_base + off, c);
    d += c; len -= c; off = 0;
  }
}
int IoList::slice(size_t off, size_t len, iovec *out, int max) const {
  int k = 0;
  for (size_t i = 0; i < n && len && k < max; i++) {
    if (off >= v[i].iov_len) { off -= v[i].iov_len; continue; }
    size_t c = std::min(len, v[i].iov_len - off);
    out[k++] = {(uint8_t *)v[i].iov_base + off, c};
    len -= c; off = 0;
  }
  return k;
}

// ---------------------------------------------------------------- state
struct Engine::InitPdc {
  sockaddr_in peer{};
  uint16_t spdcid = 0, dpdcid = 0;
  bool established = false;
  uint32_t start_psn = 0;
  TxWindow tx;
  uint16_t next_msg = 0;
  uint64_t key = 0;  // in init_by_peer_ under this key until it starts closing
  bool rod = false;
  uint8_t tc = 0;
  bool closing = false;
  uint32_t close_psn = 0, close_tries = 0;
  uint64_t close_sent_ns = 0;
  uint32_t clear_psn = 0, clear_sent = 0;  // cumulative clear point; last one sent in a CP
  IdleClock idle;
  // ROD: a go-back held off because part of its range had just been resent; done from
  // the timer once that settles, since the NACKs that would trigger it may all be in.
  bool gb_pending = false;
  uint32_t gb_to = 0;
  uint64_t gb_at = 0;
  std::deque<TxOp *> queue;                       // not fully packetized yet
  std::unordered_map<uint16_t, TxOp *> inflight;  // by message id, until complete
  double inflight_bytes = 0;                       // payload bytes sent, not yet ACKed
  // RTO recovery: only the oldest expired packet is resent at once; the answer to it
  // (an ACK naming rto_psn) comes after the target has seen everything sent before,
  // so whatever below rto_end is still unacknowledged then is really lost. A target
  // that was merely descheduled thus costs one packet, not a window of duplicates.
  bool rto_wait = false;
  uint32_t rto_psn = 0, rto_end = 0;
  uint64_t rto_at = 0;
#ifdef SOFTUET_HAVE_NSCC
  std::unique_ptr<cms::Nscc> cc;                   // NSCC window; null when disabled
  std::unique_ptr<cms::RcccSender> rs;             // RCCC credit; null when disabled
  std::unique_ptr<cms::EntropySelector> ev;        // per-train EV; null: endpoint's port
#endif
  uint16_t ev_cur = 0;       // EV of the train being sent
  uint32_t ev_left = 0;      // packets the train still takes
  uint64_t srtt_ns = 0;      // smoothed RTT of first transmissions (reordering window, RTO)
  uint64_t rttvar_ns = 0;    // its mean deviation (RTO)
  uint32_t credit_seen = 0;    // last cumulative credit from the target (quanta, 24 bits)
  uint32_t target_sent = 0;    // last credit_target put on the wire (quanta, 24 bits)
  uint64_t credit_req_ns = 0;  // when demand was last stated (request or CP CREDIT_REQ)
  bool cc_allows(double pkt) const {
#ifdef SOFTUET_HAVE_NSCC
    // An empty pipe always admits one packet, whatever the window says.
    if (cc && inflight_bytes > 0) return cc->canSend(inflight_bytes, pkt);
#endif
    (void)pkt;
    return true;
  }
};

struct Engine::RxMsg {
  uint16_t id = 0;
  uint8_t opcode = 0;
  uint32_t total = 0, done_bytes = 0;
  uint8_t rc = RC_OK;
  bool complete = false, released = false, in_unexp = false, delivered = false;
  uint8_t *dest = nullptr;  // writes
  // Messages of more than one packet: one bit per MTU-sized chunk that any accepted
  // packet has written to, and for writes the key and address of the first packet
  // accepted (see Engine::prewrite_dst).
  uint64_t key = 0, base = 0;
  std::vector<uint64_t> touched;
  // The receive matched to this message, owned here from matching until its completion
  // is reported; freed with the message if that never happens.
  std::unique_ptr<RecvEntry> recv;
  std::vector<uint8_t> staging;
  uint64_t tag = 0, data = 0;
  bool has_data = false;
  uint32_t chunks_seen = 0;  // reads: requests served so far
  TgtPdc *pdc = nullptr;
  uint32_t psn = 0;      // PSN that completed it, when its answer may be asked again
  bool has_psn = false;
};

struct Engine::TgtPdc {
  sockaddr_in peer{};
  uint16_t id = 0, peer_id = 0;
  uint32_t start_psn = 0;
  RxTracker rx;
  uint16_t next_match = 0;
  uint32_t since_ack = 0;
  bool ack_pending = false;
  uint32_t last_psn = 0;
  std::unordered_map<uint16_t, RxMsg *> msgs;
  std::unordered_map<uint32_t, std::pair<uint8_t, std::vector<uint8_t>>> amo_cache;
  // RCCC, as seen by this endpoint's CCC (0 key: the initiator never asked for credit)
  uint32_t cc_key = 0;
  uint32_t cc_target_field = 0;   // last credit_target received (quanta, 24 bits)
  double cc_requested = 0;        // unwrapped cumulative demand, bytes
  double cc_granted = 0;          // cumulative bytes granted by the pacer
  double cc_rcvd = 0;             // payload bytes received
  uint32_t cc_advertised = 0;     // credit field last sent (quanta, 24 bits)
  std::unordered_map<uint32_t, std::pair<pkt::SesRsp, std::vector<uint8_t>>> read_cache;  // ROD only
  bool rod = false;
  bool closing = false;  // CLOSE acknowledged; freed once no unexpected message is left
  ClearPoint clear;
  IdleClock idle;
  uint64_t close_req_ns = 0;
  uint32_t close_reqs = 0;
  uint32_t cps_seen = 0;  // control packets from the initiator: activity too (probes)
};

// The payload an endpoint on `local` gets when FI_SOFTUET_MTU is not set.
static size_t default_mtu(const sockaddr_in *local) {
  in_addr a;
  a.s_addr = local ? local->sin_addr.s_addr : htonl(INADDR_LOOPBACK);
  size_t link = link_mtu(a);
  if (!link) return 4096;  // no interface to go by (INADDR_ANY): UET's standard MTU
  // The largest packet is a request with a compare-swap extension or a read response,
  // each under IPv4 and UDP and with the CRC trailer.
  constexpr size_t hdr = 20 + 8 + CRC_LEN + std::max(PDS_REQ_LEN + 4 + MAX_SES_LEN, PDS_ACK_CC_LEN + SES_RSP_DATA_LEN);
  if (link < hdr + 256) return 256;
  return std::min(kMaxMtu, (link - hdr) & ~(size_t)63);
}

EngineConfig EngineConfig::from_env(const sockaddr_in *local, const Own *own) {
  EngineConfig c;
  // Payloads as large as the bound interface carries unfragmented, up to 16000 bytes:
  // per-packet work (headers, CRC set-up, ACKs, window slots, the kernel's per-datagram
  // cost) is most of softuet's CPU, so loopback (MTU 65536) moves about twice the bytes
  // per CPU second at 16000 as at UET's standard 4 KiB, and a 1500-byte veth is not
  // made to fragment every packet.
  c.mtu = own && own->mtu ? own->mtu : env_size("FI_SOFTUET_MTU", 0);
  if (!c.mtu) c.mtu = default_mtu(local);
  if (c.mtu < 256) c.mtu = 256;
  if (c.mtu > kMaxMtu) c.mtu = kMaxMtu;
  c.rto_ns = env_size("FI_SOFTUET_RTO_MS", 10) * 1000000ull;
  if (c.rto_ns == 0) c.rto_ns = 1000000;
  c.unexpected_limit = env_size("FI_SOFTUET_UNEXPECTED_MAX", 64u << 20);
  // 512 PSNs (2 MiB at the default MTU) in flight: on a shared host a peer is often
  // off the CPU for a millisecond or more, and the window must cover that gap. The
  // target ACKs once per receive batch (~480 KiB), so 1 MiB left the initiator idle
  // whenever the target was late; 2 MiB is what an 8 KiB MTU had at MPR 256.
  c.mpr = (uint32_t)env_size("FI_SOFTUET_MPR", 512);
  if (c.mpr < 1) c.mpr = 1;
  if (c.mpr > 1024) c.mpr = 1024;
  c.job_id = (uint32_t)env_size("FI_SOFTUET_JOB_ID", 1) & 0xffffff;
  c.pdc_idle_ns = env_size("FI_SOFTUET_PDC_IDLE_MS", 1000) * 1000000ull;
  // Both by default: NSCC bounds the fabric, RCCC the receiver's last hop (incast).
  // Credit beyond the speculative window costs a round trip that outruns it about a
  // third more time (64 KiB ping-pong); "nscc" alone avoids that.
  const char *cc = getenv("FI_SOFTUET_CC");
  if (!cc || !*cc) cc = "nscc+rccc";
  c.nscc = strstr(cc, "nscc") != nullptr;
  c.rccc = strstr(cc, "rccc") != nullptr;
  if (own && own->nscc >= 0) c.nscc = own->nscc;
  if (own && own->rccc >= 0) c.rccc = own->rccc;
  size_t gbps = env_size("FI_SOFTUET_LINK_GBPS", 100);
  c.link_gbps = (double)(gbps ? gbps : 100);
  size_t rtt_us = env_size("FI_SOFTUET_BASE_RTT_US", 1000);
  c.base_rtt_ns = (rtt_us ? rtt_us : 1000) * 1000ull;
  c.cc_min_pkts = (uint32_t)std::max<size_t>(1, env_size("FI_SOFTUET_CC_MIN_PKTS", 8));
  if (const char *ev = getenv("FI_SOFTUET_EV")) {
    static const char *const modes[] = {"off", "ecmp", "oblivious", "bitmap", "reps"};
    for (uint8_t i = 0; i < 5; i++)
      if (!strcmp(ev, modes[i])) c.ev_mode = i;
  }
  // A power of two (the selectors index paths with a mask), at most 64 sockets.
  size_t paths = std::min<size_t>(64, std::max<size_t>(1, env_size("FI_SOFTUET_EV_PATHS", 4)));
  while (paths & (paths - 1)) paths &= paths - 1;
  c.ev_paths = (uint32_t)paths;
  // A train that fills one GSO send goes out as one.
  constexpr size_t kReqOverhead = PDS_REQ_LEN + 4 + SES_STD_LEN + CRC_LEN;
  c.ev_train = (uint32_t)env_size("FI_SOFTUET_EV_TRAIN", 0);
  if (!c.ev_train) c.ev_train = (uint32_t)std::max<size_t>(1, UdpSock::kGsoMaxBytes / (c.mtu + kReqOverhead));
  c.ev_train = std::min<uint32_t>(c.ev_train, 64);
  return c;
}

Engine::Engine(Host *host, UdpSock *sock, const EngineConfig &cfg) : host_(host), sock_(sock), cfg_(cfg) {
  now_ = now_ns();
#ifdef SOFTUET_HAVE_NSCC
  if (cfg_.rccc && !cfg_.dgram) {
    // Pulls of 4 MTUs rounded up to whole 256-byte credit quanta.
    double quantum = (double)(((4 * cfg_.mtu) + 255) / 256 * 256);
    if (cms::RcccReceiver::validate(cfg_.link_gbps, (double)cfg_.mtu, quantum) == 0)
      ccc_.reset(new cms::RcccReceiver(cfg_.link_gbps, (double)cfg_.mtu, quantum));
  }
#endif
}

Engine::~Engine() {
  flush_tx();
  for (auto &kv : init_by_id_) {
    InitPdc *p = kv.second;
    std::vector<TxOp *> ops;
    for (auto *o : p->queue) ops.push_back(o);
    for (auto &m : p->inflight)
      if (std::find(ops.begin(), ops.end(), m.second) == ops.end()) ops.push_back(m.second);
    for (auto *o : ops) delete o;
    delete p;
  }
  for (auto &kv : tgt_by_id_) {
    for (auto &m : kv.second->msgs) delete m.second;
    delete kv.second;
  }
  for (auto *r : posted_msg_) delete r;
  for (auto *r : posted_tag_) delete r;
}

uint64_t Engine::now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

sockaddr_in Engine::local() const {
  if (sock_) return sock_->local();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t Engine::alloc_pdcid() {
  for (int i = 0; i < 65535; i++) {
    uint16_t id = next_pdcid_++;
    if (next_pdcid_ == 0) next_pdcid_ = 1;
    if (id == 0) continue;
    if (!init_by_id_.count(id) && !tgt_by_id_.count(id)) return id;
  }
  return 0;
}

// ---------------------------------------------------------------- output
void Engine::emit(const sockaddr_in &to, iovec *iov, int n, int src) {
  // Trailer: CRC32C over the pseudo header and every UET byte.
  size_t uet = 0;
  for (int i = 0; i < n; i++) uet += iov[i].iov_len;
  sockaddr_in self = local();
  if (src >= 0 && sock_) self.sin_port = sock_->ev_port(src);  // the EV is the source port
  CrcPseudo ph(self, to, uet + CRC_LEN);
  uint32_t c = wire::crc32c_update(wire::kCrc32cInit, ph.ip, sizeof ph.ip);
  c = wire::crc32c_update(c, ph.udp, sizeof ph.udp);
  for (int i = 0; i < n; i++) c = wire::crc32c_update(c, (const uint8_t *)iov[i].iov_base, iov[i].iov_len);
  uint32_t crc = htonl(wire::crc32c_final(c));
  iov[n] = {&crc, CRC_LEN};
  st_.tx_pkts++;
  st_.tx_bytes += uet + CRC_LEN;
  if (!sock_) {
    std::vector<uint8_t> d;
    for (int i = 0; i <= n; i++)
      d.insert(d.end(), (uint8_t *)iov[i].iov_base, (uint8_t *)iov[i].iov_base + iov[i].iov_len);
    if (sent.size() < 4096) sent.push_back(std::move(d));
    return;
  }
  // Queued, not sent: every entry point ends with flush_tx() before it returns.
  if (sock_->send(to, iov, n + 1, src) < 0) st_.drops_send_err++;
}

void Engine::send_nack(const sockaddr_in &to, uint16_t spdcid, uint16_t dpdcid, uint32_t psn, uint8_t code,
                       uint32_t payload) {
  uint8_t h[PDS_NACK_LEN];
  PdsNack n;
  n.nack_code = code;
  n.nack_psn = psn;
  n.spdcid = spdcid;
  n.dpdcid = dpdcid;
  n.payload = payload;
  put_nack(h, n);
  iovec iov[2] = {{h, PDS_NACK_LEN}};
  st_.nack_tx[code]++;
  emit(to, iov, 1);
}

void Engine::send_cp(InitPdc *p, uint8_t type, uint32_t psn, uint32_t payload) {
  uint8_t h[PDS_CP_LEN];
  PdsCp c;
  c.ctl_type = type;
  c.flags = RF_AR | (p->rod ? wire::flags::kCpIsrod : 0);
  c.psn = psn;
  c.spdcid = p->spdcid;
  c.dpdcid = p->dpdcid;
  c.payload = payload;
  put_cp(h, c);
  iovec iov[2] = {{h, PDS_CP_LEN}};
  emit(p->peer, iov, 1);
}

void Engine::send_ack(TgtPdc *t, uint32_t psn, const SesRsp *rsp, bool with_data, const IoList *data,
                      size_t data_off, size_t data_len) {
  uint8_t h[PDS_ACK_CC_LEN + SES_RSP_DATA_LEN];
  PdsAck a;
  a.nh = rsp ? (with_data ? NH_RSP_DATA : NH_RSP) : NH_NONE;
  uint32_t cack = t->rx.cack();
  int32_t off = (int32_t)(psn - cack);
  if (off < -32768 || off > 32767) off = 0;
  a.ack_psn_offset = (int16_t)off;
  a.cack_psn = cack;
  a.spdcid = t->id;
  a.dpdcid = t->peer_id;
  a.mpr = (uint8_t)std::max<uint32_t>(1, cfg_.mpr / 128);
  a.sack_psn_offset = 1;
  a.sack_bitmap = t->rx.sack_bitmap();
  if (rx_retx_ && psn == rx_retx_psn_) a.flags |= wire::flags::kAckRetx;
  cc_fill_ack(t, a);
  size_t n = put_ack(h, a);
  if (rsp) n += put_rsp(h + n, *rsp, with_data);
  iovec iov[IoList::kMax + 3];
  iov[0] = {h, n};
  int k = 1;
  if (data && data_len) k += data->slice(data_off, data_len, iov + 1, IoList::kMax);
  st_.acks_tx++;
  t->since_ack = 0;
  t->ack_pending = false;
  emit(t->peer, iov, k);
}

// ---------------------------------------------------------------- initiator
Engine::InitPdc *Engine::init_pdc(const sockaddr_in &peer, bool rod, uint8_t tc) {
  uint64_t key = pdc_key(peer_key(peer), rod, tc);
  auto it = init_by_peer_.find(key);
  if (it != init_by_peer_.end()) return it->second;
  uint16_t id = alloc_pdcid();
  if (!id) return nullptr;
  auto *p = new InitPdc;
  p->peer = peer;
  p->spdcid = id;
  p->key = key;
  p->rod = rod;
  p->tc = tc;
  p->start_psn = random_start_psn();
  p->tx.init(p->start_psn);
  p->clear_psn = p->clear_sent = p->start_psn - 1;
  cc_init_pdc(p);
  init_by_peer_[key] = p;
  init_by_id_[id] = p;
  st_.pdc_opened++;
  return p;
}

int Engine::post(TxOp *op) {
  now_ = now_ns();
  if (op->kind == OpKind::DGRAM || cfg_.dgram) {
    if (op->length > cfg_.mtu) return -FI_EMSGSIZE;
    uint8_t h[PDS_UUD_LEN + MAX_SES_LEN];
    PdsReq r;
    r.type = PDS_UUD_REQ;
    size_t n = put_req(h, r, NH_REQ_STD);
    SesStd s;
    s.opcode = OP_DATAGRAM_SEND;
    s.flags = SF_SOM | SF_EOM | (op->has_data ? SF_HD : 0);
    s.job_id = cfg_.job_id;
    s.header_data = op->data;
    s.request_length = op->length;
    n += put_ses(h + n, s);
    iovec iov[IoList::kMax + 3];
    iov[0] = {h, n};
    int k = 1 + op->local.slice(0, op->length, iov + 1, IoList::kMax);
    emit(op->peer, iov, k);
    if (!op->more) flush_tx();
    Completion c;
    c.context = op->context;
    c.flags = op->cq_flags;
    c.report = op->completion;
    host_->tx_done(c);
    delete op;
    return 0;
  }
  InitPdc *p = init_pdc(op->peer, op->rod, op->tc);
  if (!p) return -FI_EAGAIN;
  switch (op->kind) {
    case OpKind::READ:
      op->chunks_total = op->length ? (uint32_t)((op->length + cfg_.mtu - 1) / cfg_.mtu) : 1;
      break;
    case OpKind::FETCH_ATOMIC:
      op->chunks_total = 1;
      break;
    default:
      break;
  }
  cc_enqueue(p, op);
  p->queue.push_back(op);
  // The application's new request goes ahead of ACKs still queued from the receive
  // batch it answers: the peer waits for the request, not for the ACK.
  if (sock_) sock_->lead_next();
  const bool more = op->more;  // read before pump: the op is the engine's from here
  pump(p);
  if (!more) flush_tx();
  return 0;
}

void Engine::pump(InitPdc *p) {
  while (!p->queue.empty() && p->tx.can_send(cfg_.mpr) && p->cc_allows((double)cfg_.mtu)) {
    TxOp *op = p->queue.front();
    if (!op->started) {
      if (p->inflight.size() >= cfg_.max_msgs_in_flight) break;
      op->started = true;
      op->msg_id = p->next_msg++;
      p->inflight[op->msg_id] = op;
    }
    uint32_t len;
    if (op->kind == OpKind::ATOMIC || op->kind == OpKind::FETCH_ATOMIC)
      len = op->length;  // one packet
    else
      len = (uint32_t)std::min<uint64_t>(cfg_.mtu, op->length - op->next_off);
    if (!cc_take_credit(p, op, len)) break;
    TxPkt &pk = p->tx.push();
    pk.op = op;
    pk.offset = op->next_off;
    pk.len = len;
    pk.needs_rsp_data = op->kind == OpKind::READ || op->kind == OpKind::FETCH_ATOMIC;
    op->next_off += len;
    op->unacked_pkts++;
    p->inflight_bytes += len;
    if (op->next_off >= op->length) {
      op->fully_sent = true;
      pk.eom = true;
      op->eom_psn = pk.psn;
      p->queue.pop_front();
    }
    send_req(p, op, pk, false);
  }
  // No flush here: ACK handling pumps once per ACK, and a read gets one ACK per chunk,
  // so the caller (post, poll_rx, on_timer) sends everything queued in one go.
}

void Engine::send_req(InitPdc *p, TxOp *op, TxPkt &pk, bool retx) {
  uint8_t h[PDS_REQ_LEN + 4 + MAX_SES_LEN];  // + ccc_id/credit_target of RUD_CC_REQ
  PdsReq r;
  r.type = p->rod ? PDS_ROD_REQ : PDS_RUD_REQ;
  r.psn = pk.psn;
  r.spdcid = p->spdcid;
  r.flags = (retx ? (RF_RETX | RF_AR) : 0) | (pk.eom ? RF_AR : 0);
  if (!p->established) {
    r.flags |= RF_SYN;
    r.psn_offset = (uint16_t)((pk.psn - p->start_psn) & 0xfff);
  } else {
    r.dpdcid = p->dpdcid;
  }
  cc_fill_req(p, r);
  r.clear_psn_offset = clear_offset(p->clear_psn, pk.psn);
  size_t n = put_req(h, r, NH_REQ_STD);
  SesStd s;
  s.message_id = op->msg_id;
  s.job_id = cfg_.job_id;
  s.request_length = op->length;
  // The endpoint's own port: the target answers there whichever EV port this leaves from.
  s.initiator = sock_ ? ntohs(sock_->local().sin_port) : 0;
  bool som = pk.offset == 0;
  s.flags = (som ? SF_SOM : 0) | (pk.eom ? SF_EOM : 0) | SF_DC;
  // A read request carries no payload (nor header data): payload_length, or header_data
  // on its SOM packet, states how many bytes it asks for, so the answer is cut by the
  // initiator's MTU, not the target's (the two may differ).
  if (!som) {
    s.message_offset = pk.offset;
    s.payload_length = (uint16_t)pk.len;
  } else if (op->kind == OpKind::READ) {
    s.header_data = pk.len;
  }
  bool payload = true;
  switch (op->kind) {
    case OpKind::SEND: s.opcode = OP_SEND; break;
    case OpKind::TSEND: s.opcode = OP_TAGGED_SEND; s.memory_key = op->tag; break;
    case OpKind::WRITE: s.opcode = OP_WRITE; s.memory_key = op->key; s.buffer_offset = op->remote_addr; break;
    case OpKind::READ:
      s.opcode = OP_READ; s.memory_key = op->key; s.buffer_offset = op->remote_addr; payload = false;
      break;
    case OpKind::ATOMIC:
    case OpKind::FETCH_ATOMIC:
      s.opcode = op->kind == OpKind::ATOMIC ? OP_ATOMIC : OP_FETCHING_ATOMIC;
      s.memory_key = op->key;
      s.buffer_offset = op->remote_addr;
      s.atomic_opcode = op->amo_op;
      s.atomic_datatype = op->amo_dt;
      if (amo_is_cswap(op->amo_op) && op->owned.size() >= 2 * amo_size(op->amo_dt)) {
        // The CAS ext carries the first element; all elements are in the payload.
        size_t es = amo_size(op->amo_dt), half = op->owned.size() / 2;
        memcpy(&s.swap_lo, op->owned.data(), es);
        memcpy(&s.compare_lo, op->owned.data() + half, es);
      }
      break;
    default: break;
  }
  if (som && op->has_data) {
    s.flags |= SF_HD;
    s.header_data = op->data;
  }
  n += put_ses(h + n, s);
  iovec iov[IoList::kMax + 3];
  iov[0] = {h, n};
  int k = 1;
  if (payload && pk.len) {
    if (op->kind == OpKind::ATOMIC || op->kind == OpKind::FETCH_ATOMIC) {
      iov[k++] = {op->owned.data(), op->owned.size()};
    } else {
      k += op->local.slice(pk.offset, pk.len, iov + 1, IoList::kMax);
    }
  }
  pk.sent_ns = pk.xmit_ns = now_;
  if (retx) {
    pk.retries++;
    st_.retransmits++;
  }
  int src = -1;
#ifdef SOFTUET_HAVE_NSCC
  if (p->ev) {
    // New data follows the current train; a resend takes an EV of its own (it may find
    // another path) and leaves the train alone.
    if (retx) {
      pk.ev = p->ev->next();
    } else {
      if (!p->ev_left) {
        p->ev_cur = p->ev->next();
        p->ev_left = cfg_.ev_train ? cfg_.ev_train : 1;
      }
      p->ev_left--;
      pk.ev = p->ev_cur;
    }
    src = pk.ev & (sock_->ev_slots() - 1);
    st_.ev_sprayed++;
  }
#endif
  emit(p->peer, iov, k, src);
}

void Engine::flush_tx() {
  if (sock_) st_.drops_send_err += sock_->flush();
}

void Engine::finish(InitPdc *p, TxOp *op, int err) {
  // Queued datagrams may point into this op's buffers, which the completion releases.
  if (sock_ && sock_->pending()) flush_tx();
  p->inflight.erase(op->msg_id);
  // Packets of this op still tracked (a response can overtake ACK bookkeeping).
  bool any = false;
  p->tx.for_each([&](TxPkt &pk) {
    if (pk.op == op && !pk.acked) {
      if (!pk.delivered) p->inflight_bytes = std::max(0.0, p->inflight_bytes - pk.len);
      pk.acked = true;
      any = true;
    }
  });
  if (any) p->tx.compact_front();
  auto qi = std::find(p->queue.begin(), p->queue.end(), op);
  if (qi != p->queue.end()) p->queue.erase(qi);
  Completion c;
  c.context = op->context;
  c.flags = op->cq_flags;
  c.err = err;
  c.uet_rc = op->rc;
  c.report = op->completion || err;
  host_->tx_done(c);
  delete op;
}

void Engine::fail_pdc(InitPdc *p, int err) {
  if (sock_ && sock_->pending()) flush_tx();
  std::vector<TxOp *> ops;
  for (auto &m : p->inflight) ops.push_back(m.second);
  for (auto *o : p->queue)
    if (std::find(ops.begin(), ops.end(), o) == ops.end()) ops.push_back(o);
  p->inflight.clear();
  p->queue.clear();
  p->tx.clear();
  unlink_init(p);
  init_by_id_.erase(p->spdcid);
  st_.pdc_failed++;
  for (auto *o : ops) {
    Completion c;
    c.context = o->context;
    c.flags = o->cq_flags;
    c.err = err;
    c.uet_rc = RC_UNDELIVERABLE;
    host_->tx_done(c);
    delete o;
  }
  delete p;
}

void Engine::handle_ack(const uint8_t *b, size_t len, const sockaddr_in &from) {
  PdsAck a;
  size_t n = get_ack(b, len, a);
  if (!n) { st_.drops_malformed++; return; }
  auto it = init_by_id_.find(a.dpdcid);
  if (it == init_by_id_.end() || !same_peer(it->second->peer, from)) { st_.drops_unknown_pdc++; return; }
  InitPdc *p = it->second;
  st_.acks_rx++;
  if (p->closing) {
    // Only the ACK of the CLOSE matters now: the target has freed its side.
    if (psn_le(p->close_psn, a.cack_psn)) {
      init_by_id_.erase(p->spdcid);
      st_.pdc_closed++;
      delete p;
    }
    return;
  }
  p->tx.set_peer_mpr(a.mpr);
  if (!p->established) {
    p->established = true;
    p->dpdcid = a.spdcid;
  }
  SesRsp rsp;
  const uint8_t *data = nullptr;
  size_t data_len = 0;
  if (a.nh == NH_RSP || a.nh == NH_RSP_DATA) {
    size_t m = get_rsp(b + n, len - n, rsp, a.nh == NH_RSP_DATA);
    if (!m) { st_.drops_malformed++; return; }
    data = b + n + m;
    data_len = len - n - m;
    if (a.nh == NH_RSP_DATA && rsp.payload_length > data_len) { st_.drops_malformed++; return; }
  } else if (a.nh != NH_NONE) {
    st_.drops_malformed++;
    return;
  }
  auto settle = [&](TxPkt &pk) {
    TxOp *op = (TxOp *)pk.op;
    p->inflight_bytes = std::max(0.0, p->inflight_bytes - pk.len);
    // A clock read on another thread may trail sent_ns; a wrapped sample would put off
    // SACK-gap recovery until the RTO.
    if (pk.retries == 0 && (int64_t)(now_ - pk.xmit_ns) >= 0) {
      uint64_t rtt = std::max<uint64_t>(1, now_ - pk.xmit_ns);  // 0 means no sample yet
      if (!p->srtt_ns) {
        p->srtt_ns = rtt;
        p->rttvar_ns = rtt / 2;
      } else {
        uint64_t dev = rtt > p->srtt_ns ? rtt - p->srtt_ns : p->srtt_ns - rtt;
        p->rttvar_ns = (3 * p->rttvar_ns + dev) / 4;
        p->srtt_ns = (7 * p->srtt_ns + rtt) / 8;
      }
    }
#ifdef SOFTUET_HAVE_NSCC
    if (p->cc && pk.retries == 0)
      p->cc->onAck(pk.len, std::max(1000.0, (double)(now_ - pk.xmit_ns)), false, (double)now_, p->inflight_bytes);
    // The ACK's own source port is the target's endpoint; which EV the acknowledged
    // packet took is known here, per PSN. No ECN on UDP sockets: every ACK is unmarked.
    if (p->ev) p->ev->onAck(pk.ev, false);
#endif
    if (pk.acked && op->unacked_pkts) {
      if (--op->unacked_pkts == 0 && op->fully_sent) op->all_acked_ns = now_;
    }
  };
  p->tx.on_cack(a.cack_psn, settle);
  p->tx.on_sack(a.cack_psn + a.sack_psn_offset, a.sack_bitmap, settle);
  cc_on_ack(p, a);
  uint32_t psn = a.cack_psn + a.ack_psn_offset;
  // Only the answer to the retransmission (ACK retx flag) tells that the target has seen
  // everything sent before it: the ACK of the original, merely late, comes while the
  // rest of the window is still on its way, and resending that would be all duplicates.
  if (p->rto_wait && psn == p->rto_psn && (a.flags & wire::flags::kAckRetx)) {
    p->rto_wait = false;
    p->tx.for_each([&](TxPkt &pk) {
      if (pk.acked || pk.delivered || pk.psn == psn || !psn_lt(pk.psn, p->rto_end) || pk.sent_ns > p->rto_at) return;
      st_.retx_rto++;
      send_req(p, (TxOp *)pk.op, pk, true);
    });
  }
  if (a.nh == NH_RSP_DATA) {
    TxPkt *pk = p->tx.find(psn);
    if (pk && !pk->acked && pk->needs_rsp_data) {
      TxOp *op = (TxOp *)pk->op;
      if (rsp.return_code != RC_OK && op->rc == RC_OK) op->rc = rsp.return_code;
      size_t plen = rsp.payload_length;
      if (op->kind == OpKind::READ) {
        if (rsp.return_code == RC_OK && plen == pk->len) op->local.copy_in(pk->offset, data, plen);
        else if (rsp.return_code == RC_OK && op->rc == RC_OK) op->rc = RC_DROPPED;
      } else if (op->kind == OpKind::FETCH_ATOMIC && rsp.return_code == RC_OK) {
        op->result.copy_in(0, data, std::min(plen, op->result.total));
      }
      pk->acked = true;
      if (!pk->delivered) p->inflight_bytes = std::max(0.0, p->inflight_bytes - pk->len);
      if (op->unacked_pkts) op->unacked_pkts--;
      op->chunks_done++;
      p->tx.compact_front();
      if (op->chunks_done >= op->chunks_total && op->fully_sent) finish(p, op, rc_to_err(op->rc));
    }
  } else {
    p->tx.on_single(psn, settle);
    if (a.nh == NH_RSP) {
      auto oi = p->inflight.find(rsp.message_id);
      if (oi != p->inflight.end() && oi->second->fully_sent && !oi->second->chunks_total) {
        TxOp *op = oi->second;
        op->rsp = true;
        op->rc = rsp.return_code;
        finish(p, op, rc_to_err(op->rc));
      }
    }
  }
  pump(p);
}

void Engine::handle_nack(const uint8_t *b, size_t len, const sockaddr_in &from) {
  PdsNack nk;
  if (!get_nack(b, len, nk)) { st_.drops_malformed++; return; }
  st_.nack_rx[nk.nack_code]++;
  auto it = init_by_id_.find(nk.dpdcid);
  if (it == init_by_id_.end() || !same_peer(it->second->peer, from)) { st_.drops_unknown_pdc++; return; }
  InitPdc *p = it->second;
  if (nk.nack_code == NACK_INV_DPDCID && !p->closing && reopen_pdc(p)) return;
  if (p->rod && nk.nack_code == NACK_ROD_OOO && !p->closing) {
    rod_goback(p, nk.payload, nk.nack_psn);
    return;
  }
  TxPkt *pk = p->tx.find(nk.nack_psn);
  switch (wire::nack_info(nk.nack_code).action) {
    case wire::NackAction::kClose:
      // The target lost or refuses this PDC: its state cannot be trusted any more.
      fail_pdc(p, FI_EIO);
      return;
    default:
      // Retransmit codes: resend after a short pause rather than at once, so a target
      // out of buffers is not flooded.
      if (pk && !pk->acked) pk->sent_ns = now_ - rto(p) + cfg_.rto_ns / 4;
#ifdef SOFTUET_HAVE_NSCC
      if (pk && !pk->acked && p->cc) p->cc->onNack(pk->len, (double)now_, false, p->inflight_bytes);
      if (pk && !pk->acked && p->ev) p->ev->onNack(pk->ev);
#endif
      return;
  }
}

// ---------------------------------------------------------------- target
void Engine::drop_tgt(TgtPdc *t) {
  for (auto lst : {&unexp_msg_, &unexp_tag_}) {
    for (auto i = lst->begin(); i != lst->end();) {
      if ((*i)->pdc == t) {
        unexp_bytes_ -= (*i)->staging.size();
        i = lst->erase(i);
      } else {
        ++i;
      }
    }
  }
  for (auto &m : t->msgs) {
    // A receive matched to a message this peer will never finish: hand it back failed.
    if (RecvEntry *r = m.second->recv.get()) {
      Completion c;
      c.context = r->context;
      c.flags = FI_RECV | (r->tagged ? FI_TAGGED : FI_MSG);
      c.err = FI_EIO;
      c.uet_rc = RC_UNDELIVERABLE;
      c.tag = r->tag;
      c.flags |= recv_done_flags(r);
      host_->rx_done(c);
    }
    delete m.second;
  }
  ack_pending_.erase(std::remove(ack_pending_.begin(), ack_pending_.end(), t), ack_pending_.end());
  auto ki = tgt_by_key_.find(peer_key(t->peer) << 16 | t->peer_id);
  if (ki != tgt_by_key_.end() && ki->second == t) tgt_by_key_.erase(ki);
  tgt_by_id_.erase(t->id);
  cc_forget(t);
  delete t;
}

void Engine::handle_req(const uint8_t *b, size_t len, const sockaddr_in &src) {
  // prewrite_dst may have decoded this packet's headers already.
  RxHdr &h = rx_hdr_;
  if (!h.valid) h.decode(b, len);
  h.valid = false;
  const PdsReq &r = h.r;
  const SesStd &s = h.s;
  size_t n = h.n, m = h.m;
  if (!n || h.nh != NH_REQ_STD) { st_.drops_malformed++; return; }
  rx_retx_ = r.flags & RF_RETX;
  rx_retx_psn_ = r.psn;
  if (!m) { st_.drops_malformed++; return; }
  const uint8_t *pl = b + n + m;
  size_t plen = len - n - m;
  if (r.type == PDS_UUD_REQ) {
    handle_uud(s, pl, plen, src);
    return;
  }
  if (cfg_.dgram) { st_.drops_malformed++; return; }
  note_src_port(src);
  // From here on `from` is the initiator's endpoint: its requests may leave from any of
  // its EV ports (the UDP source port is the entropy value) and name the endpoint's own
  // port in SES `initiator`; PDCs, NACKs and ACKs go by the endpoint.
  sockaddr_in from = src;
  if (s.initiator && s.initiator <= 0xffff) from.sin_port = htons((uint16_t)s.initiator);
  TgtPdc *t = nullptr;
  bool rod = r.type == PDS_ROD_REQ;
  if (r.flags & RF_SYN) {
    uint64_t key = peer_key(from) << 16 | r.spdcid;
    uint32_t start = r.psn - r.psn_offset;
    auto it = tgt_by_key_.find(key);
    if (it != tgt_by_key_.end()) {
      t = it->second;
      if (t->start_psn != start || t->closing) {
        // A new incarnation of the peer reusing address and PDC id.
        drop_tgt(t);
        t = nullptr;
      }
    }
    if (!t) {
      uint16_t id = alloc_pdcid();
      if (!id) { send_nack(from, 0, r.spdcid, r.psn, 0x04, 0); return; }
      t = new TgtPdc;
      t->peer = from;
      t->id = id;
      t->peer_id = r.spdcid;
      t->start_psn = start;
      t->rx.init(start);
      t->rod = rod;
      t->clear.init(start);
      tgt_by_key_[key] = t;
      tgt_by_id_[id] = t;
      st_.pdc_opened++;
    }
  } else {
    auto it = tgt_by_id_.find(r.dpdcid);
    if (it == tgt_by_id_.end() || !same_peer(it->second->peer, from) || it->second->peer_id != r.spdcid) {
      send_nack(from, 0, r.spdcid, r.psn, NACK_INV_DPDCID, 0);
      return;
    }
    t = it->second;
  }
  if (r.type == PDS_RUD_CC_REQ) cc_on_req(t, r, plen);
  if (t->rod != rod) {
    send_nack(from, t->id, t->peer_id, r.psn, NACK_PDC_MODE_MISMATCH, 0);
    return;
  }
  if (r.clear_psn_offset != kClearUnknown) note_clear(t, r.psn + r.clear_psn_offset);
  auto v = t->rx.check(r.psn);
  if (rod && v == RxTracker::NEW && rod_check(t->rx, r.psn) == RodVerdict::OUT_OF_ORDER) {
    // ROD hands SES only the next PSN: drop this one and tell the initiator where to
    // go back to.
    st_.rod_ooo_drops++;
    send_nack(from, t->id, t->peer_id, r.psn, NACK_ROD_OOO, t->rx.cack() + 1);
    return;
  }
  if ((s.job_id != cfg_.job_id || s.pid_on_fep != 0) && v != RxTracker::OUT_OF_WINDOW) {
    refuse_foreign(t, r.psn, v == RxTracker::NEW, s);
    return;
  }
  if (v == RxTracker::OUT_OF_WINDOW) {
    send_nack(from, t->id, t->peer_id, r.psn, (r.flags & RF_SYN) ? NACK_INVALID_SYN : NACK_PSN_OOR_WINDOW,
              t->rx.cack() + 1);
    return;
  }
  if (v == RxTracker::DUP) {
    st_.duplicates++;
    answer_dup(t, r.psn, s);
    return;
  }
  if (psn_lt(r.psn, t->rx.max_rcvd())) {
    st_.rx_late++;
    st_.rx_late_max = std::max<uint64_t>(st_.rx_late_max, t->rx.max_rcvd() - r.psn);
  }
  bool acked = false;
  if (!deliver(t, r.psn, s, pl, plen, acked)) return;
  t->rx.mark(r.psn);  // no-op when deliver() already marked it to ACK with a response
  t->last_psn = r.psn;
  if (acked) return;
  t->since_ack++;
  if ((r.flags & (RF_AR | RF_SYN)) || t->rx.has_gap() || t->since_ack >= 16) {
    send_ack(t, r.psn, nullptr, false, nullptr, 0, 0);
  } else if (!t->ack_pending) {
    t->ack_pending = true;
    ack_pending_.push_back(t);
  }
}

uint8_t Engine::check_mr(uint64_t key, uint64_t addr, uint64_t len, uint64_t access, uint8_t *&ptr) {
  MrView mv;
  if (!host_->find_mr(key, mv)) return RC_BAD_MKEY;
  if ((mv.access & access) != access) return RC_PERM_VIOLATION;
  if (addr < mv.base || len > mv.len || addr - mv.base > mv.len - len) return RC_AT_OUT_OF_RANGE;
  ptr = mv.ptr + (addr - mv.base);
  return RC_OK;
}

// The bytes one read request asks for (see send_req), within the read and within what
// one response's 14-bit payload_length can say. A request that names no length gets
// this side's MTU.
static uint32_t read_chunk(const SesStd &s, size_t own_mtu) {
  uint32_t off = (s.flags & SF_SOM) ? 0 : s.message_offset;
  if (off >= s.request_length) return 0;
  uint64_t ask = (s.flags & SF_SOM) ? s.header_data : s.payload_length;
  if (!ask) ask = own_mtu;
  return (uint32_t)std::min<uint64_t>({ask, kMaxMtu, s.request_length - off});
}

void Engine::serve_read(TgtPdc *t, uint32_t psn, const SesStd &s) {
  uint32_t off = (s.flags & SF_SOM) ? 0 : s.message_offset;
  uint32_t clen = read_chunk(s, cfg_.mtu);
  SesRsp rsp;
  rsp.opcode = RSP_W_DATA;
  rsp.message_id = s.message_id;
  rsp.read_request_message_id = s.message_id;
  rsp.job_id = cfg_.job_id;
  rsp.message_offset = off;
  uint8_t *ptr = nullptr;
  uint8_t rc = off > s.request_length ? (uint8_t)RC_AT_OUT_OF_RANGE
                                      : check_mr(s.memory_key, s.buffer_offset + off, clen, FI_REMOTE_READ, ptr);
  rsp.return_code = rc;
  if (rc != RC_OK) {
    st_.rsp_errors_tx++;
    rsp.payload_length = 0;
    send_ack(t, psn, &rsp, true, nullptr, 0, 0);
    return;
  }
  rsp.payload_length = (uint16_t)clen;
  rsp.modified_length = clen;
  IoList d;
  if (t->rod) {
    // Kept until cleared: a resent request gets these bytes, not memory a later
    // write has changed (write-after-read order).
    auto &slot = t->read_cache[psn];
    slot.first = rsp;
    slot.second.assign(ptr, ptr + clen);
    d.add(slot.second.data(), clen);
  } else {
    d.add(ptr, clen);
  }
  send_ack(t, psn, &rsp, true, &d, 0, clen);
  MrView unused;
  (void)unused;
  Completion c;
  if (s.flags & SF_EOM) host_->remote_done(FI_REMOTE_READ | FI_RMA, c);
}

void Engine::answer_dup(TgtPdc *t, uint32_t psn, const SesStd &s) {
  if (s.opcode == OP_READ) {
    auto rc = t->read_cache.find(psn);
    if (rc != t->read_cache.end()) {
      IoList d;
      d.add(rc->second.second.data(), rc->second.second.size());
      send_ack(t, psn, &rc->second.first, true, &d, 0, d.total);
      return;
    }
    serve_read(t, psn, s);
    return;
  }
  if (s.opcode == OP_FETCHING_ATOMIC) {
    auto it = t->amo_cache.find(psn);
    SesRsp rsp;
    rsp.opcode = RSP_W_DATA;
    rsp.message_id = s.message_id;
    rsp.job_id = cfg_.job_id;
    if (it == t->amo_cache.end()) {
      rsp.return_code = RC_DROPPED;
      send_ack(t, psn, &rsp, true, nullptr, 0, 0);
      return;
    }
    rsp.return_code = it->second.first;
    rsp.payload_length = (uint16_t)it->second.second.size();
    IoList d;
    d.add(it->second.second.data(), it->second.second.size());
    send_ack(t, psn, &rsp, true, &d, 0, d.total);
    return;
  }
  auto mi = t->msgs.find(s.message_id);
  if (mi != t->msgs.end() && mi->second->complete) {
    SesRsp rsp;
    rsp.message_id = s.message_id;
    rsp.job_id = cfg_.job_id;
    rsp.return_code = mi->second->rc;
    rsp.modified_length = mi->second->done_bytes;
    send_ack(t, psn, &rsp, false, nullptr, 0, 0);
  } else {
    send_ack(t, psn, nullptr, false, nullptr, 0, 0);
  }
}

void Engine::note_answered(TgtPdc *t, const SesStd &s) {
  // Reads and fetching atomics are answered at once and never matched, but the
  // initiator gave them a message id from the same sequence as sends: without a record
  // here, release_in_order would wait for that id forever and every later send on
  // this PDC would stay unmatched. A read is one id over several requests; its record
  // is complete once they have asked for all its bytes, so a record left complete and
  // released is from before the 16-bit id wrapped and may be reused.
  RxMsg *m;
  auto mi = t->msgs.find(s.message_id);
  if (mi == t->msgs.end()) {
    m = t->msgs[s.message_id] = new RxMsg;
  } else {
    m = mi->second;
    bool same = m->opcode == s.opcode && !m->complete && m->total == s.request_length;
    if (!same) {
      if (!(m->complete && m->released) || m->in_unexp || m->recv) return;  // a live message owns it
      *m = RxMsg();
    }
  }
  if (!m->chunks_seen) {
    m->id = s.message_id;
    m->opcode = s.opcode;
    m->total = s.request_length;
    m->pdc = t;
  }
  m->chunks_seen++;
  if (s.opcode == OP_READ) m->done_bytes += read_chunk(s, cfg_.mtu);
  if (s.opcode != OP_READ || m->done_bytes >= m->total) m->complete = true;
  prune_msgs(t, m);
  release_in_order(t);
}

void Engine::prune_msgs(TgtPdc *t, RxMsg *keep) {
  // Finished records are kept a while to answer duplicates and ACK_REQ probes.
  if (t->msgs.size() <= 8192) return;
  for (auto it = t->msgs.begin(); it != t->msgs.end();) {
    RxMsg *x = it->second;
    if (x != keep && x->complete && x->released && !x->in_unexp && !x->recv &&
        (uint16_t)(t->next_match - x->id) > 4096) {
      delete x;
      it = t->msgs.erase(it);
    } else {
      ++it;
    }
  }
}

bool Engine::deliver(TgtPdc *t, uint32_t psn, const SesStd &s, const uint8_t *pl, size_t plen, bool &acked) {
  switch (s.opcode) {
    case OP_READ:
      note_answered(t, s);
      t->rx.mark(psn);
      serve_read(t, psn, s);
      acked = true;
      return true;
    case OP_ATOMIC:
    case OP_FETCHING_ATOMIC: {
      bool fetch = s.opcode == OP_FETCHING_ATOMIC;
      size_t es = amo_size(s.atomic_datatype);
      uint8_t rc = RC_OK;
      size_t count = 0;
      if (!es) rc = RC_AMO_UNSUPPORTED_DT;
      else if (s.atomic_opcode > AMO_MSWAP) rc = RC_AMO_UNSUPPORTED_OP;
      else {
        bool cmp = amo_is_cswap(s.atomic_opcode);
        bool no_operand = s.atomic_opcode == AMO_READ;
        count = s.request_length / es;
        size_t want = no_operand ? 0 : count * es * (cmp ? 2 : 1);
        if (s.request_length % es || plen != want || count == 0) rc = RC_UNSUPPORTED_SIZE;
      }
      uint8_t *ptr = nullptr;
      uint64_t access = s.atomic_opcode == AMO_READ ? FI_REMOTE_READ
                                                    : (fetch ? (FI_REMOTE_READ | FI_REMOTE_WRITE) : FI_REMOTE_WRITE);
      if (rc == RC_OK) rc = check_mr(s.memory_key, s.buffer_offset, count * es, access, ptr);
      if (rc == RC_OK && ((uintptr_t)ptr % es)) rc = RC_AMO_UNALIGNED;
      std::vector<uint8_t> old;
      if (rc == RC_OK) {
        if (fetch) old.resize(count * es);
        bool cmp = amo_is_cswap(s.atomic_opcode);
        const uint8_t *operand = s.atomic_opcode == AMO_READ ? nullptr : pl;
        rc = amo_apply(s.atomic_opcode, s.atomic_datatype, ptr, operand, cmp ? pl + count * es : nullptr,
                       fetch ? old.data() : nullptr, count);
      }
      if (rc != RC_OK) st_.rsp_errors_tx++;
      Completion c;
      if (rc == RC_OK) host_->remote_done(FI_ATOMIC | ((access & FI_REMOTE_WRITE) ? (uint64_t)FI_REMOTE_WRITE : (uint64_t)FI_REMOTE_READ), c);
      SesRsp rsp;
      rsp.message_id = s.message_id;
      rsp.job_id = cfg_.job_id;
      rsp.return_code = rc;
      if (fetch) {
        note_answered(t, s);
        rsp.opcode = RSP_W_DATA;
        rsp.payload_length = (uint16_t)old.size();
        auto &slot = t->amo_cache[psn];
        slot.first = rc;
        slot.second = old;
        if (t->amo_cache.size() > 4096) {
          for (auto it = t->amo_cache.begin(); it != t->amo_cache.end();) {
            if ((int32_t)(psn - it->first) > 2048) it = t->amo_cache.erase(it);
            else ++it;
          }
        }
        IoList d;
        d.add(slot.second.data(), slot.second.size());
        t->rx.mark(psn);
        send_ack(t, psn, &rsp, true, &d, 0, d.total);
      } else {
        RxMsg *m = t->msgs[s.message_id];
        if (!m) m = t->msgs[s.message_id] = new RxMsg;
        *m = RxMsg();
        m->id = s.message_id;
        m->opcode = s.opcode;
        m->pdc = t;
        m->rc = rc;
        m->complete = true;
        m->released = false;
        m->psn = psn;
        m->has_psn = true;
        release_in_order(t);
        t->rx.mark(psn);
        send_ack(t, psn, &rsp, false, nullptr, 0, 0);
      }
      acked = true;
      return true;
    }
    case OP_WRITE:
    case OP_SEND:
    case OP_TAGGED_SEND:
      break;
    default: {
      // Unknown request: consume the PSN and answer with an error so the initiator
      // does not retransmit it forever.
      SesRsp rsp;
      rsp.message_id = s.message_id;
      rsp.return_code = RC_UNSUPPORTED_OP;
      t->rx.mark(psn);
      send_ack(t, psn, &rsp, false, nullptr, 0, 0);
      acked = true;
      return true;
    }
  }
  uint32_t off = (s.flags & SF_SOM) ? 0 : s.message_offset;
  if ((uint64_t)off + plen > s.request_length || (!(s.flags & SF_SOM) && s.payload_length != plen)) {
    st_.drops_malformed++;
    return false;
  }
  RxMsg *m = nullptr;
  bool defer_release = false;
  auto mi = t->msgs.find(s.message_id);
  if (mi != t->msgs.end() && !(mi->second->complete && mi->second->released)) {
    m = mi->second;
    if (m->opcode != s.opcode || m->total != s.request_length) {
      st_.drops_malformed++;
      return false;
    }
  } else {
    bool is_send = s.opcode != OP_WRITE;
    if (is_send && s.request_length > cfg_.unexpected_limit) {
      // Never fits the staging budget: accept and answer with an error.
    } else if (is_send && unexp_bytes_ + s.request_length > cfg_.unexpected_limit) {
      bool next = s.message_id == t->next_match;
      bool can_match = false;
      if (next) {
        auto &lst = s.opcode == OP_TAGGED_SEND ? posted_tag_ : posted_msg_;
        can_match = !lst.empty();
      }
      if (!can_match) {
        send_nack(t->peer, t->id, t->peer_id, psn, NACK_NO_PKT_BUFFER, 0);
        return false;
      }
    }
    if (mi != t->msgs.end()) {
      m = mi->second;
      if (m->in_unexp) {
        st_.drops_malformed++;
        return false;
      }
      *m = RxMsg();
    } else {
      m = new RxMsg;
      t->msgs[s.message_id] = m;
    }
    m->id = s.message_id;
    m->opcode = s.opcode;
    m->total = s.request_length;
    m->pdc = t;
    if (s.opcode == OP_WRITE) {
      m->rc = check_mr(s.memory_key, s.buffer_offset, s.request_length, FI_REMOTE_WRITE, m->dest);
      if (m->rc != RC_OK) st_.rsp_errors_tx++;
      m->key = s.memory_key;
      m->base = s.buffer_offset;
    } else {
      m->tag = s.memory_key;
    }
    if (m->rc == RC_OK && s.request_length > cfg_.mtu)
      m->touched.assign(((s.request_length + cfg_.mtu - 1) / cfg_.mtu + 63) / 64, 0);
    prune_msgs(t, m);
    // This packet is the whole message and the next one already arrived complete:
    // release after completing this one, or the next would be delivered first.
    auto nx = t->msgs.find((uint16_t)(s.message_id + 1));
    defer_release = (s.flags & SF_SOM) && plen == s.request_length && nx != t->msgs.end() &&
                    nx->second->complete && !nx->second->released;
    if (!defer_release) release_in_order(t);
  }
  if (s.flags & SF_SOM) {
    m->has_data = s.flags & SF_HD;
    m->data = s.header_data;
  }
  if (m->rc == RC_OK && plen) {
    // Every placement, staging included (staged bytes are copied to the receive when it
    // is matched), marks the chunks it wrote to.
    if (!m->touched.empty())
      for (size_t c = off / cfg_.mtu, e = std::min<size_t>((off + plen - 1) / cfg_.mtu, m->touched.size() * 64 - 1);
           c <= e; c++)
        m->touched[c / 64] |= uint64_t(1) << (c % 64);
    if (m->opcode == OP_WRITE) {
      // Looked up again per packet: the region may have been closed mid-message.
      uint8_t *dst = nullptr;
      uint8_t rc = check_mr(s.memory_key, s.buffer_offset + off, plen, FI_REMOTE_WRITE, dst);
      if (rc == RC_OK) {
        if (dst != preplaced_) memcpy(dst, pl, plen);
      } else {
        m->rc = rc;
      }
    } else if (m->recv) {
      if (!preplaced_ || preplaced_ != contiguous_at(m->recv->iov, off, plen))
        if (off < m->recv->iov.total) m->recv->iov.copy_in(off, pl, std::min<size_t>(plen, m->recv->iov.total - off));
    } else if (m->total > cfg_.unexpected_limit) {
      // Unmatched and larger than the whole staging budget: it can never be buffered.
      m->rc = RC_TOO_LONG;
      st_.rsp_errors_tx++;
    } else {
      if (m->staging.size() != m->total) {
        m->staging.resize(m->total);
        unexp_bytes_ += m->total;
      }
      memcpy(m->staging.data() + off, pl, plen);
    }
  }
  m->done_bytes += (uint32_t)plen;
  if (m->done_bytes >= m->total) {
    t->rx.mark(psn);
    msg_complete(t, m, psn);
    acked = true;
  }
  if (defer_release) release_in_order(t);
  return true;
}

void Engine::msg_complete(TgtPdc *t, RxMsg *m, uint32_t psn) {
  m->complete = true;
  m->psn = psn;
  m->has_psn = true;
  if (m->opcode == OP_WRITE) {
    if (m->rc == RC_OK) {
      Completion c;
      c.src = t->peer;
      c.has_src = true;
      c.data = m->data;
      c.len = m->total;
      uint64_t fl = FI_RMA | FI_REMOTE_WRITE;
      if (m->has_data) fl |= FI_REMOTE_CQ_DATA;
      host_->remote_done(fl, c);
    }
  } else if (m->recv) {
    deliver_recv(m);
  }
  SesRsp rsp;
  rsp.message_id = m->id;
  rsp.job_id = cfg_.job_id;
  rsp.return_code = m->rc;
  rsp.modified_length = m->done_bytes;
  rsp.list = m->in_unexp ? 1 : 0;
  send_ack(t, psn, &rsp, false, nullptr, 0, 0);
}

void Engine::deliver_recv(RxMsg *m) {
  std::unique_ptr<RecvEntry> r = std::move(m->recv);
  m->delivered = true;
  Completion c;
  c.context = r->context;
  c.flags = FI_RECV | (m->opcode == OP_TAGGED_SEND ? FI_TAGGED : FI_MSG);
  if (r->multi) c.flags |= recv_done_flags(r.get());
  if (m->has_data) {
    c.flags |= FI_REMOTE_CQ_DATA;
    c.data = m->data;
  }
  c.tag = m->tag;
  c.len = std::min<size_t>(m->total, r->iov.total);
  c.buf = r->iov.n ? r->iov.v[0].iov_base : nullptr;
  c.src = m->pdc->peer;
  c.has_src = true;
  if (m->rc != RC_OK) {
    c.err = rc_to_err(m->rc);
    c.uet_rc = m->rc;
  } else if (m->total > r->iov.total) {
    c.err = FI_ETRUNC;
    c.olen = m->total - r->iov.total;
  }
  host_->rx_done(c);
}

bool Engine::match_recv(RxMsg *m) {
  auto &lst = m->opcode == OP_TAGGED_SEND ? posted_tag_ : posted_msg_;
  for (size_t i = 0; i < lst.size(); i++) {
    RecvEntry *r = lst[i];
    if (!r->any_src && !same_peer(r->src, m->pdc->peer)) continue;
    if (r->tagged && ((r->tag ^ m->tag) & ~r->ignore)) continue;
    if (r->multi) {
      r = carve_multi(lst, i, m->total);
      if (!r) {  // retired without room for this message; try the next receive
        i--;
        continue;
      }
    } else {
      lst.erase(lst.begin() + i);
    }
    m->recv.reset(r);
    if (!m->staging.empty()) {
      r->iov.copy_in(0, m->staging.data(), std::min<size_t>(m->staging.size(), r->iov.total));
      unexp_bytes_ -= m->staging.size();
      std::vector<uint8_t>().swap(m->staging);
    }
    return true;
  }
  return false;
}

void Engine::release_in_order(TgtPdc *t) {
  for (;;) {
    auto it = t->msgs.find(t->next_match);
    if (it == t->msgs.end() || it->second->released) return;
    RxMsg *m = it->second;
    m->released = true;
    t->next_match++;
    if (m->opcode != OP_SEND && m->opcode != OP_TAGGED_SEND) continue;
    if (match_recv(m)) {
      if (m->complete) deliver_recv(m);
    } else {
      m->in_unexp = true;
      st_.unexpected_msgs++;
      (m->opcode == OP_TAGGED_SEND ? unexp_tag_ : unexp_msg_).push_back(m);
    }
  }
}

// An unexpected message (already off its list) gets its receive: the bytes staged so far
// move into the receive's buffer, and a message already whole is delivered.
void Engine::claim_unexpected(RxMsg *m, RecvEntry *r) {
  m->in_unexp = false;
  m->recv.reset(r);
  if (!m->staging.empty()) {
    r->iov.copy_in(0, m->staging.data(), std::min<size_t>(m->staging.size(), r->iov.total));
    unexp_bytes_ -= m->staging.size();
    std::vector<uint8_t>().swap(m->staging);
  }
  if (m->complete) deliver_recv(m);
}

void Engine::post_recv(RecvEntry *r) {
  if (r->multi) {
    post_multi_recv(r);
    return;
  }
  auto &lst = r->tagged ? unexp_tag_ : unexp_msg_;
  for (auto it = lst.begin(); it != lst.end(); ++it) {
    RxMsg *m = *it;
    if (!r->any_src && !same_peer(r->src, m->pdc->peer)) continue;
    if (r->tagged && ((r->tag ^ m->tag) & ~r->ignore)) continue;
    lst.erase(it);
    claim_unexpected(m, r);
    return;
  }
  (r->tagged ? posted_tag_ : posted_msg_).push_back(r);
}

bool Engine::cancel(void *context) {
  for (auto lst : {&posted_msg_, &posted_tag_}) {
    for (auto it = lst->begin(); it != lst->end(); ++it) {
      if ((*it)->context != context) continue;
      RecvEntry *r = *it;
      lst->erase(it);
      Completion c;
      c.context = r->context;
      c.flags = FI_RECV | (r->tagged ? FI_TAGGED : FI_MSG);
      c.err = FI_ECANCELED;
      c.tag = r->tag;
      if (r->multi) {
        // Pieces still in flight report the release with the last of them.
        r->multi->released = true;
        if (!r->multi->outstanding) c.flags |= FI_MULTI_RECV;
      }
      host_->rx_done(c);
      delete r;
      return true;
    }
  }
  return false;
}

void Engine::handle_uud(const SesStd &s, const uint8_t *pl, size_t plen, const sockaddr_in &from) {
  if (s.opcode != OP_DATAGRAM_SEND || plen != s.request_length) { st_.drops_malformed++; return; }
  if (s.job_id != cfg_.job_id || s.pid_on_fep != 0) { st_.bad_job_rx++; return; }
  for (auto it = posted_msg_.begin(); it != posted_msg_.end(); ++it) {
    RecvEntry *r = *it;
    if (!r->any_src && !same_peer(r->src, from)) continue;
    posted_msg_.erase(it);
    Completion c;
    c.context = r->context;
    c.flags = FI_RECV | FI_MSG;
    if (s.flags & SF_HD) {
      c.flags |= FI_REMOTE_CQ_DATA;
      c.data = s.header_data;
    }
    c.len = std::min(plen, r->iov.total);
    c.buf = r->iov.n ? r->iov.v[0].iov_base : nullptr;
    r->iov.copy_in(0, pl, c.len);
    if (plen > r->iov.total) {
      c.err = FI_ETRUNC;
      c.olen = plen - r->iov.total;
    }
    c.src = from;
    c.has_src = true;
    host_->rx_done(c);
    delete r;
    return;
  }
  st_.drops_no_recv++;
}

void Engine::handle_cp(const uint8_t *b, size_t len, const sockaddr_in &from) {
  PdsCp c;
  if (!get_cp(b, len, c)) { st_.drops_malformed++; return; }
  if (c.ctl_type == CP_CLOSE_REQ) {  // target to initiator
    auto ii = init_by_id_.find(c.dpdcid);
    if (ii == init_by_id_.end() || !same_peer(ii->second->peer, from) || ii->second->dpdcid != c.spdcid) {
      st_.drops_unknown_pdc++;
      return;
    }
    InitPdc *p = ii->second;
    if (!p->closing && p->established && p->queue.empty() && p->inflight.empty() && !p->tx.in_flight())
      start_close(p, now_);
    return;
  }
  auto it = tgt_by_id_.find(c.dpdcid);
  if (it == tgt_by_id_.end() || !same_peer(it->second->peer, from) || it->second->peer_id != c.spdcid) {
    // A CLOSE whose ACK was lost, for a PDC already freed: acknowledge it again.
    if (c.ctl_type == CP_CLOSE) send_bare_ack(from, c.dpdcid, c.spdcid, c.psn);
    else st_.drops_unknown_pdc++;
    return;
  }
  TgtPdc *t = it->second;
  t->cps_seen++;
  if (c.ctl_type == CP_CLEAR) {
    st_.clear_rx++;
    note_clear(t, c.payload);
    if (t->clear.dirty) purge_cleared(t, false);
    return;
  }
  if (c.ctl_type == CP_CLOSE) {
    tgt_close(t, c, from);
    return;
  }
  if (c.ctl_type == CP_ACK_REQ) {
    auto mi = t->msgs.find((uint16_t)c.payload);
    if (mi != t->msgs.end() && mi->second->complete) {
      SesRsp rsp;
      rsp.message_id = mi->second->id;
      rsp.job_id = cfg_.job_id;
      rsp.return_code = mi->second->rc;
      rsp.modified_length = mi->second->done_bytes;
      send_ack(t, c.psn, &rsp, false, nullptr, 0, 0);
    } else {
      send_ack(t, c.psn, nullptr, false, nullptr, 0, 0);
    }
  } else if (c.ctl_type == CP_CREDIT_REQ && t->cc_key) {
    PdsReq r;
    r.credit_target = c.payload & 0xffffff;
    cc_on_req(t, r, 0);
    send_ack(t, t->last_psn, nullptr, false, nullptr, 0, 0);
  }
}

// ---------------------------------------------------------------- PDC lifecycle
// CLEAR: requests carry the initiator's cumulative clear point; an idle initiator sends
// it in a CLEAR CP. The target frees what it kept to answer again (message records
// behind ACK_REQ probes, fetched atomic results) once the initiator is past them.
// CLOSE: an initiator PDC idle for pdc_idle_ns sends CLOSE on a new PSN with AR and
// is dropped from the lookup, so the next operation to that peer opens a new PDC with
// SYN; the ACK of the CLOSE frees it. The target ACKs the CLOSE and frees its side
// (after the application has taken any unexpected message still buffered from it).
// A target idle for twice that asks with CLOSE_REQ, for initiators configured longer.

void Engine::unlink_init(InitPdc *p) {
  auto it = init_by_peer_.find(p->key);
  if (it != init_by_peer_.end() && it->second == p) init_by_peer_.erase(it);
}

void Engine::update_clear(InitPdc *p) {
  // Up to base-1 every ACK has been seen; an operation still waiting for its SES
  // response keeps the clear point below its first PSN, so that the target can still
  // answer an ACK_REQ for it.
  uint32_t c = p->tx.base() - 1;
  for (auto &kv : p->inflight) {
    TxOp *op = kv.second;
    if (!op->started) continue;
    uint32_t first;
    if (op->fully_sent) {
      uint32_t npk = 1;
      if (op->kind != OpKind::ATOMIC && op->kind != OpKind::FETCH_ATOMIC && op->length)
        npk = (uint32_t)((op->length + cfg_.mtu - 1) / cfg_.mtu);
      first = op->eom_psn - (npk - 1);
    } else {
      // Only the queue head is partly sent, and its packets are the newest ones.
      first = p->tx.next_psn() - (uint32_t)((op->next_off + cfg_.mtu - 1) / cfg_.mtu);
    }
    if (psn_lt(first - 1, c)) c = first - 1;
  }
  if (psn_lt(p->clear_psn, c)) p->clear_psn = c;
}

void Engine::start_close(InitPdc *p, uint64_t now) {
  unlink_init(p);
  p->closing = true;
  p->close_psn = p->tx.next_psn();
  p->close_tries = 0;
  p->close_sent_ns = now;
  st_.close_tx++;
  send_cp(p, CP_CLOSE, p->close_psn, 0);
}

void Engine::note_clear(TgtPdc *t, uint32_t clear_psn) { t->clear.note(clear_psn, t->rx.cack()); }

void Engine::purge_cleared(TgtPdc *t, bool all) {
  for (auto it = t->msgs.begin(); it != t->msgs.end();) {
    RxMsg *x = it->second;
    if (x->complete && x->released && !x->in_unexp && !x->recv &&
        (all || !x->has_psn || psn_le(x->psn, t->clear.psn))) {
      delete x;
      it = t->msgs.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = t->amo_cache.begin(); it != t->amo_cache.end();) {
    if (all || psn_le(it->first, t->clear.psn)) it = t->amo_cache.erase(it);
    else ++it;
  }
  for (auto it = t->read_cache.begin(); it != t->read_cache.end();) {
    if (all || psn_le(it->first, t->clear.psn)) it = t->read_cache.erase(it);
    else ++it;
  }
  t->clear.dirty = false;
}

bool Engine::tgt_live(TgtPdc *t) const {
  for (auto &kv : t->msgs)
    if (kv.second->in_unexp) return true;
  return false;
}

void Engine::send_bare_ack(const sockaddr_in &to, uint16_t spdcid, uint16_t dpdcid, uint32_t psn) {
  uint8_t h[PDS_ACK_CC_LEN];
  PdsAck a;
  a.cack_psn = psn;
  a.spdcid = spdcid;
  a.dpdcid = dpdcid;
  a.mpr = (uint8_t)std::max<uint32_t>(1, cfg_.mpr / 128);
  a.sack_psn_offset = 1;
  put_ack(h, a);
  iovec iov[2] = {{h, PDS_ACK_CC_LEN}};
  st_.acks_tx++;
  emit(to, iov, 1);
}

void Engine::tgt_close(TgtPdc *t, const PdsCp &c, const sockaddr_in &from) {
  if (!t->closing) {
    // The initiator closes only with everything ACKed, so the CLOSE is the next PSN; a
    // CLOSE that overtook retransmissions is ignored and comes again.
    if (c.psn != t->rx.cack() + 1) return;
    t->rx.mark(c.psn);
    t->closing = true;
    auto ki = tgt_by_key_.find(peer_key(t->peer) << 16 | t->peer_id);
    if (ki != tgt_by_key_.end() && ki->second == t) tgt_by_key_.erase(ki);
    ack_pending_.erase(std::remove(ack_pending_.begin(), ack_pending_.end(), t), ack_pending_.end());
    t->ack_pending = false;
    purge_cleared(t, true);
  }
  send_ack(t, c.psn, nullptr, false, nullptr, 0, 0);
  if (!tgt_live(t)) {
    st_.pdc_closed++;
    drop_tgt(t);
  }
}

void Engine::refuse_foreign(TgtPdc *t, uint32_t psn, bool fresh, const SesStd &s) {
  // SES checks the JobID and PIDonFEP of every request. softuet hosts one process per
  // UDP port, addressed as PIDonFEP 0. A request of another job is consumed (so the PDC
  // moves on) and answered with BAD_JOBID / BAD_PID, never executed.
  st_.bad_job_rx++;
  st_.rsp_errors_tx++;
  if (fresh) {
    t->rx.mark(psn);
    t->last_psn = psn;
  }
  SesRsp rsp;
  rsp.message_id = s.message_id;
  rsp.job_id = cfg_.job_id;
  rsp.return_code = s.job_id != cfg_.job_id ? RC_BAD_JOBID : RC_BAD_PID;
  bool data = s.opcode == OP_READ || s.opcode == OP_FETCHING_ATOMIC;  // answered with RSP_DATA
  if (data) {
    rsp.opcode = RSP_W_DATA;
    rsp.read_request_message_id = s.message_id;
    rsp.message_offset = (s.flags & SF_SOM) ? 0 : s.message_offset;
  }
  send_ack(t, psn, &rsp, data, nullptr, 0, 0);
}

bool Engine::reopen_pdc(InitPdc *p) {
  // The target no longer knows this PDC (it freed it after going unanswered, or it is a
  // new incarnation). If nothing sent since can have been executed there (no packet
  // acknowledged or answered, no operation begun before the window base), the
  // operations move to a new PDC opened with SYN instead of failing.
  if (!p->established) return false;
  bool clean = true;
  p->tx.for_each([&](TxPkt &pk) {
    if (pk.acked || pk.delivered) clean = false;
  });
  std::vector<std::pair<uint32_t, TxOp *>> started;
  for (auto &kv : p->inflight) {
    TxOp *op = kv.second;
    if (op->chunks_done || op->rsp || op->probes) clean = false;
    uint32_t npk = 1;
    if (op->kind != OpKind::ATOMIC && op->kind != OpKind::FETCH_ATOMIC && op->length)
      npk = (uint32_t)((op->length + cfg_.mtu - 1) / cfg_.mtu);
    uint32_t first = op->fully_sent ? op->eom_psn - (npk - 1)
                                    : p->tx.next_psn() - (uint32_t)((op->next_off + cfg_.mtu - 1) / cfg_.mtu);
    if (psn_lt(first, p->tx.base())) clean = false;
    started.emplace_back(first, op);
  }
  if (!clean) return false;
  std::sort(started.begin(), started.end(),
            [&](const std::pair<uint32_t, TxOp *> &x, const std::pair<uint32_t, TxOp *> &y) {
              return psn_lt(x.first, y.first);
            });
  std::vector<TxOp *> ops;
  for (auto &s : started) ops.push_back(s.second);
  for (TxOp *op : p->queue)
    if (!op->started) ops.push_back(op);
  sockaddr_in peer = p->peer;
  bool rod = p->rod;
  uint8_t tc = p->tc;
  if (sock_ && sock_->pending()) flush_tx();
  unlink_init(p);
  init_by_id_.erase(p->spdcid);
  delete p;
  st_.pdc_reopened++;
  InitPdc *q = init_pdc(peer, rod, tc);
  for (TxOp *op : ops) {
    op->msg_id = 0;
    op->next_off = 0;
    op->started = op->fully_sent = op->rsp = false;
    op->rc = RC_OK;
    op->unacked_pkts = op->chunks_done = op->eom_psn = op->probes = 0;
    op->all_acked_ns = op->last_probe_ns = 0;
    if (q) {
      q->queue.push_back(op);
      continue;
    }
    Completion c;  // no PDC id left
    c.context = op->context;
    c.flags = op->cq_flags;
    c.err = FI_EAGAIN;
    host_->tx_done(c);
    delete op;
  }
  if (q) pump(q);
  return true;
}

void Engine::rod_goback(InitPdc *p, uint32_t from_psn, uint32_t to_psn) {
  // A NACK naming PSNs this PDC never sent, or already retired, changes nothing.
  uint32_t base = p->tx.base(), next = p->tx.next_psn();
  if (psn_lt(to_psn, from_psn) || psn_lt(from_psn, base) || !psn_lt(to_psn, next)) return;
  // Go back to the PSN the target expects and resend from there; packets sent within
  // the last quarter RTO are still on their way and are left alone, so the NACKs of
  // one hole do not each trigger another round.
  uint64_t pause = cfg_.rto_ns / 4;
  std::vector<uint32_t> again;
  bool held = false;
  uint64_t held_until = 0;
  p->tx.for_each([&](TxPkt &pk) {
    if (pk.acked || psn_lt(pk.psn, from_psn) || psn_lt(to_psn, pk.psn)) return;
    if (now_ - pk.sent_ns < pause) {
      if (!held || pk.sent_ns + pause < held_until) held_until = pk.sent_ns + pause;
      held = true;
      return;
    }
    again.push_back(pk.psn);
  });
  if (held) {
    if (!p->gb_pending || psn_lt(p->gb_to, to_psn)) p->gb_to = to_psn;
    if (!p->gb_pending || held_until < p->gb_at) p->gb_at = held_until;
    p->gb_pending = true;
  }
  if (again.empty()) return;
  st_.rod_goback++;
  for (uint32_t psn : again) {
    TxPkt *pk = p->tx.find(psn);
    if (!pk || pk->acked) continue;
    // Resent on the target's word, not on a timeout: no backoff, no retry budget spent.
    uint32_t retries = pk->retries;
    send_req(p, (TxOp *)pk->op, *pk, true);
    pk->retries = retries;
  }
}

void Engine::pdc_timers(uint64_t now) {
  std::vector<InitPdc *> ip;
  for (auto &kv : init_by_id_) ip.push_back(kv.second);
  for (InitPdc *p : ip) {
    if (p->closing) {
      if (now - p->close_sent_ns < (cfg_.rto_ns << std::min<uint32_t>(p->close_tries, 6))) continue;
      if (p->close_tries >= cfg_.max_retries) {  // the peer is gone: nothing is owed to anyone
        init_by_id_.erase(p->spdcid);
        st_.pdc_failed++;
        delete p;
        continue;
      }
      p->close_tries++;
      p->close_sent_ns = now;
      st_.close_tx++;
      send_cp(p, CP_CLOSE, p->close_psn, 0);
      continue;
    }
    if (p->gb_pending && now >= p->gb_at) {
      p->gb_pending = false;
      if (p->tx.in_flight() && !psn_lt(p->gb_to, p->tx.base())) {
        now_ = now;
        rod_goback(p, p->tx.base(), p->gb_to);
      }
    }
    bool idle = p->established && p->queue.empty() && p->inflight.empty() && !p->tx.in_flight();
    update_clear(p);
    uint64_t quiet = p->idle.idle_for(idle, p->tx.next_psn(), now);
    if (!idle) continue;
    if (cfg_.pdc_idle_ns && quiet >= cfg_.pdc_idle_ns) {
      start_close(p, now);
    } else if (p->clear_sent != p->clear_psn && quiet >= cfg_.rto_ns) {
      // No request left to carry the clear point.
      p->clear_sent = p->clear_psn;
      st_.clear_tx++;
      send_cp(p, CP_CLEAR, 0, p->clear_psn);
    }
  }
  std::vector<TgtPdc *> tp;
  for (auto &kv : tgt_by_id_) tp.push_back(kv.second);
  for (TgtPdc *t : tp) {
    if (t->closing) {
      if (!tgt_live(t)) {
        st_.pdc_closed++;
        drop_tgt(t);
      }
      continue;
    }
    if (t->clear.dirty) purge_cleared(t, false);
    bool idle = !t->ack_pending && !t->rx.has_gap();
    uint64_t mark = ((uint64_t)t->rx.max_rcvd() << 32 | t->rx.cack()) ^ ((uint64_t)t->cps_seen << 48);
    uint64_t quiet = t->idle.idle_for(idle, mark, now);
    if (!quiet) t->close_reqs = 0;
    if (!cfg_.pdc_idle_ns || quiet < 2 * cfg_.pdc_idle_ns) continue;
    if (t->close_reqs >= 3) {
      // Asked three times, an idle period apart, and neither a CLOSE nor anything else
      // came: the initiator is gone. Its state goes (close in error), once nothing
      // unexpected from it is left for the application.
      if (quiet >= 5 * cfg_.pdc_idle_ns && !tgt_live(t)) {
        st_.pdc_closed_err++;
        drop_tgt(t);
      }
      continue;
    }
    if (now - t->close_req_ns < cfg_.pdc_idle_ns) continue;
    t->close_req_ns = now;
    t->close_reqs++;
    st_.close_req_tx++;
    uint8_t h[PDS_CP_LEN];
    PdsCp c;
    c.ctl_type = CP_CLOSE_REQ;
    c.flags = t->rod ? wire::flags::kCpIsrod : 0;
    c.psn = t->rx.cack();
    c.spdcid = t->id;
    c.dpdcid = t->peer_id;
    put_cp(h, c);
    iovec iov[2] = {{h, PDS_CP_LEN}};
    emit(t->peer, iov, 1);
  }
}

// ---------------------------------------------------------------- multi-receive
uint64_t Engine::recv_done_flags(RecvEntry *r) {
  if (!r->multi) return 0;
  MultiRecv &mr = *r->multi;
  if (mr.outstanding) mr.outstanding--;
  return mr.released && !mr.outstanding ? (uint64_t)FI_MULTI_RECV : 0;
}

RecvEntry *Engine::carve_multi(std::deque<RecvEntry *> &lst, size_t i, size_t len) {
  RecvEntry *r = lst[i];
  MultiRecv &mr = *r->multi;
  size_t room = r->iov.total - mr.used;
  if (len > room && mr.used) {
    // Does not fit in what is left: the buffer is done, the message goes elsewhere.
    lst.erase(lst.begin() + i);
    mr.released = true;
    if (!mr.outstanding) {
      Completion c;
      c.context = r->context;
      c.flags = FI_RECV | FI_MSG | FI_MULTI_RECV;
      host_->rx_done(c);
    }
    delete r;
    return nullptr;
  }
  size_t take = std::min(len, room);  // a fresh buffer too small truncates, as any receive
  auto *piece = new RecvEntry;
  piece->context = r->context;
  piece->tagged = r->tagged;
  piece->any_src = r->any_src;
  piece->src = r->src;
  piece->flags = r->flags;
  piece->multi = r->multi;
  iovec v[IoList::kMax];
  int k = r->iov.slice(mr.used, take, v, IoList::kMax);
  for (int j = 0; j < k; j++) piece->iov.add(v[j].iov_base, v[j].iov_len);
  mr.used += take;
  mr.outstanding++;
  if (r->iov.total - mr.used < std::max<size_t>(mr.min_free, 1)) {
    mr.released = true;
    lst.erase(lst.begin() + i);
    delete r;
  }
  return piece;
}

void Engine::post_multi_recv(RecvEntry *r) {
  posted_msg_.push_back(r);
  size_t i = posted_msg_.size() - 1;
  // Unexpected messages first, as many as the buffer holds.
  for (auto it = unexp_msg_.begin(); it != unexp_msg_.end();) {
    RxMsg *m = *it;
    if (!r->any_src && !same_peer(r->src, m->pdc->peer)) {
      ++it;
      continue;
    }
    RecvEntry *piece = carve_multi(posted_msg_, i, m->total);
    if (!piece) return;
    std::shared_ptr<MultiRecv> mr = piece->multi;
    it = unexp_msg_.erase(it);
    claim_unexpected(m, piece);
    if (mr->released) return;
  }
}

// ---------------------------------------------------------------- input
void Engine::on_packet(const uint8_t *buf, size_t len, const sockaddr_in &from) {
  st_.rx_pkts++;
  st_.rx_bytes += len;
  if (len < 2 + CRC_LEN) { st_.drops_malformed++; return; }
  size_t ulen = len - CRC_LEN;
  if (cfg_.verify_crc) {
    CrcPseudo ph(from, local(), len);
    uint32_t c;
    size_t hdr = 0;
    uint8_t *pre = ulen > 512 ? prewrite_dst(buf, ulen, from, hdr) : nullptr;
    if (pre) {
      // Checked while placed: the payload is read once, not by the check and again by
      // the copy. A packet failing the check has written only where an authentic one
      // must still write (prewrite_dst), and is dropped as any other.
      c = wire::crc32c_update(wire::kCrc32cInit, ph.ip, sizeof ph.ip);
      c = wire::crc32c_update(c, ph.udp, sizeof ph.udp);
      c = wire::crc32c_update(c, buf, hdr);
      c = wire::crc32c_final(wire::crc32c_copy(c, pre, buf + hdr, ulen - hdr));
    } else {
      wire::CrcCover cover{ph.ip, sizeof ph.ip, ph.udp};
      c = wire::uet_crc32c(cover, buf, ulen);
    }
    uint32_t got;
    memcpy(&got, buf + ulen, 4);
    if (ntohl(got) != c) {
      rx_hdr_.valid = false;
      st_.drops_crc++;
      return;
    }
    preplaced_ = pre;
  }
  switch (peek_type(buf, ulen)) {
    case PDS_RUD_REQ:
    case PDS_RUD_CC_REQ:
    case PDS_ROD_REQ:
    case PDS_UUD_REQ:
      rx_retx_ = false;
      handle_req(buf, ulen, from);
      rx_retx_ = false;
      break;
    case PDS_ACK_CC: if (!cfg_.dgram) handle_ack(buf, ulen, from); break;
    case PDS_NACK: if (!cfg_.dgram) handle_nack(buf, ulen, from); break;
    case PDS_CP: if (!cfg_.dgram) handle_cp(buf, ulen, from); break;
    default: st_.drops_malformed++; break;
  }
  preplaced_ = nullptr;
  rx_hdr_.valid = false;
}

// A write or send packet may be placed while its CRC is checked only where a packet
// failing the check does no harm: inside a message already accepted (same PDC, peer,
// length and key, address or tag as its first packet; a send already matched to a
// receive), in a whole MTU-sized chunk of it that no accepted packet has written to
// yet. Whatever a corrupt packet leaves there is then overwritten by the authentic
// packet that the message still needs before it completes, and bytes already placed
// are never touched. Everything else is checked first and copied after, as before.
uint8_t *Engine::prewrite_dst(const uint8_t *b, size_t len, const sockaddr_in &src, size_t &hdr) {
  // Decoded once: handle_req takes the result if the packet passes its check.
  RxHdr &h = rx_hdr_;
  h.decode(b, len);
  h.valid = true;
  const PdsReq &r = h.r;
  const SesStd &s = h.s;
  size_t n = h.n, m = h.m;
  if (!n || h.nh != NH_REQ_STD || (r.type != PDS_RUD_REQ && r.type != PDS_RUD_CC_REQ) || (r.flags & RF_SYN) ||
      cfg_.dgram)
    return nullptr;
  bool write = s.opcode == OP_WRITE;
  if (!m || (!write && s.opcode != OP_SEND && s.opcode != OP_TAGGED_SEND) || (s.flags & SF_SOM) ||
      s.job_id != cfg_.job_id || s.pid_on_fep != 0)
    return nullptr;
  size_t plen = len - n - m;
  auto it = tgt_by_id_.find(r.dpdcid);
  if (it == tgt_by_id_.end()) return nullptr;
  TgtPdc *t = it->second;
  sockaddr_in from = src;
  if (s.initiator && s.initiator <= 0xffff) from.sin_port = htons((uint16_t)s.initiator);
  if (t->rod || t->closing || t->peer_id != r.spdcid || !same_peer(t->peer, from)) return nullptr;
  auto mi = t->msgs.find(s.message_id);
  if (mi == t->msgs.end()) return nullptr;
  RxMsg *msg = mi->second;
  if (msg->complete || msg->opcode != s.opcode || msg->rc != RC_OK || msg->touched.empty() ||
      msg->total != s.request_length)
    return nullptr;
  if (write ? msg->key != s.memory_key || msg->base != s.buffer_offset
            : msg->tag != s.memory_key || !msg->recv || msg->recv->multi || msg->in_unexp)
    return nullptr;
  uint64_t off = s.message_offset;
  if (off % cfg_.mtu || off >= msg->total || plen != std::min<uint64_t>(cfg_.mtu, msg->total - off) ||
      s.payload_length != plen)
    return nullptr;
  size_t c = off / cfg_.mtu;
  if (c / 64 >= msg->touched.size() || (msg->touched[c / 64] >> (c % 64) & 1)) return nullptr;
  uint8_t *dst = nullptr;
  if (write) {
    if (check_mr(msg->key, msg->base + off, plen, FI_REMOTE_WRITE, dst) != RC_OK) return nullptr;
  } else {
    dst = contiguous_at(msg->recv->iov, off, plen);  // a chunk split across iovecs: copied after
    if (!dst) return nullptr;
  }
  hdr = n + m;
  return dst;
}

// recvmmsg entries per batch: with GRO each holds a train of up to ~60 KiB, so eight
// keep a batch (its copy-out, CRC and placement) within the L2 cache. ACKs leave after
// each batch; four trains per batch (ACKs twice as early) measured no faster.
constexpr int kRxBatch = 8;

int Engine::poll_rx(int budget, bool flush_now) {
  if (!sock_) return 0;
  int total = 0;
  while (total < budget) {
    int n = sock_->recv_batch(kRxBatch);
    if (n <= 0) break;
    // Every batch, not on an empty poll (which a spinning reader repeats): packets sent
    // while one batch is handled are ACKed in a later batch of the same call, and a
    // clock read once per call would give them round trips of zero.
    now_ = now_ns();
    for (int i = 0; i < n; i++) on_packet(sock_->buf(i), sock_->len(i), sock_->from(i));
    total += n;
    bool last = sock_->drained() || total >= budget;
    // ACKs leave after every batch, not after the whole budget: the initiator's window
    // reopens while this side works on the next batch instead of after it.
    if (flush_now || !last) flush();
    if (last) break;
  }
  if (!total) cc_pace_due();
  return total;
}

void Engine::flush() {
  cc_pace();
  for (TgtPdc *t : ack_pending_)
    if (t->ack_pending) send_ack(t, t->last_psn, nullptr, false, nullptr, 0, 0);
  ack_pending_.clear();
  flush_tx();
}

uint64_t Engine::cwnd_bytes() const {
  uint64_t w = 0;
  for (auto &kv : init_by_id_) {
#ifdef SOFTUET_HAVE_NSCC
    if (kv.second->cc) {
      w = std::max<uint64_t>(w, (uint64_t)kv.second->cc->cwnd());
      continue;
    }
#endif
    w = std::max<uint64_t>(w, (uint64_t)cfg_.mpr * cfg_.mtu);
  }
  return w;
}

bool Engine::has_targets() const { return !tgt_by_id_.empty(); }

bool Engine::busy() const {
  for (auto &kv : init_by_id_)
    if (!kv.second->inflight.empty() || !kv.second->queue.empty()) return true;
#ifdef SOFTUET_HAVE_NSCC
  if (ccc_ && ccc_->nextWakeNs() >= 0) return true;  // grants still to pace out
#endif
  return !ack_pending_.empty();
}

// How long a hole below SACKed PSNs must have been out before it counts as lost: a
// round trip plus a quarter of one (RACK's window), at least a quarter of the base RTT
// so that jitter on a fast path is not read as loss.
uint64_t Engine::reorder_window(const InitPdc *p) const {
  uint64_t rtt = p->srtt_ns;
  return rtt + std::max(rtt / 4, cfg_.base_rtt_ns / 4);
}

// The configured RTO is a floor, raised to SRTT + 4 RTTVAR (RFC 6298) when round trips
// are longer: a full window queued behind a descheduled peer on a loaded host takes
// longer than 10 ms to drain, and a fixed RTO then resends packets that were only
// waiting. RFC 6298's granularity term is a quarter RTT plus the 1 ms timer pass, so
// that steady round trips (RTTVAR near 0) do not put the RTO on the ACK's heels.
// Capped so that a real loss on such a path is still resent within 8 floors.
uint64_t Engine::rto(const InitPdc *p) const {
  uint64_t r = p->srtt_ns + std::max(4 * p->rttvar_ns, p->srtt_ns / 4 + 1'000'000);
  return std::min(std::max(cfg_.rto_ns, r), 8 * cfg_.rto_ns);
}

void Engine::on_timer(uint64_t now) {
  now_ = now;
  std::vector<InitPdc *> pdcs;
  for (auto &kv : init_by_id_) pdcs.push_back(kv.second);
  for (InitPdc *p : pdcs) {
    due_.clear();
    const uint64_t rto_ns = rto(p);
    p->tx.due(now, rto_ns, due_, reorder_window(p));
    bool failed = false, rto_sent = false, timed_out = false;
    for (uint32_t psn : due_) {
      TxPkt *pk = p->tx.find(psn);
      if (!pk || pk->acked) continue;
      if (pk->retries >= cfg_.max_retries) {
        fail_pdc(p, FI_ETIMEDOUT);
        failed = true;
        break;
      }
      if (!pk->delivered && now - pk->sent_ns >= rto_ns << std::min<uint32_t>(pk->retries, 6)) {
        if (rto_sent) {
          pk->sent_ns = now;  // re-armed: the answer to the first one decides
          continue;
        }
        rto_sent = true;
        p->rto_wait = true;
        p->rto_psn = psn;
        p->rto_end = p->tx.next_psn();
        p->rto_at = now;
      }
#ifdef SOFTUET_HAVE_NSCC
      // One loss event per PDC and pass: the packets of one RTO expiry were lost together.
      if ((p->cc || p->ev) && !timed_out && now - pk->sent_ns >= rto_ns) {
        if (p->cc) p->cc->onTimeout(pk->len, (double)now, p->inflight_bytes);
        if (p->ev) p->ev->onTimeout(pk->ev);
        timed_out = true;
      }
#endif
      if (now - pk->sent_ns >= rto_ns << std::min<uint32_t>(pk->retries, 6)) st_.retx_rto++;
      else st_.retx_gap++;
      send_req(p, (TxOp *)pk->op, *pk, true);
    }
    if (failed) continue;
#ifdef SOFTUET_HAVE_NSCC
    if (p->cc) p->cc->onTick((double)now);
#endif
    std::vector<TxOp *> probe;
    for (auto &m : p->inflight) {
      TxOp *op = m.second;
      if (!op->fully_sent || op->unacked_pkts || op->chunks_total) continue;
      uint64_t since = std::max(op->all_acked_ns, op->last_probe_ns);
      // Eight probes one RTO apart (a peer lingering on close answers them), then backoff.
      uint64_t wait = op->probes < 8 ? cfg_.rto_ns : cfg_.rto_ns << std::min<uint32_t>(op->probes - 7, 6);
      if (now - since >= wait) probe.push_back(op);
    }
    for (TxOp *op : probe) {
      if (++op->probes > cfg_.max_retries) {
        fail_pdc(p, FI_ETIMEDOUT);
        failed = true;
        break;
      }
      op->last_probe_ns = now;
      st_.probes_tx++;
      send_cp(p, CP_ACK_REQ, op->eom_psn, op->msg_id);
    }
    if (failed) continue;
    pump(p);
  }
  pdc_timers(now);
  flush();
}

// ---------------------------------------------------------------- cms
// Congestion management on the data path.
// NSCC: one window per initiator PDC, fed RTT samples from ACKs (UDP sockets see no ECN),
// NACKs and RTO expiries (one loss event per PDC and timer pass). The floor of
// cc_min_pkts packets keeps SACK-driven recovery going after a loss burst: with a single
// packet in flight every further loss would cost a whole RTO, which is how a 1-MTU floor
// collapsed throughput under injected loss.
// RCCC: the initiator speculates up to min(BDP, 8 MTU), then sends only against credit
// granted by the target's pacer (one CCC per endpoint, round robin over PDCs at the link
// rate). Demand travels in every RUD_CC_REQ and, when blocked with demand the target has
// not seen, in a CP CREDIT_REQ; grants ride on ACK_CC (cc_type CREDIT), or on an ACK of
// their own when nothing else is due. Retransmissions and reads (whose data flows
// back) use no credit. An ACK_CC of cc_type NSCC means the target grants nothing: the
// PDC then sends without credit.
namespace {
constexpr double kCreditQuantum = 256;  // bytes per credit unit on the wire
inline uint32_t credit_quanta(double bytes) {
  return (uint32_t)((uint64_t)((bytes + kCreditQuantum - 1) / kCreditQuantum) & 0xffffff);
}
// Difference of two 24-bit cumulative counters; "not newer" (0) when b is behind a.
inline uint32_t credit_advance(uint32_t a, uint32_t b) {
  uint32_t d = (b - a) & 0xffffff;
  return d < 0x800000 ? d : 0;
}
inline bool pays_credit(const TxOp *op) { return op->kind != OpKind::READ; }
}  // namespace

void Engine::cc_init_pdc(InitPdc *p) {
#ifdef SOFTUET_HAVE_NSCC
  if (cfg_.dgram) return;
  if (cfg_.nscc) {
    cms::NsccConfig cc;
    cc.link_rate_gbps = cfg_.link_gbps;
    cc.base_rtt_ns = (double)cfg_.base_rtt_ns;
    cc.mtu = (double)cfg_.mtu;
    cc.rccc_active = cfg_.rccc;
    if (cms::Nscc::validate(cc) == 0) {
      cms::NsccParams prm = cms::Nscc::derive(cc);
      prm.min_cwnd = std::min(prm.maxwnd, std::max(prm.min_cwnd, (double)cfg_.cc_min_pkts * (double)cfg_.mtu));
      // maxwnd fixed from the configuration: RTT samples taken inside one progress pass
      // can be ~0 on loopback and would otherwise shrink the window to nothing.
      p->cc.reset(new cms::Nscc(prm, true));
    }
  }
  // ROD requests have no CC form on the wire here: credit stays off on ordered PDCs.
  if (cfg_.rccc && !p->rod) {
    double bdp = cfg_.link_gbps / 8 * (double)cfg_.base_rtt_ns;
    p->rs.reset(new cms::RcccSender((double)cfg_.mtu, std::min(bdp, 8.0 * (double)cfg_.mtu)));
  }
  // Spraying needs the EV sockets; ROD PDCs keep one EV so their packets stay in order.
  if (cfg_.ev_mode && !p->rod && sock_ && sock_->ev_slots() > 1) {
    static thread_local std::mt19937 seeds(std::random_device{}());
    cms::EntropyConfig ec;
    ec.mode = (cms::EntropyMode)(cfg_.ev_mode - 1);
    ec.paths = (uint32_t)sock_->ev_slots();
    ec.seed = (uint32_t)seeds();
    if (cms::EntropySelector::validate(ec) == 0) p->ev.reset(new cms::EntropySelector(ec));
  }
#else
  (void)p;
#endif
}

void Engine::cc_enqueue(InitPdc *p, const TxOp *op) {
#ifdef SOFTUET_HAVE_NSCC
  if (p->rs && pays_credit(op)) p->rs->enqueue((double)op->length);
#else
  (void)p, (void)op;
#endif
}

bool Engine::cc_take_credit(InitPdc *p, const TxOp *op, uint32_t len) {
#ifdef SOFTUET_HAVE_NSCC
  if (!p->rs || !pays_credit(op)) return true;
  if (p->rs->backlog() < len) p->rs->enqueue(len - p->rs->backlog());
  if (p->rs->onSend((double)len) >= 0) return true;
  cc_ask_credit(p);
  return false;
#else
  (void)p, (void)op, (void)len;
  return true;
#endif
}

void Engine::cc_ask_credit(InitPdc *p) {
#ifdef SOFTUET_HAVE_NSCC
  if (!p->established) return;  // the ACK of the SYN brings the first grant
  uint32_t q = credit_quanta(p->rs->creditTarget());
  // Demand the target has not seen: ask now, unless it still owes grants for demand it
  // has seen. Its pacer is then still at work for this PDC, and the grant it sends lets
  // out a request whose header states the new demand: a CP per posted message (a window
  // of 64 KiB writes) doubled the packets of the credit loop for nothing. Demand stated
  // a quarter RTO ago and not granted: the grant may have been lost, ask again.
  bool owed = credit_advance(p->credit_seen, p->target_sent) > 0;
  if ((q == p->target_sent || owed) && now_ - p->credit_req_ns < cfg_.rto_ns / 4) return;
  p->credit_req_ns = now_;
  p->target_sent = q;
  send_cp(p, CP_CREDIT_REQ, p->tx.base(), q);
#else
  (void)p;
#endif
}

void Engine::cc_fill_req(InitPdc *p, PdsReq &r) {
#ifdef SOFTUET_HAVE_NSCC
  if (!p->rs) return;
  r.type = PDS_RUD_CC_REQ;
  r.ccc_id = 0;
  r.credit_target = p->target_sent = credit_quanta(p->rs->creditTarget());
  p->credit_req_ns = now_;
#else
  (void)p, (void)r;
#endif
}

void Engine::cc_on_ack(InitPdc *p, const PdsAck &a) {
#ifdef SOFTUET_HAVE_NSCC
  if (!p->rs) return;
  if (a.cc_type != (uint8_t)wire::CcType::kCredit) {
    p->rs.reset();  // the target runs no credit control
    return;
  }
  uint32_t d = credit_advance(p->credit_seen, a.credit);
  if (d) {
    p->credit_seen = a.credit;
    p->rs->onGrant(d * kCreditQuantum);
  }
  if (p->queue.empty() && p->inflight_bytes <= 0) p->rs->idle();
#else
  (void)p, (void)a;
#endif
}

void Engine::cc_on_req(TgtPdc *t, const PdsReq &r, size_t plen) {
#ifdef SOFTUET_HAVE_NSCC
  if (!ccc_) return;
  if (!t->cc_key) {
    if (++cc_seq_ == 0) ++cc_seq_;
    t->cc_key = cc_seq_;
    cc_by_key_[t->cc_key] = t;
  }
  uint32_t d = credit_advance(t->cc_target_field, r.credit_target & 0xffffff);
  if (d) {
    t->cc_target_field = r.credit_target & 0xffffff;
    t->cc_requested += d * kCreditQuantum;
  }
  ccc_->onRequest(t->cc_key, t->cc_requested, (double)now_);
  if (plen) {
    // Bytes beyond the grants came speculatively (or are resent): they occupy the last
    // hop all the same, so they push the pacer back.
    bool spec = t->cc_rcvd + (double)plen > t->cc_granted;
    t->cc_rcvd += (double)plen;
    ccc_->onData(t->cc_key, (double)plen, spec, (double)now_);
  }
  cc_note_due();
#else
  (void)t, (void)r, (void)plen;
#endif
}

void Engine::cc_fill_ack(TgtPdc *t, PdsAck &a) {
#ifdef SOFTUET_HAVE_NSCC
  if (!ccc_ || !t->cc_key) return;
  static thread_local std::vector<cms::Grant> grants;
  grants.clear();
  ccc_->poll((double)now_, grants);
  for (const cms::Grant &g : grants) {
    auto it = cc_by_key_.find(g.sender);
    if (it != cc_by_key_.end()) it->second->cc_granted += g.bytes;
  }
  a.cc_type = (uint8_t)wire::CcType::kCredit;
  a.credit = (uint32_t)((uint64_t)(t->cc_granted / kCreditQuantum) & 0xffffff);
  t->cc_advertised = a.credit;
  cc_note_due();
#else
  (void)t, (void)a;
#endif
}

void Engine::cc_pace() {
#ifdef SOFTUET_HAVE_NSCC
  if (!ccc_ || cc_by_key_.empty()) return;
  static thread_local std::vector<cms::Grant> grants;
  grants.clear();
  ccc_->poll((double)now_, grants);
  for (const cms::Grant &g : grants) {
    auto it = cc_by_key_.find(g.sender);
    if (it != cc_by_key_.end()) it->second->cc_granted += g.bytes;
  }
  for (auto &kv : cc_by_key_) {
    TgtPdc *t = kv.second;
    uint32_t q = (uint32_t)((uint64_t)(t->cc_granted / kCreditQuantum) & 0xffffff);
    if (q != t->cc_advertised && !t->ack_pending) send_ack(t, t->last_psn, nullptr, false, nullptr, 0, 0);
  }
  cc_note_due();
#endif
}

void Engine::cc_note_due() {
#ifdef SOFTUET_HAVE_NSCC
  double w = ccc_ ? ccc_->nextWakeNs() : -1;
  cc_due_ns_ = w < 0 ? UINT64_MAX : (uint64_t)w;
#endif
}

void Engine::cc_pace_due() {
  // Grants fall due between packets. Paced out only when packets arrive (flush) or on
  // the timer pass (1 ms), credit owed now waited that long: a 64 KiB round trip that
  // outruns its 32 KiB of speculation took ~5x as long with RCCC.
  if (cc_due_ns_ == UINT64_MAX) return;
  uint64_t now = now_ns();
  if (now < cc_due_ns_) return;
  now_ = now;
  cc_pace();
  cc_note_due();
  flush_tx();
}

void Engine::note_src_port(const sockaddr_in &a) {
  if (rx_ports_.empty()) rx_ports_.assign(65536 / 64, 0);
  uint16_t port = ntohs(a.sin_port);
  uint64_t bit = 1ull << (port & 63);
  if (rx_ports_[port >> 6] & bit) return;
  rx_ports_[port >> 6] |= bit;
  st_.rx_src_ports++;
}

void Engine::cc_forget(TgtPdc *t) {
#ifdef SOFTUET_HAVE_NSCC
  if (!t->cc_key) return;
  cc_by_key_.erase(t->cc_key);
  if (ccc_) ccc_->forget(t->cc_key);
#else
  (void)t;
#endif
}

}  // namespace softuet

// ---------------------------------------------------------------- fuzz entry
namespace {
class NullHost : public softuet::Host {
 public:
  void tx_done(const softuet::Completion &) override {}
  void rx_done(const softuet::Completion &) override {}
  void remote_done(uint64_t, const softuet::Completion &) override {}
  bool find_mr(uint64_t key, softuet::MrView &out) override {
    if (key != 0x1234) return false;
    out.ptr = mem;
    out.base = 0;
    out.len = sizeof mem;
    out.access = FI_REMOTE_READ | FI_REMOTE_WRITE;
    return true;
  }
  alignas(16) uint8_t mem[8192];
};
}  // namespace

extern "C" __attribute__((visibility("default"))) void softuet_rx_fuzz_one(const uint8_t *data, size_t size) {
  NullHost host;
  softuet::EngineConfig cfg;
  cfg.verify_crc = false;
  softuet::Engine e(&host, nullptr, cfg);
  auto *r = new softuet::RecvEntry;
  static uint8_t rbuf[4096];
  r->iov.add(rbuf, sizeof rbuf);
  e.post_recv(r);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  from.sin_port = htons(4794);
  // The trailer is not checked here so the parsers, not the CRC, see the input.
  e.on_packet(data, size, from);
  e.on_packet(data, size, from);  // duplicate path
  e.on_timer(softuet::Engine::now_ns() + 1000000000ull);
}
