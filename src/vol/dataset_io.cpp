// dataset_io.cpp -- H5Dread/H5Dwrite: selections -> chunk plan -> chunk I/O, with datatype
// conversion done here on the calling thread (H5Tconvert), never on workers.
//
// Same memory and file types: chunks scatter straight into the caller's buffer. Different types:
// a dense buffer in selection order is filled from the chunks, converted in place, then scattered
// through the memory selection (reads); writes run the mirror image.
#include <algorithm>
#include <cstring>

#include "common/connector_state.hpp"
#include "io/chunk_cache.hpp"
#include "io/chunk_io.hpp"
#include "io/vlen_strings.hpp"
#include "mpi/collective_io.hpp"
#include "mpi/coordinated_store.hpp"
#include "vol/callbacks.hpp"
#include "vol/objects.hpp"

namespace arraymorph::vol {
namespace {

// Owns a dataspace id we created.
struct SpaceHolder {
  hid_t id = H5I_INVALID_HID;
  ~SpaceHolder() {
    if (id >= 0) H5Sclose(id);
  }
};

struct Selections {
  hid_t file = H5I_INVALID_HID;  // dataspace with the file selection
  hid_t mem = H5I_INVALID_HID;   // dataspace with the memory selection, or -1 for dense (H5S_BLOCK)
  uint64_t count = 0;
  SpaceHolder owned;
};

void resolve_spaces(const DatasetObject& d, hid_t mem_space, hid_t file_space, Selections& s) {
  if (file_space == H5S_ALL) {
    s.owned.id = H5Scopy(d.space);
    H5Sselect_all(s.owned.id);
    s.file = s.owned.id;
  } else {
    s.file = file_space;
    // The selection must lie inside the dataset's current extent.
    int rank = H5Sget_simple_extent_ndims(file_space);
    int drank = H5Sget_simple_extent_ndims(d.space);
    if (rank != drank)
      throw Error(invalid_argument("file dataspace has rank " + std::to_string(rank) + " but dataset '" + d.path +
                                   "' has rank " + std::to_string(drank)));
    if (rank > 0 && H5Sget_select_npoints(file_space) > 0) {
      std::vector<hsize_t> start(rank), end(rank), dims(rank);
      H5Sget_select_bounds(file_space, start.data(), end.data());
      H5Sget_simple_extent_dims(d.space, dims.data(), nullptr);
      for (int i = 0; i < rank; ++i)
        if (end[i] >= dims[i])
          throw Error(invalid_argument("selection reaches index " + std::to_string(end[i]) + " in dimension " +
                                       std::to_string(i) + " of dataset '" + d.path + "' whose extent is " +
                                       std::to_string(dims[i])));
    }
  }
  hssize_t n = H5Sget_select_npoints(s.file);
  if (n < 0) throw Error(invalid_argument("invalid file selection"));
  s.count = static_cast<uint64_t>(n);
  if (mem_space == H5S_ALL) {
    s.mem = s.file;
  } else if (mem_space == H5S_BLOCK) {
    s.mem = H5I_INVALID_HID;
  } else if (mem_space == H5S_PLIST) {
    throw Error(unsupported("H5S_PLIST memory dataspaces"));
  } else {
    s.mem = mem_space;
    hssize_t m = H5Sget_select_npoints(mem_space);
    if (m < 0 || static_cast<uint64_t>(m) != s.count)
      throw Error(invalid_argument("memory selection has " + std::to_string(m) + " elements but the file selection of '" +
                                   d.path + "' has " + std::to_string(s.count)));
  }
}

std::vector<io::Run> mem_runs(const Selections& s) {
  if (s.mem < 0) return {io::Run{0, s.count}};
  return check(io::selection_runs(s.mem));
}

io::ChunkPlan make_plan(const DatasetObject& d, const Selections& s, const std::vector<io::Run>& buf_runs) {
  auto file_runs = check(io::selection_runs(s.file));
  const auto& meta = *d.node->array;
  return check(io::plan_chunks(meta.shape, meta.chunk_shape, file_runs, buf_runs));
}

// Copies `count` dense elements to/from the runs of a selection (element size `es`).
void scatter(const std::vector<io::Run>& runs, unsigned char* dst, const unsigned char* dense, size_t es) {
  uint64_t k = 0;
  for (const auto& r : runs) {
    std::memcpy(dst + r.offset * es, dense + k * es, r.length * es);
    k += r.length;
  }
}
void gather(const std::vector<io::Run>& runs, unsigned char* dense, const unsigned char* src, size_t es) {
  uint64_t k = 0;
  for (const auto& r : runs) {
    std::memcpy(dense + k * es, src + r.offset * es, r.length * es);
    k += r.length;
  }
}

// `background`: the destination's current values, for conversions that keep members the source
// lacks (writing some fields of a compound); zeros otherwise.
void convert(hid_t from, hid_t to, uint64_t n, std::vector<unsigned char>& buf, hid_t dxpl, const std::string& what,
             std::vector<unsigned char>* background = nullptr) {
  const size_t need = n * std::max(H5Tget_size(from), H5Tget_size(to));
  if (buf.size() < need) buf.resize(need);
  std::vector<unsigned char> zeros;
  if (!background) zeros.resize(need);
  std::vector<unsigned char>& bkg = background ? *background : zeros;
  if (bkg.size() < need) bkg.resize(need);
  if (H5Tconvert(from, to, n, buf.data(), bkg.data(), dxpl) < 0)
    throw Error(Status(Code::kInvalidArgument, "cannot convert between the memory and file datatypes of " + what));
}

// Variable-length string datasets: memory must hold char* strings too (no conversion path).
bool vlen_string_dataset(const DatasetObject& d, hid_t mem_type) {
  if (d.node->array->data_type != "string") return false;
  if (H5Tget_class(mem_type) != H5T_STRING || H5Tis_variable_str(mem_type) <= 0)
    throw Error(unsupported("converting the variable-length strings of '" + d.path + "' to another datatype"));
  return true;
}

// The engine's view of a dataset: store, chunk cache of the file (not for anonymous datasets,
// whose chunks live in a private store under a shared prefix), range planner settings.
io::ArrayTarget make_target(DatasetObject& d) {
  const Config& cfg = d.file->config;
  io::ArrayTarget t{d.store(), d.key_prefix(), *d.node->array, *d.file->pool, nullptr, {}, nullptr, {}, true, 64};
  if (!d.anonymous() && cfg.cache_bytes > 0) {
    if (!d.file->chunk_cache) d.file->chunk_cache = std::make_shared<io::ChunkCache>(cfg.cache_bytes);
    t.cache = d.file->chunk_cache.get();
    t.owner = d.node;
  }
  t.stats = ConnectorState::instance().stats().get();
  t.max_inflight = static_cast<size_t>(std::max(1, cfg.max_inflight));
  t.ranges.latency_s = cfg.range_latency_s;
  t.ranges.bandwidth_bps = static_cast<double>(cfg.range_bandwidth);
  t.ranges.parallelism = static_cast<double>(t.max_inflight);
  t.ranges.merge_gap = cfg.range_merge_gap;
  t.ranged_reads = cfg.ranged_reads;
  return t;
}

// ---------------------------------------------------------------------------- MPI collective hook
// The collective context of a transfer (src/mpi/context.hpp): the file's own MPI-IO communicator
// when the dxpl asks for a collective transfer (H5Pset_dxpl_mpio), else the process-wide
// arraymorph.collective block when one is active. There, reads/writes of named datasets whose
// memory type equals the file type (fixed-size elements) take the two-phase collective path --
// even with an empty selection, since every rank must take part. Type conversion,
// variable-length strings and anonymous datasets keep the independent path below.
bool collective_io(DatasetObject& d, const Selections& s, hid_t mem_type, hid_t dxpl, bool writing, const void* buf) {
  mpi::ContextPtr ctx = d.file->comm && mpi::collective_transfer(dxpl) ? d.file->comm : mpi::process_context();
  if (!ctx || d.anonymous() || d.node->array->data_type == "string" || H5Tequal(mem_type, d.type) <= 0)
    return false;
  io::ArrayTarget target = make_target(d);
  io::ChunkPlan plan;
  if (s.count > 0) {
    if (!buf) throw Error(invalid_argument("no buffer given for the " + std::to_string(s.count) + " elements of '" + d.path + "'"));
    plan = make_plan(d, s, mem_runs(s));
  }
  if (writing)
    check(mpi::write(*ctx, target, d.key_prefix(), plan, static_cast<const unsigned char*>(buf)));
  else
    check(mpi::read(*ctx, target, d.key_prefix(), plan, static_cast<unsigned char*>(const_cast<void*>(buf))));
  return true;
}
// ---------------------------------------------------------------------------- end MPI hook

void read_one(DatasetObject& d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void* buf) {
  refresh_space(d);  // another handle may have resized the dataset
  Selections s;
  resolve_spaces(d, mem_space, file_space, s);
  if (collective_io(d, s, mem_type, dxpl, false, buf)) return;  // MPI hook
  if (s.count == 0) return;
  if (!buf) throw Error(invalid_argument("no buffer given to read " + std::to_string(s.count) + " elements of '" + d.path + "' into"));
  if (vlen_string_dataset(d, mem_type)) {
    auto plan = make_plan(d, s, mem_runs(s));
    check(io::read_vlen_strings(d.store(), d.key_prefix(), *d.node->array, plan, static_cast<char**>(buf)));
    return;
  }
  const auto& meta = *d.node->array;
  io::ArrayTarget target = make_target(d);
  if (H5Tequal(mem_type, d.type) > 0) {
    auto plan = make_plan(d, s, mem_runs(s));
    check(io::read_chunks(target, plan, static_cast<unsigned char*>(buf)));
    return;
  }
  std::vector<unsigned char> dense(s.count * meta.element_size);
  auto plan = make_plan(d, s, {io::Run{0, s.count}});
  check(io::read_chunks(target, plan, dense.data()));
  if (H5Tget_class(mem_type) == H5T_COMPOUND && H5Tget_class(d.type) == H5T_COMPOUND) {
    // Members of the memory type that the file lacks keep the caller's values (as in HDF5).
    std::vector<unsigned char> current(s.count * std::max(H5Tget_size(mem_type), meta.element_size));
    gather(mem_runs(s), current.data(), static_cast<const unsigned char*>(buf), H5Tget_size(mem_type));
    convert(d.type, mem_type, s.count, dense, dxpl, "dataset '" + d.path + "'", &current);
  } else {
    convert(d.type, mem_type, s.count, dense, dxpl, "dataset '" + d.path + "'");
  }
  scatter(mem_runs(s), static_cast<unsigned char*>(buf), dense.data(), H5Tget_size(mem_type));
}

void write_one(DatasetObject& d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, const void* buf) {
  d.file->require_writable("write to dataset '" + d.path + "'");
  refresh_space(d);  // another handle may have resized the dataset
  Selections s;
  resolve_spaces(d, mem_space, file_space, s);
  if (collective_io(d, s, mem_type, dxpl, true, buf)) return;  // MPI hook
  if (s.count == 0) return;
  if (!buf) throw Error(invalid_argument("no buffer given with the " + std::to_string(s.count) + " elements to write to '" + d.path + "'"));
  if (vlen_string_dataset(d, mem_type)) {
    auto plan = make_plan(d, s, mem_runs(s));
    check(io::write_vlen_strings(d.store(), d.key_prefix(), *d.node->array, plan, static_cast<const char* const*>(buf)));
    return;
  }
  const auto& meta = *d.node->array;
  io::ArrayTarget target = make_target(d);
  if (H5Tequal(mem_type, d.type) > 0) {
    auto plan = make_plan(d, s, mem_runs(s));
    check(io::write_chunks(target, plan, static_cast<const unsigned char*>(buf)));
    return;
  }
  const size_t ms = H5Tget_size(mem_type);
  std::vector<unsigned char> dense(s.count * std::max(ms, meta.element_size));
  gather(mem_runs(s), dense.data(), static_cast<const unsigned char*>(buf), ms);
  auto plan = make_plan(d, s, {io::Run{0, s.count}});
  if (H5Tget_class(mem_type) == H5T_COMPOUND && H5Tget_class(d.type) == H5T_COMPOUND) {
    // Writing some fields of a compound (h5py's d["field"] = ...): the other fields keep the
    // values stored now, so they are read first and used as the conversion's background.
    std::vector<unsigned char> current(dense.size());
    check(io::read_chunks(target, plan, current.data()));
    convert(mem_type, d.type, s.count, dense, dxpl, "dataset '" + d.path + "'", &current);
  } else {
    convert(mem_type, d.type, s.count, dense, dxpl, "dataset '" + d.path + "'");
  }
  check(io::write_chunks(target, plan, dense.data()));
}

}  // namespace

herr_t dataset_read(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[], hid_t file_space[], hid_t dxpl,
                    void* buf[], void**) {
  mpi::DataTransferScope data;  // chunk I/O is not metadata: never coordinated (coordinated_store.hpp)
  for (size_t i = 0; i < count; ++i) read_one(*as_dataset(dset[i]), mem_type[i], mem_space[i], file_space[i], dxpl, buf[i]);
  return 0;
}

herr_t dataset_write(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[], hid_t file_space[], hid_t dxpl,
                     const void* buf[], void**) {
  mpi::DataTransferScope data;
  for (size_t i = 0; i < count; ++i)
    write_one(*as_dataset(dset[i]), mem_type[i], mem_space[i], file_space[i], dxpl, buf[i]);
  return 0;
}

}  // namespace arraymorph::vol
