// fid_av wrapper: peer addresses (raw fi_getname bytes) to fi_addr_t.
#pragma once
#include "common.h"

namespace nlf {

class NDomain;

class NAv : public Napi::ObjectWrap<NAv>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NAv* From(const Napi::Value& v, const char* what);
  explicit NAv(const Napi::CallbackInfo& cb);
  ~NAv() override;
  void CloseNative(bool teardown) override;
  fid_av* av(Napi::Env env);
  fid_av* raw() const { return av_; }

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value Insert(const Napi::CallbackInfo& cb);
  Napi::Value InsertMany(const Napi::CallbackInfo& cb);
  Napi::Value InsertSvc(const Napi::CallbackInfo& cb);
  Napi::Value Lookup(const Napi::CallbackInfo& cb);
  Napi::Value Remove(const Napi::CallbackInfo& cb);
  Napi::Value StrAddr(const Napi::CallbackInfo& cb);

  fid_av* av_ = nullptr;
  size_t addrLen_ = 0;
  Napi::ObjectReference domainRef_;
};

}  // namespace nlf
