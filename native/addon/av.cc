#include "av.h"

#include "domain.h"
#include "errors.h"

namespace nlf {

void NAv::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeAv",
                                 {InstanceMethod("close", &NAv::Close),
                                  InstanceMethod("insert", &NAv::Insert),
                                  InstanceMethod("insertMany", &NAv::InsertMany),
                                  InstanceMethod("insertSvc", &NAv::InsertSvc),
                                  InstanceMethod("lookup", &NAv::Lookup),
                                  InstanceMethod("remove", &NAv::Remove),
                                  InstanceMethod("straddr", &NAv::StrAddr)});
  GetData(env)->avCtor = Napi::Persistent(f);
  exports.Set("NativeAv", f);
}

NAv* NAv::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->avCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be an AddressVector");
  return Napi::ObjectWrap<NAv>::Unwrap(v.As<Napi::Object>());
}

// new NativeAv(domain, type: FI_AV_*, count)
NAv::NAv(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NAv>(cb), Closeable(GetData(cb.Env()), kRankAv) {
  Napi::Env env = cb.Env();
  NDomain* dom = NDomain::From(cb[0], "domain");
  fid_domain* d = dom->domain(env);
  fi_av_attr attr{};
  attr.type = cb[1].IsUndefined() ? FI_AV_UNSPEC : static_cast<fi_av_type>(ToSize(cb[1], "type"));
  attr.count = cb[2].IsUndefined() ? 0 : ToSize(cb[2], "count");
  int ret = fi_av_open(d, &attr, &av_, nullptr);
  if (ret) ThrowFabric(env, ret, "fi_av_open");
  addrLen_ = dom->info()->src_addrlen;
  domainRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  DependOn(dom);
}

NAv::~NAv() {
  if (av_) OrphanFid(&av_->fid);
  if (!data()) domainRef_.SuppressDestruct();
}

fid_av* NAv::av(Napi::Env env) {
  if (!av_) ThrowClosed(env, "AddressVector");
  return av_;
}

void NAv::CloseNative(bool teardown) {
  if (av_) fi_close(&av_->fid);
  av_ = nullptr;
  if (teardown) domainRef_.SuppressDestruct();
  else domainRef_.Reset();
}

Napi::Value NAv::Close(const Napi::CallbackInfo& cb) {
  if (av_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

static fi_addr_t InsertOne(Napi::Env env, fid_av* av, const Napi::Value& v, const char* what) {
  if (!IsBytes(v)) throw Napi::TypeError::New(env, std::string(what) + " must be a Buffer");
  JsBytes b = GetBytes(v, what);
  if (b.len == 0) ThrowFabric(env, FI_EINVAL, std::string(what) + " is empty");
  fi_addr_t a = FI_ADDR_NOTAVAIL;
  int ret = fi_av_insert(av, b.ptr, 1, &a, 0, nullptr);
  if (ret < 0) ThrowFabric(env, ret, "fi_av_insert");
  if (ret != 1 || a == FI_ADDR_NOTAVAIL)
    ThrowFabric(env, FI_EINVAL, std::string("fi_av_insert refused ") + what);
  return a;
}

Napi::Value NAv::Insert(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  return U64(env, InsertOne(env, av(env), cb[0], "address"));
}

Napi::Value NAv::InsertMany(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_av* a = av(env);
  if (!cb[0].IsArray()) throw Napi::TypeError::New(env, "addresses must be an array of Buffers");
  Napi::Array in = cb[0].As<Napi::Array>();
  Napi::Array out = Napi::Array::New(env, in.Length());
  for (uint32_t i = 0; i < in.Length(); i++) {
    std::string what = "addresses[" + std::to_string(i) + "]";
    out.Set(i, U64(env, InsertOne(env, a, in.Get(i), what.c_str())));
  }
  return out;
}

Napi::Value NAv::InsertSvc(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_av* a = av(env);
  std::string node = ToStr(cb[0], "node"), service = ToStr(cb[1], "service");
  fi_addr_t addr = FI_ADDR_NOTAVAIL;
  int ret = fi_av_insertsvc(a, node.c_str(), service.c_str(), &addr, 0, nullptr);
  if (ret < 0) ThrowFabric(env, ret, "fi_av_insertsvc");
  if (ret != 1) ThrowFabric(env, FI_EINVAL, "fi_av_insertsvc refused " + node + ":" + service);
  return U64(env, addr);
}

Napi::Value NAv::Lookup(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_av* a = av(env);
  fi_addr_t addr = ToU64(cb[0], "fiAddr");
  std::vector<uint8_t> buf(addrLen_ ? addrLen_ : 64);
  size_t len = buf.size();
  int ret = fi_av_lookup(a, addr, buf.data(), &len);
  if (ret == 0 && len > buf.size()) {
    buf.resize(len);
    ret = fi_av_lookup(a, addr, buf.data(), &len);
  }
  if (ret) ThrowFabric(env, ret, "fi_av_lookup");
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), std::min(len, buf.size()));
}

Napi::Value NAv::Remove(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_av* a = av(env);
  fi_addr_t addr = ToU64(cb[0], "fiAddr");
  int ret = fi_av_remove(a, &addr, 1, 0);
  if (ret) ThrowFabric(env, ret, "fi_av_remove");
  return env.Undefined();
}

Napi::Value NAv::StrAddr(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_av* a = av(env);
  if (!IsBytes(cb[0])) throw Napi::TypeError::New(env, "address must be a Buffer");
  JsBytes b = GetBytes(cb[0], "address");
  char buf[256];
  size_t len = sizeof(buf);
  const char* s = fi_av_straddr(a, b.ptr, buf, &len);
  if (!s) ThrowFabric(env, FI_EINVAL, "fi_av_straddr");
  return Napi::String::New(env, s);
}

}  // namespace nlf
