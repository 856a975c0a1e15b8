// fid_ep wrapper (RDM, DGRAM, MSG) and its data-transfer ops; fid_pep for MSG listeners.
#pragma once
#include <deque>

#include "common.h"
#include "cq.h"

namespace nlf {

class NDomain;
class NMr;

class NEndpoint : public Napi::ObjectWrap<NEndpoint>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NEndpoint* From(const Napi::Value& v, const char* what);
  explicit NEndpoint(const Napi::CallbackInfo& cb);
  ~NEndpoint() override;
  void CloseNative(bool teardown) override;

  // The CQ settled one of this endpoint's ops. Ops in flight keep the endpoint alive: the
  // first one pins it, the last one lets it go.
  void OpDone() {
    if (inflight_ && --inflight_ == 0) Unref();
  }
  // Posts what FI_EAGAIN held back, in order; false while some are still waiting.
  bool RetryBacklog(Napi::Env env);
  bool open() const { return ep_ != nullptr; }
  fid_ep* raw() const { return ep_; }

 private:
  fid_ep* ep(Napi::Env env);
  template <Napi::Value (NEndpoint::*M)(Napi::Env, const Napi::Value*)>
  static napi_value TenArgs(napi_env env, napi_callback_info info);
  Napi::Value Post(Napi::Env env, const Napi::Value* a);
  Napi::Value Inject(Napi::Env env, const Napi::Value* a);
  Napi::Value Atomic(const Napi::CallbackInfo& cb);
  Napi::Value AtomicValid(const Napi::CallbackInfo& cb);
  Napi::Value BatchOps(const Napi::CallbackInfo& cb);
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value GetAddress(const Napi::CallbackInfo& cb);
  Napi::Value GetOpt(const Napi::CallbackInfo& cb);
  Napi::Value Stats(const Napi::CallbackInfo& cb);
  Napi::Value Connect(const Napi::CallbackInfo& cb);
  Napi::Value Accept(const Napi::CallbackInfo& cb);
  Napi::Value Shutdown(const Napi::CallbackInfo& cb);

  // Fills buf/len/desc from a view or an NMr, range-checked; may register a temporary MR.
  void Local(Napi::Env env, OpRecord* op, const Napi::Value& local, const Napi::Value& off,
             const Napi::Value& len, uint64_t access, void** buf, size_t* outLen, void** desc,
             const char* what);
  OpRecord* Build(Napi::Env env, const Napi::Value* a);  // a[0..9]: kind, local, off, len, addr, tag, ignore, raddr, rkey, data
  void Submit(Napi::Env env, OpRecord* op, bool more = false);  // posts or queues
  void Discard(Napi::Env env, OpRecord* op);              // frees a record never posted

  napi_env env_;
  fid_ep* ep_ = nullptr;
  NDomain* domain_ = nullptr;
  NCq* cq_ = nullptr;
  fi_info* info_ = nullptr;
  uint64_t mrMode_ = 0;
  Napi::ObjectReference domainRef_, cqRef_, avRef_, eqRef_;
  std::vector<Napi::ObjectReference> cntrRefs_;
  size_t inflight_ = 0;
  std::deque<OpRecord*> backlog_;
  // The endpoint as seen by its own post and inject functions; freed by whichever of the
  // three is collected last.
  struct Cell {
    NEndpoint* ep;
    int owners;
  };
  Cell* cell_ = nullptr;
  static void DropCell(Cell* c) {
    if (--c->owners == 0) delete c;
  }
  friend class NCq;
};

class NPep : public Napi::ObjectWrap<NPep>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit NPep(const Napi::CallbackInfo& cb);
  ~NPep() override;
  void CloseNative(bool teardown) override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value GetAddress(const Napi::CallbackInfo& cb);
  Napi::Value Reject(const Napi::CallbackInfo& cb);
  fid_pep* pep_ = nullptr;
  Napi::ObjectReference fabricRef_, eqRef_;
};

}  // namespace nlf
