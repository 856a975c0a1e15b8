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
#include "cms/nscc.h"
#define SOFTUET_HAVE_NSCC 1
#endif
#include "ses/atomic.h"

namespace softuet {
using namespace pkt;

namespace {
inline uint64_t peer_key(const sockaddr_in &a) {
  return (uint64_t)a.sin_addr.s_addr << 16 | a.sin_port;
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
#endif
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
  // The receive matched to this message, owned here from matching until its completion
  // is reported; freed with the message if that never happens.
  std::unique_ptr<RecvEntry> recv;
  std::vector<uint8_t> staging;
  uint64_t tag = 0, data = 0;
  bool has_data = false;
  uint32_t chunks_seen = 0;  // reads: requests served so far
  TgtPdc *pdc = nullptr;
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
};

EngineConfig EngineConfig::from_env() {
  EngineConfig c;
  // 8 KiB payloads fit a 9000-byte jumbo frame and halve the per-packet work (headers,
  // CRC set-up, ACKs, window slots) of 4 KiB ones; with MPR 256 they make a 2 MiB window.
  c.mtu = env_size("FI_SOFTUET_MTU", 8192);
  if (c.mtu < 256) c.mtu = 256;
  if (c.mtu > 16000) c.mtu = 16000;  // 14-bit payload_length on non-SOM packets
  c.rto_ns = env_size("FI_SOFTUET_RTO_MS", 10) * 1000000ull;
  if (c.rto_ns == 0) c.rto_ns = 1000000;
  c.unexpected_limit = env_size("FI_SOFTUET_UNEXPECTED_MAX", 64u << 20);
  // 256 PSNs (1 MiB at the default MTU) in flight: on a shared host a peer is often
  // off the CPU for a millisecond or more, and the window must cover that gap.
  c.mpr = (uint32_t)env_size("FI_SOFTUET_MPR", 256);
  if (c.mpr < 1) c.mpr = 1;
  if (c.mpr > 256) c.mpr = 256;
  c.job_id = (uint32_t)env_size("FI_SOFTUET_JOB_ID", 1) & 0xffffff;
  const char *cc = getenv("FI_SOFTUET_CC");
  c.nscc = cc && !strcmp(cc, "nscc");
  return c;
}

Engine::Engine(Host *host, UdpSock *sock, const EngineConfig &cfg) : host_(host), sock_(sock), cfg_(cfg) {
  now_ = now_ns();
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
void Engine::emit(const sockaddr_in &to, iovec *iov, int n) {
  // Trailer: CRC32C over the pseudo header and every UET byte.
  size_t uet = 0;
  for (int i = 0; i < n; i++) uet += iov[i].iov_len;
  CrcPseudo ph(local(), to, uet + CRC_LEN);
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
  if (sock_->send(to, iov, n + 1) < 0) st_.drops_send_err++;
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
  c.flags = RF_AR;
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
Engine::InitPdc *Engine::init_pdc(const sockaddr_in &peer) {
  auto it = init_by_peer_.find(peer_key(peer));
  if (it != init_by_peer_.end()) return it->second;
  uint16_t id = alloc_pdcid();
  if (!id) return nullptr;
  auto *p = new InitPdc;
  p->peer = peer;
  p->spdcid = id;
  p->start_psn = random_start_psn();
  p->tx.init(p->start_psn);
#ifdef SOFTUET_HAVE_NSCC
  if (cfg_.nscc) {
    cms::NsccConfig cc;
    cc.link_rate_gbps = 10;      // loopback: a few GB/s at best
    cc.base_rtt_ns = 50000;      // a loaded host's UDP loopback round trip
    cc.mtu = (double)cfg_.mtu;
    // maxwnd fixed from the configuration: RTT samples taken inside one progress pass
    // can be ~0 on loopback and would otherwise shrink the window to nothing.
    if (cms::Nscc::validate(cc) == 0) p->cc.reset(new cms::Nscc(cms::Nscc::derive(cc), true));
  }
#endif
  init_by_peer_[peer_key(peer)] = p;
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
    flush_tx();
    Completion c;
    c.context = op->context;
    c.flags = op->cq_flags;
    c.report = op->completion;
    host_->tx_done(c);
    delete op;
    return 0;
  }
  InitPdc *p = init_pdc(op->peer);
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
  p->queue.push_back(op);
  pump(p);
  flush_tx();
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
  uint8_t h[PDS_REQ_LEN + MAX_SES_LEN];
  PdsReq r;
  r.type = PDS_RUD_REQ;
  r.psn = pk.psn;
  r.spdcid = p->spdcid;
  r.flags = (retx ? (RF_RETX | RF_AR) : 0) | (pk.eom ? RF_AR : 0);
  if (!p->established) {
    r.flags |= RF_SYN;
    r.psn_offset = (uint16_t)((pk.psn - p->start_psn) & 0xfff);
  } else {
    r.dpdcid = p->dpdcid;
  }
  int32_t clr = (int32_t)((p->tx.base() - 1) - pk.psn);
  r.clear_psn_offset = (int16_t)std::max(-32768, std::min(32767, clr));
  size_t n = put_req(h, r, NH_REQ_STD);
  SesStd s;
  s.message_id = op->msg_id;
  s.job_id = cfg_.job_id;
  s.request_length = op->length;
  s.initiator = 0;
  bool som = pk.offset == 0;
  s.flags = (som ? SF_SOM : 0) | (pk.eom ? SF_EOM : 0) | SF_DC;
  if (!som) {
    s.message_offset = pk.offset;
    s.payload_length = (uint16_t)(op->kind == OpKind::READ ? 0 : pk.len);
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
  pk.sent_ns = now_;
  if (retx) {
    pk.retries++;
    st_.retransmits++;
  }
  emit(p->peer, iov, k);
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
  init_by_peer_.erase(peer_key(p->peer));
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
#ifdef SOFTUET_HAVE_NSCC
    if (p->cc && pk.retries == 0)
      p->cc->onAck(pk.len, std::max(1000.0, (double)(now_ - pk.sent_ns)), false, (double)now_, p->inflight_bytes);
#endif
    if (pk.acked && op->unacked_pkts) {
      if (--op->unacked_pkts == 0 && op->fully_sent) op->all_acked_ns = now_;
    }
  };
  p->tx.on_cack(a.cack_psn, settle);
  p->tx.on_sack(a.cack_psn + a.sack_psn_offset, a.sack_bitmap, settle);
  uint32_t psn = a.cack_psn + a.ack_psn_offset;
  if (p->rto_wait && psn == p->rto_psn) {
    p->rto_wait = false;
    p->tx.for_each([&](TxPkt &pk) {
      if (pk.acked || pk.delivered || pk.psn == psn || !psn_lt(pk.psn, p->rto_end) || pk.sent_ns > p->rto_at) return;
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
  TxPkt *pk = p->tx.find(nk.nack_psn);
  switch (wire::nack_info(nk.nack_code).action) {
    case wire::NackAction::kClose:
      // The target lost or refuses this PDC: its state cannot be trusted any more.
      fail_pdc(p, FI_EIO);
      return;
    default:
      // Retransmit codes: resend after a short pause rather than at once, so a target
      // out of buffers is not flooded.
      if (pk && !pk->acked) pk->sent_ns = now_ - cfg_.rto_ns + cfg_.rto_ns / 4;
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
      host_->rx_done(c);
    }
    delete m.second;
  }
  ack_pending_.erase(std::remove(ack_pending_.begin(), ack_pending_.end(), t), ack_pending_.end());
  tgt_by_key_.erase(peer_key(t->peer) << 16 | t->peer_id);
  tgt_by_id_.erase(t->id);
  delete t;
}

void Engine::handle_req(const uint8_t *b, size_t len, const sockaddr_in &from) {
  PdsReq r;
  uint8_t nh;
  size_t n = get_req(b, len, r, nh);
  if (!n || nh != NH_REQ_STD) { st_.drops_malformed++; return; }
  SesStd s;
  size_t m = get_ses(b + n, len - n, s);
  if (!m) { st_.drops_malformed++; return; }
  const uint8_t *pl = b + n + m;
  size_t plen = len - n - m;
  if (r.type == PDS_UUD_REQ) {
    handle_uud(s, pl, plen, from);
    return;
  }
  if (cfg_.dgram) { st_.drops_malformed++; return; }
  TgtPdc *t = nullptr;
  if (r.flags & RF_SYN) {
    uint64_t key = peer_key(from) << 16 | r.spdcid;
    uint32_t start = r.psn - r.psn_offset;
    auto it = tgt_by_key_.find(key);
    if (it != tgt_by_key_.end()) {
      t = it->second;
      if (t->start_psn != start) {
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
  auto v = t->rx.check(r.psn);
  if (v == RxTracker::OUT_OF_WINDOW) {
    send_nack(from, t->id, t->peer_id, r.psn, (r.flags & RF_SYN) ? NACK_PSN_OOR_WINDOW : NACK_PSN_OOR_WINDOW,
              t->rx.cack() + 1);
    return;
  }
  if (v == RxTracker::DUP) {
    st_.duplicates++;
    answer_dup(t, r.psn, s);
    return;
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

void Engine::serve_read(TgtPdc *t, uint32_t psn, const SesStd &s) {
  uint32_t off = (s.flags & SF_SOM) ? 0 : s.message_offset;
  uint32_t clen = 0;
  if (off < s.request_length) clen = (uint32_t)std::min<uint64_t>(cfg_.mtu, s.request_length - off);
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
  d.add(ptr, clen);
  send_ack(t, psn, &rsp, true, &d, 0, clen);
  MrView unused;
  (void)unused;
  Completion c;
  if (s.flags & SF_EOM) host_->remote_done(FI_REMOTE_READ | FI_RMA, c);
}

void Engine::answer_dup(TgtPdc *t, uint32_t psn, const SesStd &s) {
  if (s.opcode == OP_READ) {
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
  // is complete once all of them were seen, so a record left complete and released is
  // from before the 16-bit id wrapped and may be reused.
  uint32_t chunks = 1;
  if (s.opcode == OP_READ && s.request_length)
    chunks = (uint32_t)((s.request_length + cfg_.mtu - 1) / cfg_.mtu);
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
  if (++m->chunks_seen >= chunks) m->complete = true;
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
    } else {
      m->tag = s.memory_key;
    }
    prune_msgs(t, m);
    release_in_order(t);
  }
  if (s.flags & SF_SOM) {
    m->has_data = s.flags & SF_HD;
    m->data = s.header_data;
  }
  if (m->rc == RC_OK && plen) {
    if (m->opcode == OP_WRITE) {
      // Looked up again per packet: the region may have been closed mid-message.
      uint8_t *dst = nullptr;
      uint8_t rc = check_mr(s.memory_key, s.buffer_offset + off, plen, FI_REMOTE_WRITE, dst);
      if (rc == RC_OK) memcpy(dst, pl, plen);
      else m->rc = rc;
    } else if (m->recv) {
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
  return true;
}

void Engine::msg_complete(TgtPdc *t, RxMsg *m, uint32_t psn) {
  m->complete = true;
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
  for (auto it = lst.begin(); it != lst.end(); ++it) {
    RecvEntry *r = *it;
    if (!r->any_src && !same_peer(r->src, m->pdc->peer)) continue;
    if (r->tagged && ((r->tag ^ m->tag) & ~r->ignore)) continue;
    lst.erase(it);
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

void Engine::post_recv(RecvEntry *r) {
  auto &lst = r->tagged ? unexp_tag_ : unexp_msg_;
  for (auto it = lst.begin(); it != lst.end(); ++it) {
    RxMsg *m = *it;
    if (!r->any_src && !same_peer(r->src, m->pdc->peer)) continue;
    if (r->tagged && ((r->tag ^ m->tag) & ~r->ignore)) continue;
    lst.erase(it);
    m->in_unexp = false;
    m->recv.reset(r);
    if (!m->staging.empty()) {
      r->iov.copy_in(0, m->staging.data(), std::min<size_t>(m->staging.size(), r->iov.total));
      unexp_bytes_ -= m->staging.size();
      std::vector<uint8_t>().swap(m->staging);
    }
    if (m->complete) deliver_recv(m);
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
      host_->rx_done(c);
      delete r;
      return true;
    }
  }
  return false;
}

void Engine::handle_uud(const SesStd &s, const uint8_t *pl, size_t plen, const sockaddr_in &from) {
  if (s.opcode != OP_DATAGRAM_SEND || plen != s.request_length) { st_.drops_malformed++; return; }
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
  auto it = tgt_by_id_.find(c.dpdcid);
  if (it == tgt_by_id_.end() || !same_peer(it->second->peer, from)) { st_.drops_unknown_pdc++; return; }
  TgtPdc *t = it->second;
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
    wire::CrcCover cover{ph.ip, sizeof ph.ip, ph.udp};
    uint32_t c = wire::uet_crc32c(cover, buf, ulen);
    uint32_t got;
    memcpy(&got, buf + ulen, 4);
    if (ntohl(got) != c) { st_.drops_crc++; return; }
  }
  switch (peek_type(buf, ulen)) {
    case PDS_RUD_REQ:
    case PDS_UUD_REQ: handle_req(buf, ulen, from); break;
    case PDS_ACK_CC: if (!cfg_.dgram) handle_ack(buf, ulen, from); break;
    case PDS_NACK: if (!cfg_.dgram) handle_nack(buf, ulen, from); break;
    case PDS_CP: if (!cfg_.dgram) handle_cp(buf, ulen, from); break;
    default: st_.drops_malformed++; break;
  }
}

// recvmmsg entries per batch: with GRO each holds a train of up to ~60 KiB, so eight
// keep a batch (its copy-out, CRC and placement) within the L2 cache.
constexpr int kRxBatch = 8;

int Engine::poll_rx(int budget, bool flush_now) {
  if (!sock_) return 0;
  int total = 0;
  while (total < budget) {
    int n = sock_->recv_batch(kRxBatch);
    if (n <= 0) break;
    if (!total) now_ = now_ns();  // not on an empty poll, which a spinning reader repeats
    for (int i = 0; i < n; i++) on_packet(sock_->buf(i), sock_->len(i), sock_->from(i));
    total += n;
    bool last = sock_->drained() || total >= budget;
    // ACKs leave after every batch, not after the whole budget: the initiator's window
    // reopens while this side works on the next batch instead of after it.
    if (flush_now || !last) flush();
    if (last) break;
  }
  return total;
}

void Engine::flush() {
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
  return !ack_pending_.empty();
}

void Engine::on_timer(uint64_t now) {
  now_ = now;
  std::vector<InitPdc *> pdcs;
  for (auto &kv : init_by_id_) pdcs.push_back(kv.second);
  for (InitPdc *p : pdcs) {
    due_.clear();
    p->tx.due(now, cfg_.rto_ns, due_);
    bool failed = false, rto_sent = false;
    for (uint32_t psn : due_) {
      TxPkt *pk = p->tx.find(psn);
      if (!pk || pk->acked) continue;
      if (pk->retries >= cfg_.max_retries) {
        fail_pdc(p, FI_ETIMEDOUT);
        failed = true;
        break;
      }
      if (!pk->delivered && now - pk->sent_ns >= cfg_.rto_ns << std::min<uint32_t>(pk->retries, 6)) {
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
      if (p->cc && now - pk->sent_ns >= cfg_.rto_ns) p->cc->onTimeout(pk->len, (double)now, p->inflight_bytes);
#endif
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
  flush();
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
