// FabricError construction: code names come from the generated fi_errno.h table.
#pragma once
#include "common.h"

namespace nlf {

// Name for a positive libfabric/errno number: "FI_EINVAL", an errno name, or "FI_E<n>".
std::string ErrorCodeName(int err);

// Builds a FabricError (the TS class registered by setErrorClass) as a JS value.
Napi::Value MakeFabricError(Napi::Env env, int err, const std::string& message,
                            int provErrno = 0, const std::string& provMessage = "");

// Throws FabricError for a negative (or positive) libfabric return code.
[[noreturn]] void ThrowFabric(Napi::Env env, int err, const std::string& what);
[[noreturn]] void ThrowClosed(Napi::Env env, const char* cls);

Napi::Object ErrnoTable(Napi::Env env);

}  // namespace nlf
