#include "domain.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "errors.h"
#include "fabric.h"
#include "info.h"

namespace nlf {

void NDomain::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeDomain",
                                 {InstanceMethod("close", &NDomain::Close),
                                  InstanceMethod("allocBuffer", &NDomain::AllocBuffer),
                                  InstanceMethod("queryAtomic", &NDomain::QueryAtomic),
                                  InstanceMethod("describe", &NDomain::Describe)});
  GetData(env)->domainCtor = Napi::Persistent(f);
  exports.Set("NativeDomain", f);
}

NDomain* NDomain::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->domainCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be a Domain");
  return Napi::ObjectWrap<NDomain>::Unwrap(v.As<Napi::Object>());
}

// new NativeDomain(fabric, info)
NDomain::NDomain(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NDomain>(cb), Closeable(GetData(cb.Env()), kRankDomain) {
  Napi::Env env = cb.Env();
  NFabric* fabric = NFabric::From(cb[0], "fabric");
  NInfo* info = NInfo::From(cb[1], "info");
  fabric_ = fabric->fabric(env);
  info_ = fi_dupinfo(info->info());
  if (!info_) ThrowFabric(env, FI_ENOMEM, "fi_dupinfo");
  int ret = fi_domain(fabric_, info_, &domain_, nullptr);
  if (ret) {
    fi_freeinfo(info_);
    info_ = nullptr;
    ThrowFabric(env, ret, "fi_domain");
  }
  fabricRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  DependOn(fabric);
}

NDomain::~NDomain() {
  if (domain_) OrphanFid(&domain_->fid);
  if (info_) fi_freeinfo(info_);
  if (!data()) fabricRef_.SuppressDestruct();
}

fid_domain* NDomain::domain(Napi::Env env) {
  if (!domain_) ThrowClosed(env, "Domain");
  return domain_;
}

void NDomain::CloseNative(bool teardown) {
  if (domain_) fi_close(&domain_->fid);
  domain_ = nullptr;
  if (teardown) fabricRef_.SuppressDestruct();
  else fabricRef_.Reset();
}

// Closes endpoints, MRs, AVs, counters and CQs opened on this domain first.
Napi::Value NDomain::Close(const Napi::CallbackInfo& cb) {
  if (domain_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

// The fi_info the domain was opened with (after the provider filled it in).
Napi::Value NDomain::Describe(const Napi::CallbackInfo& cb) {
  return DescribeInfo(cb.Env(), info_);
}

// Page-aligned memory owned by the binding, freed when the Buffer is collected.
Napi::Value NDomain::AllocBuffer(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  domain(env);
  size_t size = ToSize(cb[0], "size");
  if (size > (size_t{1} << 40)) throw Napi::RangeError::New(env, "size is too large");
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = nullptr;
  if (posix_memalign(&p, page, size ? size : 1)) ThrowFabric(env, FI_ENOMEM, "allocBuffer");
  memset(p, 0, size);
  return Napi::Buffer<uint8_t>::New(env, static_cast<uint8_t*>(p), size,
                                    [](Napi::Env, uint8_t* d) { free(d); });
}

// queryAtomic(datatype, op, kind: 0 plain | 1 fetch | 2 compare) -> max count
Napi::Value NDomain::QueryAtomic(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_domain* d = domain(env);
  auto dt = static_cast<fi_datatype>(ToSize(cb[0], "datatype"));
  auto op = static_cast<fi_op>(ToSize(cb[1], "op"));
  size_t kind = ToSize(cb[2], "kind");
  uint64_t flags = kind == 1 ? FI_FETCH_ATOMIC : kind == 2 ? FI_COMPARE_ATOMIC : 0;
  fi_atomic_attr attr{};
  int ret = fi_query_atomic(d, dt, op, &attr, flags);
  if (ret) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, static_cast<double>(attr.count));
}

}  // namespace nlf
