// fid_cq wrapper and the completion engine: pooled records for posted ops, completions
// matched by context, wait fd watched by uv_poll, a safety timer while ops are in flight.
#pragma once
#include <deque>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "common.h"

namespace nlf {

class NDomain;
class NEndpoint;
class NMr;

enum OpKind : uint8_t {
  kOpSend, kOpSendData, kOpRecv, kOpTSend, kOpTSendData, kOpTRecv,
  kOpWrite, kOpWriteData, kOpRead, kOpAtomic, kOpFetchAtomic, kOpCompareAtomic,
};

// Many ops settled by one Promise (Endpoint.batch).
struct Batch {
  napi_deferred deferred = nullptr;
  size_t remaining = 0;
  napi_ref firstError = nullptr;
};

// At most three local buffers per op (buffer, result, compare): kept inline, so building
// an op costs no allocation beyond the record itself.
template <typename T>
struct Few {
  T items[3];
  uint8_t n = 0;
  void push_back(T v) { items[n++] = v; }
  T* begin() { return items; }
  T* end() { return items + n; }
  void clear() { n = 0; }
};

struct OpRecord {
  fi_context2 ctx;  // first: libfabric hands back &ctx as op_context
  // kFree: in the CQ's pool; kLive: tracked until its completion; kParked: canceled after
  // posting, its context may still come back, so it is reused only once the CQ closed.
  enum State : uint8_t { kFree, kLive, kParked };
  State state = kFree;
  OpKind kind;
  OpRecord* prev = nullptr;  // the CQ's list of live records, or its free list (next)
  OpRecord* next = nullptr;
  NEndpoint* ep = nullptr;
  napi_deferred deferred = nullptr;
  Batch* batch = nullptr;
  Few<napi_ref> refs;     // views the op reads or writes (an NMr pins itself instead)
  Few<fid_mr*> tempMrs;   // registered by the binding for FI_MR_LOCAL providers
  Few<NMr*> mrs;          // user MRs the op uses: they refuse to close meanwhile
  bool posted = false;
  std::unique_ptr<uint8_t[]> owned;  // copy of an inject the provider could not take yet
  // post arguments, kept so a post refused with FI_EAGAIN can be retried later
  void* buf = nullptr;
  size_t len = 0;
  void* desc = nullptr;
  fi_addr_t addr = FI_ADDR_UNSPEC;
  uint64_t tag = 0, ignore = 0, raddr = 0, rkey = 0, data = 0;
  fi_datatype dt = FI_INT8;
  fi_op aop = FI_SUM;
  void* result = nullptr;
  void* resultDesc = nullptr;
  void* compare = nullptr;
  void* compareDesc = nullptr;

  bool IsRecv() const { return kind == kOpRecv || kind == kOpTRecv; }
  // flags 0: the plain call. FI_MORE (the batch form, all but its last op): the *msg
  // call with it, so a provider that honours it sends the batch together.
  ssize_t Post(fid_ep* ep, uint64_t flags = 0);
};

class NCq : public Napi::ObjectWrap<NCq>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NCq* From(const Napi::Value& v, const char* what);
  explicit NCq(const Napi::CallbackInfo& cb);
  ~NCq() override;
  void CloseNative(bool teardown) override;

  fid_cq* cq(Napi::Env env);
  NDomain* domain() const { return domain_; }
  // Records come from a pool kept by the CQ: no allocation per op once it is warm.
  OpRecord* NewRecord();
  void FreeRecord(OpRecord* op);  // a record never tracked (error while building it)
  // Bookkeeping for ops: Track before posting; the engine owns the record afterwards.
  void Track(OpRecord* op);
  // Settles or cancels every live op of ep (its endpoint closes).
  void CancelEndpoint(Napi::Env env, NEndpoint* ep);
  // Settles op with an error and parks the record: its context may still come back.
  void Cancel(Napi::Env env, OpRecord* op, int err, const std::string& msg);
  void AddBacklog(NEndpoint* ep) { backlogged_.insert(ep); Update(); }
  // An endpoint bound to this CQ closed. libfabric 1.17's rxm leaves the closed endpoint's
  // connections in the CQ's wait set and fi_trywait then reads freed memory, so from here
  // on this CQ sleeps on its fd without fi_trywait (the safety timer covers the gap).
  void RemoveEndpoint(NEndpoint* ep) {
    backlogged_.erase(ep);
    trywait_ = false;
  }
  // Called before an endpoint bound to this CQ closes. The same stale wait set makes a
  // blocking read unsafe, so a progress thread stops and the CQ is polled from then on.
  void EndpointClosing();
  // Reads completions; from a JS call (inCallback false) or from the loop.
  size_t Drain(Napi::Env env, size_t max);
  void Update();  // ref/unref + timer after the in-flight count changed
  bool waitFd() const { return fd_ >= 0; }

  // How completions reach the loop thread.
  enum Mode { kFd, kPoll, kThread };

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value Progress(const Napi::CallbackInfo& cb);
  Napi::Value GetMode(const Napi::CallbackInfo& cb);
  Napi::Value RemoteData(const Napi::CallbackInfo& cb);
  void OnRemoteData(Napi::Env env, const fi_cq_tagged_entry& e);
  // An error completion, copied out of the provider's storage (err_data is only valid
  // until the next read).
  struct ErrItem {
    void* ctx;
    int err;
    int provErrno;
    size_t olen;
    std::string prov;
  };
  ErrItem CopyErr(const fi_cq_err_entry& e);
  void HandleEntry(Napi::Env env, const fi_cq_tagged_entry& e, fi_addr_t src);
  void HandleErr(Napi::Env env, const ErrItem& e);
  void Complete(Napi::Env env, OpRecord* op, const fi_cq_tagged_entry& e, fi_addr_t src);
  void Fail(Napi::Env env, OpRecord* op, const ErrItem& e);
  size_t DrainQueue(Napi::Env env, size_t max);
  void ThreadMain();
  void StopThread();
  static void AsyncCb(uv_async_t* h);
  void Settle(Napi::Env env, OpRecord* op, napi_value value, bool ok);
  void Release(Napi::Env env, OpRecord* op);
  void OnLoop();  // uv_poll or timer fired
  bool FdReadable() const;
  bool ClearStaleWait(Napi::Env env);
  void RetryBacklogs(Napi::Env env);
  void StopHandles(bool teardown);

  static void PollCb(uv_poll_t* h, int status, int events);
  static void TimerCb(uv_timer_t* h);
  static void SpinCb(uv_idle_t* h);
  void Link(OpRecord* op);
  void Unlink(OpRecord* op);
  void Recycle(OpRecord* op);
  void Spin(bool on);
  // A post, completion or (traffic) fd wake-up: keep reading every turn for a while.
  void Active(bool traffic = false);

  napi_env env_;
  fid_cq* cq_ = nullptr;
  fid_fabric* fabric_ = nullptr;
  NDomain* domain_ = nullptr;
  Napi::ObjectReference domainRef_;
  napi_async_context async_ = nullptr;
  int fd_ = -1;
  bool readFrom_ = false;
  bool trywait_ = true;
  bool readableIdle_ = false;  // the last fi_trywait succeeded on a readable fd, nothing read
  bool manual_ = false;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  // While ops are in flight the loop reads the CQ every turn, until nothing has happened
  // for a short while (then fd and timer again). Under manual progress nothing moves
  // unless the CQ is read, and the wait fd does not see work the provider still has to
  // push; under auto progress it spares a sleep and a wake-up per completion.
  uv_idle_t* spin_ = nullptr;
  bool spinOn_ = false;
  uint64_t lastActive_ = 0;  // uv_hrtime of the last post or completion
  size_t spinBytes_ = 0;     // largest op posted or received since the spin started
  uint32_t emptyTurns_ = 0;
  Mode mode_ = kPoll;
  // Thread mode: a progress thread blocks in fi_cq_sread and queues what it read; the
  // loop thread takes the queue when woken through async_.
  uv_async_t* wake_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<std::pair<fi_cq_tagged_entry, fi_addr_t>> queued_;
  std::deque<ErrItem> queuedErr_;
  uint64_t interval_ = 1;
  bool timerOn_ = false;
  bool refed_ = false;
  bool draining_ = false;
  size_t inflight_ = 0;
  OpRecord* live_ = nullptr;  // doubly linked through prev/next
  OpRecord* free_ = nullptr;  // singly linked through next
  std::vector<std::unique_ptr<OpRecord[]>> chunks_;
  std::set<NEndpoint*> backlogged_;
  // Remote CQ data that consumed no receive (writedata), and who waits for it.
  std::deque<std::pair<uint64_t, size_t>> remoteData_;
  std::deque<napi_deferred> dataWaiters_;
};

}  // namespace nlf
