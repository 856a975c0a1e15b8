#include "eq.h"

#include "errors.h"
#include "fabric.h"
#include "info.h"

namespace nlf {

void NEq::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeEq",
                                 {InstanceMethod("close", &NEq::Close),
                                  InstanceMethod("read", &NEq::Read)});
  GetData(env)->eqCtor = Napi::Persistent(f);
  exports.Set("NativeEq", f);
}

NEq* NEq::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->eqCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be an EventQueue");
  return Napi::ObjectWrap<NEq>::Unwrap(v.As<Napi::Object>());
}

// new NativeEq(fabric, size)
NEq::NEq(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NEq>(cb), Closeable(GetData(cb.Env()), kRankEq) {
  Napi::Env env = cb.Env();
  NFabric* fab = NFabric::From(cb[0], "fabric");
  fi_eq_attr attr{};
  attr.size = cb[1].IsUndefined() ? 0 : ToSize(cb[1], "size");
  // Read without blocking from the loop; the TS side polls while someone waits.
  attr.wait_obj = FI_WAIT_NONE;
  int ret = fi_eq_open(fab->fabric(env), &attr, &eq_, nullptr);
  if (ret) ThrowFabric(env, ret, "fi_eq_open");
  fabricRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  DependOn(fab);
}

NEq::~NEq() {
  if (eq_) OrphanFid(&eq_->fid);
  if (!data()) fabricRef_.SuppressDestruct();
}

fid_eq* NEq::eq(Napi::Env env) {
  if (!eq_) ThrowClosed(env, "EventQueue");
  return eq_;
}

void NEq::CloseNative(bool teardown) {
  if (eq_) fi_close(&eq_->fid);
  eq_ = nullptr;
  if (teardown) fabricRef_.SuppressDestruct();
  else fabricRef_.Reset();
}

Napi::Value NEq::Close(const Napi::CallbackInfo& cb) {
  if (eq_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

// read() -> null | { event: 'connreq'|'connected'|'shutdown'|..., id: number, info? }
// id is the number the endpoint or passive endpoint was created with.
Napi::Value NEq::Read(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_eq* q = eq(env);
  uint32_t event = 0;
  alignas(fi_eq_cm_entry) uint8_t buf[sizeof(fi_eq_cm_entry) + 256];
  ssize_t n = fi_eq_read(q, &event, buf, sizeof(buf), 0);
  if (n == -FI_EAGAIN) return env.Null();
  if (n == -FI_EAVAIL) {
    fi_eq_err_entry err{};
    fi_eq_readerr(q, &err, 0);
    char sbuf[256];
    const char* s = fi_eq_strerror(q, err.prov_errno, err.err_data, sbuf, sizeof(sbuf));
    Napi::Object o = Napi::Object::New(env);
    o.Set("event", "error");
    o.Set("id", Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(
                                           err.fid ? err.fid->context : nullptr))));
    o.Set("error", MakeFabricError(env, err.err ? err.err : FI_EOTHER, "connection failed",
                                   err.prov_errno, s ? s : ""));
    return o;
  }
  if (n < 0) ThrowFabric(env, static_cast<int>(n), "fi_eq_read");
  Napi::Object o = Napi::Object::New(env);
  const char* name = event == FI_CONNREQ     ? "connreq"
                     : event == FI_CONNECTED ? "connected"
                     : event == FI_SHUTDOWN  ? "shutdown"
                     : event == FI_MR_COMPLETE ? "mr-complete"
                     : event == FI_AV_COMPLETE ? "av-complete"
                     : event == FI_JOIN_COMPLETE ? "join-complete"
                                              : "notify";
  o.Set("event", name);
  auto* cm = reinterpret_cast<fi_eq_cm_entry*>(buf);
  o.Set("id", Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(
                                         cm->fid ? cm->fid->context : nullptr))));
  if (event == FI_CONNREQ && cm->info) {
    Napi::Object d = DescribeInfo(env, cm->info);
    d.Set("handle", NInfo::Wrap(env, cm->info));
    fi_freeinfo(cm->info);
    o.Set("info", d);
  }
  return o;
}

}  // namespace nlf
