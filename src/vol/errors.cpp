// errors.cpp -- HDF5 error-stack entries for arraymorph failures (see trampoline.hpp).
//
// Entries use HDF5's own error class and major H5E_VOL, so tools that map (major, minor) pairs to
// exceptions (h5py) behave as with native files; the minor code follows the Status code. The
// message always starts with "arraymorph: " and names the object (and, for HTTP, the status).
#include <cstdio>
#include <string>

#include "vol/trampoline.hpp"

namespace arraymorph::vol {
namespace {

hid_t minor_for(Code c) {
  switch (c) {
    case Code::kNotFound: return H5E_NOTFOUND;
    case Code::kAlreadyExists: return H5E_EXISTS;
    case Code::kInvalidArgument: return H5E_BADVALUE;
    case Code::kUnsupported: return H5E_UNSUPPORTED;
    case Code::kPermissionDenied: return H5E_CANTOPENFILE;
    case Code::kUnavailable: return H5E_CANTOPENFILE;
    case Code::kIo: return H5E_READERROR;
    case Code::kConflict: return H5E_CANTLOCKFILE;
    default: return H5E_CANTINIT;
  }
}

}  // namespace

// HDF5 1.14.5 refuses many calls for non-native connectors with HGOTO_ERROR(H5E_OHDR, H5E_VOL,
// "... only meant to be used with the native VOL connector"), i.e. with the MAJOR code H5E_VOL as
// the minor code (also H5E_ARGS and H5E_RESOURCE elsewhere). Pushing a library code takes no
// reference, but clearing the stack (at the start of the next API call) treats a minor code
// outside the library's minor range as an application's and drops a reference: after one such
// refusal the H5E_VOL message is freed, every later clear fails half-way, and old messages stay
// on the stack (KeyError with a stale message, h5py's "Failed to extract top-level error
// description"). Extra references keep the ids alive; each refusal consumes one. HDF5 does not
// show the internal count (H5Iget_ref reports application references), so references are added
// blindly: many at registration, a few more at every file open and h5py-support call. At
// library shutdown HDF5 discounts application references, so the ids are still released.
void keep_error_ids_alive(int extra) noexcept {
  for (hid_t id : {H5E_VOL, H5E_ARGS, H5E_RESOURCE}) {
    if (H5Iget_type(id) != H5I_ERROR_MSG) continue;  // already freed before we ran: nothing to save
    for (int i = 0; i < extra; ++i)
      if (H5Iinc_ref(id) < 0) break;
  }
  H5Eclear2(H5E_DEFAULT);
}

void push_error(const Status& status) {
  const std::string msg = "arraymorph: " + status.message();
  H5Epush2(H5E_DEFAULT, __FILE__, "arraymorph", __LINE__, H5E_ERR_CLS, H5E_VOL, minor_for(status.code()),
           "%s", msg.c_str());
}

void push_current_exception() noexcept {
  try {
    throw;
  } catch (const Error& e) {
    push_error(e.status());
  } catch (const std::bad_alloc&) {
    push_error(Status(Code::kInternal, "out of memory"));
  } catch (const std::exception& e) {
    push_error(Status(Code::kInternal, std::string("internal error: ") + e.what()));
  } catch (...) {
    push_error(Status(Code::kInternal, "internal error: unknown exception"));
  }
}

}  // namespace arraymorph::vol
