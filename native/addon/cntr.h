// fid_cntr wrapper: completion and event counters.
#pragma once
#include "common.h"

namespace nlf {

class NCntr : public Napi::ObjectWrap<NCntr>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NCntr* From(const Napi::Value& v, const char* what);
  explicit NCntr(const Napi::CallbackInfo& cb);
  ~NCntr() override;
  void CloseNative(bool teardown) override;
  fid_cntr* cntr(Napi::Env env);

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value Read(const Napi::CallbackInfo& cb);
  Napi::Value ReadErr(const Napi::CallbackInfo& cb);
  Napi::Value Add(const Napi::CallbackInfo& cb);
  Napi::Value Set(const Napi::CallbackInfo& cb);
  Napi::Value AddErr(const Napi::CallbackInfo& cb);
  Napi::Value SetErr(const Napi::CallbackInfo& cb);

  fid_cntr* cntr_ = nullptr;
  Napi::ObjectReference domainRef_;
};

}  // namespace nlf
