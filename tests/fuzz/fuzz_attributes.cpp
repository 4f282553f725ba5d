// libFuzzer target: the attributes of a zarr.json document, decoded the way H5Aread does
// (type and shape from _hdf5 or inferred from the JSON value, then the value into a buffer).
#include <H5public.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/zarr_metadata.hpp"
#include "vol/attribute_store.hpp"

using namespace arraymorph;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)quiet;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto node = model::parse_zarr_json(text, "fuzz.h5/zarr.json");
  if (!node.ok()) return 0;
  try {
    for (const auto& name : vol::attribute_names(node.value(), H5_INDEX_NAME, H5_ITER_INC)) {
      try {
        vol::AttrRecord rec = vol::load_attribute(node.value(), name);
        const hsize_t n = vol::space_elements(rec.space.get());
        const size_t es = H5Tget_size(rec.type.get());
        if (n > (1u << 20) || es == 0 || es > (1u << 16) || n * es > (64u << 20)) continue;
        std::vector<unsigned char> buf(static_cast<size_t>(n) * es + 1);
        vol::read_into_memory(rec, rec.type.get(), buf.data());
        if (H5Tdetect_class(rec.type.get(), H5T_VLEN) > 0 || H5Tis_variable_str(rec.type.get()) > 0)
          H5Treclaim(rec.type.get(), rec.space.get(), H5P_DEFAULT, buf.data());
      } catch (const std::exception&) {
      }
    }
  } catch (const std::exception&) {
  }
  return 0;
}
