// vlen_strings.hpp -- datasets of variable-length strings (h5py's str / object dtype).
//
// Stored as Zarr's "string" data type with the "vlen-utf8" codec (numcodecs' VLenUTF8 layout:
// u32 item count, then u32 length + UTF-8 bytes per item, all little-endian), followed by any
// bytes->bytes codecs. In memory HDF5 hands over arrays of `char*`; reads give the caller
// malloc'ed copies (HDF5's default vlen memory manager frees them with free(), as h5py's
// H5Dvlen_reclaim does). A missing chunk reads as empty strings.
//
// Thread-safety: the chunk work runs on store/pool threads; only the plan is built on the HDF5
// thread.
#pragma once

#include <string>
#include <vector>

#include "arraymorph/store.hpp"
#include "io/chunk_plan.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::io {

std::vector<unsigned char> encode_vlen_utf8(const std::vector<std::string>& items);
Result<std::vector<std::string>> decode_vlen_utf8(const std::vector<unsigned char>& bytes, size_t expected_items);

// A whole stored chunk <-> its strings (the codec chain of `meta` included). `key` names the
// chunk in error messages.
Result<std::vector<std::string>> decode_vlen_chunk(const model::ArrayMeta& meta, Bytes stored, const std::string& key);
Result<Bytes> encode_vlen_chunk(const model::ArrayMeta& meta, const std::vector<std::string>& items);

// buf: the caller's char* array (elements addressed by the plan's buf offsets).
Status read_vlen_strings(ObjectStore& store, const std::string& node_prefix, const model::ArrayMeta& meta,
                         const ChunkPlan& plan, char** buf);
Status write_vlen_strings(ObjectStore& store, const std::string& node_prefix, const model::ArrayMeta& meta,
                          const ChunkPlan& plan, const char* const* buf);

}  // namespace arraymorph::io
