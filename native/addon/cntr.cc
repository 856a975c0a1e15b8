#include "cntr.h"

#include "domain.h"
#include "errors.h"

namespace nlf {

void NCntr::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeCntr",
                                 {InstanceMethod("close", &NCntr::Close),
                                  InstanceMethod("read", &NCntr::Read),
                                  InstanceMethod("readErr", &NCntr::ReadErr),
                                  InstanceMethod("add", &NCntr::Add),
                                  InstanceMethod("set", &NCntr::Set),
                                  InstanceMethod("addErr", &NCntr::AddErr),
                                  InstanceMethod("setErr", &NCntr::SetErr)});
  GetData(env)->cntrCtor = Napi::Persistent(f);
  exports.Set("NativeCntr", f);
}

NCntr* NCntr::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->cntrCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be a Counter");
  return Napi::ObjectWrap<NCntr>::Unwrap(v.As<Napi::Object>());
}

// new NativeCntr(domain)
NCntr::NCntr(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NCntr>(cb), Closeable(GetData(cb.Env()), kRankCntr) {
  Napi::Env env = cb.Env();
  NDomain* dom = NDomain::From(cb[0], "domain");
  fi_cntr_attr attr{};
  attr.events = FI_CNTR_EVENTS_COMP;
  // Counter.wait polls from the loop and never blocks it; the wait object is still
  // requested because some providers signal it unconditionally on every increment.
  attr.wait_obj = FI_WAIT_UNSPEC;
  int ret = fi_cntr_open(dom->domain(env), &attr, &cntr_, nullptr);
  if (ret) ThrowFabric(env, ret, "fi_cntr_open");
  domainRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  DependOn(dom);
}

NCntr::~NCntr() {
  if (cntr_) OrphanFid(&cntr_->fid);
  if (!data()) domainRef_.SuppressDestruct();
}

fid_cntr* NCntr::cntr(Napi::Env env) {
  if (!cntr_) ThrowClosed(env, "Counter");
  return cntr_;
}

void NCntr::CloseNative(bool teardown) {
  if (cntr_) fi_close(&cntr_->fid);
  cntr_ = nullptr;
  if (teardown) domainRef_.SuppressDestruct();
  else domainRef_.Reset();
}

Napi::Value NCntr::Close(const Napi::CallbackInfo& cb) {
  if (cntr_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

Napi::Value NCntr::Read(const Napi::CallbackInfo& cb) {
  return U64(cb.Env(), fi_cntr_read(cntr(cb.Env())));
}

Napi::Value NCntr::ReadErr(const Napi::CallbackInfo& cb) {
  return U64(cb.Env(), fi_cntr_readerr(cntr(cb.Env())));
}

Napi::Value NCntr::Add(const Napi::CallbackInfo& cb) {
  int ret = fi_cntr_add(cntr(cb.Env()), ToU64(cb[0], "value"));
  if (ret) ThrowFabric(cb.Env(), ret, "fi_cntr_add");
  return cb.Env().Undefined();
}

Napi::Value NCntr::Set(const Napi::CallbackInfo& cb) {
  int ret = fi_cntr_set(cntr(cb.Env()), ToU64(cb[0], "value"));
  if (ret) ThrowFabric(cb.Env(), ret, "fi_cntr_set");
  return cb.Env().Undefined();
}

Napi::Value NCntr::AddErr(const Napi::CallbackInfo& cb) {
  int ret = fi_cntr_adderr(cntr(cb.Env()), ToU64(cb[0], "value"));
  if (ret) ThrowFabric(cb.Env(), ret, "fi_cntr_adderr");
  return cb.Env().Undefined();
}

Napi::Value NCntr::SetErr(const Napi::CallbackInfo& cb) {
  int ret = fi_cntr_seterr(cntr(cb.Env()), ToU64(cb[0], "value"));
  if (ret) ThrowFabric(cb.Env(), ret, "fi_cntr_seterr");
  return cb.Env().Undefined();
}

}  // namespace nlf
