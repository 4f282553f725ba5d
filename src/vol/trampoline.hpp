// trampoline.hpp -- turns C++ implementations of VOL callbacks into C callbacks for HDF5.
//
// Every entry of the H5VL_class_t table is `Guarded<&impl>::call`: it forwards the arguments,
// catches every C++ exception (no exception may unwind through HDF5's C frames, nothing may call
// exit()), pushes the error's message onto the HDF5 error stack and returns HDF5's failure value
// (-1 for herr_t, NULL for pointers). Implementations report failure by throwing arraymorph::Error
// (usually via check(Status)).
//
// Thread-safety: stateless.
#pragma once

#include <hdf5.h>

#include <exception>
#include <new>

#include "common/status.hpp"

namespace arraymorph::vol {

// Pushes `status` onto the default HDF5 error stack (major H5E_VOL, minor by status code).
void push_error(const Status& status);
// Pushes the exception currently being handled (call only inside a catch block).
void push_current_exception() noexcept;

// Works around an HDF5 1.14 error-stack bug (errors.cpp): keeps the reference counts of the
// library's major error ids that HDF5 itself pushes as *minor* codes (H5E_VOL, H5E_ARGS,
// H5E_RESOURCE) far from zero by adding `extra` references to each. Call only where the HDF5
// error stack holds nothing to keep (it makes HDF5 API calls, which clear it): connector
// registration (kErrorIdsAtStart), file create/open and the h5py-support entry points
// (kErrorIdsTopUp).
inline constexpr int kErrorIdsAtStart = 1 << 16;
inline constexpr int kErrorIdsTopUp = 8;
void keep_error_ids_alive(int extra = kErrorIdsTopUp) noexcept;

template <typename R>
constexpr R failure_value() {
  if constexpr (std::is_pointer_v<R>) return nullptr;
  else return static_cast<R>(-1);
}

template <auto F>
struct Guarded;

template <typename R, typename... A, R (*F)(A...)>
struct Guarded<F> {
  static R call(A... args) noexcept {
    try {
      return F(args...);
    } catch (...) {
      push_current_exception();
      return failure_value<R>();
    }
  }
};

}  // namespace arraymorph::vol
