// hid.hpp -- Hid, the one owner of an HDF5 id (datatype, dataspace, property list, ...) in
// arraymorph: closes it on destruction with the close function of its kind.
//
// Use it for every id arraymorph creates and keeps (struct fields, locals across calls that may
// throw); ids HDF5 lends to a callback are never wrapped.
//
// Ownership: move-only; release() hands the id back to the caller. Thread-safety: like the id it
// holds (HDF5 calling thread only).
#pragma once

#include <hdf5.h>

#include <utility>

namespace arraymorph {

class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) reset(std::exchange(o.id_, H5I_INVALID_HID));
    return *this;
  }
  ~Hid() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }
  // Closes the id held (if any) and takes `id`.
  void reset(hid_t id = H5I_INVALID_HID) {
    if (id_ >= 0) {
      switch (H5Iget_type(id_)) {
        case H5I_DATATYPE: H5Tclose(id_); break;
        case H5I_DATASPACE: H5Sclose(id_); break;
        case H5I_GENPROP_LST: H5Pclose(id_); break;
        default: H5Idec_ref(id_); break;
      }
    }
    id_ = id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

}  // namespace arraymorph
