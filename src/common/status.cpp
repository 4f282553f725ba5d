// status.cpp -- names of status codes and the one-line rendering of a Status.
#include "common/status.hpp"

namespace arraymorph {

const char* code_name(Code c) noexcept {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kUnsupported: return "unsupported";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kUnavailable: return "unavailable";
    case Code::kIo: return "io";
    case Code::kInternal: return "internal";
    case Code::kConflict: return "conflict";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string out = code_name(code_);
  if (retryable_) out += " (retryable)";
  out += ": ";
  out += message_;
  return out;
}

}  // namespace arraymorph
