#include "errors.h"

#include <cerrno>
#include <cstring>

namespace nlf {

namespace {
struct ErrName {
  const char* name;
  int value;
};
const ErrName kFiErrors[] = {
#define NLF_ERRNO(n) {#n, n},
#include "fi_errno_table.h"
#undef NLF_ERRNO
};
}  // namespace

std::string ErrorCodeName(int err) {
  if (err < 0) err = -err;
  for (const auto& e : kFiErrors)
    if (e.value == err) return e.name;
  if (const char* n = strerrorname_np(err)) return n;
  return "FI_E" + std::to_string(err);
}

Napi::Value MakeFabricError(Napi::Env env, int err, const std::string& message, int provErrno,
                            const std::string& provMessage) {
  if (err < 0) err = -err;
  std::string code = ErrorCodeName(err);
  std::string text = message + ": " + fi_strerror(err) + " (" + code + ")";
  if (!provMessage.empty()) text += ": " + provMessage;
  AddonData* data = GetData(env);
  if (data && !data->errorCtor.IsEmpty()) {
    std::vector<napi_value> args = {Napi::String::New(env, text), Napi::String::New(env, code),
                                    Napi::Number::New(env, err)};
    if (provErrno != 0 || !provMessage.empty()) {
      args.push_back(Napi::Number::New(env, provErrno));
      args.push_back(Napi::String::New(env, provMessage));
    }
    return data->errorCtor.New(args);
  }
  Napi::Error e = Napi::Error::New(env, text);
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, err));
  return e.Value();
}

void ThrowFabric(Napi::Env env, int err, const std::string& what) {
  throw Napi::Error(env, MakeFabricError(env, err, what));
}

void ThrowClosed(Napi::Env env, const char* cls) {
  ThrowFabric(env, FI_EINVAL, std::string(cls) + " is closed");
}

Napi::Object ErrnoTable(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& e : kFiErrors) o.Set(e.name, Napi::Number::New(env, e.value));
  return o;
}

}  // namespace nlf
