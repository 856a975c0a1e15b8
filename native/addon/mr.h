// fid_mr wrapper: registration of JS memory, pinned by a reference while registered.
#pragma once
#include "common.h"

namespace nlf {

class NDomain;

class NMr : public Napi::ObjectWrap<NMr>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NMr* From(const Napi::Value& v, const char* what);
  static bool Is(const Napi::Value& v);
  // The region v wraps, or nullptr when v is something else (a view, another object).
  static NMr* Find(napi_env env, napi_value v);
  // The live region whose handle is the number v, or nullptr.
  static NMr* ByHandle(napi_env env, napi_value v);
  explicit NMr(const Napi::CallbackInfo& cb);
  ~NMr() override;
  void CloseNative(bool teardown) override;

  fid_mr* mr(Napi::Env env);
  uint8_t* ptr() const { return ptr_; }
  size_t length() const { return len_; }
  void* desc() const { return mr_ ? fi_mr_desc(mr_) : nullptr; }
  uint64_t access() const { return access_; }
  NDomain* domain() const { return domain_; }
  // An op in flight holds the region: the first one pins the JS object, so it cannot be
  // collected under the provider, the last one lets it go.
  void Use() {
    if (inflight_++ == 0) Ref();
  }
  void Unuse() {
    if (inflight_ && --inflight_ == 0) Unref();
  }

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value Key(const Napi::CallbackInfo& cb);
  Napi::Value Addr(const Napi::CallbackInfo& cb);
  Napi::Value Bind(const Napi::CallbackInfo& cb);

  fid_mr* mr_ = nullptr;
  NDomain* domain_ = nullptr;
  uint8_t* ptr_ = nullptr;
  size_t len_ = 0;
  uint64_t access_ = 0;
  size_t inflight_ = 0;
  uint32_t handle_ = 0;
  Napi::ObjectReference domainRef_;
  Napi::Reference<Napi::Value> memRef_;
};

// Registers [ptr, ptr+len) for one op on FI_MR_LOCAL providers.
int RegisterTemp(NDomain* d, void* ptr, size_t len, uint64_t access, fid_mr** out);

}  // namespace nlf
