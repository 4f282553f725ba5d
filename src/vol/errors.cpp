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
    default: return H5E_CANTINIT;
  }
}

}  // namespace

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
