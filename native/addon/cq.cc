#include "cq.h"

#include <poll.h>
#include <sched.h>

#include "domain.h"
#include "endpoint.h"
#include "errors.h"
#include "mr.h"

namespace nlf {

namespace {
constexpr size_t kReadBatch = 64;
// Bounds the JS work one loop turn does, so a flood of completions cannot starve timers
// and I/O; what is left is picked up on the next turn.
constexpr size_t kMaxPerDrain = 1024;
constexpr uint64_t kMaxInterval = 8;
// How long the loop keeps reading a manual-progress CQ every turn after the last post or
// completion. Long enough to cover a round trip and a large transfer's next chunk, short
// enough that an endpoint waiting on an idle peer costs nothing measurable.
constexpr uint64_t kSpinNs = 2'000'000;
// The same with nothing in flight (auto progress): only a reaction to a completion.
constexpr uint64_t kIdleSpinNs = 250'000;
// Large transfers complete further apart than kSpinNs: a 4 MiB write takes 2-4 ms at
// loopback speed and much longer on a loaded host. Ending the spin between two of them
// hands the data path to the provider's thread and takes it back at the next completion,
// so the quiet time allowed grows with the largest op of the spin, as if it moved at no
// less than 250 MB/s, up to kMaxSpinExtraNs.
constexpr uint64_t kSpinNsPerByte = 4;
constexpr uint64_t kMaxSpinExtraNs = 20'000'000;
constexpr size_t kChunk = 64;  // records the pool grows by
// Longest a spinning CQ holds the loop in one turn while it waits for a completion.
constexpr uint64_t kInnerSpinNs = 50'000;
// With several CQs spinning (no inner spin, short turns), every this many empty turns.
constexpr uint32_t kYieldEvery = 8;
}  // namespace

ssize_t OpRecord::Post(fid_ep* ep, uint64_t flags) {
  void* c = &ctx;
  if (flags) {
    // The *msg calls take flags in place of the endpoint's op_flags: FI_COMPLETION keeps
    // the completion the Promise waits for.
    flags |= FI_COMPLETION;
    iovec iov{buf, len};
    void* d = desc;
    switch (kind) {
      case kOpSend:
      case kOpSendData:
      case kOpRecv: {
        fi_msg m{&iov, &d, 1, addr, c, data};
        if (kind == kOpRecv) return fi_recvmsg(ep, &m, flags);
        return fi_sendmsg(ep, &m, flags | (kind == kOpSendData ? FI_REMOTE_CQ_DATA : 0));
      }
      case kOpTSend:
      case kOpTSendData:
      case kOpTRecv: {
        fi_msg_tagged m{&iov, &d, 1, addr, tag, ignore, c, data};
        if (kind == kOpTRecv) return fi_trecvmsg(ep, &m, flags);
        return fi_tsendmsg(ep, &m, flags | (kind == kOpTSendData ? FI_REMOTE_CQ_DATA : 0));
      }
      case kOpWrite:
      case kOpWriteData:
      case kOpRead: {
        fi_rma_iov r{raddr, len, rkey};
        fi_msg_rma m{&iov, &d, 1, addr, &r, 1, c, data};
        if (kind == kOpRead) return fi_readmsg(ep, &m, flags);
        return fi_writemsg(ep, &m, flags | (kind == kOpWriteData ? FI_REMOTE_CQ_DATA : 0));
      }
      default:
        break;  // atomics: the plain calls below
    }
  }
  switch (kind) {
    case kOpSend: return fi_send(ep, buf, len, desc, addr, c);
    case kOpSendData: return fi_senddata(ep, buf, len, desc, data, addr, c);
    case kOpRecv: return fi_recv(ep, buf, len, desc, addr, c);
    case kOpTSend: return fi_tsend(ep, buf, len, desc, addr, tag, c);
    case kOpTSendData: return fi_tsenddata(ep, buf, len, desc, data, addr, tag, c);
    case kOpTRecv: return fi_trecv(ep, buf, len, desc, addr, tag, ignore, c);
    case kOpWrite: return fi_write(ep, buf, len, desc, addr, raddr, rkey, c);
    case kOpWriteData: return fi_writedata(ep, buf, len, desc, data, addr, raddr, rkey, c);
    case kOpRead: return fi_read(ep, buf, len, desc, addr, raddr, rkey, c);
    case kOpAtomic: return fi_atomic(ep, buf, len, desc, addr, raddr, rkey, dt, aop, c);
    case kOpFetchAtomic:
      return fi_fetch_atomic(ep, buf, len, desc, result, resultDesc, addr, raddr, rkey, dt, aop, c);
    case kOpCompareAtomic:
      return fi_compare_atomic(ep, buf, len, desc, compare, compareDesc, result, resultDesc, addr,
                               raddr, rkey, dt, aop, c);
  }
  return -FI_EINVAL;
}

void NCq::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeCq",
                                 {InstanceMethod("close", &NCq::Close),
                                  InstanceMethod("progress", &NCq::Progress),
                                  InstanceMethod("mode", &NCq::GetMode),
                                  InstanceMethod("remoteData", &NCq::RemoteData)});
  GetData(env)->cqCtor = Napi::Persistent(f);
  exports.Set("NativeCq", f);
}

NCq* NCq::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->cqCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be a CompletionQueue");
  return Napi::ObjectWrap<NCq>::Unwrap(v.As<Napi::Object>());
}

// new NativeCq(domain, size, waitFd: boolean)
NCq::NCq(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NCq>(cb), Closeable(GetData(cb.Env()), kRankCq), env_(cb.Env()) {
  Napi::Env env = cb.Env();
  domain_ = NDomain::From(cb[0], "domain");
  fid_domain* d = domain_->domain(env);
  fabric_ = domain_->fabric();
  size_t size = cb[1].IsUndefined() ? 0 : ToSize(cb[1], "size");
  // wait: 0 fd (default), 1 none (timer polling), 2 progress thread
  uint32_t wait = cb[2].IsUndefined() ? 0 : static_cast<uint32_t>(ToSize(cb[2], "wait"));
  if (wait > 2) throw Napi::RangeError::New(env, "wait must be 0 (fd), 1 (none) or 2 (thread)");
  bool threadSafe = domain_->info()->domain_attr->threading == FI_THREAD_SAFE;
  if (wait == 2 && !threadSafe)
    ThrowFabric(env, FI_EINVAL, "a progress thread needs a domain opened with threading 'safe'");
  bool wantFd = wait == 0;
  const fi_info* info = domain_->info();
  readFrom_ = (info->caps & FI_SOURCE) != 0;
  manual_ = domain_->manualProgress();
  fi_cq_attr attr{};
  attr.size = size;
  attr.format = FI_CQ_FORMAT_TAGGED;
  attr.wait_obj = wantFd ? FI_WAIT_FD : FI_WAIT_NONE;
  int ret = fi_cq_open(d, &attr, &cq_, nullptr);
  if (wait == 2 || (ret && wantFd && threadSafe)) {
    // No wait fd (or a thread asked for): a thread blocks in fi_cq_sread. Only with
    // FI_THREAD_SAFE, since it reads the CQ while the loop thread posts.
    if (!ret) fi_close(&cq_->fid);
    cq_ = nullptr;
    attr.wait_obj = FI_WAIT_UNSPEC;
    ret = fi_cq_open(d, &attr, &cq_, nullptr);
    if (!ret) mode_ = kThread;
  }
  if (ret && wantFd) {
    // No wait fd from this provider: the safety timer alone drives completions.
    attr.wait_obj = FI_WAIT_NONE;
    ret = fi_cq_open(d, &attr, &cq_, nullptr);
  }
  if (ret) ThrowFabric(env, ret, "fi_cq_open");
  if (mode_ != kThread && attr.wait_obj == FI_WAIT_FD) {
    int fd = -1;
    if (fi_control(&cq_->fid, FI_GETWAIT, &fd) == 0 && fd >= 0) {
      fd_ = fd;
      mode_ = kFd;
    }
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  timer_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  if (mode_ != kThread) {
    spin_ = new uv_idle_t;
    uv_idle_init(loop, spin_);
    spin_->data = this;
    // Never keeps the process alive by itself: the timer's reference does that.
    uv_unref(reinterpret_cast<uv_handle_t*>(spin_));
  }
  if (mode_ == kThread) {
    wake_ = new uv_async_t;
    uv_async_init(loop, wake_, AsyncCb);
    wake_->data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(wake_));
    thread_ = std::thread([this] { ThreadMain(); });
  }
  if (fd_ >= 0) {
    poll_ = new uv_poll_t;
    if (uv_poll_init(loop, poll_, fd_) == 0) {
      poll_->data = this;
      uv_poll_start(poll_, UV_READABLE, PollCb);
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    } else {
      delete poll_;
      poll_ = nullptr;
      fd_ = -1;
      mode_ = kPoll;
    }
  }
  napi_value name;
  napi_create_string_utf8(env, "libfabric:cq", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, cb.This(), name, &async_);
  domainRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  DependOn(domain_);
  Update();
}

NCq::~NCq() {
  StopThread();
  StopHandles(!data());
  if (cq_) OrphanFid(&cq_->fid);
  if (!data()) {
    domainRef_.SuppressDestruct();
  } else if (async_) {
    napi_async_destroy(env_, async_);
  }
  // The pool goes with chunks_; only parked records of closed endpoints can still be
  // referenced, by fids that are gone.
}

fid_cq* NCq::cq(Napi::Env env) {
  if (!cq_) ThrowClosed(env, "CompletionQueue");
  return cq_;
}

// At environment teardown (a Worker ending) the addon may be unloaded before libuv runs
// close callbacks, so none of ours is passed then and the few handle bytes are left.
void NCq::StopHandles(bool teardown) {
  uv_close_cb closeCb = [](uv_handle_t* h) {
    if (h->type == UV_POLL) delete reinterpret_cast<uv_poll_t*>(h);
    else if (h->type == UV_IDLE) delete reinterpret_cast<uv_idle_t*>(h);
    else if (h->type == UV_ASYNC) delete reinterpret_cast<uv_async_t*>(h);
    else delete reinterpret_cast<uv_timer_t*>(h);
  };
  if (teardown) closeCb = nullptr;
  if (wake_) {
    uv_close(reinterpret_cast<uv_handle_t*>(wake_), closeCb);
    wake_ = nullptr;
  }
  if (spin_) {
    Spin(false);
    uv_close(reinterpret_cast<uv_handle_t*>(spin_), closeCb);
    spin_ = nullptr;
  }
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), closeCb);
    poll_ = nullptr;
  }
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), closeCb);
    timer_ = nullptr;
  }
}

void NCq::CloseNative(bool teardown) {
  StopThread();
  StopHandles(teardown);
  if (!teardown) {
    Napi::Env env(env_);
    Napi::HandleScope scope(env);
    while (live_) Cancel(env, live_, FI_ECANCELED, "CompletionQueue closed");
    for (napi_deferred d : dataWaiters_)
      napi_reject_deferred(env, d, MakeFabricError(env, FI_ECANCELED, "CompletionQueue closed"));
  }
  dataWaiters_.clear();
  if (cq_) fi_close(&cq_->fid);
  cq_ = nullptr;
  if (!teardown) {
    if (async_) napi_async_destroy(env_, async_);
    async_ = nullptr;
    domainRef_.Reset();
  } else {
    async_ = nullptr;
    domainRef_.SuppressDestruct();
  }
  // The fid is closed: no context can come back, so parked records are free again.
  for (auto& chunk : chunks_)
    for (size_t i = 0; i < kChunk; i++)
      if (chunk[i].state != OpRecord::kFree) {
        chunk[i].state = OpRecord::kLive;
        Recycle(&chunk[i]);
      }
  live_ = nullptr;
  backlogged_.clear();
  inflight_ = 0;
}

Napi::Value NCq::Close(const Napi::CallbackInfo& cb) {
  if (cq_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

Napi::Value NCq::GetMode(const Napi::CallbackInfo& cb) {
  return Napi::String::New(cb.Env(), mode_ == kFd ? "fd" : mode_ == kThread ? "thread" : "poll");
}

void NCq::ThreadMain() {
  fi_cq_tagged_entry ents[kReadBatch];
  fi_addr_t srcs[kReadBatch];
  while (!stop_.load()) {
    ssize_t n = readFrom_ ? fi_cq_sreadfrom(cq_, ents, kReadBatch, srcs, nullptr, 100)
                          : fi_cq_sread(cq_, ents, kReadBatch, nullptr, 100);
    if (n > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      for (ssize_t i = 0; i < n; i++)
        queued_.emplace_back(ents[i], readFrom_ ? srcs[i] : FI_ADDR_NOTAVAIL);
    } else if (n == -FI_EAVAIL) {
      fi_cq_err_entry err{};
      if (fi_cq_readerr(cq_, &err, 0) == 1) {
        ErrItem item = CopyErr(err);
        std::lock_guard<std::mutex> lock(mu_);
        queuedErr_.push_back(std::move(item));
      }
    } else {
      continue;  // timeout or interrupted: check stop_ and block again
    }
    uv_async_send(wake_);
  }
}

void NCq::StopThread() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  if (cq_) fi_cq_signal(cq_);
  thread_.join();
}

void NCq::EndpointClosing() {
  trywait_ = false;
  if (mode_ != kThread) return;
  StopThread();
  mode_ = kPoll;
  timerOn_ = false;
  Update();
}

void NCq::AsyncCb(uv_async_t* h) { static_cast<NCq*>(h->data)->OnLoop(); }

size_t NCq::DrainQueue(Napi::Env env, size_t max) {
  std::deque<std::pair<fi_cq_tagged_entry, fi_addr_t>> items;
  std::deque<ErrItem> errs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!queued_.empty() && items.size() < max) {
      items.push_back(queued_.front());
      queued_.pop_front();
    }
    errs.swap(queuedErr_);
  }
  for (auto& [e, src] : items) HandleEntry(env, e, src);
  for (auto& e : errs) HandleErr(env, e);
  bool more;
  {
    std::lock_guard<std::mutex> lock(mu_);
    more = !queued_.empty();
  }
  if (more && wake_) uv_async_send(wake_);
  return items.size() + errs.size();
}

// progress(): reads completions now (manual-progress providers, tests).
Napi::Value NCq::Progress(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  cq(env);
  size_t n = Drain(env, kMaxPerDrain);
  RetryBacklogs(env);
  Update();
  return Napi::Number::New(env, static_cast<double>(n));
}

OpRecord* NCq::NewRecord() {
  if (!free_) {
    chunks_.emplace_back(new OpRecord[kChunk]);
    OpRecord* c = chunks_.back().get();
    for (size_t i = kChunk; i-- > 0;) {
      c[i].next = free_;
      free_ = &c[i];
    }
  }
  OpRecord* op = free_;
  free_ = op->next;
  *op = OpRecord{};
  return op;
}

// Back to the pool, dropping what the op held on to.
void NCq::Recycle(OpRecord* op) {
  op->owned.reset();
  op->state = OpRecord::kFree;
  op->prev = nullptr;
  op->next = free_;
  free_ = op;
}

void NCq::FreeRecord(OpRecord* op) {
  if (op->state == OpRecord::kFree) Recycle(op);
}

void NCq::Link(OpRecord* op) {
  op->state = OpRecord::kLive;
  op->prev = nullptr;
  op->next = live_;
  if (live_) live_->prev = op;
  live_ = op;
}

void NCq::Unlink(OpRecord* op) {
  if (op->prev) op->prev->next = op->next;
  else live_ = op->next;
  if (op->next) op->next->prev = op->prev;
  op->prev = op->next = nullptr;
}

void NCq::CancelEndpoint(Napi::Env env, NEndpoint* ep) {
  for (OpRecord* op = live_; op;) {
    OpRecord* next = op->next;
    if (op->ep == ep) Cancel(env, op, FI_ECANCELED, "Endpoint closed");
    // Cancel settles a Promise but runs no JS, so next is still live.
    op = next;
  }
}

void NCq::Track(OpRecord* op) {
  Link(op);
  inflight_++;
  // A posted receive says nothing about when data comes; what the application sends does.
  if (!op->IsRecv() && op->len > spinBytes_) spinBytes_ = op->len;
  Active();
  // New work: poll soon again, whatever the back-off had reached.
  if (interval_ > 1 && timerOn_ && timer_) {
    interval_ = 1;
    uv_timer_start(timer_, TimerCb, interval_, 0);
  }
  interval_ = 1;
}

void NCq::Release(Napi::Env env, OpRecord* op) {
  for (napi_ref r : op->refs) napi_delete_reference(env, r);
  op->refs.clear();
  for (fid_mr* mr : op->tempMrs) fi_close(&mr->fid);
  op->tempMrs.clear();
  for (NMr* mr : op->mrs) mr->Unuse();
  op->mrs.clear();
  if (op->ep) op->ep->OpDone();
  op->ep = nullptr;
}

void NCq::Settle(Napi::Env env, OpRecord* op, napi_value value, bool ok) {
  if (Batch* b = op->batch) {
    if (!ok && !b->firstError) napi_create_reference(env, value, 1, &b->firstError);
    if (--b->remaining == 0) {
      if (b->firstError) {
        napi_value err;
        napi_get_reference_value(env, b->firstError, &err);
        napi_reject_deferred(env, b->deferred, err);
        napi_delete_reference(env, b->firstError);
      } else {
        napi_resolve_deferred(env, b->deferred, Napi::Env(env).Undefined());
      }
      delete b;
    }
    op->batch = nullptr;
  } else if (op->deferred) {
    if (ok) napi_resolve_deferred(env, op->deferred, value);
    else napi_reject_deferred(env, op->deferred, value);
  }
  op->deferred = nullptr;
}

void NCq::Cancel(Napi::Env env, OpRecord* op, int err, const std::string& msg) {
  if (op->state != OpRecord::kLive) return;
  Unlink(op);
  inflight_--;
  Settle(env, op, MakeFabricError(env, err, msg), false);
  Release(env, op);
  // A posted op's context may still be in the CQ or in the provider: keep the record
  // until the CQ itself closes, so a late completion never lands on a reused one.
  if (op->posted) op->state = OpRecord::kParked;
  else Recycle(op);
}

void NCq::Complete(Napi::Env env, OpRecord* op, const fi_cq_tagged_entry& e, fi_addr_t src) {
  napi_value value;
  AddonData* d;
  if (op->IsRecv() && (d = data()) && !d->completionMaker.IsEmpty()) {
    napi_value argv[4], undef;
    napi_get_undefined(env, &undef);
    napi_create_double(env, static_cast<double>(e.len), &argv[0]);
    argv[1] = op->kind == kOpTRecv ? static_cast<napi_value>(U64(env, e.tag)) : undef;
    argv[2] = (e.flags & FI_REMOTE_CQ_DATA) ? static_cast<napi_value>(U64(env, e.data)) : undef;
    argv[3] = src != FI_ADDR_NOTAVAIL && src != FI_ADDR_UNSPEC ? static_cast<napi_value>(U64(env, src)) : undef;
    if (napi_call_function(env, undef, d->completionMaker.Value(), 4, argv, &value) != napi_ok) {
      // cannot happen with lib/fabric's maker; settle rather than leave the op hanging
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      value = exc;
    }
  } else if (op->IsRecv()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("length", Napi::Number::New(env, static_cast<double>(e.len)));
    if (e.flags & FI_REMOTE_CQ_DATA) o.Set("data", U64(env, e.data));
    if (op->kind == kOpTRecv) o.Set("tag", U64(env, e.tag));
    if (src != FI_ADDR_NOTAVAIL && src != FI_ADDR_UNSPEC) o.Set("src", U64(env, src));
    value = o;
  } else {
    value = Napi::Env(env).Undefined();
  }
  Settle(env, op, value, true);
  Release(env, op);
  Recycle(op);
}

NCq::ErrItem NCq::CopyErr(const fi_cq_err_entry& e) {
  ErrItem item{e.op_context, e.err ? e.err : FI_EOTHER, e.prov_errno, e.olen, ""};
  if (e.prov_errno || e.err_data_size) {
    char buf[256];
    const char* s = fi_cq_strerror(cq_, e.prov_errno, e.err_data, buf, sizeof(buf));
    if (s) item.prov = s;
  }
  return item;
}

void NCq::HandleEntry(Napi::Env env, const fi_cq_tagged_entry& e, fi_addr_t src) {
  auto* op = static_cast<OpRecord*>(e.op_context);
  if (!op && (e.flags & FI_REMOTE_CQ_DATA)) {
    OnRemoteData(env, e);
    return;
  }
  // Parked records of closed endpoints are skipped.
  if (!op || op->state != OpRecord::kLive) return;
  Unlink(op);
  inflight_--;
  // A large message just arrived: the next one of a stream is as far away.
  if (op->IsRecv() && e.len > spinBytes_) spinBytes_ = e.len;
  Complete(env, op, e, src);
}

void NCq::HandleErr(Napi::Env env, const ErrItem& e) {
  auto* op = static_cast<OpRecord*>(e.ctx);
  if (!op || op->state != OpRecord::kLive) return;
  Unlink(op);
  inflight_--;
  Fail(env, op, e);
}

void NCq::Fail(Napi::Env env, OpRecord* op, const ErrItem& e) {
  int err = e.err;
  const std::string& prov = e.prov;
  std::string what = err == FI_ECANCELED ? "operation canceled" : "operation failed";
  if (err == FI_ETRUNC && op->IsRecv())
    what = "message truncated: " + std::to_string(e.olen) + " bytes did not fit the receive buffer";
  Settle(env, op, MakeFabricError(env, err, what, e.provErrno, prov), false);
  Release(env, op);
  Recycle(op);
}

size_t NCq::Drain(Napi::Env env, size_t max) {
  if (!cq_ || draining_) return 0;
  if (mode_ == kThread) return DrainQueue(env, max);
  size_t total = 0;
  bool queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued = !queued_.empty() || !queuedErr_.empty();
  }
  if (queued) total = DrainQueue(env, max);  // left by a stopped progress thread
  draining_ = true;
  fi_cq_tagged_entry ents[kReadBatch];
  fi_addr_t srcs[kReadBatch];
  while (total < max && cq_) {
    ssize_t n = readFrom_ ? fi_cq_readfrom(cq_, ents, kReadBatch, srcs)
                          : fi_cq_read(cq_, ents, kReadBatch);
    if (n > 0) {
      for (ssize_t i = 0; i < n; i++) HandleEntry(env, ents[i], readFrom_ ? srcs[i] : FI_ADDR_NOTAVAIL);
      total += static_cast<size_t>(n);
      Active();
      // Fewer than asked: the CQ is empty for now, and another read would only cost a
      // further progress pass.
      if (n < static_cast<ssize_t>(kReadBatch)) break;
    } else if (n == -FI_EAVAIL) {
      fi_cq_err_entry err{};
      if (fi_cq_readerr(cq_, &err, 0) != 1) break;
      total++;
      HandleErr(env, CopyErr(err));
    } else {
      break;
    }
  }
  draining_ = false;
  return total;
}

static Napi::Object DataObject(Napi::Env env, uint64_t data, size_t len) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", U64(env, data));
  o.Set("length", Napi::Number::New(env, static_cast<double>(len)));
  return o;
}

void NCq::OnRemoteData(Napi::Env env, const fi_cq_tagged_entry& e) {
  if (!dataWaiters_.empty()) {
    napi_deferred d = dataWaiters_.front();
    dataWaiters_.pop_front();
    inflight_--;
    napi_resolve_deferred(env, d, DataObject(env, e.data, e.len));
  } else {
    remoteData_.emplace_back(e.data, e.len);
  }
}

Napi::Value NCq::RemoteData(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  cq(env);
  napi_value promise;
  napi_deferred d;
  napi_create_promise(env, &d, &promise);
  if (remoteData_.empty()) Drain(env, kMaxPerDrain);
  if (!remoteData_.empty()) {
    auto [data, len] = remoteData_.front();
    remoteData_.pop_front();
    napi_resolve_deferred(env, d, DataObject(env, data, len));
  } else {
    // A waiter keeps the loop alive like an op in flight.
    dataWaiters_.push_back(d);
    inflight_++;
    Update();
  }
  return Napi::Value(env, promise);
}

void NCq::RetryBacklogs(Napi::Env env) {
  std::vector<NEndpoint*> eps(backlogged_.begin(), backlogged_.end());
  for (NEndpoint* ep : eps)
    if (ep->RetryBacklog(env)) backlogged_.erase(ep);
}

void NCq::Update() {
  if (!timer_) return;
  bool busy = inflight_ > 0 || !backlogged_.empty();
  if (busy != refed_) {
    refed_ = busy;
    if (busy) {
      uv_ref(reinterpret_cast<uv_handle_t*>(timer_));
      if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
      if (wake_) uv_ref(reinterpret_cast<uv_handle_t*>(wake_));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
      if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      if (wake_) uv_unref(reinterpret_cast<uv_handle_t*>(wake_));
    }
  }
  if (mode_ == kThread) return;  // the progress thread needs no timer
  // The timer runs while ops are in flight (some providers stall or wake without an
  // entry) and, for manual progress, as long as the CQ exists: a target must progress
  // RMA it never sees completions for. It backs off while nothing happens.
  bool want = busy || manual_ || mode_ == kPoll;
  if (want && !timerOn_) {
    uv_timer_start(timer_, TimerCb, interval_, 0);
    timerOn_ = true;
  } else if (!want && timerOn_) {
    uv_timer_stop(timer_);
    timerOn_ = false;
  }
}

void NCq::OnLoop() {
  if (!cq_) return;
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  size_t n = 0;
  {
    // A callback scope runs the microtasks (Promise reactions) when it closes.
    napi_callback_scope cs = nullptr;
    napi_value resource = Value();
    if (async_) napi_open_callback_scope(env_, resource, async_, &cs);
    n = Drain(env, kMaxPerDrain);
    RetryBacklogs(env);
    if (cs) napi_close_callback_scope(env_, cs);
  }
  if (!cq_) return;  // closed by a reaction
  bool more = n >= kMaxPerDrain;
  // A spinning CQ is read again next turn: arming the fd now would only hand progress
  // to the provider's thread for nothing.
  if (!more && fd_ >= 0 && trywait_ && !spinOn_) {
    fid* f = &cq_->fid;
    // fi_trywait fails when entries arrived in between; then they are read next turn.
    if (fi_trywait(fabric_, &f, 1) != 0) more = true;
    else if (n > 0 || !FdReadable()) readableIdle_ = false;
    // Readable with nothing to read: once may be a packet that landed just now (the next
    // turn reads it); twice in a row is a signal only a wait clears.
    else if (!readableIdle_) readableIdle_ = more = true;
    else more = ClearStaleWait(env);
    if (!cq_) return;
  }
  interval_ = (n > 0 || more) ? 1 : std::min<uint64_t>(interval_ * 2, kMaxInterval);
  timerOn_ = false;
  if (timer_) uv_timer_stop(timer_);
  Update();
  if (more && timer_) {
    uv_timer_start(timer_, TimerCb, 0, 0);
    timerOn_ = true;
  }
}

bool NCq::FdReadable() const {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

// net (libfabric 1.17) signals its CQ's wait set on every completion, and only a wait on
// that set takes the signal back: its fi_trywait does nothing. The wait fd then stays
// readable for good, and an idle loop with receives posted woke on every turn. A wait
// of the shortest time (1 ms) consumes the signal; the provider's sockets stay in the
// set, so traffic still wakes the loop (a net RMA target progresses only then).
// Entries it returns are settled here; true when the CQ must be read again soon.
bool NCq::ClearStaleWait(Napi::Env env) {
  fi_cq_tagged_entry ents[kReadBatch];
  fi_addr_t srcs[kReadBatch];
  ssize_t r = readFrom_ ? fi_cq_sreadfrom(cq_, ents, kReadBatch, srcs, nullptr, 1)
                        : fi_cq_sread(cq_, ents, kReadBatch, nullptr, 1);
  if (r == -FI_EAVAIL) return true;
  if (r <= 0) return false;
  napi_callback_scope cs = nullptr;
  napi_value resource = Value();
  if (async_) napi_open_callback_scope(env_, resource, async_, &cs);
  for (ssize_t i = 0; i < r; i++) HandleEntry(env, ents[i], readFrom_ ? srcs[i] : FI_ADDR_NOTAVAIL);
  Active();
  if (cs) napi_close_callback_scope(env_, cs);
  return true;
}

void NCq::Active(bool traffic) {
  if (!spin_) return;
  lastActive_ = uv_hrtime();
  // Under manual progress, traffic with nothing in flight is a peer's RMA into our
  // memory: it lands only while the CQ is read.
  if (!spinOn_ && (inflight_ > 0 || !backlogged_.empty() || (traffic && manual_))) Spin(true);
}

void NCq::Spin(bool on) {
  if (!spin_ || on == spinOn_) return;
  spinOn_ = on;
  // A spin that starts while large writes are still in flight (it ended during a long
  // stall) needs their size again.
  spinBytes_ = 0;
  if (on)
    for (OpRecord* op = live_; op; op = op->next)
      if (!op->IsRecv() && op->len > spinBytes_) spinBytes_ = op->len;
  if (AddonData* d = data()) d->spinning += on ? 1 : -1;
  if (on) uv_idle_start(spin_, SpinCb);
  else uv_idle_stop(spin_);
  // While the loop reads the CQ every turn the wait fd tells it nothing new, and answering
  // it means re-arming it with fi_trywait, which tells a provider with a progress thread
  // (softuet) that the reader is about to sleep: its thread then takes progress over and
  // contends with the inline reads for the domain on every message. SpinCb re-arms the fd
  // when the spin ends. Other providers' fi_trywait costs syscalls on every message too.
  if (poll_) {
    if (on) uv_poll_stop(poll_);
    else uv_poll_start(poll_, UV_READABLE, PollCb);
  }
}

void NCq::SpinCb(uv_idle_t* h) {
  auto* self = static_cast<NCq*>(h->data);
  if (!self->cq_) return;
  bool busy = self->inflight_ > 0 || !self->backlogged_.empty();
  uint64_t idle = uv_hrtime() - self->lastActive_;
  // With nothing in flight the spin lasts only long enough to see the application react to
  // its last completion with a new op: giving the CQ up at once would, with softuet, hand
  // progress to its thread and back on every request/response.
  uint64_t limit = kSpinNs + std::min<uint64_t>(self->spinBytes_ * kSpinNsPerByte, kMaxSpinExtraNs);
  if ((!busy && !self->manual_ && idle > kIdleSpinNs) || idle > limit) {
    self->Spin(false);
    // Read once more and arm the wait fd: from here on the loop sleeps until it fires.
    self->OnLoop();
    return;
  }
  Napi::Env env(self->env_);
  Napi::HandleScope scope(env);
  napi_callback_scope cs = nullptr;
  napi_value resource = self->Value();
  if (self->async_) napi_open_callback_scope(self->env_, resource, self->async_, &cs);
  size_t n = self->Drain(env, kMaxPerDrain);
  // The only CQ spinning on this loop reads again for a few microseconds before going
  // round the loop (a poll syscall and the other handles): a reply that lands meanwhile
  // is delivered sooner. With several spinning, each must get its turn instead, since
  // under manual progress one may be what moves the other's data.
  if (n == 0 && self->inflight_ > 0 && self->backlogged_.empty() && self->data() &&
      self->data()->spinning == 1) {
    uint64_t until = uv_hrtime() + kInnerSpinNs;
    while (n == 0 && self->cq_ && uv_hrtime() < until) n = self->Drain(env, kMaxPerDrain);
  }
  // A turn that found nothing gives the CPU away once: with more processes than cores
  // (collective ranks), the peer this one waits for may be queued behind it. With nothing
  // else runnable the yield returns at once.
  if (n == 0) {
    AddonData* d = self->data();
    if ((d && d->spinning == 1) || ++self->emptyTurns_ % kYieldEvery == 0) sched_yield();
  }
  self->RetryBacklogs(env);
  if (cs) napi_close_callback_scope(self->env_, cs);
  if (self->cq_) self->Update();
}

void NCq::PollCb(uv_poll_t* h, int status, int) {
  auto* self = static_cast<NCq*>(h->data);
  if (status < 0) return;
  // Traffic on the fd: a target of RMA sees no completion for it, yet must keep reading.
  self->Active(true);
  self->OnLoop();
}

void NCq::TimerCb(uv_timer_t* h) {
  auto* self = static_cast<NCq*>(h->data);
  self->timerOn_ = false;
  self->OnLoop();
}

}  // namespace nlf
