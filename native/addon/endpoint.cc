#include "endpoint.h"

#include <cstring>

#include "av.h"
#include "cntr.h"
#include "domain.h"
#include "eq.h"
#include "errors.h"
#include "fabric.h"
#include "fi_softuet.h"
#include "info.h"
#include "mr.h"

namespace nlf {

namespace {
constexpr int kEagainRetries = 16;

const char* OpName(OpKind k) {
  switch (k) {
    case kOpSend: return "fi_send";
    case kOpSendData: return "fi_senddata";
    case kOpRecv: return "fi_recv";
    case kOpTSend: return "fi_tsend";
    case kOpTSendData: return "fi_tsenddata";
    case kOpTRecv: return "fi_trecv";
    case kOpWrite: return "fi_write";
    case kOpWriteData: return "fi_writedata";
    case kOpRead: return "fi_read";
    case kOpAtomic: return "fi_atomic";
    case kOpFetchAtomic: return "fi_fetch_atomic";
    case kOpCompareAtomic: return "fi_compare_atomic";
  }
  return "op";
}

uint64_t AccessFor(OpKind k) {
  switch (k) {
    case kOpRecv:
    case kOpTRecv: return FI_RECV;
    case kOpRead: return FI_READ;
    case kOpWrite:
    case kOpWriteData: return FI_WRITE;
    case kOpAtomic:
    case kOpFetchAtomic:
    case kOpCompareAtomic: return FI_WRITE | FI_READ;
    default: return FI_SEND;
  }
}

// Capability an op needs, and its name in the TypeScript API.
std::pair<uint64_t, const char*> CapFor(OpKind k) {
  switch (k) {
    case kOpTSend:
    case kOpTSendData:
    case kOpTRecv: return {FI_TAGGED, "tagged"};
    case kOpWrite:
    case kOpWriteData:
    case kOpRead: return {FI_RMA, "rma"};
    case kOpAtomic:
    case kOpFetchAtomic:
    case kOpCompareAtomic: return {FI_ATOMIC, "atomic"};
    default: return {FI_MSG, "msg"};
  }
}

// An optional integer argument with one napi_typeof: false when undefined (or null where
// that means "none"). Anything unusual goes through ToU64 for its error.
bool OptU64(napi_env env, napi_value v, uint64_t* out, const char* what, bool nullOk = false) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) t = napi_undefined;
  if (t == napi_undefined || (nullOk && t == napi_null)) return false;
  if (t == napi_bigint) {
    bool lossless = false;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless) return true;
  } else if (t == napi_number) {
    double d = -1;
    napi_get_value_double(env, v, &d);
    if (d >= 0 && d < 18446744073709551616.0 && d == static_cast<double>(static_cast<uint64_t>(d))) {
      *out = static_cast<uint64_t>(d);
      return true;
    }
  }
  *out = ToU64(Napi::Value(env, v), what);
  return true;
}

OpKind KindOf(const Napi::Value& v) {
  uint64_t k = ToU64(v, "op");
  if (k > kOpCompareAtomic) throw Napi::RangeError::New(v.Env(), "unknown op");
  return static_cast<OpKind>(k);
}
}  // namespace

// Providers leave the ops table of a capability they were not asked for empty: calling
// through it would crash, so the op is refused first.
static void CheckCap(Napi::Env env, const fi_info* info, fid_ep* ep, OpKind k) {
  auto [cap, name] = CapFor(k);
  bool table = cap == FI_TAGGED ? ep->tagged != nullptr
               : cap == FI_RMA  ? ep->rma != nullptr
               : cap == FI_ATOMIC ? ep->atomic != nullptr
                                  : ep->msg != nullptr;
  if (!(info->caps & cap) || !table)
    ThrowFabric(env, FI_EOPNOTSUPP, std::string(OpName(k)) + " needs the '" + name +
                                        "' capability, which this endpoint was not opened with");
}

static Napi::ClassPropertyDescriptor<NEndpoint> RawMethod(const char* name, napi_callback f) {
  return napi_property_descriptor{name, nullptr, f, nullptr, nullptr, nullptr, napi_default_method, nullptr};
}

void NEndpoint::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeEndpoint",
                                 {RawMethod("post", &NEndpoint::TenArgs<&NEndpoint::Post>),
                                  RawMethod("inject", &NEndpoint::TenArgs<&NEndpoint::Inject>),
                                  InstanceMethod("atomic", &NEndpoint::Atomic),
                                  InstanceMethod("atomicValid", &NEndpoint::AtomicValid),
                                  InstanceMethod("batch", &NEndpoint::BatchOps),
                                  InstanceMethod("close", &NEndpoint::Close),
                                  InstanceMethod("address", &NEndpoint::GetAddress),
                                  InstanceMethod("stats", &NEndpoint::Stats),
                                  InstanceMethod("getopt", &NEndpoint::GetOpt),
                                  InstanceMethod("connect", &NEndpoint::Connect),
                                  InstanceMethod("accept", &NEndpoint::Accept),
                                  InstanceMethod("shutdown", &NEndpoint::Shutdown)});
  GetData(env)->epCtor = Napi::Persistent(f);
  exports.Set("NativeEndpoint", f);
  NPep::Init(env, exports);
}

NEndpoint* NEndpoint::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->epCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be an Endpoint");
  return Napi::ObjectWrap<NEndpoint>::Unwrap(v.As<Napi::Object>());
}

// new NativeEndpoint(domain, info|null, cq, av|null, [[cntr, flags]...], eq|null, id, options?)
NEndpoint::NEndpoint(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NEndpoint>(cb), Closeable(GetData(cb.Env()), kRankEndpoint), env_(cb.Env()) {
  Napi::Env env = cb.Env();
  domain_ = NDomain::From(cb[0], "domain");
  fid_domain* d = domain_->domain(env);
  const fi_info* info = domain_->info();
  if (!cb[1].IsNull() && !cb[1].IsUndefined()) info = NInfo::From(cb[1], "info")->info();
  cq_ = NCq::From(cb[2], "cq");
  fid_cq* cq = cq_->cq(env);
  NAv* av = (cb[3].IsNull() || cb[3].IsUndefined()) ? nullptr : NAv::From(cb[3], "av");
  NEq* eq = (cb[5].IsNull() || cb[5].IsUndefined()) ? nullptr : NEq::From(cb[5], "eq");
  uintptr_t id = cb[6].IsUndefined() ? 0 : static_cast<uintptr_t>(ToU64(cb[6], "id"));
  fi_ep_type type = info->ep_attr ? info->ep_attr->type : FI_EP_RDM;
  if (type != FI_EP_MSG && !av) ThrowFabric(env, FI_EINVAL, "an RDM or DGRAM endpoint needs an AddressVector");
  if (type == FI_EP_MSG && !eq) ThrowFabric(env, FI_EINVAL, "a MSG endpoint needs an EventQueue");
  info_ = fi_dupinfo(info);
  if (!info_) ThrowFabric(env, FI_ENOMEM, "fi_dupinfo");
  mrMode_ = domain_->mrMode();
  int ret = fi_endpoint(d, info_, &ep_, reinterpret_cast<void*>(id));
  if (ret) {
    fi_freeinfo(info_);
    info_ = nullptr;
    ThrowFabric(env, ret, "fi_endpoint");
  }
  auto fail = [&](int r, const char* what) {
    fi_close(&ep_->fid);
    ep_ = nullptr;
    ThrowFabric(env, r, what);
  };
  if (av && (ret = fi_ep_bind(ep_, &av->av(env)->fid, 0))) fail(ret, "fi_ep_bind(av)");
  if ((ret = fi_ep_bind(ep_, &cq->fid, FI_TRANSMIT | FI_RECV))) fail(ret, "fi_ep_bind(cq)");
  if (cb[4].IsArray()) {
    Napi::Array cs = cb[4].As<Napi::Array>();
    for (uint32_t i = 0; i < cs.Length(); i++) {
      Napi::Array pair = cs.Get(i).As<Napi::Array>();
      NCntr* c = NCntr::From(pair.Get(0u), "counter");
      uint64_t flags = ToU64(pair.Get(1u), "counter events");
      if ((ret = fi_ep_bind(ep_, &c->cntr(env)->fid, flags))) fail(ret, "fi_ep_bind(counter)");
      cntrRefs_.push_back(Napi::Persistent(pair.Get(0u).As<Napi::Object>()));
      DependOn(c);
    }
  }
  if (eq && (ret = fi_ep_bind(ep_, &eq->eq(env)->fid, 0))) fail(ret, "fi_ep_bind(eq)");
  // Options that must precede fi_enable: [[name, 'size' | 'int', value, label]...]
  if (cb[7].IsArray()) {
    Napi::Array os = cb[7].As<Napi::Array>();
    for (uint32_t i = 0; i < os.Length(); i++) {
      Napi::Array o = os.Get(i).As<Napi::Array>();
      int name = o.Get(0u).As<Napi::Number>().Int32Value();
      bool isInt = o.Get(1u).As<Napi::String>().Utf8Value() == "int";
      std::string label = o.Get(3u).As<Napi::String>().Utf8Value();
      uint64_t v = ToU64(o.Get(2u), label.c_str());
      size_t sz = static_cast<size_t>(v);
      int iv = static_cast<int>(v);
      ret = isInt ? fi_setopt(&ep_->fid, FI_OPT_ENDPOINT, name, &iv, sizeof iv)
                  : fi_setopt(&ep_->fid, FI_OPT_ENDPOINT, name, &sz, sizeof sz);
      if (ret) fail(ret, ("fi_setopt(" + label + ")").c_str());
    }
  }
  if ((ret = fi_enable(ep_))) fail(ret, "fi_enable");
  domainRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  cqRef_ = Napi::Persistent(cb[2].As<Napi::Object>());
  if (av) avRef_ = Napi::Persistent(cb[3].As<Napi::Object>());
  if (eq) eqRef_ = Napi::Persistent(cb[5].As<Napi::Object>());
  DependOn(domain_);
  DependOn(cq_);
  DependOn(av);
  DependOn(eq);
  // post and inject also as own functions that carry the endpoint: the per-op call then
  // skips unwrapping `this` (a private property lookup).
  cell_ = new Cell{this, 1};
  napi_property_descriptor own[2] = {
      {"post", nullptr, nullptr, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inject", nullptr, nullptr, nullptr, nullptr, nullptr, napi_default, nullptr}};
  napi_callback fns[2] = {&TenArgs<&NEndpoint::Post>, &TenArgs<&NEndpoint::Inject>};
  for (int i = 0; i < 2; i++) {
    napi_value fn;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, own[i].utf8name, NAPI_AUTO_LENGTH, fns[i],
                                                         cell_, &fn));
    cell_->owners++;
    napi_add_finalizer(env, fn, cell_, [](napi_env, void* d, void*) { DropCell(static_cast<Cell*>(d)); },
                       nullptr, nullptr);
    own[i].value = fn;
  }
  NAPI_THROW_IF_FAILED_VOID(env, napi_define_properties(env, cb.This(), 2, own));
}

NEndpoint::~NEndpoint() {
  if (cell_) {
    cell_->ep = nullptr;
    DropCell(cell_);
  }
  if (ep_) OrphanFid(&ep_->fid);
  if (info_) fi_freeinfo(info_);
  if (!data()) {
    domainRef_.SuppressDestruct();
    cqRef_.SuppressDestruct();
    avRef_.SuppressDestruct();
    eqRef_.SuppressDestruct();
    for (auto& r : cntrRefs_) r.SuppressDestruct();
  }
}

fid_ep* NEndpoint::ep(Napi::Env env) {
  if (!ep_) ThrowClosed(env, "Endpoint");
  return ep_;
}

void NEndpoint::CloseNative(bool teardown) {
  if (!ep_) return;
  cq_->EndpointClosing();
  fi_close(&ep_->fid);
  ep_ = nullptr;
  if (teardown) {
    domainRef_.SuppressDestruct();
    cqRef_.SuppressDestruct();
    avRef_.SuppressDestruct();
    eqRef_.SuppressDestruct();
    for (auto& r : cntrRefs_) r.SuppressDestruct();
    return;
  }
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  // What already completed settles normally; the rest is canceled.
  if (inflight_) cq_->Drain(env, SIZE_MAX);
  backlog_.clear();
  if (inflight_) cq_->CancelEndpoint(env, this);
  cq_->RemoveEndpoint(this);
  cq_->Update();
  domainRef_.Reset();
  cqRef_.Reset();
  avRef_.Reset();
  eqRef_.Reset();
  cntrRefs_.clear();
}

Napi::Value NEndpoint::Close(const Napi::CallbackInfo& cb) {
  if (ep_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

// getopt(name, 'size' | 'int'): an FI_OPT_ENDPOINT option's value.
Napi::Value NEndpoint::GetOpt(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_ep* e = ep(env);
  int name = cb[0].As<Napi::Number>().Int32Value();
  if (cb[1].As<Napi::String>().Utf8Value() == "int") {
    int v = 0;
    size_t len = sizeof v;
    int ret = fi_getopt(&e->fid, FI_OPT_ENDPOINT, name, &v, &len);
    if (ret) ThrowFabric(env, ret, "fi_getopt");
    return Napi::Number::New(env, v);
  }
  size_t v = 0, len = sizeof v;
  int ret = fi_getopt(&e->fid, FI_OPT_ENDPOINT, name, &v, &len);
  if (ret) ThrowFabric(env, ret, "fi_getopt");
  return Napi::Number::New(env, static_cast<double>(v));
}

Napi::Value NEndpoint::GetAddress(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_ep* e = ep(env);
  std::vector<uint8_t> buf(256);
  size_t len = buf.size();
  int ret = fi_getname(&e->fid, buf.data(), &len);
  if (ret == -FI_ETOOSMALL) {
    buf.resize(len);
    ret = fi_getname(&e->fid, buf.data(), &len);
  }
  if (ret) ThrowFabric(env, ret, "fi_getname");
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), len);
}

void NEndpoint::Local(Napi::Env env, OpRecord* op, const Napi::Value& local, const Napi::Value& off,
                      const Napi::Value& len, uint64_t access, void** buf, size_t* outLen,
                      void** desc, const char* what) {
  uint8_t* base;
  size_t size;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, local, &t);
  NMr* mr = t == napi_object ? NMr::Find(env, local) : t == napi_number ? NMr::ByHandle(env, local) : nullptr;
  if (t == napi_number && !mr)
    throw Napi::TypeError::New(env, std::string(what) + " names no MemoryRegion that is still open");
  if (mr) {
    mr->mr(env);
    if (mr->domain() != domain_)
      ThrowFabric(env, FI_EINVAL, std::string(what) + ": MemoryRegion belongs to another domain");
    base = mr->ptr();
    size = mr->length();
  } else if (IsBytes(local)) {
    JsBytes b = GetBytes(local, what);
    base = b.ptr;
    size = b.len;
  } else {
    throw Napi::TypeError::New(env, std::string(what) +
                                        " must be an ArrayBufferView or { mr, offset?, length? }");
  }
  uint64_t o = 0, l = 0;
  OptU64(env, off, &o, "offset");
  if (o > size) throw Napi::RangeError::New(env, std::string(what) + ": offset " + std::to_string(o) +
                                                     " is past the end (" + std::to_string(size) + " bytes)");
  if (!OptU64(env, len, &l, "length")) l = size - o;
  if (l > size - o)
    throw Napi::RangeError::New(env, std::string(what) + ": offset + length (" + std::to_string(o + l) +
                                         ") exceeds its " + std::to_string(size) + " bytes");
  *buf = base + o;
  *outLen = l;
  *desc = nullptr;
  if (!mr) {
    napi_ref ref;
    napi_create_reference(env, local, 1, &ref);
    op->refs.push_back(ref);
  }
  if (mr) {
    *desc = mr->desc();
    mr->Use();
    op->mrs.push_back(mr);
  } else if ((mrMode_ & FI_MR_LOCAL) && l > 0) {
    fid_mr* tmp = nullptr;
    int ret = RegisterTemp(domain_, base + o, l, access, &tmp);
    if (ret) ThrowFabric(env, ret, std::string(what) + ": fi_mr_reg");
    if (tmp) {
      op->tempMrs.push_back(tmp);
      *desc = fi_mr_desc(tmp);
    }
  }
}

// a: kind, local, offset, length, addr, tag, ignore, raddr, rkey, data
OpRecord* NEndpoint::Build(Napi::Env env, const Napi::Value* a) {
  OpRecord* op = cq_->NewRecord();
  try {
    op->kind = KindOf(a[0]);
    CheckCap(env, info_, ep_, op->kind);
    Local(env, op, a[1], a[2], a[3], AccessFor(op->kind), &op->buf, &op->len, &op->desc, "buffer");
    if (!OptU64(env, a[4], &op->addr, "address", true)) op->addr = FI_ADDR_UNSPEC;
    OptU64(env, a[5], &op->tag, "tag");
    OptU64(env, a[6], &op->ignore, "ignore");
    OptU64(env, a[7], &op->raddr, "remote address");
    OptU64(env, a[8], &op->rkey, "remote key");
    OptU64(env, a[9], &op->data, "data");
  } catch (...) {
    Discard(env, op);
    throw;
  }
  return op;
}

void NEndpoint::Discard(Napi::Env env, OpRecord* op) {
  for (napi_ref r : op->refs) napi_delete_reference(env, r);
  for (fid_mr* m : op->tempMrs) fi_close(&m->fid);
  for (NMr* m : op->mrs) m->Unuse();
  cq_->FreeRecord(op);
}

void NEndpoint::Submit(Napi::Env env, OpRecord* op, bool more) {
  if (inflight_++ == 0) Ref();  // the endpoint outlives its ops (see OpDone)
  op->ep = this;
  cq_->Track(op);
  if (!backlog_.empty()) {
    backlog_.push_back(op);
    cq_->AddBacklog(this);
    return;
  }
  ssize_t r = op->Post(ep_, more ? FI_MORE : 0);
  // FI_EAGAIN means the provider's queues are full: completions free them.
  for (int i = 0; r == -FI_EAGAIN && i < kEagainRetries; i++) {
    cq_->Drain(env, 256);
    r = op->Post(ep_);
  }
  if (r == -FI_EAGAIN) {
    backlog_.push_back(op);
    cq_->AddBacklog(this);
    return;
  }
  if (r) {
    cq_->Cancel(env, op, static_cast<int>(-r), OpName(op->kind));
    return;
  }
  op->posted = true;
  cq_->Update();
}

bool NEndpoint::RetryBacklog(Napi::Env env) {
  while (!backlog_.empty() && ep_) {
    OpRecord* op = backlog_.front();
    ssize_t r = op->Post(ep_);
    if (r == -FI_EAGAIN) return false;
    backlog_.pop_front();
    if (r) cq_->Cancel(env, op, static_cast<int>(-r), OpName(op->kind));
    else op->posted = true;
  }
  return true;
}

// The per-op entry points (post, inject) are plain napi callbacks: their ten arguments
// stay on the stack (Napi::CallbackInfo allocates beyond six).
template <Napi::Value (NEndpoint::*M)(Napi::Env, const Napi::Value*)>
napi_value NEndpoint::TenArgs(napi_env env, napi_callback_info info) {
  napi_value argv[10], self;
  size_t argc = 10;
  void* cell = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, &self, &cell) != napi_ok) return nullptr;
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (size_t i = argc; i < 10; i++) argv[i] = undef;
  try {
    NEndpoint* ep = nullptr;
    if (cell) {
      ep = static_cast<Cell*>(cell)->ep;
      if (!ep) ThrowClosed(Napi::Env(env), "Endpoint");
    } else if (napi_unwrap(env, self, reinterpret_cast<void**>(&ep)) != napi_ok || !ep) {
      throw Napi::TypeError::New(env, "not called on an Endpoint");
    }
    Napi::Value a[10];
    for (int i = 0; i < 10; i++) a[i] = Napi::Value(env, argv[i]);
    return (ep->*M)(Napi::Env(env), a);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// post(kind, local, offset, length, addr, tag, ignore, raddr, rkey, data) -> Promise
Napi::Value NEndpoint::Post(Napi::Env env, const Napi::Value* a) {
  ep(env);
  OpRecord* op = Build(env, a);
  napi_value promise;
  napi_create_promise(env, &op->deferred, &promise);
  Submit(env, op);
  return Napi::Value(env, promise);
}

// batch([[kind, local, offset, length, addr, tag, ignore, raddr, rkey, data], ...]) -> Promise
// All ops are checked before the first is posted; the Promise settles when all complete.
Napi::Value NEndpoint::BatchOps(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  ep(env);
  if (!cb[0].IsArray()) throw Napi::TypeError::New(env, "ops must be an array");
  Napi::Array arr = cb[0].As<Napi::Array>();
  std::vector<OpRecord*> ops;
  ops.reserve(arr.Length());
  try {
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value e = arr.Get(i);
      if (!e.IsArray()) throw Napi::TypeError::New(env, "ops[" + std::to_string(i) + "] must be an array");
      Napi::Array ea = e.As<Napi::Array>();
      Napi::Value a[10];
      for (uint32_t j = 0; j < 10; j++) a[j] = ea.Get(j);
      ops.push_back(Build(env, a));
    }
  } catch (...) {
    for (OpRecord* op : ops) Discard(env, op);
    throw;
  }
  napi_value promise;
  napi_deferred deferred;
  napi_create_promise(env, &deferred, &promise);
  if (ops.empty()) {
    napi_resolve_deferred(env, deferred, env.Undefined());
    return Napi::Value(env, promise);
  }
  auto* b = new Batch();
  b->deferred = deferred;
  b->remaining = ops.size();
  for (OpRecord* op : ops) op->batch = b;
  // FI_MORE on all but the last: a provider that honours it (softuet) sends the batch
  // in one go instead of one send per op.
  for (size_t i = 0; i < ops.size(); i++) Submit(env, ops[i], i + 1 < ops.size());
  return Napi::Value(env, promise);
}

// inject(kind, local, offset, length, addr, tag, ignore, raddr, rkey, data): no completion;
// the buffer may be reused as soon as this returns.
Napi::Value NEndpoint::Inject(Napi::Env env, const Napi::Value* cb) {
  fid_ep* e = ep(env);
  OpKind kind = KindOf(cb[0]);
  CheckCap(env, info_, e, kind);
  uint8_t* base;
  size_t size;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, cb[1], &t);
  NMr* mr = t == napi_object ? NMr::Find(env, cb[1]) : t == napi_number ? NMr::ByHandle(env, cb[1]) : nullptr;
  if (t == napi_number && !mr) throw Napi::TypeError::New(env, "buffer names no MemoryRegion that is still open");
  if (mr) {
    mr->mr(env);
    base = mr->ptr();
    size = mr->length();
  } else if (IsBytes(cb[1])) {
    JsBytes b = GetBytes(cb[1], "buffer");
    base = b.ptr;
    size = b.len;
  } else {
    throw Napi::TypeError::New(env, "buffer must be an ArrayBufferView or { mr, offset?, length? }");
  }
  uint64_t o = 0, l = 0;
  OptU64(env, cb[2], &o, "offset");
  if (o > size) throw Napi::RangeError::New(env, "buffer: offset is past the end");
  if (!OptU64(env, cb[3], &l, "length")) l = size - o;
  if (l > size - o) throw Napi::RangeError::New(env, "buffer: offset + length exceeds the buffer");
  size_t limit = info_->tx_attr ? info_->tx_attr->inject_size : 0;
  if (l > limit)
    ThrowFabric(env, FI_EMSGSIZE, "inject of " + std::to_string(l) + " bytes exceeds injectSize " +
                                      std::to_string(limit));
  fi_addr_t addr = FI_ADDR_UNSPEC;
  uint64_t tag = 0, raddr = 0, rkey = 0, data = 0;
  OptU64(env, cb[4], &addr, "address", true);
  OptU64(env, cb[5], &tag, "tag");
  OptU64(env, cb[7], &raddr, "remote address");
  OptU64(env, cb[8], &rkey, "remote key");
  OptU64(env, cb[9], &data, "data");
  void* buf = base + o;
  auto once = [&]() -> ssize_t {
    switch (kind) {
      case kOpSend: return fi_inject(e, buf, l, addr);
      case kOpSendData: return fi_injectdata(e, buf, l, data, addr);
      case kOpTSend: return fi_tinject(e, buf, l, addr, tag);
      case kOpTSendData: return fi_tinjectdata(e, buf, l, data, addr, tag);
      case kOpWrite: return fi_inject_write(e, buf, l, addr, raddr, rkey);
      case kOpWriteData: return fi_inject_writedata(e, buf, l, data, addr, raddr, rkey);
      default: return -FI_EINVAL;
    }
  };
  if (kind != kOpSend && kind != kOpSendData && kind != kOpTSend && kind != kOpTSendData &&
      kind != kOpWrite && kind != kOpWriteData)
    throw Napi::TypeError::New(env, "inject supports send, senddata, tsend, tsenddata, write, writedata");
  ssize_t r = backlog_.empty() ? once() : -FI_EAGAIN;
  for (int i = 0; r == -FI_EAGAIN && backlog_.empty() && i < kEagainRetries; i++) {
    cq_->Drain(env, 256);
    r = once();
  }
  if (r == -FI_EAGAIN) {
    // The provider cannot take it now: post a copy as an ordinary op that nobody awaits,
    // keeping the caller's promise that the buffer is free on return.
    OpRecord* op = cq_->NewRecord();
    op->kind = kind;
    op->owned.reset(new uint8_t[l ? l : 1]);
    memcpy(op->owned.get(), buf, l);
    op->buf = op->owned.get();
    op->len = l;
    op->addr = addr;
    op->tag = tag;
    op->raddr = raddr;
    op->rkey = rkey;
    op->data = data;
    if ((mrMode_ & FI_MR_LOCAL) && l > 0) {
      fid_mr* tmp = nullptr;
      int ret = RegisterTemp(domain_, op->buf, l, FI_SEND | FI_WRITE, &tmp);
      if (ret) {
        cq_->FreeRecord(op);
        ThrowFabric(env, ret, "fi_mr_reg");
      }
      if (tmp) {
        op->tempMrs.push_back(tmp);
        op->desc = fi_mr_desc(tmp);
      }
    }
    Submit(env, op);
    return env.Undefined();
  }
  if (r) ThrowFabric(env, static_cast<int>(r), kind == kOpWrite ? "fi_inject_write" : "fi_inject");
  return env.Undefined();
}

// atomicValid(kind, datatype, op) -> max count (0: not supported)
Napi::Value NEndpoint::AtomicValid(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_ep* e = ep(env);
  OpKind kind = KindOf(cb[0]);
  if (!(info_->caps & FI_ATOMIC) || !e->atomic) return Napi::Number::New(env, 0);
  auto dt = static_cast<fi_datatype>(ToSize(cb[1], "datatype"));
  auto op = static_cast<fi_op>(ToSize(cb[2], "op"));
  size_t count = 0;
  int ret;
  if (kind == kOpFetchAtomic) ret = fi_fetch_atomicvalid(e, dt, op, &count);
  else if (kind == kOpCompareAtomic) ret = fi_compare_atomicvalid(e, dt, op, &count);
  else ret = fi_atomicvalid(e, dt, op, &count);
  if (ret) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, static_cast<double>(count));
}

// atomic(kind, local, offset, length, addr, raddr, rkey, datatype, op, count,
//        result|undefined, resultOffset, compare|undefined, compareOffset) -> Promise
Napi::Value NEndpoint::Atomic(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  ep(env);
  OpRecord* op = cq_->NewRecord();
  try {
    op->kind = KindOf(cb[0]);
    if (op->kind != kOpAtomic && op->kind != kOpFetchAtomic && op->kind != kOpCompareAtomic)
      throw Napi::RangeError::New(env, "not an atomic op");
    CheckCap(env, info_, ep_, op->kind);
    size_t bytes = 0;
    Local(env, op, cb[1], cb[2], cb[3], FI_WRITE | FI_READ, &op->buf, &bytes, &op->desc, "buffer");
    op->addr = cb[4].IsUndefined() || cb[4].IsNull() ? FI_ADDR_UNSPEC : ToU64(cb[4], "address");
    op->raddr = ToU64(cb[5], "remote address");
    op->rkey = ToU64(cb[6], "remote key");
    op->dt = static_cast<fi_datatype>(ToSize(cb[7], "datatype"));
    op->aop = static_cast<fi_op>(ToSize(cb[8], "op"));
    op->len = ToSize(cb[9], "count");
    if (op->kind != kOpAtomic) {
      size_t rl = 0;
      Local(env, op, cb[10], cb[11], Napi::Number::New(env, static_cast<double>(bytes)), FI_READ,
            &op->result, &rl, &op->resultDesc, "result");
    }
    if (op->kind == kOpCompareAtomic) {
      size_t cl = 0;
      Local(env, op, cb[12], cb[13], Napi::Number::New(env, static_cast<double>(bytes)), FI_WRITE,
            &op->compare, &cl, &op->compareDesc, "compare");
    }
  } catch (...) {
    Discard(env, op);
    throw;
  }
  napi_value promise;
  napi_create_promise(env, &op->deferred, &promise);
  Submit(env, op);
  return Napi::Value(env, promise);
}

// stats(): the softuet provider's per-endpoint counters (fi_open_ops extension).
Napi::Value NEndpoint::Stats(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_ep* e = ep(env);
  fi_softuet_ops* ops = nullptr;
  int ret = fi_open_ops(&domain_->domain(env)->fid, FI_SOFTUET_OPS_NAME, 0,
                        reinterpret_cast<void**>(&ops), nullptr);
  if (ret || !ops || !ops->ep_stats)
    ThrowFabric(env, FI_ENOSYS, "stats() needs the softuet provider");
  std::vector<fi_softuet_stat> st(FI_SOFTUET_MAX_STATS);
  size_t n = st.size();
  ret = ops->ep_stats(e, st.data(), &n);
  if (ret) ThrowFabric(env, ret, "softuet ep_stats");
  Napi::Object o = Napi::Object::New(env);
  for (size_t i = 0; i < n && i < st.size(); i++)
    if (st[i].name) o.Set(st[i].name, U64(env, st[i].value));
  return o;
}

// MSG endpoints: connect(peerAddress Buffer), accept(), shutdown()
Napi::Value NEndpoint::Connect(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  fid_ep* e = ep(env);
  if (!IsBytes(cb[0])) throw Napi::TypeError::New(env, "address must be a Buffer");
  JsBytes b = GetBytes(cb[0], "address");
  int ret = fi_connect(e, b.ptr, nullptr, 0);
  if (ret) ThrowFabric(env, ret, "fi_connect");
  return env.Undefined();
}

Napi::Value NEndpoint::Accept(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  int ret = fi_accept(ep(env), nullptr, 0);
  if (ret) ThrowFabric(env, ret, "fi_accept");
  return env.Undefined();
}

Napi::Value NEndpoint::Shutdown(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  int ret = fi_shutdown(ep(env), 0);
  if (ret) ThrowFabric(env, ret, "fi_shutdown");
  return env.Undefined();
}

// ---- passive endpoint --------------------------------------------------------------

void NPep::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativePep",
                                 {InstanceMethod("close", &NPep::Close),
                                  InstanceMethod("address", &NPep::GetAddress),
                                  InstanceMethod("reject", &NPep::Reject)});
  GetData(env)->pepCtor = Napi::Persistent(f);
  exports.Set("NativePep", f);
}

// new NativePep(fabric, info, eq, id): bound to the EQ and listening.
NPep::NPep(const Napi::CallbackInfo& cb)
    : Napi::ObjectWrap<NPep>(cb), Closeable(GetData(cb.Env()), kRankEndpoint) {
  Napi::Env env = cb.Env();
  NFabric* fab = NFabric::From(cb[0], "fabric");
  NInfo* info = NInfo::From(cb[1], "info");
  NEq* eq = NEq::From(cb[2], "eq");
  uintptr_t id = static_cast<uintptr_t>(ToU64(cb[3], "id"));
  int ret = fi_passive_ep(fab->fabric(env), info->info(), &pep_, reinterpret_cast<void*>(id));
  if (ret) ThrowFabric(env, ret, "fi_passive_ep");
  if ((ret = fi_pep_bind(pep_, &eq->eq(env)->fid, 0)) || (ret = fi_listen(pep_))) {
    fi_close(&pep_->fid);
    pep_ = nullptr;
    ThrowFabric(env, ret, "fi_listen");
  }
  fabricRef_ = Napi::Persistent(cb[0].As<Napi::Object>());
  eqRef_ = Napi::Persistent(cb[2].As<Napi::Object>());
  DependOn(fab);
  DependOn(eq);
}

NPep::~NPep() {
  if (pep_) OrphanFid(&pep_->fid);
  if (!data()) {
    fabricRef_.SuppressDestruct();
    eqRef_.SuppressDestruct();
  }
}

void NPep::CloseNative(bool teardown) {
  if (pep_) fi_close(&pep_->fid);
  pep_ = nullptr;
  if (teardown) {
    fabricRef_.SuppressDestruct();
    eqRef_.SuppressDestruct();
  } else {
    fabricRef_.Reset();
    eqRef_.Reset();
  }
}

Napi::Value NPep::Close(const Napi::CallbackInfo& cb) {
  if (pep_) CloseTree(cb.Env());
  return cb.Env().Undefined();
}

Napi::Value NPep::GetAddress(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  if (!pep_) ThrowClosed(env, "PassiveEndpoint");
  std::vector<uint8_t> buf(256);
  size_t len = buf.size();
  int ret = fi_getname(&pep_->fid, buf.data(), &len);
  if (ret) ThrowFabric(env, ret, "fi_getname");
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), len);
}

// reject(connreqInfo)
Napi::Value NPep::Reject(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  if (!pep_) ThrowClosed(env, "PassiveEndpoint");
  NInfo* info = NInfo::From(cb[0], "info");
  int ret = fi_reject(pep_, info->info()->handle, nullptr, 0);
  if (ret) ThrowFabric(env, ret, "fi_reject");
  return env.Undefined();
}

}  // namespace nlf
