// codec_pipeline.cpp -- see codec_pipeline.hpp.
#include "io/codec_pipeline.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "io/hdf5_filter.hpp"
#ifdef ARRAYMORPH_WITH_ZSTD
#include <zstd.h>
#endif
#ifdef ARRAYMORPH_WITH_LIBDEFLATE
#include <libdeflate.h>

#include <memory>
#endif
#ifdef ARRAYMORPH_WITH_BLOSC
#include <blosc.h>
#endif

#include "common/crc32c.hpp"

namespace arraymorph::io {
namespace {

using Buf = std::vector<unsigned char>;

// Zarr v3 "crc32c" codec: the CRC-32C of the bytes, appended as 4 little-endian bytes.
Buf crc32c_encode(Buf in) {
  const uint32_t c = crc32c(in.data(), in.size());
  for (int i = 0; i < 4; ++i) in.push_back(static_cast<unsigned char>(c >> (8 * i)));
  return in;
}
Result<Buf> crc32c_decode(Buf in) {
  if (in.size() < 4) return io_error("chunk is shorter than its crc32c checksum (" + std::to_string(in.size()) + " bytes)");
  const size_t n = in.size() - 4;
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= uint32_t(in[n + static_cast<size_t>(i)]) << (8 * i);
  const uint32_t computed = crc32c(in.data(), n);
  if (stored != computed) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "crc32c checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
    return io_error(buf);
  }
  in.resize(n);
  return in;
}

#ifdef ARRAYMORPH_WITH_LIBDEFLATE
// libdeflate (issue 19, item 3) inflates whole buffers two to three times faster than zlib; the
// result is the same bytes whoever decodes. Encoding stays with zlib on purpose: its DEFLATE
// streams are the ones native HDF5, h5py and zarr-python (all zlib) write, so a chunk we write is
// byte-identical to theirs (read_direct_chunk equals native, `arraymorph cp` round trips are
// bit-exact), which libdeflate's different (equally valid) streams would break. A decompressor
// is not thread-safe and costs a little to make: one per worker thread.
libdeflate_decompressor* thread_decompressor() {
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> d(libdeflate_alloc_decompressor());
  return d.get();
}
#endif

Result<Buf> gzip_encode(const Buf& in, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return internal_error("zlib deflateInit2 failed");
  Buf out(deflateBound(&zs, in.size()) + 32);
  zs.next_in = const_cast<unsigned char*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return internal_error("gzip compression failed");
  out.resize(zs.total_out);
  return out;
}

// expected == 0: size unknown (variable-length chunks); the output grows as needed.
Result<Buf> gzip_decode_unsized(const Buf& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return internal_error("zlib inflateInit2 failed");
  Buf out(std::max<size_t>(in.size() * 4, 1024));
  zs.next_in = const_cast<unsigned char*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.total_out == out.size()) out.resize(out.size() * 2);
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) rc = Z_OK;  // just needs more room
  }
  size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return io_error("gzip chunk is corrupt");
  out.resize(produced);
  return out;
}

}  // namespace

bool inflate_exact(const unsigned char* in, size_t n, unsigned char* out, size_t size) {
#ifdef ARRAYMORPH_WITH_LIBDEFLATE
  libdeflate_decompressor* d = thread_decompressor();
  if (d == nullptr || n < 2) return false;
  const bool zlib_header = (in[0] & 0x0f) == 8 && (((in[0] << 8) | in[1]) % 31) == 0;
  size_t used = 0, produced = 0;
  const libdeflate_result r = zlib_header ? libdeflate_zlib_decompress_ex(d, in, n, out, size, &used, &produced)
                                          : libdeflate_gzip_decompress_ex(d, in, n, out, size, &used, &produced);
  return r == LIBDEFLATE_SUCCESS && produced == size && used == n;
#else
  (void)in, (void)n, (void)out, (void)size;
  return false;
#endif
}

uint32_t crc32_update(uint32_t crc, const unsigned char* data, size_t n) {
#ifdef ARRAYMORPH_WITH_LIBDEFLATE
  return libdeflate_crc32(crc, data, n);
#else
  while (n > 0) {  // zlib takes uInt lengths
    const uInt step = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = static_cast<uint32_t>(crc32(crc, data, step));
    data += step;
    n -= step;
  }
  return crc;
#endif
}

namespace {

Result<Buf> gzip_decode(const Buf& in, size_t expected) {
  if (expected == 0) return gzip_decode_unsized(in);
#ifdef ARRAYMORPH_WITH_LIBDEFLATE
  // A single gzip member or a zlib stream of exactly `expected` bytes; anything else (several
  // gzip members, a corrupt or short stream) goes to zlib below, which decides and words the error.
  {
    Buf out(expected);
    if (inflate_exact(in.data(), in.size(), out.data(), out.size())) return out;
  }
#endif
  z_stream zs{};
  // 32 + 15: accept both gzip and zlib headers (zarr-python writes gzip; HDF5 deflate is zlib).
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return internal_error("zlib inflateInit2 failed");
  Buf out(expected);
  zs.next_in = const_cast<unsigned char*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != expected)
    return io_error("gzip chunk is corrupt or has the wrong size (" + std::to_string(produced) +
                    " bytes, expected " + std::to_string(expected) + ")");
  return out;
}

#ifdef ARRAYMORPH_WITH_ZSTD
Result<Buf> zstd_encode(const Buf& in, int level) {
  Buf out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(n)) return internal_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}
Result<Buf> zstd_decode(const Buf& in, size_t expected) {
  if (expected == 0) {
    unsigned long long n = ZSTD_getFrameContentSize(in.data(), in.size());
    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN)
      return io_error("zstd chunk does not record its decompressed size");
    expected = static_cast<size_t>(n);
    if (expected == 0) return Buf();
  }
  Buf out(expected);
  size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != expected)
    return io_error("zstd chunk is corrupt or has the wrong size");
  return out;
}
#endif

#ifdef ARRAYMORPH_WITH_BLOSC
// Zarr v3 "blosc" codec (blosc1 frames). The _ctx functions are safe on worker threads.
Result<Buf> blosc_encode(const Buf& in, const model::Codec& c, size_t elem) {
  const std::string sh = c.configuration.value("shuffle", "noshuffle");
  const int shuffle = sh == "bitshuffle" ? BLOSC_BITSHUFFLE : sh == "shuffle" ? BLOSC_SHUFFLE : BLOSC_NOSHUFFLE;
  const std::string cname = c.configuration.value("cname", "lz4");
  const size_t typesize = c.configuration.value("typesize", elem);
  Buf out(in.size() + BLOSC_MAX_OVERHEAD);
  int n = blosc_compress_ctx(c.configuration.value("clevel", 5), shuffle, typesize ? typesize : 1, in.size(), in.data(),
                             out.data(), out.size(), cname.c_str(), c.configuration.value("blocksize", size_t(0)), 1);
  if (n <= 0) return internal_error("blosc compression with '" + cname + "' failed");
  out.resize(static_cast<size_t>(n));
  return out;
}
Result<Buf> blosc_decode(const Buf& in, size_t expected) {
  if (expected == 0) {
    size_t nbytes = 0, cbytes = 0, blocksize = 0;
    if (in.size() < BLOSC_MIN_HEADER_LENGTH) return io_error("blosc chunk is truncated");
    blosc_cbuffer_sizes(in.data(), &nbytes, &cbytes, &blocksize);
    expected = nbytes;
    if (expected == 0) return Buf();
  }
  Buf out(expected);
  int n = blosc_decompress_ctx(in.data(), out.data(), out.size(), 1);
  if (n < 0 || static_cast<size_t>(n) != expected) return io_error("blosc chunk is corrupt or has the wrong size");
  return out;
}
#endif

// numcodecs' Shuffle: byte k of every element goes to plane k.
Buf shuffle(const Buf& in, size_t elem) {
  if (elem <= 1) return in;
  Buf out(in.size());
  size_t n = in.size() / elem;
  for (size_t i = 0; i < n; ++i)
    for (size_t b = 0; b < elem; ++b) out[b * n + i] = in[i * elem + b];
  std::memcpy(out.data() + n * elem, in.data() + n * elem, in.size() - n * elem);
  return out;
}
Buf unshuffle(const Buf& in, size_t elem) {
  if (elem <= 1) return in;
  Buf out(in.size());
  size_t n = in.size() / elem;
  for (size_t i = 0; i < n; ++i)
    for (size_t b = 0; b < elem; ++b) out[i * elem + b] = in[b * n + i];
  std::memcpy(out.data() + n * elem, in.data() + n * elem, in.size() - n * elem);
  return out;
}

size_t shuffle_elem(const model::Codec& c, const model::ArrayMeta& meta) {
  return c.configuration.value("elementsize", meta.element_size);
}

}  // namespace

Status check_codecs(const std::vector<model::Codec>& codecs) {
  for (const auto& c : codecs) {
    if (c.name == "bytes" || c.name == "vlen-utf8" || c.name == "vlen-bytes" || c.name == "gzip" || c.name == "numcodecs.shuffle" ||
        c.name == "crc32c")
      continue;
    if (c.name == kHdf5FilterCodec) {
      Status s = check_filter(c);
      if (!s.ok()) return s;
      continue;
    }
#ifdef ARRAYMORPH_WITH_ZSTD
    if (c.name == "zstd") continue;
#endif
#ifdef ARRAYMORPH_WITH_BLOSC
    if (c.name == "blosc") continue;
#endif
    return unsupported("codec '" + c.name + "'");
  }
  return ok_status();
}

Result<Buf> encode_chunk(const model::ArrayMeta& meta, Buf raw) {
  for (const auto& c : meta.codecs) {
    if (c.name == "bytes" || c.name == "vlen-utf8" || c.name == "vlen-bytes") continue;  // array->bytes step done by the caller
    Result<Buf> r = Buf();
    if (c.name == "gzip") r = gzip_encode(raw, c.configuration.value("level", 6));
    else if (c.name == "numcodecs.shuffle") r = shuffle(raw, shuffle_elem(c, meta));
    else if (c.name == kHdf5FilterCodec) r = run_filter(c, std::move(raw), false);
    else if (c.name == "crc32c") r = crc32c_encode(std::move(raw));
#ifdef ARRAYMORPH_WITH_ZSTD
    else if (c.name == "zstd") r = zstd_encode(raw, c.configuration.value("level", 3));
#endif
#ifdef ARRAYMORPH_WITH_BLOSC
    else if (c.name == "blosc") r = blosc_encode(raw, c, meta.element_size);
#endif
    else return unsupported("codec '" + c.name + "'");
    if (!r.ok()) return r.status();
    raw = std::move(r).value();
  }
  return raw;
}

Result<Buf> decode_chunk(const model::ArrayMeta& meta, Buf stored) {
  auto out = decode_bytes(meta, std::move(stored), meta.chunk_bytes());
  if (!out.ok()) return out;
  if (out.value().size() != meta.chunk_bytes())
    return io_error("chunk has " + std::to_string(out.value().size()) + " bytes, expected " +
                    std::to_string(meta.chunk_bytes()));
  return out;
}

Result<Buf> decode_bytes(const model::ArrayMeta& meta, Buf stored, size_t expected) {
  for (auto it = meta.codecs.rbegin(); it != meta.codecs.rend(); ++it) {
    const auto& c = *it;
    if (c.name == "bytes" || c.name == "vlen-utf8" || c.name == "vlen-bytes") continue;
    Result<Buf> r = Buf();
    if (c.name == "gzip") r = gzip_decode(stored, expected);
    else if (c.name == "numcodecs.shuffle") r = unshuffle(stored, shuffle_elem(c, meta));
    else if (c.name == kHdf5FilterCodec) r = run_filter(c, std::move(stored), true);
    else if (c.name == "crc32c") r = crc32c_decode(std::move(stored));
#ifdef ARRAYMORPH_WITH_ZSTD
    else if (c.name == "zstd") r = zstd_decode(stored, expected);
#endif
#ifdef ARRAYMORPH_WITH_BLOSC
    else if (c.name == "blosc") r = blosc_decode(stored, expected);
#endif
    else return unsupported("codec '" + c.name + "'");
    if (!r.ok()) return r.status();
    stored = std::move(r).value();
  }
  return stored;
}

}  // namespace arraymorph::io
