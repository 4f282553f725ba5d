// chunk_api.cpp -- see chunk_api.hpp. Also the dataset "optional" callback that dispatches to it.
#include "vol/chunk_api.hpp"

#include <H5VLnative.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "arraymorph/arraymorph.h"
#include "vol/connector_state.hpp"
#include "common/first_error.hpp"

#include "io/chunk_cache.hpp"
#include "io/hdf5_chunk_form.hpp"
#include "io/shard_io.hpp"
#include "model/shard_index.hpp"
#include "model/chunk_key.hpp"
#include "vol/callbacks.hpp"
#include "vol/trampoline.hpp"

namespace arraymorph::vol {
namespace {

// check() with the chunk named in the error.
template <typename T>
T check_chunk(Result<T>&& r, const std::string& what) {
  if (!r.ok()) throw Error(r.status().with_context(what));
  return std::move(r).value();
}

struct StoredChunk {
  std::vector<uint64_t> coords;  // chunk grid coordinates
  std::string key;               // object key (with shards: the shard's)
  uint64_t object_size = 0;      // bytes (with shards: of the inner chunk)
  uint64_t offset = 0;           // where its bytes start in the object (non-zero only in shards)
  bool in_shard = false;
};

// The stored chunks of a sharded dataset inside its extent: the shards' indexes (io/shard_io.hpp).
std::vector<StoredChunk> stored_inner_chunks(DatasetObject& d, const std::vector<std::vector<uint64_t>>& shards) {
  const model::ArrayMeta& meta = *d.node->array;
  std::vector<StoredChunk> out;
  for (auto& c : check(io::stored_inner_chunks(make_target(d), shards))) {
    bool inside = true;
    for (size_t k = 0; k < meta.rank(); ++k) inside = inside && c.coords[k] * meta.chunk_shape[k] < meta.shape[k];
    if (inside) out.push_back({std::move(c.coords), std::move(c.shard_key), c.nbytes, c.offset, true});
  }
  return out;
}

// The chunk objects of `d` inside its extent, in C order of their coordinates (one LIST).
std::vector<StoredChunk> stored_chunks(DatasetObject& d) {
  const model::ArrayMeta& meta = *d.node->array;
  const std::string prefix = d.key_prefix() + "/";
  auto objs = check(list_all(d.store(), prefix + "c"));
  std::vector<StoredChunk> out;
  for (auto& o : objs) {
    auto coords = model::parse_chunk_key(o.key.substr(prefix.size()), meta.rank());
    if (!coords) continue;
    bool inside = true;
    const auto& grid = meta.shard ? meta.shard->shard_shape : meta.chunk_shape;  // objects: shards
    for (size_t k = 0; k < meta.rank(); ++k) inside = inside && (*coords)[k] * grid[k] < meta.shape[k];
    if (inside) out.push_back({std::move(*coords), std::move(o.key), o.size});
  }
  if (meta.shard) {  // the objects are shards: their inner chunks
    std::vector<std::vector<uint64_t>> shards;
    for (auto& c : out) shards.push_back(std::move(c.coords));
    out = stored_inner_chunks(d, shards);
  }
  std::sort(out.begin(), out.end(), [](const StoredChunk& a, const StoredChunk& b) { return a.coords < b.coords; });
  return out;
}

uint64_t chunks_in_extent(const model::ArrayMeta& meta) {
  uint64_t n = 1;
  for (size_t k = 0; k < meta.rank(); ++k) n *= (meta.shape[k] + meta.chunk_shape[k] - 1) / meta.chunk_shape[k];
  return n;
}

const model::ArrayMeta& chunked_meta(DatasetObject& d) {
  refresh_space(d);
  const model::ArrayMeta& meta = *d.node->array;
  if (meta.contiguous || meta.rank() == 0) throw Error(invalid_argument("dataset '" + d.path + "' is not a chunked dataset"));
  return meta;
}

void require_fixed_size(DatasetObject& d, const char* what) {
  if (d.node->array->variable_length())
    throw Error(unsupported(std::string(what) + " of the variable-length dataset '" + d.path +
                            "' (its chunks hold the items, not HDF5's heap references)"));
}

// Element offset (H5Dread_chunk/H5Dwrite_chunk/H5Dget_chunk_info_by_coord) -> chunk coordinates.
// Like HDF5: the offset must fall on a chunk boundary and inside the extent.
std::vector<uint64_t> chunk_coords(DatasetObject& d, const model::ArrayMeta& meta, const hsize_t* offset) {
  if (!offset) throw Error(invalid_argument("no chunk offset given"));
  std::vector<uint64_t> coords(meta.rank());
  for (size_t k = 0; k < meta.rank(); ++k) {
    if (offset[k] % meta.chunk_shape[k] != 0)
      throw Error(invalid_argument("chunk offset " + std::to_string(offset[k]) + " in dimension " + std::to_string(k) +
                                  " of '" + d.path + "' does not fall on a chunk boundary (chunk size " +
                                  std::to_string(meta.chunk_shape[k]) + ")"));
    if (offset[k] >= meta.shape[k])
      throw Error(invalid_argument("chunk offset " + std::to_string(offset[k]) + " in dimension " + std::to_string(k) +
                                  " exceeds the extent " + std::to_string(meta.shape[k]) + " of '" + d.path + "'"));
    coords[k] = offset[k] / meta.chunk_shape[k];
  }
  return coords;
}

std::string key_of(DatasetObject& d, const std::vector<uint64_t>& coords) {
  return d.key_prefix() + "/" + model::chunk_key(coords);
}

std::string describe(const StoredChunk& c) {
  return c.in_shard ? "inner chunk at byte " + std::to_string(c.offset) + " of shard " + c.key : "chunk " + c.key;
}

// A stored chunk's bytes (with shards: a ranged GET of its shard).
std::optional<Bytes> stored_bytes(DatasetObject& d, const StoredChunk& c) {
  if (!c.in_shard) return check(d.store().get(c.key));
  auto got = check(d.store().get(c.key, ByteRange{c.offset, c.object_size}));
  if (got && got->size() != c.object_size)
    throw Error(io_error(describe(c) + " of '" + d.path + "' is cut short: the shard is corrupt or was replaced"));
  return got;
}

// HDF5 raw size of a stored chunk: from the object size when the codecs allow, else by converting.
hsize_t raw_size(DatasetObject& d, const StoredChunk& c) {
  const model::ArrayMeta& meta = *d.node->array;
  if (auto n = io::hdf5_form_size(meta, c.object_size)) return *n;
  auto got = stored_bytes(d, c);
  if (!got) return 0;
  return check_chunk(io::to_hdf5_form(meta, std::move(*got)), describe(c)).size();
}

void fill_info(DatasetObject& d, const model::ArrayMeta& meta, const StoredChunk* c, hsize_t* offset, unsigned* mask,
               haddr_t* addr, hsize_t* size) {
  if (offset && c)
    for (size_t k = 0; k < meta.rank(); ++k) offset[k] = c->coords[k] * meta.chunk_shape[k];
  if (mask) *mask = 0;
  if (addr) *addr = c ? c->offset : HADDR_UNDEF;
  if (size) *size = c ? raw_size(d, *c) : 0;
}

std::optional<StoredChunk> find_chunk(DatasetObject& d, const std::vector<uint64_t>& coords) {
  if (const auto& shard = d.node->array->shard) {
    for (auto& c : stored_inner_chunks(d, {model::shard_coords(coords, *shard)}))
      if (c.coords == coords) return std::move(c);
    return std::nullopt;
  }
  const std::string key = key_of(d, coords);
  auto info = check(d.store().head(key));
  if (!info) return std::nullopt;
  return StoredChunk{coords, key, info->size};
}

herr_t chunk_optional(DatasetObject& d, H5VL_native_dataset_optional_args_t& a, int op) {
  switch (op) {
    case H5VL_NATIVE_DATASET_GET_NUM_CHUNKS: {
      chunked_meta(d);
      *a.get_num_chunks.nchunks = stored_chunks(d).size();
      return 0;
    }
    case H5VL_NATIVE_DATASET_GET_CHUNK_INFO_BY_IDX: {
      const auto& meta = chunked_meta(d);
      auto& g = a.get_chunk_info_by_idx;
      auto chunks = stored_chunks(d);
      if (g.chk_index >= chunks.size())
        throw Error(invalid_argument("chunk index " + std::to_string(g.chk_index) + " out of range: '" + d.path + "' has " +
                                     std::to_string(chunks.size()) + " stored chunks"));
      fill_info(d, meta, &chunks[g.chk_index], g.offset, g.filter_mask, g.addr, g.size);
      return 0;
    }
    case H5VL_NATIVE_DATASET_GET_CHUNK_INFO_BY_COORD: {
      const auto& meta = chunked_meta(d);
      auto& g = a.get_chunk_info_by_coord;
      auto c = find_chunk(d, chunk_coords(d, meta, g.offset));
      fill_info(d, meta, c ? &*c : nullptr, nullptr, g.filter_mask, g.addr, g.size);
      return 0;
    }
    case H5VL_NATIVE_DATASET_GET_CHUNK_STORAGE_SIZE: {
      const auto& meta = chunked_meta(d);
      auto c = find_chunk(d, chunk_coords(d, meta, a.get_chunk_storage_size.offset));
      *a.get_chunk_storage_size.size = c ? raw_size(d, *c) : 0;
      return 0;
    }
    case H5VL_NATIVE_DATASET_CHUNK_READ: {
      const auto& meta = chunked_meta(d);
      require_fixed_size(d, "direct chunk reads");
      auto& r = a.chunk_read;
      const auto coords = chunk_coords(d, meta, r.offset);
      std::optional<StoredChunk> c;
      if (meta.shard) c = find_chunk(d, coords);
      else c = StoredChunk{coords, key_of(d, coords), 0, 0, false};
      auto got = c ? stored_bytes(d, *c) : std::nullopt;
      const std::string what = c ? describe(*c) : "chunk " + key_of(d, coords);
      if (!got) throw Error(not_found(what + " of '" + d.path + "' is not stored (never written)"));
      auto raw = check_chunk(io::to_hdf5_form(meta, std::move(*got)), what);
      if (!raw.empty()) std::memcpy(r.buf, raw.data(), raw.size());
      r.filters = 0;
      return 0;
    }
    case H5VL_NATIVE_DATASET_CHUNK_WRITE: {
      auto& w = a.chunk_write;
      const RawChunk one{w.offset, w.filters, static_cast<const unsigned char*>(w.buf), w.size};
      write_raw_chunks(d, &one, 1);
      return 0;
    }
    case H5VL_NATIVE_DATASET_CHUNK_ITER: {
      const auto& meta = chunked_meta(d);
      auto& it = a.chunk_iter;
      std::vector<hsize_t> offset(meta.rank());
      for (const auto& c : stored_chunks(d)) {
        unsigned mask = 0;
        haddr_t addr = 0;
        hsize_t size = 0;
        fill_info(d, meta, &c, offset.data(), &mask, &addr, &size);
        int rc = it.op(offset.data(), mask, addr, size, it.op_data);
        if (rc < 0) throw Error(Status(Code::kInvalidArgument, "chunk iteration callback failed"));
        if (rc > 0) return rc;
      }
      return 0;
    }
    case H5VL_NATIVE_DATASET_GET_VLEN_BUF_SIZE:
      *a.get_vlen_buf_size.size = vlen_buf_size(d, a.get_vlen_buf_size.type_id, a.get_vlen_buf_size.space_id);
      return 0;
    case H5VL_NATIVE_DATASET_GET_OFFSET:
      // A native contiguous dataset's byte address in its file: no such address exists here.
      *a.get_offset.offset = HADDR_UNDEF;
      return 0;
  }
  throw Error(unsupported("native dataset operation #" + std::to_string(op) +
                          (op == H5VL_NATIVE_DATASET_GET_CHUNK_INDEX_TYPE ? " (H5Dget_chunk_index_type: no HDF5 chunk index)"
                                                                            : " (specific to the native HDF5 file format)")));
}

}  // namespace

H5D_space_status_t space_status(DatasetObject& d) {
  refresh_space(d);
  const model::ArrayMeta& meta = *d.node->array;
  const uint64_t n = stored_chunks(d).size();
  if (n == 0) return H5D_SPACE_STATUS_NOT_ALLOCATED;
  uint64_t objects = chunks_in_extent(meta);  // with shards: shard objects of the extent
  if (meta.shard) {
    model::ArrayMeta grid = meta;
    grid.chunk_shape = meta.shard->shard_shape;
    objects = chunks_in_extent(grid);
  }
  if (meta.contiguous || n >= objects) return H5D_SPACE_STATUS_ALLOCATED;
  return H5D_SPACE_STATUS_PART_ALLOCATED;
}

namespace {

// Input bytes per group of write_raw_chunks (converted copies of two groups exist at once).
// Chunks that need converting (inflating a gzip stream) go in smaller groups, so that work
// overlaps the previous group's PUTs for most of a call; uncompressed chunks need none.
constexpr uint64_t kGroupBytes = 64ull << 20;
constexpr uint64_t kConvertedGroupBytes = 16ull << 20;

void count_change(Stats& stats, io::FormChange how) {
  auto& c = how == io::FormChange::kVerbatim   ? stats.direct_verbatim
            : how == io::FormChange::kReframed ? stats.direct_reframed
                                               : stats.direct_recoded;
  c.fetch_add(1, std::memory_order_relaxed);
}

// Signals the end of one background job (the next group's conversion).
class Done {
 public:
  void set() {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace

namespace {

// write_raw_chunks for a sharded dataset: every chunk converted to its stored form on the pool,
// then one read-modify-write per shard (io::write_sharded; no GET when all of a shard is given).
void write_raw_into_shards(DatasetObject& d, const model::ArrayMeta& meta, const RawChunk* chunks, size_t n) {
  Stats& stats = *ConnectorState::instance().stats();
  io::ChunkPlan plan;
  plan.chunks.resize(n);
  for (size_t i = 0; i < n; ++i) plan.chunks[i].coords = chunk_coords(d, meta, chunks[i].offset);
  std::vector<Bytes> encoded(n);
  FirstError err;
  d.file->pool->parallel_for(n, 0, [&](size_t i) {
    const RawChunk& c = chunks[i];
    const std::string where = "inner chunk " + model::chunk_key(plan.chunks[i].coords) + " of '" + d.path + "'";
    if (meta.uncompressed() && c.size != meta.chunk_bytes()) {
      err.set(invalid_argument("direct chunk write: " + where + " has " + std::to_string(c.size) +
                               " bytes, not the chunk's " + std::to_string(meta.chunk_bytes())));
      return;
    }
    io::FormChange how = io::FormChange::kVerbatim;
    auto r = meta.uncompressed() ? Result<Bytes>(Bytes(c.data, c.data + c.size))
                                 : io::from_hdf5_form(meta, Bytes(c.data, c.data + c.size), c.filter_mask, &how);
    if (!r.ok()) {
      err.set(r.status().with_context(where));
      return;
    }
    encoded[i] = std::move(r).value();
    count_change(stats, how);
  });
  check(err.get());
  check(io::write_sharded(make_target(d), plan, nullptr, &encoded));
}

}  // namespace

void write_raw_chunks(DatasetObject& d, const RawChunk* chunks, size_t n) {
  d.file->require_writable("write a chunk");
  const auto& meta = chunked_meta(d);
  require_fixed_size(d, "direct chunk writes");
  std::vector<std::string> keys(n);
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < n; ++i) {
    if (!chunks[i].data && chunks[i].size) throw Error(invalid_argument("no chunk buffer given"));
    keys[i] = key_of(d, chunk_coords(d, meta, chunks[i].offset));
    if (!seen.insert(keys[i]).second)
      throw Error(invalid_argument("chunk " + keys[i] + " of '" + d.path + "' is given twice in one call"));
  }
  if (n == 0) return;
  if (meta.shard) return write_raw_into_shards(d, meta, chunks, n);

  // Groups of consecutive chunks: [bounds[g], bounds[g + 1]).
  const bool uncompressed = meta.uncompressed();
  const uint64_t max_group_bytes = uncompressed ? kGroupBytes : kConvertedGroupBytes;
  const size_t inflight = static_cast<size_t>(std::max(1, d.file->config.max_inflight));
  std::vector<size_t> bounds{0};
  uint64_t group_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i > bounds.back() && (i - bounds.back() >= inflight || group_bytes + chunks[i].size > max_group_bytes)) {
      bounds.push_back(i);
      group_bytes = 0;
    }
    group_bytes += chunks[i].size;
  }
  bounds.push_back(n);

  Stats& stats = *ConnectorState::instance().stats();
  ThreadPool& pool = *d.file->pool;
  ObjectStore& store = d.store();
  std::vector<Bytes> converted(n);
  std::vector<PutRequest> puts(n);
  FirstError err;
  auto convert = [&](size_t g) {
    pool.parallel_for(bounds[g + 1] - bounds[g], 0, [&](size_t k) {
      const size_t i = bounds[g] + k;
      const RawChunk& c = chunks[i];
      const std::string where = "chunk " + keys[i] + " of '" + d.path + "'";
      if (uncompressed) {  // HDF5's form is the object: PUT from the caller's buffer
        if (c.size != meta.chunk_bytes()) {
          err.set(invalid_argument("direct chunk write: " + where + " has " + std::to_string(c.size) +
                                   " bytes, not the chunk's " + std::to_string(meta.chunk_bytes())));
          return;
        }
        puts[i] = {keys[i], c.data, c.size};
        count_change(stats, io::FormChange::kVerbatim);
        return;
      }
      io::FormChange how = io::FormChange::kRecoded;
      auto r = io::from_hdf5_form(meta, Bytes(c.data, c.data + c.size), c.filter_mask, &how);
      if (!r.ok()) {
        err.set(r.status().with_context(where));
        return;
      }
      converted[i] = std::move(r).value();
      puts[i] = {keys[i], converted[i].data(), converted[i].size()};
      count_change(stats, how);
    });
  };
  auto convert_noexcept = [&](size_t g) {
    try {
      convert(g);
    } catch (const std::exception& e) {
      err.set(internal_error(std::string("converting chunks of '") + d.path + "': " + e.what()));
    }
  };

  convert_noexcept(0);
  const size_t groups = bounds.size() - 1;
  for (size_t g = 0; g < groups && err.get().ok(); ++g) {
    Done next;  // the next group is converted on a worker while this one is PUT
    if (g + 1 < groups) {
      pool.submit([&, g] {
        convert_noexcept(g + 1);
        next.set();
      });
    } else {
      next.set();
    }
    const std::vector<PutRequest> group(puts.begin() + static_cast<std::ptrdiff_t>(bounds[g]),
                                        puts.begin() + static_cast<std::ptrdiff_t>(bounds[g + 1]));
    store.put_many(group, [&](size_t k, Status&& st) {
      if (!st.ok()) err.set(st.with_context("writing chunk '" + group[k].key + "'"));
    });
    next.wait();
    for (size_t i = bounds[g]; i < bounds[g + 1]; ++i) {
      Bytes().swap(converted[i]);
      if (d.file->chunk_cache) d.file->chunk_cache->erase(keys[i]);
    }
  }
  Status s = err.get();
  if (!s.ok()) throw Error(s);
}

herr_t dataset_optional(void* obj, H5VL_optional_args_t* args, hid_t, void**) {
  DatasetObject* d = as_dataset(obj);
  return chunk_optional(*d, *static_cast<H5VL_native_dataset_optional_args_t*>(args->args), args->op_type);
}

}  // namespace arraymorph::vol

extern "C" int arraymorph_write_chunks(hid_t dset_id, size_t n, const hsize_t* offsets, const uint32_t* filter_masks,
                                       const void* const* bufs, const size_t* sizes) {
  using namespace arraymorph;
  try {
    vol::DatasetObject* d = vol::as_dataset(vol::require_owned(dset_id));
    if (n && (!offsets || !bufs || !sizes)) throw Error(invalid_argument("no chunk offsets, buffers or sizes given"));
    const size_t rank = d->node->array->rank();
    std::vector<vol::RawChunk> chunks(n);
    for (size_t i = 0; i < n; ++i)
      chunks[i] = {offsets + i * rank, filter_masks ? filter_masks[i] : 0u, static_cast<const unsigned char*>(bufs[i]),
                   sizes[i]};
    vol::write_raw_chunks(*d, chunks.data(), n);
    return 0;
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}
