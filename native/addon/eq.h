// fid_eq wrapper: connection management events for MSG endpoints.
#pragma once
#include "common.h"

namespace nlf {

class NEq : public Napi::ObjectWrap<NEq>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NEq* From(const Napi::Value& v, const char* what);
  explicit NEq(const Napi::CallbackInfo& cb);
  ~NEq() override;
  void CloseNative(bool teardown) override;
  fid_eq* eq(Napi::Env env);

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value Read(const Napi::CallbackInfo& cb);

  fid_eq* eq_ = nullptr;
  Napi::ObjectReference fabricRef_;
};

}  // namespace nlf
