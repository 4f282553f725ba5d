// readahead.cpp -- see readahead.hpp.
#include "io/readahead.hpp"

#include <algorithm>

namespace arraymorph::io {
namespace {

bool inside(const std::vector<uint64_t>& c, const std::vector<uint64_t>& lo, const std::vector<uint64_t>& hi) {
  for (size_t d = 0; d < c.size(); ++d)
    if (c[d] < lo[d] || c[d] > hi[d]) return false;
  return true;
}

// Every chunk coordinate of the slab at index `at` along `axis`, the other axes spanning
// [lo, hi], in row-major order.
void append_slab(size_t axis, uint64_t at, const std::vector<uint64_t>& lo, const std::vector<uint64_t>& hi,
                 std::vector<std::vector<uint64_t>>& out) {
  std::vector<uint64_t> c = lo;
  c[axis] = at;
  while (true) {
    out.push_back(c);
    size_t d = c.size();
    while (d-- > 0) {
      if (d == axis) continue;
      if (++c[d] <= hi[d]) break;
      c[d] = lo[d];
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}

}  // namespace

void ReadAhead::reset(ReadAheadCounts& counts) {
  counts.unused += ahead_.size();
  ahead_.clear();
  axis_ = -1;
  dir_ = 0;
  frontier_ = -1;
  last_.reset();
}

std::vector<std::vector<uint64_t>> ReadAhead::on_read(const Box& box, const std::vector<uint64_t>& shape,
                                                      const std::vector<uint64_t>& chunk_shape,
                                                      uint64_t budget_chunks, ReadAheadCounts& counts) {
  const size_t rank = shape.size();
  std::vector<uint64_t> clo(rank), chi(rank);
  for (size_t d = 0; d < rank; ++d) {
    clo[d] = box.lo[d] / chunk_shape[d];
    chi[d] = box.hi[d] / chunk_shape[d];
  }
  for (auto it = ahead_.begin(); it != ahead_.end();) {
    if (inside(*it, clo, chi)) {
      ++counts.hits;
      it = ahead_.erase(it);
    } else {
      ++it;
    }
  }

  // Does this read continue the previous one along exactly one axis?
  int axis = -1, dir = 0;
  if (last_ && last_->lo.size() == rank && rank > 0 && budget_chunks > 0) {
    int differing = 0;
    for (size_t d = 0; d < rank; ++d)
      if (box.lo[d] != last_->lo[d] || box.hi[d] != last_->hi[d]) {
        ++differing;
        axis = static_cast<int>(d);
      }
    if (differing == 1) {
      const size_t a = static_cast<size_t>(axis);
      if (box.lo[a] > last_->lo[a] && box.hi[a] > last_->hi[a] && box.lo[a] <= last_->hi[a] + 1) dir = 1;
      else if (box.lo[a] < last_->lo[a] && box.hi[a] < last_->hi[a] && box.hi[a] + 1 >= last_->lo[a]) dir = -1;
    }
  }
  const Box current = box;
  if (dir == 0) {
    reset(counts);
    last_ = current;
    return {};
  }
  if (axis != axis_ || dir != dir_) {
    reset(counts);
    axis_ = axis;
    dir_ = dir;
  }
  last_ = current;

  const size_t a = static_cast<size_t>(axis);
  uint64_t slab = 1;
  for (size_t d = 0; d < rank; ++d)
    if (d != a) slab *= chi[d] - clo[d] + 1;
  const uint64_t window = budget_chunks / slab;  // chunk slabs that fit in the budget
  if (window == 0) return {};
  const uint64_t grid = (shape[a] + chunk_shape[a] - 1) / chunk_shape[a];
  // Slabs already fetched ahead of this read; refill only when less than half a window is left.
  const int64_t cur = static_cast<int64_t>(dir > 0 ? chi[a] : clo[a]);
  const int64_t ahead = frontier_ < 0 ? 0 : std::max<int64_t>(0, (frontier_ - cur) * dir);
  if (ahead > 0 && 2 * static_cast<uint64_t>(ahead) >= window) return {};
  std::vector<std::vector<uint64_t>> out;
  const int64_t first = cur + dir * (ahead + 1);
  const int64_t last = cur + dir * static_cast<int64_t>(window);
  for (int64_t at = first; dir > 0 ? at <= last : at >= last; at += dir) {
    if (at < 0 || at >= static_cast<int64_t>(grid)) break;
    append_slab(a, static_cast<uint64_t>(at), clo, chi, out);
    frontier_ = at;
  }
  for (const auto& c : out) ahead_.insert(c);
  return out;
}

}  // namespace arraymorph::io
