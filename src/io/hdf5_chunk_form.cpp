// hdf5_chunk_form.cpp -- see hdf5_chunk_form.hpp.
#include "io/hdf5_chunk_form.hpp"

#include <zlib.h>

#include "io/codec_pipeline.hpp"

namespace arraymorph::io {
namespace {

using Buf = std::vector<unsigned char>;

bool is_array_to_bytes(const model::Codec& c) { return c.name == "bytes" || c.name == "vlen-utf8"; }

// The bytes->bytes codecs (HDF5 filters), in pipeline order.
std::vector<model::Codec> filters_of(const model::ArrayMeta& meta) {
  std::vector<model::Codec> out;
  for (const auto& c : meta.codecs)
    if (!is_array_to_bytes(c)) out.push_back(c);
  return out;
}

// A copy of `meta` whose chain is the array->bytes codec followed by `filters`.
model::ArrayMeta with_filters(const model::ArrayMeta& meta, const std::vector<model::Codec>& filters) {
  model::ArrayMeta sub = meta;
  sub.codecs.clear();
  for (const auto& c : meta.codecs)
    if (is_array_to_bytes(c)) sub.codecs.push_back(c);
  sub.codecs.insert(sub.codecs.end(), filters.begin(), filters.end());
  return sub;
}

// Codecs applied after a gzip whose output keeps the gzip stream's bytes at a fixed size offset.
bool keeps_size_offset(const model::Codec& c) { return c.name == "numcodecs.shuffle" || c.name == "numcodecs.fletcher32"; }

// Where the one gzip codec sits, when the chain converts by re-framing; nullopt: no gzip.
// Throws-free: `ok` false when the chain has gzip but cannot be re-framed (two gzips).
struct GzipSpot {
  bool present = false;
  bool reframable = true;
  size_t index = 0;  // among the filters
  bool fixed_offset = true;
};
GzipSpot find_gzip(const std::vector<model::Codec>& filters) {
  GzipSpot g;
  for (size_t i = 0; i < filters.size(); ++i) {
    if (filters[i].name != "gzip") continue;
    if (g.present) g.reframable = false;
    g.present = true;
    g.index = i;
  }
  if (g.present)
    for (size_t i = g.index + 1; i < filters.size(); ++i) g.fixed_offset = g.fixed_offset && keeps_size_offset(filters[i]);
  return g;
}

// Inflates a raw deflate stream, returning (Adler-32, CRC-32, length) of the data.
struct StreamSums {
  uLong adler = 0, crc = 0;
  uint64_t length = 0;
};
Result<StreamSums> sums_of_deflate(const unsigned char* data, size_t size) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return internal_error("zlib inflateInit2 failed");
  StreamSums s;
  s.adler = adler32(0L, Z_NULL, 0);
  s.crc = crc32(0L, Z_NULL, 0);
  Buf out(1 << 16);
  zs.next_in = const_cast<unsigned char*>(data);
  zs.avail_in = static_cast<uInt>(size);
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    const size_t got = out.size() - zs.avail_out;
    s.adler = adler32(s.adler, out.data(), static_cast<uInt>(got));
    s.crc = crc32(s.crc, out.data(), static_cast<uInt>(got));
    s.length += got;
    if (rc == Z_BUF_ERROR && got > 0) rc = Z_OK;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return io_error("gzip chunk is corrupt (its deflate stream does not end)");
  return s;
}

// `level`: the deflate level, recorded in the zlib header's FLEVEL bits as zlib (and so HDF5's
// deflate filter) writes them.
Result<Buf> gzip_to_zlib(const Buf& gz, int level) {
  if (gz.size() < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8) return io_error("gzip chunk has no gzip header");
  const unsigned flg = gz[3];
  size_t pos = 10;
  if (flg & 4) {  // FEXTRA
    if (pos + 2 > gz.size()) return io_error("gzip chunk header is truncated");
    pos += 2 + (gz[pos] | (gz[pos + 1] << 8));
  }
  for (unsigned bit : {8u, 16u})  // FNAME, FCOMMENT: zero-terminated
    if (flg & bit) {
      while (pos < gz.size() && gz[pos] != 0) ++pos;
      ++pos;
    }
  if (flg & 2) pos += 2;  // FHCRC
  if (pos + 8 > gz.size()) return io_error("gzip chunk header is truncated");
  const size_t deflate_len = gz.size() - pos - 8;
  auto sums = sums_of_deflate(gz.data() + pos, deflate_len);
  if (!sums.ok()) return sums.status();
  Buf z;
  z.reserve(deflate_len + 6);
  const unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
  unsigned zflg = flevel << 6;
  zflg += 31 - ((0x78u * 256 + zflg) % 31);  // FCHECK
  z.push_back(0x78);
  z.push_back(static_cast<unsigned char>(zflg));
  z.insert(z.end(), gz.begin() + static_cast<std::ptrdiff_t>(pos), gz.begin() + static_cast<std::ptrdiff_t>(pos + deflate_len));
  const uLong a = sums.value().adler;
  for (int shift : {24, 16, 8, 0}) z.push_back(static_cast<unsigned char>((a >> shift) & 0xff));
  return z;
}

}  // namespace

Result<Buf> to_hdf5_form(const model::ArrayMeta& meta, Buf stored) {
  const auto filters = filters_of(meta);
  const GzipSpot g = find_gzip(filters);
  if (!g.present) return stored;
  if (!g.reframable) {  // decode all, re-encode with HDF5's framing: not needed by any chain we write
    return unsupported("direct chunk reads of a chain with two gzip codecs");
  }
  // Peel the codecs after gzip, re-frame, put them back.
  const model::ArrayMeta outer = with_filters(meta, {filters.begin() + static_cast<std::ptrdiff_t>(g.index) + 1, filters.end()});
  auto gz = decode_bytes(outer, std::move(stored), 0);
  if (!gz.ok()) return gz.status();
  auto z = gzip_to_zlib(gz.value(), filters[g.index].configuration.value("level", 6));
  if (!z.ok()) return z.status();
  return encode_chunk(outer, std::move(z).value());
}

std::optional<uint64_t> hdf5_form_size(const model::ArrayMeta& meta, uint64_t object_size) {
  const GzipSpot g = find_gzip(filters_of(meta));
  if (!g.present) return object_size;
  if (!g.reframable || !g.fixed_offset || object_size < 18) return std::nullopt;
  return object_size - 12;
}

Result<Buf> from_hdf5_form(const model::ArrayMeta& meta, Buf bytes, uint32_t filter_mask) {
  const auto filters = filters_of(meta);
  // Bits beyond the pipeline name no filter; HDF5 ignores them too (h5py's tests pass ~0 to mean
  // "no filter applied").
  if (filters.size() < 32) filter_mask &= (1u << filters.size()) - 1;
  if (filter_mask == 0 && !find_gzip(filters).present) {  // same bytes as HDF5's: check they decode
    auto decoded = decode_chunk(meta, bytes);
    if (!decoded.ok()) return decoded.status().with_context("direct chunk write");
    return bytes;
  }
  // Undo the filters that were applied (HDF5's deflate output decodes with our gzip decoder,
  // which accepts zlib framing), then encode with the full chain.
  std::vector<model::Codec> applied;
  for (size_t i = 0; i < filters.size(); ++i)
    if (!(filter_mask & (1u << i))) applied.push_back(filters[i]);
  auto raw = decode_chunk(with_filters(meta, applied), std::move(bytes));
  if (!raw.ok()) return raw.status().with_context("direct chunk write");
  return encode_chunk(meta, std::move(raw).value());
}

}  // namespace arraymorph::io
