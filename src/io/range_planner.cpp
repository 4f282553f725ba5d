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

double RangeCostModel::rounds_seconds(uint64_t requests, uint64_t bytes) const {
  const uint64_t p = parallelism >= 1 ? static_cast<uint64_t>(parallelism) : 1;
  const double bw = bandwidth_bps > 0 ? bandwidth_bps : 1;
  return static_cast<double>((requests + p - 1) / p) * latency_s + static_cast<double>(bytes) / bw;
}

uint64_t coalesce_plans(const std::vector<RangePlan*>& plans, uint64_t other_requests, const RangeCostModel& model) {
  struct Gap {
    uint64_t bytes;
    RangePlan* plan;
    uint32_t after;  // the gap between ranges[after] and ranges[after + 1]
  };
  std::vector<Gap> gaps;
  uint64_t requests = other_requests, bytes = 0;
  for (RangePlan* p : plans) {
    if (p->whole) continue;
    requests += p->ranges.size();
    bytes += p->bytes;
    for (size_t k = 0; k + 1 < p->ranges.size(); ++k)
      gaps.push_back({p->ranges[k + 1].offset - (p->ranges[k].offset + p->ranges[k].length), p, static_cast<uint32_t>(k)});
  }
  if (gaps.empty()) return 0;
  std::sort(gaps.begin(), gaps.end(), [](const Gap& a, const Gap& b) { return a.bytes < b.bytes; });
  // Merging the m smallest gaps saves m requests for their bytes; only a whole round less pays.
  const uint64_t par = model.parallelism >= 1 ? static_cast<uint64_t>(model.parallelism) : 1;
  uint64_t best_m = 0, added = 0;
  double best = model.rounds_seconds(requests, bytes);
  for (uint64_t m = 1; m <= gaps.size(); ++m) {
    added += gaps[m - 1].bytes;
    const uint64_t r = requests - m;
    if (r % par != 0 && m != gaps.size()) continue;  // same number of rounds as a smaller m
    const double t = model.rounds_seconds(r, bytes + added);
    if (t < best) {
      best = t;
      best_m = m;
    }
  }
  if (best_m == 0) return 0;
  // Apply: per plan, the ranges separated by a chosen gap become one.
  std::vector<std::pair<RangePlan*, uint32_t>> chosen;
  for (uint64_t i = 0; i < best_m; ++i) chosen.emplace_back(gaps[i].plan, gaps[i].after);
  std::sort(chosen.begin(), chosen.end());
  for (size_t i = 0; i < chosen.size();) {
    RangePlan* p = chosen[i].first;
    std::vector<char> join(p->ranges.size(), 0);  // join[k]: ranges k and k + 1 become one
    for (; i < chosen.size() && chosen[i].first == p; ++i) join[chosen[i].second] = 1;
    std::vector<ByteRun> merged;
    std::vector<uint32_t> new_index(p->ranges.size());
    for (size_t k = 0; k < p->ranges.size(); ++k) {
      if (k > 0 && join[k - 1]) {
        ByteRun& last = merged.back();
        last.length = p->ranges[k].offset + p->ranges[k].length - last.offset;
      } else {
        merged.push_back(p->ranges[k]);
      }
      new_index[k] = static_cast<uint32_t>(merged.size() - 1);
    }
    for (uint32_t& r : p->piece_range) r = new_index[r];
    p->ranges = std::move(merged);
    p->bytes = 0;
    for (const ByteRun& r : p->ranges) p->bytes += r.length;
  }
  return best_m;
}

}  // namespace arraymorph::io
