// status.hpp -- errors as values inside arraymorph.
//
// Every fallible library function returns a Status (or Result<T>). A Status carries a code, a
// retryable flag (used by the retry policy in http/ and store/) and a human message that names
// the object (key, bucket, variable) and, for HTTP, the status code. Messages never contain
// secrets. At the VOL boundary (src/vol/) a failed Status becomes an HDF5 error-stack entry; the
// `Error` exception exists only to carry a Status up through the VOL callbacks' C++ frames.
//
// Thread-safety: value types, no shared state.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace arraymorph {

enum class Code {
  kOk = 0,
  kNotFound,          // object / key / node does not exist
  kAlreadyExists,     // exclusive create of something present
  kInvalidArgument,   // bad user input (selection, configuration value, URL)
  kUnsupported,       // valid HDF5 request that arraymorph does not implement
  kPermissionDenied,  // 401/403, read-only file
  kUnavailable,       // transient: 429, 5xx, reset, timeout (usually retryable)
  kIo,                // local I/O failure, short read, corrupt data
  kInternal,          // a bug: an invariant did not hold
  kConflict,          // another writer: file locked, conditional write refused (HTTP 412)
};

const char* code_name(Code c) noexcept;

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, bool retryable = false)
      : code_(code), retryable_(retryable), message_(std::move(message)) {}

  bool ok() const noexcept { return code_ == Code::kOk; }
  Code code() const noexcept { return code_; }
  bool retryable() const noexcept { return retryable_; }
  const std::string& message() const noexcept { return message_; }
  // Prefixes context ("reading chunk c/0/1 of /x: ") to the message, keeping code and flag.
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_, retryable_);
  }
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  bool retryable_ = false;
  std::string message_;
};

inline Status ok_status() { return Status(); }
inline Status not_found(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status invalid_argument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status unsupported(const std::string& what) {
  return Status(Code::kUnsupported, "not supported by arraymorph: " + what);
}
inline Status io_error(std::string m) { return Status(Code::kIo, std::move(m)); }
inline Status internal_error(std::string m) { return Status(Code::kInternal, std::move(m)); }

// Result<T>: a T or a failed Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                        // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {}                 // NOLINT(implicit)
  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Carries a Status through C++ frames that cannot return one (VOL callbacks, constructors).
class Error : public std::runtime_error {
 public:
  explicit Error(Status s) : std::runtime_error(s.message()), status_(std::move(s)) {}
  const Status& status() const noexcept { return status_; }

 private:
  Status status_;
};

// Throws Error when !s.ok(); used where a Status must abort a VOL operation.
inline void check(const Status& s) {
  if (!s.ok()) throw Error(s);
}
template <typename T>
T check(Result<T>&& r) {
  if (!r.ok()) throw Error(r.status());
  return std::move(r).value();
}

}  // namespace arraymorph
