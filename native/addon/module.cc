// Module init: environment for libfabric (before its first call), version check,
// exports, and the environment cleanup hook that closes whatever JS left open.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "av.h"
#include "cntr.h"
#include "common.h"
#include "cq.h"
#include "domain.h"
#include "endpoint.h"
#include "eq.h"
#include "errors.h"
#include "fabric.h"
#include "info.h"
#include "mr.h"

namespace nlf {

Closeable::Closeable(AddonData* data, int rank) : data_(data), rank_(rank) {
  data_->live.insert(this);
}

Closeable::~Closeable() {
  Unlink();
  if (data_) data_->live.erase(this);
}

void Closeable::Unlink() {
  for (Closeable* p : parents_) p->dependents_.erase(this);
  for (Closeable* d : dependents_) d->parents_.erase(this);
  parents_.clear();
  dependents_.clear();
}

void Closeable::Detach() {
  parents_.clear();
  dependents_.clear();
  data_ = nullptr;
}

void Closeable::DependOn(Closeable* parent) {
  if (!parent || parent == this) return;
  parents_.insert(parent);
  parent->dependents_.insert(this);
}

void Closeable::CloseTree(Napi::Env env) {
  std::vector<Closeable*> deps(dependents_.begin(), dependents_.end());
  std::stable_sort(deps.begin(), deps.end(),
                   [](Closeable* a, Closeable* b) { return a->rank() < b->rank(); });
  for (Closeable* d : deps)
    if (dependents_.count(d)) d->CloseTree(env);
  CloseNative(false);
  Unlink();
}

void Closeable::OrphanFid(fid_t fid) {
  if (fid && data_) data_->orphans.emplace_back(rank_, fid);
}

AddonData* GetData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

uint64_t ToU64(const Napi::Value& v, const char* what) {
  if (v.IsBigInt()) {
    bool lossless = true;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(v.Env(), std::string(what) + " must fit in 64 bits");
    return r;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<double>(static_cast<uint64_t>(d)))
      throw Napi::RangeError::New(v.Env(), std::string(what) + " must be a non-negative integer");
    return static_cast<uint64_t>(d);
  }
  throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a bigint or number");
}

size_t ToSize(const Napi::Value& v, const char* what) { return static_cast<size_t>(ToU64(v, what)); }

std::string ToStr(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Value U64(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

JsBytes GetBytes(const Napi::Value& v, const char* what) {
  // The info calls give the data pointer directly, which also covers views over a
  // SharedArrayBuffer (whose buffer is not an ArrayBuffer to napi).
  napi_env env = v.Env();
  JsBytes b;
  void* data = nullptr;
  size_t len = 0;
  napi_status st = napi_invalid_arg;
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t count = 0;
    st = napi_get_typedarray_info(env, v, &type, &count, &data, nullptr, nullptr);
    len = v.As<Napi::TypedArray>().ByteLength();
  } else if (v.IsDataView()) {
    st = napi_get_dataview_info(env, v, &len, &data, nullptr, nullptr);
  } else if (v.IsArrayBuffer()) {
    st = napi_get_arraybuffer_info(env, v, &data, &len);
  } else {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an ArrayBufferView or ArrayBuffer");
  }
  if (st != napi_ok) throw Napi::TypeError::New(v.Env(), std::string(what) + ": memory is not accessible");
  b.ptr = static_cast<uint8_t*>(data);
  b.len = len;
  return b;
}

bool IsBytes(const Napi::Value& v) { return v.IsTypedArray() || v.IsDataView() || v.IsArrayBuffer(); }

namespace {

void Cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  std::vector<Closeable*> objs(data->live.begin(), data->live.end());
  std::stable_sort(objs.begin(), objs.end(),
                   [](Closeable* a, Closeable* b) { return a->rank() < b->rank(); });
  for (Closeable* c : objs) c->CloseNative(true);
  for (Closeable* c : objs) c->Detach();
  data->live.clear();
  std::stable_sort(data->orphans.begin(), data->orphans.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& o : data->orphans) fi_close(o.second);
  data->orphans.clear();
}

void AppendEnvPath(const char* name, const std::string& dir) {
  const char* cur = getenv(name);
  std::string value = cur ? cur : "";
  // Already present (a second environment, or the user put it there): keep as is.
  size_t pos = 0;
  while (!dir.empty() && (pos = value.find(dir, pos)) != std::string::npos) {
    size_t end = pos + dir.size();
    bool startOk = pos == 0 || value[pos - 1] == ':';
    bool endOk = end == value.size() || value[end] == ':';
    if (startOk && endOk) return;
    pos = end;
  }
  if (!value.empty()) value += ":";
  value += dir;
  setenv(name, value.c_str(), 1);
}

// init(providerDir) must run before any other call: libfabric reads FI_PROVIDER_PATH
// and the interface variables once, at its first call.
Napi::Value InitLibfabric(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  AddonData* data = GetData(env);
  if (!data->initialized) {
    if (cb[0].IsString()) AppendEnvPath("FI_PROVIDER_PATH", ToStr(cb[0], "providerDir"));
    // Loopback unless the user chose otherwise: the machine may have other interfaces.
    setenv("FI_TCP_IFACE", "lo", 0);
    setenv("FI_SOCKETS_IFACE", "lo", 0);
    setenv("FI_NET_IFACE", "lo", 0);
    uint32_t v = fi_version();
    if (v < kFiApiVersion)
      ThrowFabric(env, FI_ENOSYS,
                  "libfabric " + std::to_string(FI_MAJOR(v)) + "." + std::to_string(FI_MINOR(v)) +
                      " is too old (>= 1.17 required)");
    data->initialized = true;
  }
  uint32_t v = fi_version();
  return Napi::String::New(env, std::to_string(FI_MAJOR(v)) + "." + std::to_string(FI_MINOR(v)));
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& cb) {
  if (!cb[0].IsFunction()) throw Napi::TypeError::New(cb.Env(), "error class must be a function");
  GetData(cb.Env())->errorCtor = Napi::Persistent(cb[0].As<Napi::Function>());
  return cb.Env().Undefined();
}

Napi::Value SetCompletionMaker(const Napi::CallbackInfo& cb) {
  if (!cb[0].IsFunction()) throw Napi::TypeError::New(cb.Env(), "completion maker must be a function");
  GetData(cb.Env())->completionMaker = Napi::Persistent(cb[0].As<Napi::Function>());
  return cb.Env().Undefined();
}

Napi::Value StrError(const Napi::CallbackInfo& cb) {
  int e = static_cast<int>(ToU64(cb[0], "errno"));
  return Napi::String::New(cb.Env(), fi_strerror(e));
}

Napi::Value CodeName(const Napi::CallbackInfo& cb) {
  return Napi::String::New(cb.Env(), ErrorCodeName(static_cast<int>(ToU64(cb[0], "errno"))));
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  napi_add_env_cleanup_hook(env, Cleanup, data);
  exports.Set("init", Napi::Function::New(env, InitLibfabric, "init"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("setCompletionMaker", Napi::Function::New(env, SetCompletionMaker, "setCompletionMaker"));
  exports.Set("strerror", Napi::Function::New(env, StrError, "strerror"));
  exports.Set("codeName", Napi::Function::New(env, CodeName, "codeName"));
  exports.Set("getInfo", Napi::Function::New(env, GetInfo, "getInfo"));
  exports.Set("errnoTable", ErrnoTable(env));
  exports.Set("constants", Constants(env));
  NInfo::Init(env, exports);
  NFabric::Init(env, exports);
  NDomain::Init(env, exports);
  NAv::Init(env, exports);
  NCq::Init(env, exports);
  NCntr::Init(env, exports);
  NEq::Init(env, exports);
  NMr::Init(env, exports);
  NEndpoint::Init(env, exports);
  return exports;
}

}  // namespace

}  // namespace nlf

static Napi::Object InitNodeLibfabric(Napi::Env env, Napi::Object exports) {
  return nlf::InitModule(env, exports);
}

NODE_API_MODULE(node_libfabric, InitNodeLibfabric)
