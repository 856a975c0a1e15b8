// fid_domain wrapper: the factory for AVs, CQs, counters, MRs and endpoints.
#pragma once
#include "common.h"

namespace nlf {

class NFabric;

class NDomain : public Napi::ObjectWrap<NDomain>, public Closeable {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NDomain* From(const Napi::Value& v, const char* what);
  explicit NDomain(const Napi::CallbackInfo& cb);
  ~NDomain() override;
  void CloseNative(bool teardown) override;

  fid_domain* domain(Napi::Env env);
  fid_domain* rawDomain() const { return domain_; }
  fid_fabric* fabric() const { return fabric_; }
  const fi_info* info() const { return info_; }
  uint64_t mrMode() const { return info_->domain_attr->mr_mode; }
  bool manualProgress() const { return info_->domain_attr->data_progress == FI_PROGRESS_MANUAL; }
  uint64_t NextKey() { return nextKey_++; }

 private:
  Napi::Value Close(const Napi::CallbackInfo& cb);
  Napi::Value AllocBuffer(const Napi::CallbackInfo& cb);
  Napi::Value QueryAtomic(const Napi::CallbackInfo& cb);
  Napi::Value Describe(const Napi::CallbackInfo& cb);

  fid_domain* domain_ = nullptr;
  fid_fabric* fabric_ = nullptr;  // valid while the domain is open (parents close last)
  fi_info* info_ = nullptr;
  uint64_t nextKey_ = 1;
  Napi::ObjectReference fabricRef_;
};

}  // namespace nlf
