// hdf5_chunk_form.cpp -- see hdf5_chunk_form.hpp.
#include "io/hdf5_chunk_form.hpp"

#include <zlib.h>

#include "io/codec_pipeline.hpp"

namespace arraymorph::io {
namespace {

using Buf = std::vector<unsigned char>;

bool is_array_to_bytes(const model::Codec& c) { return c.name == "bytes" || c.name == "vlen-utf8" || c.name == "vlen-bytes"; }

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
  size_t consumed = 0;  // input bytes the deflate stream took (its end is found by inflating)
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
  s.consumed = size - zs.avail_in;
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

// The reverse of gzip_to_zlib for HDF5's deflate output: the deflate stream is kept; its
// Adler-32 is checked (so a damaged chunk is refused, never stored) and the gzip trailer's CRC-32
// and length computed by inflating it once (no recompression). `expected`: the inflated length the
// chain requires (the chunk's bytes). XFL and OS as zlib writes them on this platform (OS 3).
Result<Buf> zlib_to_gzip(const Buf& z, int level, uint64_t expected) {
  if (z.size() < 6 || (z[0] & 0x0f) != 8 || ((z[0] << 8) | z[1]) % 31 != 0)
    return io_error("gzip chunk is corrupt (not a zlib stream as HDF5's deflate filter writes)");
  if (z[1] & 0x20) return unsupported("a deflate stream with a preset dictionary");
  const size_t deflate_len = z.size() - 6;
  StreamSums s;
  // Fast path (`arraymorph cp` spends most of its own CPU here): libdeflate inflates the whole
  // stream into a per-thread buffer, checking the Adler-32, then one CRC-32 pass. Any failure
  // goes through zlib below, which finds and words what is wrong.
  thread_local Buf plain;
  if (expected > 0 && expected <= (uint64_t{1} << 31)) {
    plain.resize(static_cast<size_t>(expected));
    if (inflate_exact(z.data(), z.size(), plain.data(), plain.size())) {
      s.crc = crc32_update(0, plain.data(), plain.size());
      s.length = expected;
    }
    if (plain.capacity() > (64u << 20)) Buf().swap(plain);  // keep at most one ordinary chunk
  }
  if (s.length == 0 || s.length != expected) {
    auto sums = sums_of_deflate(z.data() + 2, deflate_len);
    if (!sums.ok()) return sums.status();
    s = sums.value();
    uLong stored_adler = 0;
    for (size_t i = 0; i < 4; ++i) stored_adler = (stored_adler << 8) | z[2 + deflate_len + i];
    if (s.consumed != deflate_len || s.adler != stored_adler)
      return io_error("gzip chunk is corrupt (its Adler-32 trailer does not match its deflate stream)");
    if (s.length != expected)
      return io_error("gzip chunk inflates to " + std::to_string(s.length) + " bytes, not the chunk's " +
                      std::to_string(expected));
  }
  Buf gz;
  gz.reserve(deflate_len + 18);
  const unsigned char xfl = level == 9 ? 2 : level == 1 ? 4 : 0;
  for (unsigned char b : {0x1f, 0x8b, 8, 0, 0, 0, 0, 0}) gz.push_back(b);
  gz.push_back(xfl);
  gz.push_back(3);
  gz.insert(gz.end(), z.begin() + 2, z.begin() + 2 + static_cast<std::ptrdiff_t>(deflate_len));
  for (uLong v : {s.crc, static_cast<uLong>(s.length & 0xffffffffu)})
    for (int shift : {0, 8, 16, 24}) gz.push_back(static_cast<unsigned char>((v >> shift) & 0xff));
  return gz;
}

// True when the filters before the gzip codec keep the length (shuffle), so the deflate stream
// of a whole chunk inflates to exactly the chunk's bytes.
bool inflates_to_chunk(const model::ArrayMeta& meta, const std::vector<model::Codec>& filters, size_t gzip_index) {
  for (const auto& c : meta.codecs)
    if (c.name == "vlen-utf8" || c.name == "vlen-bytes") return false;
  for (size_t i = 0; i < gzip_index; ++i)
    if (filters[i].name != "numcodecs.shuffle") return false;
  return true;
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

Result<Buf> from_hdf5_form(const model::ArrayMeta& meta, Buf bytes, uint32_t filter_mask, FormChange* change) {
  const auto filters = filters_of(meta);
  FormChange dummy;
  FormChange& how = change ? *change : dummy;
  // Bits beyond the pipeline name no filter; HDF5 ignores them too (h5py's tests pass ~0 to mean
  // "no filter applied").
  if (filters.size() < 32) filter_mask &= (1u << filters.size()) - 1;
  const GzipSpot g = find_gzip(filters);
  if (filter_mask == 0 && !g.present) {  // same bytes as HDF5's: check they decode
    auto decoded = decode_chunk(meta, bytes);
    if (!decoded.ok()) return decoded.status().with_context("direct chunk write");
    how = FormChange::kVerbatim;
    return bytes;
  }
  if (filter_mask == 0 && g.reframable && inflates_to_chunk(meta, filters, g.index)) {
    // Keep the deflate stream: peel the codecs after gzip, re-frame, put them back.
    const model::ArrayMeta outer =
        with_filters(meta, {filters.begin() + static_cast<std::ptrdiff_t>(g.index) + 1, filters.end()});
    auto z = decode_bytes(outer, std::move(bytes), 0);
    if (!z.ok()) return z.status().with_context("direct chunk write");
    auto gz = zlib_to_gzip(z.value(), filters[g.index].configuration.value("level", 6), meta.chunk_bytes());
    if (!gz.ok()) return gz.status().with_context("direct chunk write");
    how = FormChange::kReframed;
    return encode_chunk(outer, std::move(gz).value());
  }
  // Undo the filters that were applied (HDF5's deflate output decodes with our gzip decoder,
  // which accepts zlib framing), then encode with the full chain.
  std::vector<model::Codec> applied;
  for (size_t i = 0; i < filters.size(); ++i)
    if (!(filter_mask & (1u << i))) applied.push_back(filters[i]);
  auto raw = decode_chunk(with_filters(meta, applied), std::move(bytes));
  if (!raw.ok()) return raw.status().with_context("direct chunk write");
  how = FormChange::kRecoded;
  return encode_chunk(meta, std::move(raw).value());
}

}  // namespace arraymorph::io
