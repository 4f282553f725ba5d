// dataset_io.cpp -- H5Dread/H5Dwrite: selections -> chunk plan -> chunk I/O, with datatype
// conversion done here on the calling thread (H5Tconvert), never on workers.
//
// Same memory and file types: chunks scatter straight into the caller's buffer. Different types:
// a dense buffer in selection order is filled from the chunks, converted in place, then scattered
// through the memory selection (reads); writes run the mirror image. The datasets of one
// H5Dread_multi/H5Dwrite_multi move their chunks together (run_transfers).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "common/hid.hpp"
#include "vol/connector_state.hpp"
#include "io/chunk_cache.hpp"
#include "io/chunk_io.hpp"
#include "io/vlen_strings.hpp"
#include "mpi/collective_io.hpp"
#include "mpi/coordinated_store.hpp"
#include "vol/callbacks.hpp"
#include "vol/chunk_api.hpp"
#include "vol/object_model.hpp"
#include "vol/vlen_elements.hpp"
#include "vol/vlen_sequences.hpp"

namespace arraymorph::vol {
namespace {

struct Selections {
  hid_t file = H5I_INVALID_HID;  // dataspace with the file selection
  hid_t mem = H5I_INVALID_HID;   // dataspace with the memory selection, or -1 for dense (H5S_BLOCK)
  uint64_t count = 0;
  Hid owned;  // a dataspace we created
};

void resolve_spaces(const DatasetObject& d, hid_t mem_space, hid_t file_space, Selections& s) {
  if (file_space == H5S_ALL) {
    s.owned.reset(H5Scopy(d.space.get()));
    H5Sselect_all(s.owned.get());
    s.file = s.owned.get();
  } else {
    s.file = file_space;
    // The selection must lie inside the dataset's current extent.
    int rank = H5Sget_simple_extent_ndims(file_space);
    int drank = H5Sget_simple_extent_ndims(d.space.get());
    if (rank != drank)
      throw Error(invalid_argument("file dataspace has rank " + std::to_string(rank) + " but dataset '" + d.path +
                                   "' has rank " + std::to_string(drank)));
    if (rank > 0 && H5Sget_select_npoints(file_space) > 0) {
      std::vector<hsize_t> start(rank), end(rank), dims(rank);
      H5Sget_select_bounds(file_space, start.data(), end.data());
      H5Sget_simple_extent_dims(d.space.get(), dims.data(), nullptr);
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

bool vlen_sequence_dataset(const DatasetObject& d, hid_t mem_type) {
  if (d.node->array->data_type != "variable_length_bytes" || serialized_elements(d.type.get())) return false;
  require_sequence_memory_type(mem_type, "dataset '" + d.path + "'");
  return true;
}

// Datasets whose elements are stored as items of their own (io/vlen_strings.hpp, vlen-bytes):
// sequences (vol/vlen_sequences.hpp) and serialized elements (vol/vlen_elements.hpp). The
// conversions between dense memory elements and items run on the HDF5 thread.
struct ItemForm {
  size_t mem_size;  // bytes of one memory element
  std::function<std::vector<std::string>(const void*, uint64_t)> to_items;
  std::function<void(const std::vector<std::string>&, void*)> from_items;
};

std::optional<ItemForm> item_form(const DatasetObject& d, hid_t mem_type, hid_t dxpl, const std::string& what) {
  const hid_t ft = d.type.get();
  if (vlen_sequence_dataset(d, mem_type))
    return ItemForm{sizeof(hvl_t),
                    [=](const void* e, uint64_t n) { return sequences_to_items(ft, mem_type, e, n, what); },
                    [=](const std::vector<std::string>& i, void* o) { items_to_sequences(ft, mem_type, i, o, dxpl, what); }};
  if (d.node->array->data_type == "variable_length_bytes" && serialized_elements(ft))
    return ItemForm{H5Tget_size(mem_type),
                    [=](const void* e, uint64_t n) { return elements_to_items(ft, mem_type, e, n, what); },
                    [=](const std::vector<std::string>& i, void* o) { items_to_elements(ft, mem_type, i, o, dxpl, what); }};
  return std::nullopt;
}

}  // namespace

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

namespace {

// ---------------------------------------------------------------------------- read-ahead
void note_readahead(const io::ReadAheadCounts& c) {
  Stats& st = *ConnectorState::instance().stats();
  st.readahead_hits.fetch_add(c.hits, std::memory_order_relaxed);
  st.readahead_unused.fetch_add(c.unused, std::memory_order_relaxed);
  st.readahead_cancelled.fetch_add(c.cancelled, std::memory_order_relaxed);
}

// The bounding box of a file selection when it is one dense block (all, or a hyperslab with no
// gaps), else nullopt.
std::optional<io::Box> dense_box(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  const hssize_t n = H5Sget_select_npoints(space);
  if (rank <= 0 || n <= 0) return std::nullopt;
  const H5S_sel_type type = H5Sget_select_type(space);
  if (type != H5S_SEL_ALL && type != H5S_SEL_HYPERSLABS) return std::nullopt;
  std::vector<hsize_t> lo(rank), hi(rank);
  if (H5Sget_select_bounds(space, lo.data(), hi.data()) < 0) return std::nullopt;
  uint64_t volume = 1;
  for (int i = 0; i < rank; ++i) volume *= hi[i] - lo[i] + 1;
  if (volume != static_cast<uint64_t>(n)) return std::nullopt;
  return io::Box{std::vector<uint64_t>(lo.begin(), lo.end()), std::vector<uint64_t>(hi.begin(), hi.end())};
}

// Feeds this read to the handle's pass detector. While a pass is sequential the read's own chunks
// are fetched whole (no ranged GETs) so that the next batches, which need the rest of them, find
// them in the cache. Returns the look-ahead step for the handle's Prefetcher -- submitted by the
// caller once the read's own GETs are done, so they never queue behind it -- or nothing.
std::function<void()> plan_readahead(DatasetObject& d, const Selections& s, io::ArrayTarget& target) {
  io::ReadAheadCounts counts;
  const auto& meta = *d.node->array;
  const uint64_t chunk_bytes = std::max<uint64_t>(1, meta.chunk_bytes());
  uint64_t budget = 0;
  // Not for sharded arrays: their inner chunks are cached under shard keys by src/io/shard_io.cpp,
  // whose fills the background Prefetcher does not register (no wait, no stale-marking).
  if (!meta.shard && target.cache && target.cache->enabled() && chunk_bytes <= target.cache->capacity())
    budget = std::min(d.file->config.readahead_bytes, target.cache->capacity() / 2) / chunk_bytes;
  auto box = budget > 0 ? dense_box(s.file) : std::nullopt;
  io::ReadAhead::Coords ahead;
  if (!box) {
    d.readahead.reset(counts);
  } else {
    io::ReadTiming timing;
    timing.now_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    timing.fetch_s = d.prefetch.step_seconds();
    const uint64_t waits = d.readahead_waits.load(std::memory_order_relaxed);
    timing.waited = waits != d.readahead_waits_seen;
    d.readahead_waits_seen = waits;
    ahead = d.readahead.on_read(*box, meta.shape, meta.chunk_shape, budget, counts, timing);
    if (d.readahead.sequential()) {
      target.ranged_reads = false;
      target.fill_waits = &d.readahead_waits;
    }
  }
  note_readahead(counts);
  if (ahead.empty()) return {};
  auto pt = std::make_shared<io::PrefetchTarget>();
  pt->store = &target.store;
  pt->node_prefix = target.node_prefix;
  pt->meta = meta;
  pt->pool = &target.pool;
  pt->cache = target.cache;
  pt->owner = target.owner;
  pt->stats = target.stats;
  return [&d, pt = std::shared_ptr<const io::PrefetchTarget>(std::move(pt)), ahead = std::move(ahead)]() mutable {
    d.prefetch.submit(std::move(pt), std::move(ahead));
  };
}

// Runs a read's store work, then starts its look-ahead (if any) in the background.
std::function<Status()> with_prefetch(std::function<Status()> io, std::function<void()> prefetch) {
  if (!prefetch) return io;
  return [io = std::move(io), prefetch = std::move(prefetch)] {
    Status st = io();
    if (st.ok()) prefetch();
    return st;
  };
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
  if (!ctx || d.anonymous() || d.node->array->variable_length() || H5Tequal(mem_type, d.type.get()) <= 0)
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

// One dataset's share of an H5Dread/H5Dwrite (H5Dread_multi/H5Dwrite_multi pass several).
// prepare_* runs on the HDF5 thread (selections, plans, type conversion before a write) and
// returns the store work as `io`, which touches only the engine and may run on any thread, and
// `after` (type conversion and scatter after a read), which runs on the HDF5 thread again.
struct Transfer {
  std::string what;                // "dataset '/x'", for error messages
  std::function<Status()> io;      // empty: nothing left to move
  std::function<void()> after;     // empty: nothing left to do
};

Transfer prepare_read(DatasetObject& d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void* buf) {
  Transfer t{"dataset '" + d.path + "'", {}, {}};
  refresh_space(d);  // another handle may have resized the dataset
  Selections s;
  resolve_spaces(d, mem_space, file_space, s);
  if (collective_io(d, s, mem_type, dxpl, false, buf)) return t;  // MPI hook (done here: it is collective)
  if (s.count == 0) return t;
  if (!buf) throw Error(invalid_argument("no buffer given to read " + std::to_string(s.count) + " elements of '" + d.path + "' into"));
  if (vlen_string_dataset(d, mem_type)) {
    auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, mem_runs(s)));
    t.io = [&d, plan, buf] {
      return io::read_vlen_strings(d.store(), d.key_prefix(), *d.node->array, *plan, static_cast<char**>(buf));
    };
    return t;
  }
  if (auto form = item_form(d, mem_type, dxpl, t.what)) {  // items read on store threads, converted here after
    auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, {io::Run{0, s.count}}));
    auto items = std::make_shared<std::vector<std::string>>(s.count);
    t.io = [&d, plan, items] {
      return io::read_vlen_items(d.store(), d.key_prefix(), *d.node->array, *plan,
                                 [items](uint64_t i, const std::string& item) { (*items)[i] = item; });
    };
    t.after = [form = *form, buf, items, runs = mem_runs(s)] {
      std::vector<unsigned char> dense(items->size() * form.mem_size);
      form.from_items(*items, dense.data());
      scatter(runs, static_cast<unsigned char*>(buf), dense.data(), form.mem_size);
    };
    return t;
  }
  const auto& meta = *d.node->array;
  auto target = std::make_shared<io::ArrayTarget>(make_target(d));
  auto ahead = d.anonymous() ? std::function<void()>{} : plan_readahead(d, s, *target);
  if (H5Tequal(mem_type, d.type.get()) > 0) {
    auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, mem_runs(s)));
    t.io = with_prefetch([target, plan, buf] { return io::read_chunks(*target, *plan, static_cast<unsigned char*>(buf)); },
                         std::move(ahead));
    return t;
  }
  // Conversion: read a dense buffer in selection order, convert and scatter it afterwards.
  auto dense = std::make_shared<std::vector<unsigned char>>(s.count * meta.element_size);
  auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, {io::Run{0, s.count}}));
  t.io = with_prefetch([target, plan, dense] { return io::read_chunks(*target, *plan, dense->data()); },
                       std::move(ahead));
  const uint64_t count = s.count;
  t.after = [&d, mem_type, dxpl, buf, dense, count, runs = mem_runs(s), what = t.what] {
    const size_t ms = H5Tget_size(mem_type);
    if (H5Tget_class(mem_type) == H5T_COMPOUND && H5Tget_class(d.type.get()) == H5T_COMPOUND) {
      // Members of the memory type that the file lacks keep the caller's values (as in HDF5).
      std::vector<unsigned char> current(count * std::max(ms, d.node->array->element_size));
      gather(runs, current.data(), static_cast<const unsigned char*>(buf), ms);
      convert(d.type.get(), mem_type, count, *dense, dxpl, what, &current);
    } else {
      convert(d.type.get(), mem_type, count, *dense, dxpl, what);
    }
    scatter(runs, static_cast<unsigned char*>(buf), dense->data(), ms);
  };
  return t;
}

Transfer prepare_write(DatasetObject& d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                       const void* buf) {
  Transfer t{"dataset '" + d.path + "'", {}, {}};
  d.file->require_writable("write to dataset '" + d.path + "'");
  end_readahead(d);  // a write ends a read pass (its look-ahead may be overwritten)
  refresh_space(d);  // another handle may have resized the dataset
  Selections s;
  resolve_spaces(d, mem_space, file_space, s);
  if (collective_io(d, s, mem_type, dxpl, true, buf)) return t;  // MPI hook
  if (s.count == 0) return t;
  if (!buf) throw Error(invalid_argument("no buffer given with the " + std::to_string(s.count) + " elements to write to '" + d.path + "'"));
  if (vlen_string_dataset(d, mem_type)) {
    auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, mem_runs(s)));
    t.io = [&d, plan, buf] {
      return io::write_vlen_strings(d.store(), d.key_prefix(), *d.node->array, *plan,
                                    static_cast<const char* const*>(buf));
    };
    return t;
  }
  if (auto form = item_form(d, mem_type, dxpl, t.what)) {  // converted here, stored on store threads
    std::vector<unsigned char> dense(s.count * form->mem_size);
    gather(mem_runs(s), dense.data(), static_cast<const unsigned char*>(buf), form->mem_size);
    auto items = std::make_shared<std::vector<std::string>>(form->to_items(dense.data(), s.count));
    auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, {io::Run{0, s.count}}));
    t.io = [&d, plan, items] {
      return io::write_vlen_items(d.store(), d.key_prefix(), *d.node->array, *plan,
                                  [items](uint64_t i) { return (*items)[i]; });
    };
    return t;
  }
  const auto& meta = *d.node->array;
  auto target = std::make_shared<io::ArrayTarget>(make_target(d));
  if (H5Tequal(mem_type, d.type.get()) > 0) {
    auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, mem_runs(s)));
    t.io = [target, plan, buf] { return io::write_chunks(*target, *plan, static_cast<const unsigned char*>(buf)); };
    return t;
  }
  const size_t ms = H5Tget_size(mem_type);
  auto dense = std::make_shared<std::vector<unsigned char>>(s.count * std::max(ms, meta.element_size));
  gather(mem_runs(s), dense->data(), static_cast<const unsigned char*>(buf), ms);
  auto plan = std::make_shared<io::ChunkPlan>(make_plan(d, s, {io::Run{0, s.count}}));
  if (H5Tget_class(mem_type) == H5T_COMPOUND && H5Tget_class(d.type.get()) == H5T_COMPOUND) {
    // Writing some fields of a compound (h5py's d["field"] = ...): the other fields keep the
    // values stored now, so they are read first and used as the conversion's background.
    std::vector<unsigned char> current(dense->size());
    check(io::read_chunks(*target, *plan, current.data()));
    convert(mem_type, d.type.get(), s.count, *dense, dxpl, t.what, &current);
  } else {
    convert(mem_type, d.type.get(), s.count, *dense, dxpl, t.what);
  }
  t.io = [target, plan, dense] { return io::write_chunks(*target, *plan, dense->data()); };
  return t;
}

// Runs the transfers' store work together -- each on its own thread, so every request of a
// multi-dataset call is in flight at once (the store's event loop still caps the total at
// max_inflight) -- then their `after` steps on this (the HDF5) thread. Reports the first
// failure, naming its dataset; a failed transfer leaves the others' data complete.
// `in_order`: one after the other (writes to the same dataset twice, whose read-modify-writes of
// a shared chunk would race).
void run_transfers(std::vector<Transfer>& ts, bool in_order) {
  auto run_io = [](Transfer& t) -> Status {
    if (!t.io) return ok_status();
    try {
      return t.io();
    } catch (const Error& e) {
      return e.status();
    } catch (const std::exception& e) {
      return internal_error(e.what());
    }
  };
  std::vector<Status> status(ts.size());
  if (ts.size() == 1 || in_order) {
    for (size_t i = 0; i < ts.size(); ++i) status[i] = run_io(ts[i]);
  } else {
    constexpr size_t kMaxThreads = 16;  // beyond this the store's window is the limit anyway
    std::atomic<size_t> next{0};
    auto worker = [&] {
      mpi::DataTransferScope data;  // also on these threads: chunk writes are never coordinated
      for (size_t i; (i = next++) < ts.size();) status[i] = run_io(ts[i]);
    };
    std::vector<std::thread> threads;
    for (size_t k = 1; k < std::min(ts.size(), kMaxThreads); ++k) threads.emplace_back(worker);
    worker();
    for (auto& th : threads) th.join();
  }
  for (size_t i = 0; i < ts.size(); ++i)
    if (!status[i].ok()) throw Error(status[i].with_context(ts[i].what));
  for (auto& t : ts)
    if (t.after) t.after();
}

}  // namespace

void end_readahead(DatasetObject& d) {
  io::ReadAheadCounts counts;
  d.readahead.reset(counts);
  note_readahead(counts);
}

herr_t dataset_read(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[], hid_t file_space[], hid_t dxpl,
                    void* buf[], void**) {
  mpi::DataTransferScope data;  // chunk I/O is not metadata: never coordinated (coordinated_store.hpp)
  std::vector<Transfer> ts;
  ts.reserve(count);
  for (size_t i = 0; i < count; ++i)
    ts.push_back(prepare_read(*as_dataset(dset[i]), mem_type[i], mem_space[i], file_space[i], dxpl, buf[i]));
  run_transfers(ts, false);
  return 0;
}

herr_t dataset_write(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[], hid_t file_space[], hid_t dxpl,
                     const void* buf[], void**) {
  mpi::DataTransferScope data;
  std::vector<Transfer> ts;
  ts.reserve(count);
  for (size_t i = 0; i < count; ++i)
    ts.push_back(prepare_write(*as_dataset(dset[i]), mem_type[i], mem_space[i], file_space[i], dxpl, buf[i]));
  std::set<std::string> where;  // a dataset's location (also through different file handles)
  bool repeated = false;
  for (size_t i = 0; i < count; ++i) {
    const DatasetObject& d = *as_dataset(dset[i]);
    const std::string loc = d.anonymous() ? std::to_string(reinterpret_cast<uintptr_t>(d.anon_store.get()))
                                          : d.file->url + "#" + d.path;
    repeated |= !where.insert(loc).second;
  }
  run_transfers(ts, repeated);
  return 0;
}

hsize_t vlen_buf_size(DatasetObject& d, hid_t mem_type, hid_t space) {
  if (!d.node->array->variable_length())
    throw Error(invalid_argument("dataset '" + d.path + "' holds no variable-length data (H5Dvlen_get_buf_size)"));
  refresh_space(d);
  Selections s;
  resolve_spaces(d, H5S_BLOCK, space, s);
  if (s.count == 0) return 0;
  const bool strings = vlen_string_dataset(d, mem_type);
  if (!strings) require_sequence_memory_type(mem_type, "dataset '" + d.path + "'");
  std::vector<std::string> items(s.count);
  check(io::read_vlen_items(d.store(), d.key_prefix(), *d.node->array, make_plan(d, s, {io::Run{0, s.count}}),
                            [&items](uint64_t i, const std::string& item) { items[i] = item; }));
  if (!strings) return sequences_buf_size(d.type.get(), mem_type, items);
  hsize_t total = 0;  // what H5Dread allocates: each string and its terminating NUL
  for (const auto& item : items) total += item.size() + 1;
  return total;
}

}  // namespace arraymorph::vol
