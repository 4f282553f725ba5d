// hdf5_chunk_form.hpp -- a chunk object's bytes <-> the bytes native HDF5's filter pipeline holds
// for the same chunk (what H5Dread_chunk returns and H5Dwrite_chunk takes).
//
// arraymorph stores each chunk as one object encoded by the array's Zarr codec chain. Every codec
// arraymorph writes produces exactly the bytes of the matching HDF5 filter (shuffle, zstd, blosc,
// fletcher32, HDF5 filters run through their own code) except one: Zarr's "gzip" codec frames the
// deflate stream as gzip (RFC 1952) where HDF5's deflate filter frames it as zlib (RFC 1950). So a
// chunk converts by re-framing its deflate stream (no recompression): 10-byte gzip header and
// 8-byte CRC32/size trailer <-> 2-byte zlib header and 4-byte Adler-32 trailer, 12 bytes less.
//
// Filter index i of the HDF5 pipeline is the i-th codec after the array->bytes codec; bit i of a
// filter mask says filter i was skipped for that chunk; bits beyond the pipeline are ignored, as
// in HDF5.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::io {

// Stored object bytes -> HDF5 raw chunk bytes (filter mask 0).
Result<std::vector<unsigned char>> to_hdf5_form(const model::ArrayMeta& meta, std::vector<unsigned char> stored);

// The size to_hdf5_form gives for an object of `object_size` bytes, without reading it; nullopt
// when it cannot be known without the bytes. Assumes gzip objects carry the minimal 10-byte gzip
// header (arraymorph, zarr-python and numcodecs write that).
std::optional<uint64_t> hdf5_form_size(const model::ArrayMeta& meta, uint64_t object_size);

// How from_hdf5_form turned HDF5's bytes into the object (counted in Stats::direct_chunks).
enum class FormChange {
  kVerbatim,  // stored as given (no gzip in the chain, every filter applied); checked to decode
  kReframed,  // every filter applied, gzip in the chain: the deflate stream is kept and only its
              // zlib framing becomes gzip framing (inflated once to check it and compute the
              // CRC-32; never recompressed)
  kRecoded,   // decoded and encoded again with the full chain (some filter skipped per the
              // mask, or a chain the re-framing does not cover)
};

// HDF5 raw chunk bytes (filters whose bit is set in `filter_mask` not applied) -> the object bytes
// to store. Bytes that do not decode to a whole chunk are an error, never stored. `change` (if
// not null) receives how the bytes were converted.
Result<std::vector<unsigned char>> from_hdf5_form(const model::ArrayMeta& meta, std::vector<unsigned char> bytes,
                                                  uint32_t filter_mask, FormChange* change = nullptr);

}  // namespace arraymorph::io
