#include "fabric.h"

#include "errors.h"
#include "info.h"

namespace nlf {

void NFabric::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeFabric", {InstanceMethod("close", &NFabric::Close)});
  GetData(env)->fabricCtor = Napi::Persistent(f);
  exports.Set("NativeFabric", f);
}

NFabric* NFabric::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->fabricCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be a Fabric");
  return Napi::ObjectWrap<NFabric>::Unwrap(v.As<Napi::Object>());
}

NFabric::NFabric(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NFabric>(cb), Closeable(GetData(cb.Env()), kRankFabric) {
  NInfo* info = NInfo::From(cb[0], "info");
  int ret = fi_fabric(info->info()->fabric_attr, &fabric_, nullptr);
  if (ret) ThrowFabric(cb.Env(), ret, "fi_fabric");
}

NFabric::~NFabric() {
  if (fabric_) OrphanFid(&fabric_->fid);
}

fid_fabric* NFabric::raw() const { return fabric_; }

fid_fabric* NFabric::fabric(Napi::Env env) {
  if (!fabric_) ThrowClosed(env, "Fabric");
  return fabric_;
}

void NFabric::CloseNative(bool) {
  if (fabric_) fi_close(&fabric_->fid);
  fabric_ = nullptr;
}

// Closes its domains (and everything under them) and event queues first.
Napi::Value NFabric::Close(const Napi::CallbackInfo& cb) {
  if (fabric_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

}  // namespace nlf
