#include "info.h"

#include <cstring>

#include "errors.h"
#include "fi_softuet.h"

namespace nlf {

void NInfo::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeInfo", {});
  GetData(env)->infoCtor = Napi::Persistent(f);
  exports.Set("NativeInfo", f);
}

NInfo::NInfo(const Napi::CallbackInfo& cb) : Napi::ObjectWrap<NInfo>(cb) {
  if (cb.Length() == 1 && cb[0].IsExternal())
    info_ = fi_dupinfo(cb[0].As<Napi::External<fi_info>>().Data());
  if (!info_) throw Napi::TypeError::New(cb.Env(), "NativeInfo cannot be constructed from JS");
}

NInfo::~NInfo() {
  // fi_freeinfo frees plain memory only, never provider resources: safe in a finalizer.
  if (info_) fi_freeinfo(info_);
}

Napi::Object NInfo::Wrap(Napi::Env env, const fi_info* info) {
  return GetData(env)->infoCtor.New(
      {Napi::External<fi_info>::New(env, const_cast<fi_info*>(info))});
}

NInfo* NInfo::From(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(GetData(env)->infoCtor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + " must be an Info from getInfo()");
  return Napi::ObjectWrap<NInfo>::Unwrap(v.As<Napi::Object>());
}

namespace {

std::string OptStr(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return "";
  return ToStr(v, key);
}

}  // namespace

Napi::Object DescribeInfo(Napi::Env env, const fi_info* fi) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("provider", fi->fabric_attr && fi->fabric_attr->prov_name ? fi->fabric_attr->prov_name : "");
  o.Set("fabric", fi->fabric_attr && fi->fabric_attr->name ? fi->fabric_attr->name : "");
  o.Set("domain", fi->domain_attr && fi->domain_attr->name ? fi->domain_attr->name : "");
  o.Set("epType", Napi::Number::New(env, fi->ep_attr ? fi->ep_attr->type : 0));
  o.Set("caps", U64(env, fi->caps));
  o.Set("mode", U64(env, fi->mode));
  o.Set("addrFormat", Napi::Number::New(env, fi->addr_format));
  if (fi->domain_attr) {
    o.Set("mrMode", Napi::Number::New(env, fi->domain_attr->mr_mode));
    o.Set("progress", Napi::Number::New(env, fi->domain_attr->data_progress));
    o.Set("threading", Napi::Number::New(env, fi->domain_attr->threading));
    o.Set("mrKeySize", Napi::Number::New(env, static_cast<double>(fi->domain_attr->mr_key_size)));
    o.Set("cqDataSize", Napi::Number::New(env, static_cast<double>(fi->domain_attr->cq_data_size)));
  }
  if (fi->ep_attr) {
    o.Set("maxMsgSize", Napi::Number::New(env, static_cast<double>(fi->ep_attr->max_msg_size)));
  }
  if (fi->tx_attr) {
    o.Set("injectSize", Napi::Number::New(env, static_cast<double>(fi->tx_attr->inject_size)));
    o.Set("txSize", Napi::Number::New(env, static_cast<double>(fi->tx_attr->size)));
    o.Set("msgOrder", U64(env, fi->tx_attr->msg_order));
    o.Set("tclass", Napi::Number::New(env, fi->tx_attr->tclass));
  }
  if (fi->rx_attr) o.Set("rxSize", Napi::Number::New(env, static_cast<double>(fi->rx_attr->size)));
  if (fi->src_addr && fi->src_addrlen)
    o.Set("srcAddr", Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(fi->src_addr),
                                                 fi->src_addrlen));
  return o;
}

Napi::Value GetInfo(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  if (!GetData(env)->initialized) ThrowFabric(env, FI_EOPBADSTATE, "getInfo before init");
  Napi::Object h = cb[0].IsObject() ? cb[0].As<Napi::Object>() : Napi::Object::New(env);
  fi_info* hints = fi_allocinfo();
  if (!hints) ThrowFabric(env, FI_ENOMEM, "fi_allocinfo");
  std::string provider = OptStr(h, "provider"), node = OptStr(h, "node"),
              service = OptStr(h, "service"), fabricName = OptStr(h, "fabricName"),
              domainName = OptStr(h, "domainName");
  // fi_freeinfo frees these strings, so they are strdup'd.
  if (!provider.empty()) hints->fabric_attr->prov_name = strdup(provider.c_str());
  if (!fabricName.empty()) hints->fabric_attr->name = strdup(fabricName.c_str());
  if (!domainName.empty()) hints->domain_attr->name = strdup(domainName.c_str());
  hints->ep_attr->type = h.Has("epType") ? static_cast<fi_ep_type>(ToSize(h.Get("epType"), "epType")) : FI_EP_RDM;
  hints->caps = h.Has("caps") ? ToU64(h.Get("caps"), "caps") : (FI_MSG | FI_TAGGED | FI_RMA);
  hints->mode = FI_CONTEXT | FI_CONTEXT2;
  // The modes the binding handles: it registers local buffers itself when asked to,
  // addresses remote memory by virtual address and uses provider keys.
  hints->domain_attr->mr_mode = h.Has("mrMode") ? static_cast<int>(ToSize(h.Get("mrMode"), "mrMode"))
                                                : (FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY);
  hints->domain_attr->threading = h.Has("threading")
                                      ? static_cast<fi_threading>(ToSize(h.Get("threading"), "threading"))
                                      : FI_THREAD_DOMAIN;
  if (h.Has("addrFormat")) hints->addr_format = static_cast<uint32_t>(ToSize(h.Get("addrFormat"), "addrFormat"));
  if (h.Has("progress")) {
    auto p = static_cast<fi_progress>(ToSize(h.Get("progress"), "progress"));
    hints->domain_attr->data_progress = p;
  }
  if (h.Has("txSize")) hints->tx_attr->size = ToSize(h.Get("txSize"), "txSize");
  if (h.Has("rxSize")) hints->rx_attr->size = ToSize(h.Get("rxSize"), "rxSize");
  if (h.Has("msgOrder")) {
    // Asked of both directions: an ordering is a property of the pair of queues.
    hints->tx_attr->msg_order = ToU64(h.Get("msgOrder"), "msgOrder");
    hints->rx_attr->msg_order = hints->tx_attr->msg_order;
  }
  if (h.Has("tclass")) hints->tx_attr->tclass = static_cast<uint32_t>(ToSize(h.Get("tclass"), "tclass"));
  uint64_t flags = h.Has("source") && h.Get("source").ToBoolean() ? FI_SOURCE : 0;

  fi_info* list = nullptr;
  int ret = fi_getinfo(kFiApiVersion, node.empty() ? nullptr : node.c_str(),
                       service.empty() ? nullptr : service.c_str(), flags, hints, &list);
  fi_freeinfo(hints);
  Napi::Array out = Napi::Array::New(env);
  if (ret == -FI_ENODATA) return out;
  if (ret) ThrowFabric(env, ret, "fi_getinfo");
  uint32_t i = 0;
  for (fi_info* cur = list; cur; cur = cur->next) {
    // Each entry is duplicated alone so an Info outlives the list it came from.
    fi_info* next = cur->next;
    cur->next = nullptr;
    Napi::Object o = DescribeInfo(env, cur);
    o.Set("handle", NInfo::Wrap(env, cur));
    cur->next = next;
    out.Set(i++, o);
  }
  fi_freeinfo(list);
  return out;
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
#define C64(n) o.Set(#n, U64(env, static_cast<uint64_t>(n)));
#define CN(n) o.Set(#n, Napi::Number::New(env, static_cast<double>(n)));
  C64(FI_MSG) C64(FI_TAGGED) C64(FI_RMA) C64(FI_ATOMIC) C64(FI_READ) C64(FI_WRITE) C64(FI_SEND)
  C64(FI_RECV) C64(FI_REMOTE_READ) C64(FI_REMOTE_WRITE) C64(FI_DIRECTED_RECV) C64(FI_SOURCE)
  C64(FI_RMA_EVENT) C64(FI_MULTI_RECV) C64(FI_LOCAL_COMM) C64(FI_REMOTE_COMM) C64(FI_FENCE)
  C64(FI_TRIGGER) C64(FI_SHARED_AV) C64(FI_RMA_PMEM) C64(FI_NAMED_RX_CTX)
  C64(FI_CONTEXT) C64(FI_CONTEXT2) C64(FI_MSG_PREFIX) C64(FI_ASYNC_IOV) C64(FI_RX_CQ_DATA)
  C64(FI_LOCAL_MR) C64(FI_BUFFERED_RECV)
  CN(FI_MR_LOCAL) CN(FI_MR_RAW) CN(FI_MR_VIRT_ADDR) CN(FI_MR_ALLOCATED) CN(FI_MR_PROV_KEY)
  CN(FI_MR_MMU_NOTIFY) CN(FI_MR_RMA_EVENT) CN(FI_MR_ENDPOINT) CN(FI_MR_HMEM) CN(FI_MR_COLLECTIVE)
  CN(FI_EP_RDM) CN(FI_EP_MSG) CN(FI_EP_DGRAM)
  CN(FI_PROGRESS_AUTO) CN(FI_PROGRESS_MANUAL) CN(FI_PROGRESS_UNSPEC)
  CN(FI_THREAD_DOMAIN) CN(FI_THREAD_SAFE) CN(FI_THREAD_COMPLETION) CN(FI_THREAD_ENDPOINT)
  CN(FI_THREAD_FID) CN(FI_THREAD_UNSPEC)
  CN(FI_SOCKADDR) CN(FI_SOCKADDR_IN) CN(FI_SOCKADDR_IN6) CN(FI_SOCKADDR_IB) CN(FI_ADDR_PSMX)
  CN(FI_ADDR_PSMX2) CN(FI_ADDR_STR) CN(FI_FORMAT_UNSPEC)
  CN(FI_AV_MAP) CN(FI_AV_TABLE) CN(FI_AV_UNSPEC)
  CN(FI_MIN) CN(FI_MAX) CN(FI_SUM) CN(FI_PROD) CN(FI_LOR) CN(FI_LAND) CN(FI_BOR) CN(FI_BAND)
  CN(FI_LXOR) CN(FI_BXOR) CN(FI_ATOMIC_READ) CN(FI_ATOMIC_WRITE) CN(FI_CSWAP) CN(FI_CSWAP_NE)
  CN(FI_CSWAP_LE) CN(FI_CSWAP_LT) CN(FI_CSWAP_GE) CN(FI_CSWAP_GT) CN(FI_MSWAP)
  CN(FI_INT8) CN(FI_UINT8) CN(FI_INT16) CN(FI_UINT16) CN(FI_INT32) CN(FI_UINT32) CN(FI_INT64)
  CN(FI_UINT64) CN(FI_FLOAT) CN(FI_DOUBLE)
  C64(FI_ADDR_UNSPEC) C64(FI_ADDR_NOTAVAIL)
  C64(FI_ORDER_RAR) C64(FI_ORDER_RAW) C64(FI_ORDER_RAS) C64(FI_ORDER_WAR) C64(FI_ORDER_WAW) C64(FI_ORDER_WAS)
  C64(FI_ORDER_SAR) C64(FI_ORDER_SAW) C64(FI_ORDER_SAS) C64(FI_ORDER_RMA_RAR) C64(FI_ORDER_RMA_RAW)
  C64(FI_ORDER_RMA_WAR) C64(FI_ORDER_RMA_WAW) C64(FI_ORDER_ATOMIC_RAR) C64(FI_ORDER_ATOMIC_RAW)
  C64(FI_ORDER_ATOMIC_WAR) C64(FI_ORDER_ATOMIC_WAW) C64(FI_ORDER_DATA)
  CN(FI_TC_UNSPEC) CN(FI_TC_DSCP) CN(FI_TC_BEST_EFFORT) CN(FI_TC_LOW_LATENCY) CN(FI_TC_DEDICATED_ACCESS)
  CN(FI_TC_BULK_DATA) CN(FI_TC_SCAVENGER) CN(FI_TC_NETWORK_CTRL)
  CN(FI_OPT_MIN_MULTI_RECV) CN(FI_OPT_SOFTUET_MTU) CN(FI_OPT_SOFTUET_CC) CN(FI_SOFTUET_CC_NSCC)
  CN(FI_SOFTUET_CC_RCCC)
#undef C64
#undef CN
  return o;
}

}  // namespace nlf
