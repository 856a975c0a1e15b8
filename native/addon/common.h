// Shared declarations of the addon: per-environment state, the close-order registry and
// small conversion helpers. No protocol logic lives in the addon.
#pragma once

#include <napi.h>
#include <uv.h>

#include <rdma/fabric.h>
#include <rdma/fi_atomic.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>

#include <cstdint>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <utility>
#include <vector>

namespace nlf {

constexpr uint32_t kFiApiVersion = FI_VERSION(1, 17);

// Close order at environment teardown: children before parents.
enum Rank : int {
  kRankEndpoint = 0,
  kRankMr = 1,
  kRankAv = 2,
  kRankCntr = 2,
  kRankCq = 3,
  kRankEq = 3,
  kRankDomain = 4,
  kRankFabric = 5,
};

struct AddonData;
class NMr;

// Every wrapper of a libfabric object registers here so the environment cleanup hook
// can close whatever JS left open, in rank order, without calling into JS.
//
// Objects also link to the objects they depend on (an endpoint on its domain, CQ, AV
// and counters): closing a parent from JS closes its dependents first, children before
// parents, so libfabric never sees a parent closed under a live child (FI_EBUSY).
class Closeable {
 public:
  explicit Closeable(AddonData* data, int rank);
  virtual ~Closeable();
  // Releases the libfabric object. teardown: the environment is going away, so no
  // napi call that could reach JS (rejecting promises, deleting references) is allowed.
  virtual void CloseNative(bool teardown) = 0;
  // Closes from JS: dependents first (rejecting their pending ops), then this object.
  void CloseTree(Napi::Env env);
  int rank() const { return rank_; }
  AddonData* data() const { return data_; }
  void Detach();
  void DependOn(Closeable* parent);

 protected:
  // A wrapper collected while still open hands its fid to the registry instead of
  // closing it: finalizers run in any order, so a parent may already be gone.
  void OrphanFid(fid_t fid);
  void Unlink();

 private:
  AddonData* data_;
  int rank_;
  std::set<Closeable*> parents_, dependents_;
};
struct AddonData {
  Napi::FunctionReference errorCtor;
  // (length, tag, data, src) -> completion object, from lib/fabric: a JIT-compiled object
  // literal costs a fraction of building the object through napi property by property.
  Napi::FunctionReference completionMaker;
  Napi::FunctionReference infoCtor, fabricCtor, domainCtor, avCtor, cqCtor, cntrCtor, eqCtor,
      mrCtor, epCtor, pepCtor;
  std::set<Closeable*> live;
  std::vector<std::pair<int, fid_t>> orphans;
  bool initialized = false;
  int spinning = 0;  // CQs reading every loop turn (see NCq::SpinCb)
  // Live NativeMr wrappers: an op's buffer argument is recognised by one napi_unwrap and a
  // lookup here (a type-tag check and then the unwrap cost two property lookups).
  std::unordered_set<const void*> mrs;
  // The same regions by the number each carries as its `handle` property: the cheapest
  // form for the TypeScript side to name a region in an op.
  std::unordered_map<uint32_t, NMr*> mrHandles;
  uint32_t nextMrHandle = 1;
};

AddonData* GetData(Napi::Env env);

// Argument helpers; all throw TypeError with the parameter name.
uint64_t ToU64(const Napi::Value& v, const char* what);
size_t ToSize(const Napi::Value& v, const char* what);
std::string ToStr(const Napi::Value& v, const char* what);
Napi::Value U64(Napi::Env env, uint64_t v);

// A contiguous byte range of JS memory (Buffer, TypedArray, DataView or ArrayBuffer).
struct JsBytes {
  uint8_t* ptr = nullptr;
  size_t len = 0;
};
JsBytes GetBytes(const Napi::Value& v, const char* what);
bool IsBytes(const Napi::Value& v);

}  // namespace nlf
