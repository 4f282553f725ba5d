// codec_pipeline.hpp -- encodes/decodes one chunk through an array's Zarr v3 codec chain.
//
// Chunks are kept in memory as C-order elements in the *file* byte order (the bytes codec's
// endian), so the "bytes" codec itself is the identity here; bytes->bytes codecs (gzip, zstd,
// numcodecs.shuffle) transform the buffer. Unknown codecs are an error naming the codec, never
// silently stored raw.
//
// Thread-safety: pure functions over their arguments; safe on worker threads.
#pragma once

#include <vector>

#include "common/status.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::io {

// Inflates a whole zlib (RFC 1950) or single-member gzip stream `in` of `n` bytes into exactly
// `size` bytes at `out`, checking its Adler-32 / CRC-32 trailer, with libdeflate. False when this
// build has no libdeflate or the stream is anything else (corrupt, shorter, longer, trailing
// bytes): the caller then decides with zlib, which words the error. No allocation.
bool inflate_exact(const unsigned char* in, size_t n, unsigned char* out, size_t size);
// CRC-32 (gzip's) of `n` bytes continuing from `crc` (0 to start): libdeflate's when built in.
uint32_t crc32_update(uint32_t crc, const unsigned char* data, size_t n);

// True when every codec of the chain is known to this build.
Status check_codecs(const std::vector<model::Codec>& codecs);
// raw (chunk_bytes long, or vlen-utf8/vlen-bytes bytes) -> stored object bytes
Result<std::vector<unsigned char>> encode_chunk(const model::ArrayMeta& meta, std::vector<unsigned char> raw);
// stored object bytes -> raw chunk (exactly meta.chunk_bytes() long, or an error)
Result<std::vector<unsigned char>> decode_chunk(const model::ArrayMeta& meta, std::vector<unsigned char> stored);
// Undoes only the bytes->bytes codecs; `expected` 0 means the size is not known in advance
// (variable-length chunks, see io/vlen_strings.hpp).
Result<std::vector<unsigned char>> decode_bytes(const model::ArrayMeta& meta, std::vector<unsigned char> stored,
                                                size_t expected);

}  // namespace arraymorph::io
