// vlen_strings.hpp -- datasets of variable-length items: strings (h5py's str / object dtype) and
// variable-length sequences (h5py.vlen_dtype(...), src/vol/vlen_sequences.hpp).
//
// Strings are stored as Zarr's "string" data type with the "vlen-utf8" codec, sequences as Zarr's
// "variable_length_bytes" with the "vlen-bytes" codec (one item = the elements' bytes in the
// file base type). Both use numcodecs' layout: u32 item count, then u32 length + bytes per item,
// all little-endian, followed by any bytes->bytes codecs. In memory HDF5 hands over arrays of `char*`; reads give the caller
// malloc'ed copies (HDF5's default vlen memory manager frees them with free(), as h5py's
// H5Dvlen_reclaim does). A missing chunk reads as the string fill value (empty unless set), sequences as empty.
//
// Thread-safety: the chunk work runs on store/pool threads; only the plan is built on the HDF5
// thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "io/chunk_plan.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::io {

std::vector<unsigned char> encode_vlen_utf8(const std::vector<std::string>& items);
Result<std::vector<std::string>> decode_vlen_utf8(const std::vector<unsigned char>& bytes, size_t expected_items);

// A whole stored chunk <-> its strings (the codec chain of `meta` included). `key` names the
// chunk in error messages.
Result<std::vector<std::string>> decode_vlen_chunk(const model::ArrayMeta& meta, Bytes stored, const std::string& key);
Result<Bytes> encode_vlen_chunk(const model::ArrayMeta& meta, const std::vector<std::string>& items);

// The generic forms: `take(buf_index, item)` receives each selected element's item (called on
// store threads, concurrently for distinct indices); `give(buf_index)` returns the item to store.
// A never-written chunk reads as empty items (a string dataset's: its fill value).
Status read_vlen_items(ObjectStore& store, const std::string& node_prefix, const model::ArrayMeta& meta,
                       const ChunkPlan& plan, const std::function<void(uint64_t, const std::string&)>& take);
Status write_vlen_items(ObjectStore& store, const std::string& node_prefix, const model::ArrayMeta& meta,
                        const ChunkPlan& plan, const std::function<std::string(uint64_t)>& give);

// buf: the caller's char* array (elements addressed by the plan's buf offsets).
Status read_vlen_strings(ObjectStore& store, const std::string& node_prefix, const model::ArrayMeta& meta,
                         const ChunkPlan& plan, char** buf);
Status write_vlen_strings(ObjectStore& store, const std::string& node_prefix, const model::ArrayMeta& meta,
                          const ChunkPlan& plan, const char* const* buf);

}  // namespace arraymorph::io
