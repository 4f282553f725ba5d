// vlen_strings.cpp -- see vlen_strings.hpp.
#include "io/vlen_strings.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/first_error.hpp"
#include "io/codec_pipeline.hpp"
#include "model/chunk_key.hpp"

namespace arraymorph::io {
namespace {

void put_u32(std::vector<unsigned char>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}
uint32_t get_u32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

char* copy_string(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}


// What a never-written element holds: a string dataset's fill value, else empty.
std::string fill_item(const model::ArrayMeta& meta) {
  return meta.data_type == "string" && meta.fill_value.is_string() ? meta.fill_value.get<std::string>() : std::string();
}

Result<std::vector<std::string>> load_chunk(const model::ArrayMeta& meta, Result<std::optional<Bytes>>&& r,
                                            const std::string& key) {
  const size_t n = meta.chunk_elements();
  if (!r.ok()) return r.status().with_context("reading chunk '" + key + "'");
  if (!r.value()) return std::vector<std::string>(n, fill_item(meta));  // never written
  return decode_vlen_chunk(meta, std::move(*r.value()), key);
}

}  // namespace

Result<std::vector<std::string>> decode_vlen_chunk(const model::ArrayMeta& meta, Bytes stored, const std::string& key) {
  auto raw = decode_bytes(meta, std::move(stored), 0);
  if (!raw.ok()) return raw.status().with_context("decoding chunk '" + key + "'");
  auto items = decode_vlen_utf8(raw.value(), meta.chunk_elements());
  if (!items.ok()) return items.status().with_context("chunk '" + key + "'");
  return items;
}

Result<Bytes> encode_vlen_chunk(const model::ArrayMeta& meta, const std::vector<std::string>& items) {
  return encode_chunk(meta, encode_vlen_utf8(items));
}

std::vector<unsigned char> encode_vlen_utf8(const std::vector<std::string>& items) {
  std::vector<unsigned char> out;
  size_t total = 4;
  for (const auto& s : items) total += 4 + s.size();
  out.reserve(total);
  put_u32(out, static_cast<uint32_t>(items.size()));
  for (const auto& s : items) {
    put_u32(out, static_cast<uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

Result<std::vector<std::string>> decode_vlen_utf8(const std::vector<unsigned char>& b, size_t expected_items) {
  if (b.size() < 4) return io_error("variable-length chunk data is truncated");
  const uint32_t n = get_u32(b.data());
  if (n != expected_items)
    return io_error("variable-length chunk data holds " + std::to_string(n) + " items, expected " + std::to_string(expected_items));
  std::vector<std::string> items;
  items.reserve(n);
  size_t pos = 4;
  for (uint32_t i = 0; i < n; ++i) {
    if (pos + 4 > b.size()) return io_error("variable-length chunk data is truncated");
    const uint32_t len = get_u32(b.data() + pos);
    pos += 4;
    if (pos + len > b.size()) return io_error("variable-length chunk data is truncated");
    items.emplace_back(reinterpret_cast<const char*>(b.data() + pos), len);
    pos += len;
  }
  return items;
}

Status read_vlen_items(ObjectStore& store, const std::string& prefix, const model::ArrayMeta& meta,
                       const ChunkPlan& plan, const std::function<void(uint64_t, const std::string&)>& take) {
  std::vector<GetRequest> reqs;
  for (const auto& w : plan.chunks) reqs.push_back({prefix + "/" + model::chunk_key(w.coords), std::nullopt});
  FirstError err;
  store.get_many(reqs, [&](size_t i, Result<std::optional<Bytes>>&& r) {
    auto items = load_chunk(meta, std::move(r), reqs[i].key);
    if (!items.ok()) {
      err.set(items.status());
      return;
    }
    try {
      for (const Piece& p : plan.chunks[i].pieces)
        for (uint64_t k = 0; k < p.count; ++k) take(p.buf_offset + k, items.value()[p.chunk_offset + k]);
    } catch (const std::bad_alloc&) {
      err.set(Status(Code::kInternal, "out of memory copying the items of chunk '" + reqs[i].key + "'"));
    }
  });
  return err.get();
}

Status write_vlen_items(ObjectStore& store, const std::string& prefix, const model::ArrayMeta& meta,
                        const ChunkPlan& plan, const std::function<std::string(uint64_t)>& give) {
  const size_t n = plan.chunks.size();
  std::vector<std::vector<std::string>> chunks(n);
  std::vector<GetRequest> reqs;
  std::vector<size_t> which;
  for (size_t i = 0; i < n; ++i) {
    if (plan.chunks[i].selected < plan.chunks[i].valid) {  // partial: keep the other items
      reqs.push_back({prefix + "/" + model::chunk_key(plan.chunks[i].coords), std::nullopt});
      which.push_back(i);
    } else {
      chunks[i].assign(meta.chunk_elements(), fill_item(meta));
    }
  }
  FirstError err;
  store.get_many(reqs, [&](size_t k, Result<std::optional<Bytes>>&& r) {
    auto items = load_chunk(meta, std::move(r), reqs[k].key);
    if (!items.ok()) err.set(items.status());
    else chunks[which[k]] = std::move(items).value();
  });
  Status s = err.get();
  if (!s.ok()) return s;
  std::vector<Bytes> encoded(n);
  std::vector<PutRequest> puts;
  for (size_t i = 0; i < n; ++i) {
    for (const Piece& p : plan.chunks[i].pieces)
      for (uint64_t k = 0; k < p.count; ++k) chunks[i][p.chunk_offset + k] = give(p.buf_offset + k);
    auto enc = encode_vlen_chunk(meta, chunks[i]);
    if (!enc.ok()) return enc.status();
    encoded[i] = std::move(enc).value();
    puts.push_back({prefix + "/" + model::chunk_key(plan.chunks[i].coords), encoded[i].data(), encoded[i].size()});
  }
  store.put_many(puts, [&](size_t i, Status&& st) {
    if (!st.ok()) err.set(st.with_context("writing chunk '" + puts[i].key + "'"));
  });
  return err.get();
}

Status read_vlen_strings(ObjectStore& store, const std::string& prefix, const model::ArrayMeta& meta,
                         const ChunkPlan& plan, char** buf) {
  return read_vlen_items(store, prefix, meta, plan,
                         [buf](uint64_t i, const std::string& item) { buf[i] = copy_string(item); });
}

Status write_vlen_strings(ObjectStore& store, const std::string& prefix, const model::ArrayMeta& meta,
                          const ChunkPlan& plan, const char* const* buf) {
  return write_vlen_items(store, prefix, meta, plan, [buf](uint64_t i) {
    const char* src = buf[i];
    return std::string(src ? src : "");
  });
}

}  // namespace arraymorph::io
