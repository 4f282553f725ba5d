// chunk_key.hpp -- Zarr v3 default chunk key encoding ("c/<i>/<j>", "/" separator; "c" for rank 0)
// and node keys ("<file>/<path>/zarr.json").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace arraymorph::model {

// "c/1/2" for coords {1, 2}; "c" for rank 0.
std::string chunk_key(const std::vector<uint64_t>& coords);
// Inverse of chunk_key: the coords of "c/1/2" (rank 2), or nullopt when `key` is not a chunk key
// of that rank ("c" for rank 0).
std::optional<std::vector<uint64_t>> parse_chunk_key(const std::string& key, size_t rank);
// Joins a file prefix and an HDF5 absolute path ("/" or "/a/b") into the node's key prefix
// ("demo.h5" or "demo.h5/a/b"); no trailing slash.
std::string node_prefix(const std::string& file_key, const std::string& path);
inline std::string metadata_key(const std::string& node_prefix) { return node_prefix + "/zarr.json"; }

}  // namespace arraymorph::model
