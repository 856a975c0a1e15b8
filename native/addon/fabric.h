// fid_fabric wrapper.
#pragma once
#include "common.h"

namespace nlf {

class NFabric : public Napi::ObjectWrap<NFabric>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NFabric* From(const Napi::Value& v, const char* what);
  explicit NFabric(const Napi::CallbackInfo& cb);
  ~NFabric() override;
  void CloseNative(bool teardown) override;
  fid_fabric* fabric(Napi::Env env);
  fid_fabric* raw() const;

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  fid_fabric* fabric_ = nullptr;
};

}  // namespace nlf
