// libFuzzer target: a zarr.json document from an untrusted store, through everything a reader
// does with it (parse, each consolidated entry, serialize again). Must never crash, hang, leak
// or hit undefined behaviour; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/zarr_metadata.hpp"

using namespace arraymorph::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto node = parse_zarr_json(text, "fuzz.h5/zarr.json");
  if (!node.ok()) return 0;
  if (node.value().consolidated && node.value().consolidated->is_object()) {
    for (auto it = node.value().consolidated->begin(); it != node.value().consolidated->end(); ++it)
      (void)from_zarr_json(it.value(), "fuzz.h5/" + it.key() + "/zarr.json");
  }
  (void)to_zarr_json(node.value()).dump();
  if (node.value().array) (void)node.value().array->chunk_bytes();
  return 0;
}
