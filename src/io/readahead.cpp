// readahead.cpp -- see readahead.hpp.
#include "io/readahead.hpp"

#include <algorithm>
#include <cmath>

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

constexpr uint64_t kStartDepth = 2;  // slabs ahead when a pass starts

}  // namespace

void ReadAhead::reset(ReadAheadCounts& counts) {
  if (cancel_hook && axis_ >= 0) {
    for (const auto& c : cancel_hook())
      if (ahead_.erase(c)) ++counts.cancelled;
  }
  counts.unused += ahead_.size();
  ahead_.clear();
  axis_ = -1;
  dir_ = 0;
  frontier_ = -1;
  depth_ = 0;
  rate_ = 0;
  last_.reset();
}

ReadAhead::Coords ReadAhead::on_read(const Box& box, const std::vector<uint64_t>& shape,
                                     const std::vector<uint64_t>& chunk_shape, uint64_t budget_chunks,
                                     ReadAheadCounts& counts, const ReadTiming& timing) {
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
  if (dir == 0) {
    reset(counts);
    last_ = box;
    last_now_ = timing.now_s;
    return {};
  }
  const size_t a = static_cast<size_t>(axis);
  if (axis != axis_ || dir != dir_) {
    reset(counts);
    axis_ = axis;
    dir_ = dir;
    depth_ = kStartDepth;
  } else if (timing.now_s > last_now_ && last_now_ > 0) {
    const double advanced = static_cast<double>(dir > 0 ? box.lo[a] - last_->lo[a] : last_->lo[a] - box.lo[a]);
    const double rate = advanced / static_cast<double>(chunk_shape[a]) / (timing.now_s - last_now_);
    rate_ = rate_ == 0 ? rate : 0.5 * rate_ + 0.5 * rate;
  }
  last_ = box;
  last_now_ = timing.now_s;

  uint64_t slab = 1;
  for (size_t d = 0; d < rank; ++d)
    if (d != a) slab *= chi[d] - clo[d] + 1;
  const uint64_t window = budget_chunks / slab;  // the most slabs the budget holds
  if (window == 0) return {};
  if (timing.waited) depth_ *= 2;
  if (rate_ > 0 && timing.fetch_s > 0)
    depth_ = std::max<uint64_t>(depth_, static_cast<uint64_t>(std::ceil(2 * rate_ * timing.fetch_s)) + 1);
  depth_ = std::clamp<uint64_t>(depth_, 1, window);

  const uint64_t grid = (shape[a] + chunk_shape[a] - 1) / chunk_shape[a];
  const int64_t cur = static_cast<int64_t>(dir > 0 ? chi[a] : clo[a]);
  const int64_t ahead = frontier_ < 0 ? 0 : std::max<int64_t>(0, (frontier_ - cur) * dir);
  const int64_t missing = static_cast<int64_t>(depth_) - ahead;
  if (missing <= 0 || 2 * missing < static_cast<int64_t>(depth_)) return {};  // refill by half depths
  Coords out;
  const int64_t first = cur + dir * (ahead + 1);
  const int64_t last = cur + dir * static_cast<int64_t>(depth_);
  for (int64_t at = first; dir > 0 ? at <= last : at >= last; at += dir) {
    if (at < 0 || at >= static_cast<int64_t>(grid)) break;
    append_slab(a, static_cast<uint64_t>(at), clo, chi, out);
    frontier_ = at;
  }
  for (const auto& c : out) ahead_.insert(c);
  return out;
}

}  // namespace arraymorph::io
