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

#include "arraymorph/status.hpp"

namespace arraymorph::vol {

// Pushes `status` onto the default HDF5 error stack (major H5E_VOL, minor by status code).
void push_error(const Status& status);
// Pushes the exception currently being handled (call only inside a catch block).
void push_current_exception() noexcept;

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
