// chunk_plan.cpp -- see chunk_plan.hpp.
#include "io/chunk_plan.hpp"

#include <algorithm>
#include <unordered_map>

namespace arraymorph::io {

Result<std::vector<Run>> selection_runs(hid_t space) {
  std::vector<Run> runs;
  hssize_t npoints = H5Sget_select_npoints(space);
  if (npoints < 0) return invalid_argument("invalid dataspace selection");
  if (npoints == 0) return runs;
  // Element size 1: offsets and lengths come back in elements.
  hid_t iter = H5Ssel_iter_create(space, 1, 0);
  if (iter < 0) return invalid_argument("cannot iterate over the dataspace selection");
  constexpr size_t kBatch = 4096;
  std::vector<hsize_t> off(kBatch);
  std::vector<size_t> len(kBatch);
  Status st;
  for (;;) {
    size_t nseq = 0, nelem = 0;
    if (H5Ssel_iter_get_seq_list(iter, kBatch, SIZE_MAX, &nseq, &nelem, off.data(), len.data()) < 0) {
      st = invalid_argument("cannot list the selected elements of the dataspace");
      break;
    }
    if (nseq == 0) break;
    for (size_t i = 0; i < nseq; ++i) {
      if (!runs.empty() && runs.back().offset + runs.back().length == off[i]) runs.back().length += len[i];
      else runs.push_back({off[i], len[i]});
    }
  }
  H5Ssel_iter_close(iter);
  if (!st.ok()) return st;
  return runs;
}

namespace {

// Consumes buffer runs in order, splitting them to match file segments.
class BufCursor {
 public:
  explicit BufCursor(const std::vector<Run>& runs) : runs_(runs) {}
  // Emits pieces covering `count` elements that start at chunk_offset within a chunk.
  Status take(uint64_t chunk_offset, uint64_t count, ChunkWork& work) {
    while (count > 0) {
      if (idx_ >= runs_.size()) return invalid_argument("memory selection has fewer elements than the file selection");
      const Run& r = runs_[idx_];
      uint64_t n = std::min(count, r.length - used_);
      work.pieces.push_back({chunk_offset, r.offset + used_, n});
      work.selected += n;
      chunk_offset += n;
      count -= n;
      used_ += n;
      if (used_ == r.length) {
        ++idx_;
        used_ = 0;
      }
    }
    return ok_status();
  }
  bool done() const { return idx_ >= runs_.size(); }

 private:
  const std::vector<Run>& runs_;
  size_t idx_ = 0;
  uint64_t used_ = 0;
};

}  // namespace

Result<ChunkPlan> plan_chunks(const std::vector<uint64_t>& shape, const std::vector<uint64_t>& chunk_shape,
                              const std::vector<Run>& file_runs, const std::vector<Run>& buf_runs) {
  ChunkPlan plan;
  const size_t rank = shape.size();
  if (chunk_shape.size() != rank) return internal_error("chunk rank differs from dataset rank");
  BufCursor cursor(buf_runs);
  std::unordered_map<uint64_t, size_t> index;  // chunk linear index -> plan.chunks position

  std::vector<uint64_t> grid(rank);
  for (size_t d = 0; d < rank; ++d) grid[d] = (shape[d] + chunk_shape[d] - 1) / chunk_shape[d];
  auto chunk_for = [&](const std::vector<uint64_t>& coords) -> ChunkWork& {
    uint64_t lin = 0;
    for (size_t d = 0; d < rank; ++d) lin = lin * grid[d] + coords[d];
    auto it = index.find(lin);
    if (it != index.end()) return plan.chunks[it->second];
    index.emplace(lin, plan.chunks.size());
    ChunkWork w;
    w.coords = coords;
    w.valid = 1;
    for (size_t d = 0; d < rank; ++d)
      w.valid *= std::min(chunk_shape[d], shape[d] - coords[d] * chunk_shape[d]);
    plan.chunks.push_back(std::move(w));
    return plan.chunks.back();
  };

  if (rank == 0) {  // scalar: one element, one chunk
    for (const Run& r : file_runs) {
      if (r.offset + r.length > 1) return invalid_argument("selection is outside the scalar dataspace");
      Status s = cursor.take(0, r.length, chunk_for({}));
      if (!s.ok()) return s;
      plan.elements += r.length;
    }
    return plan;
  }

  uint64_t total = 1;
  for (auto s : shape) total *= s;
  const uint64_t row_len = shape[rank - 1];
  const uint64_t chunk_last = chunk_shape[rank - 1];
  std::vector<uint64_t> idx(rank), coords(rank);
  for (const Run& run : file_runs) {
    if (run.offset + run.length > total) return invalid_argument("selection is outside the dataset's extent");
    uint64_t off = run.offset, len = run.length;
    plan.elements += len;
    while (len > 0) {
      uint64_t row = off / row_len, col = off % row_len;
      uint64_t n_row = std::min(len, row_len - col);
      // Multi-index of this row (all dims but the last) and the chunk-relative row base.
      uint64_t rem = row;
      for (size_t d = rank - 1; d-- > 0;) {
        idx[d] = rem % shape[d];
        rem /= shape[d];
      }
      uint64_t row_base = 0;
      for (size_t d = 0; d + 1 < rank; ++d) {
        coords[d] = idx[d] / chunk_shape[d];
        row_base = row_base * chunk_shape[d] + idx[d] % chunk_shape[d];
      }
      row_base *= chunk_last;
      uint64_t c = col, left = n_row;
      while (left > 0) {
        coords[rank - 1] = c / chunk_last;
        uint64_t within = c % chunk_last;
        uint64_t seg = std::min(left, chunk_last - within);
        Status s = cursor.take(row_base + within, seg, chunk_for(coords));
        if (!s.ok()) return s;
        c += seg;
        left -= seg;
      }
      off += n_row;
      len -= n_row;
    }
  }
  if (!cursor.done()) return invalid_argument("memory selection has more elements than the file selection");
  return plan;
}

}  // namespace arraymorph::io
