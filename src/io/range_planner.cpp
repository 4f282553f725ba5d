// range_planner.cpp -- see range_planner.hpp.
#include "io/range_planner.hpp"

#include <algorithm>

namespace arraymorph::io {

double RangeCostModel::seconds(uint64_t requests, uint64_t bytes) const {
  const double p = parallelism >= 1 ? parallelism : 1;
  const double bw = bandwidth_bps > 0 ? bandwidth_bps : 1;
  return static_cast<double>(requests) * latency_s / p + static_cast<double>(bytes) / bw;
}

std::vector<ByteRun> merge_runs(std::vector<ByteRun> runs, uint64_t gap) {
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const ByteRun& r) { return r.length == 0; }), runs.end());
  if (!std::is_sorted(runs.begin(), runs.end(), [](const ByteRun& a, const ByteRun& b) { return a.offset < b.offset; }))
    std::sort(runs.begin(), runs.end(), [](const ByteRun& a, const ByteRun& b) { return a.offset < b.offset; });
  std::vector<ByteRun> out;
  for (const ByteRun& r : runs) {
    if (!out.empty()) {
      ByteRun& last = out.back();
      const uint64_t end = last.offset + last.length;
      if (r.offset <= end || r.offset - end <= gap) {
        last.length = std::max(end, r.offset + r.length) - last.offset;
        continue;
      }
    }
    out.push_back(r);
  }
  return out;
}

RangePlan plan_ranges(const std::vector<Piece>& pieces, size_t element_size, uint64_t object_bytes,
                      const RangeCostModel& model) {
  RangePlan plan;
  std::vector<ByteRun> runs;
  runs.reserve(pieces.size());
  for (const Piece& p : pieces) runs.push_back({p.chunk_offset * element_size, p.count * element_size});
  for (const ByteRun& r : merge_runs(runs, 0)) plan.needed += r.length;
  plan.ranges = merge_runs(std::move(runs), model.merge_gap);
  uint64_t ranged_bytes = 0;
  for (const ByteRun& r : plan.ranges) ranged_bytes += r.length;

  const double t_whole = model.seconds(1, object_bytes);
  const double t_ranged = model.seconds(plan.ranges.size(), ranged_bytes);
  if (plan.ranges.empty() || !(t_ranged < t_whole)) {
    plan.whole = true;
    plan.ranges.clear();
    plan.bytes = object_bytes;
    return plan;
  }
  plan.whole = false;
  plan.bytes = ranged_bytes;
  plan.piece_range.resize(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const uint64_t off = pieces[i].chunk_offset * element_size;
    // The last range starting at or before the piece holds it (ranges cover every piece).
    auto it = std::upper_bound(plan.ranges.begin(), plan.ranges.end(), off,
                               [](uint64_t o, const ByteRun& r) { return o < r.offset; });
    plan.piece_range[i] = static_cast<uint32_t>(it == plan.ranges.begin() ? 0 : (it - plan.ranges.begin()) - 1);
  }
  return plan;
}

}  // namespace arraymorph::io
