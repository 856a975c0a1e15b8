// fi_getinfo and the Info handle: a JS object owning one fi_info (fi_dupinfo'd).
#pragma once
#include "common.h"

namespace nlf {

class NInfo : public Napi::ObjectWrap<NInfo> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, const fi_info* info);
  static NInfo* From(const Napi::Value& v, const char* what);
  explicit NInfo(const Napi::CallbackInfo& cb);
  ~NInfo() override;
  fi_info* info() const { return info_; }

 private:
  fi_info* info_ = nullptr;
};

// getInfo(hints) -> Array<{ ...plain numeric fields, handle: NInfo }>
Napi::Value GetInfo(const Napi::CallbackInfo& cb);
// Plain description of an fi_info (numbers and bigints; names are mapped in TS).
Napi::Object DescribeInfo(Napi::Env env, const fi_info* info);
Napi::Object Constants(Napi::Env env);

}  // namespace nlf
