#include "mr.h"

#include "domain.h"
#include "endpoint.h"
#include "errors.h"

namespace nlf {

void NMr::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeMr",
                                 {InstanceMethod("close", &NMr::Close),
                                  InstanceMethod("key", &NMr::Key),
                                  InstanceMethod("addr", &NMr::Addr),
                                  InstanceMethod("bind", &NMr::Bind)});
  GetData(env)->mrCtor = Napi::Persistent(f);
  exports.Set("NativeMr", f);
}

// Marks the objects this class wrapped: checking the tag is much cheaper than instanceof
// on every op, and prototype games cannot fake it.
static const napi_type_tag kMrTag = {0x6e6c664d52a1c3d5ULL, 0x9b0f7e2d4c6a8e11ULL};

bool NMr::Is(const Napi::Value& v) {
  if (!v.IsObject()) return false;
  bool tagged = false;
  return napi_check_object_type_tag(v.Env(), v, &kMrTag, &tagged) == napi_ok && tagged;
}

NMr* NMr::Find(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_unwrap(env, v, &p) != napi_ok || !p) return nullptr;
  AddonData* d = GetData(Napi::Env(env));
  return d && d->mrs.count(p) ? static_cast<NMr*>(p) : nullptr;
}

NMr* NMr::ByHandle(napi_env env, napi_value v) {
  uint32_t h = 0;
  if (napi_get_value_uint32(env, v, &h) != napi_ok) return nullptr;
  AddonData* d = GetData(Napi::Env(env));
  if (!d) return nullptr;
  auto it = d->mrHandles.find(h);
  return it == d->mrHandles.end() ? nullptr : it->second;
}

NMr* NMr::From(const Napi::Value& v, const char* what) {
  if (!Is(v)) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a MemoryRegion");
  return Napi::ObjectWrap<NMr>::Unwrap(v.As<Napi::Object>());
}

static uint64_t RequestedKey(NDomain* d) {
  return (d->mrMode() & FI_MR_PROV_KEY) ? 0 : d->NextKey();
}

int RegisterTemp(NDomain* d, void* ptr, size_t len, uint64_t access, fid_mr** out) {
  fid_domain* dom = d->rawDomain();
  if (!dom) return -FI_EINVAL;
  // A zero-length op needs no registration (and some providers refuse one).
  if (len == 0) {
    *out = nullptr;
    return 0;
  }
  return fi_mr_reg(dom, ptr, len, access, 0, RequestedKey(d), 0, out, nullptr);
}

// new NativeMr(domain, memory, access: bigint)
NMr::NMr(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NMr>(cb), Closeable(GetData(cb.Env()), kRankMr) {
  Napi::Env env = cb.Env();
  napi_type_tag_object(env, cb.This(), &kMrTag);
  domain_ = NDomain::From(cb[0], "domain");
  fid_domain* d = domain_->domain(env);
  JsBytes b = GetBytes(cb[1], "buffer");
  access_ = ToU64(cb[2], "access");
  ptr_ = b.ptr;
  len_ = b.len;
  if (len_ == 0) ThrowFabric(env, FI_EINVAL, "cannot register an empty buffer");
  int ret = fi_mr_reg(d, ptr_, len_, access_, 0, RequestedKey(domain_), 0, &mr_, nullptr);
  if (ret) ThrowFabric(env, ret, "fi_mr_reg");
  memRef_ = Napi::Persistent(cb[1]);
  domainRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  DependOn(domain_);
  data()->mrs.insert(static_cast<const void*>(this));
  handle_ = data()->nextMrHandle++;
  if (handle_ == 0) handle_ = data()->nextMrHandle++;  // 0 is never a handle
  data()->mrHandles[handle_] = this;
  cb.This().As<Napi::Object>().DefineProperty(
      Napi::PropertyDescriptor::Value("handle", Napi::Number::New(env, handle_), napi_default));
}

NMr::~NMr() {
  if (data()) {
    data()->mrs.erase(static_cast<const void*>(this));
    data()->mrHandles.erase(handle_);
  }
  if (mr_) OrphanFid(&mr_->fid);
  if (!data()) {
    domainRef_.SuppressDestruct();
    memRef_.SuppressDestruct();
  }
}

fid_mr* NMr::mr(Napi::Env env) {
  if (!mr_) ThrowClosed(env, "MemoryRegion");
  return mr_;
}

void NMr::CloseNative(bool teardown) {
  if (mr_) fi_close(&mr_->fid);
  mr_ = nullptr;
  if (teardown) {
    domainRef_.SuppressDestruct();
    memRef_.SuppressDestruct();
  } else {
    memRef_.Reset();
    domainRef_.Reset();
  }
}

Napi::Value NMr::Close(const Napi::CallbackInfo& cb) {
  if (!mr_) return cb.Env().Undefined();
  // Deregistering under a transfer would let the provider touch memory JS may free.
  if (inflight_)
    ThrowFabric(cb.Env(), FI_EBUSY,
                "MemoryRegion has " + std::to_string(inflight_) + " operation(s) in flight");
  CloseTree(cb.Env());
  return cb.Env().Undefined();
}

Napi::Value NMr::Key(const Napi::CallbackInfo& cb) {
  return U64(cb.Env(), fi_mr_key(mr(cb.Env())));
}

// addr(offset): the address a peer names for byte `offset` of this region.
Napi::Value NMr::Addr(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  mr(env);
  uint64_t off = cb[0].IsUndefined() ? 0 : ToU64(cb[0], "offset");
  if (off > len_) throw Napi::RangeError::New(env, "offset is past the end of the region");
  uint64_t base = (domain_->mrMode() & FI_MR_VIRT_ADDR) ? reinterpret_cast<uint64_t>(ptr_) : 0;
  return U64(env, base + off);
}

// bind(endpoint): FI_MR_ENDPOINT providers scope a region to one endpoint.
Napi::Value NMr::Bind(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_mr* m = mr(env);
  if (!(domain_->mrMode() & FI_MR_ENDPOINT)) return env.Undefined();
  NEndpoint* ep = NEndpoint::From(cb[0], "endpoint");
  fid_ep* e = ep->raw();
  if (!e) ThrowClosed(env, "Endpoint");
  int ret = fi_mr_bind(m, &e->fid, 0);
  if (ret) ThrowFabric(env, ret, "fi_mr_bind");
  ret = fi_mr_enable(m);
  if (ret) ThrowFabric(env, ret, "fi_mr_enable");
  return env.Undefined();
}

}  // namespace nlf
