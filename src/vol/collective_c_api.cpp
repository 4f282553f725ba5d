// collective_c_api.cpp -- the C API of the process-wide collective block: arraymorph_collective_*
// (include/arraymorph/arraymorph.h), a thin layer over src/mpi/context.hpp that keeps the last
// error's message for arraymorph_collective_last_error. It lives in the plugin's own sources (not
// arraymorph_core) so the linker keeps these exported symbols.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "arraymorph/arraymorph.h"
#include "mpi/context.hpp"

namespace {
std::mutex g_error_mu;
std::string g_last_error;  // message of the last failed call

int result(const arraymorph::Status& s) {
  if (s.ok()) return 0;
  std::lock_guard<std::mutex> lock(g_error_mu);
  g_last_error = s.message();
  return -1;
}
}  // namespace

extern "C" {

ARRAYMORPH_API int arraymorph_collective_available(void) { return arraymorph::mpi::available() ? 1 : 0; }

ARRAYMORPH_API int arraymorph_collective_begin(int comm_f) { return result(arraymorph::mpi::begin(comm_f)); }

ARRAYMORPH_API int arraymorph_collective_end(void) { return result(arraymorph::mpi::end(false)); }

ARRAYMORPH_API int arraymorph_collective_abort(void) { return result(arraymorph::mpi::end(true)); }

ARRAYMORPH_API int arraymorph_collective_active(void) { return arraymorph::mpi::active() ? 1 : 0; }

ARRAYMORPH_API void arraymorph_collective_suspend(int on) { arraymorph::mpi::suspend(on != 0); }

ARRAYMORPH_API size_t arraymorph_collective_last_error(char* buf, size_t len) {
  std::lock_guard<std::mutex> lock(g_error_mu);
  if (buf && len) {
    const size_t k = std::min(len - 1, g_last_error.size());
    std::memcpy(buf, g_last_error.data(), k);
    buf[k] = '\0';
  }
  return g_last_error.size();
}

}  // extern "C"
