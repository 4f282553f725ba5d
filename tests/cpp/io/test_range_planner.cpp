// Range planner: byte runs of a chunk's pieces, merging across small gaps, and the cost model's
// choice between one whole-object GET and ranged GETs.
#include <doctest/doctest.h>

#include <vector>

#include "io/range_planner.hpp"

using namespace arraymorph::io;

namespace {
RangeCostModel model(double latency = 0.020, double bw = 200e6, double par = 64, uint64_t gap = 64 << 10) {
  RangeCostModel m;
  m.latency_s = latency;
  m.bandwidth_bps = bw;
  m.parallelism = par;
  m.merge_gap = gap;
  return m;
}
}  // namespace

TEST_CASE("merge_runs unions overlaps and merges small gaps") {
  std::vector<ByteRun> runs = {{100, 10}, {0, 10}, {5, 10}, {200, 1}, {115, 5}};
  auto m0 = merge_runs(runs, 0);
  REQUIRE(m0.size() == 4);
  CHECK(m0[0] == ByteRun{0, 15});
  CHECK(m0[1] == ByteRun{100, 10});
  CHECK(m0[2] == ByteRun{115, 5});
  CHECK(m0[3] == ByteRun{200, 1});
  auto m5 = merge_runs(runs, 5);
  REQUIRE(m5.size() == 3);
  CHECK(m5[1] == ByteRun{100, 20});
  auto all = merge_runs(runs, 1000);
  REQUIRE(all.size() == 1);
  CHECK(all[0] == ByteRun{0, 201});
  CHECK(merge_runs({{3, 0}}, 10).empty());
}

TEST_CASE("a fully selected chunk is fetched whole") {
  // 256x256 float32 chunk, all 256 rows selected: one run = the object, tie -> whole.
  std::vector<Piece> pieces;
  for (uint64_t r = 0; r < 256; ++r) pieces.push_back({r * 256, 0, 256});
  auto p = plan_ranges(pieces, 4, 256 * 256 * 4, model());
  CHECK(p.whole);
  CHECK(p.bytes == 256 * 256 * 4);
  CHECK(p.needed == 256 * 256 * 4);
}

TEST_CASE("a thin box in a chunk becomes one ranged GET moving little more than needed") {
  // rows 10..19, columns 10..255 of a 256x256 float32 chunk: 10 runs of 984 bytes, gaps of 40.
  std::vector<Piece> pieces;
  for (uint64_t r = 10; r < 20; ++r) pieces.push_back({r * 256 + 10, (r - 10) * 246, 246});
  auto p = plan_ranges(pieces, 4, 256 * 256 * 4, model());
  REQUIRE_FALSE(p.whole);
  REQUIRE(p.ranges.size() == 1);
  CHECK(p.ranges[0].offset == (10 * 256 + 10) * 4);
  CHECK(p.ranges[0].length == (9 * 256 + 246) * 4);
  CHECK(p.needed == 10 * 246 * 4);
  CHECK(static_cast<double>(p.bytes) <= 1.2 * static_cast<double>(p.needed));
  REQUIRE(p.piece_range.size() == pieces.size());
  for (auto r : p.piece_range) CHECK(r == 0);
}

TEST_CASE("far apart runs stay separate ranges and pieces map to their range") {
  // Two single elements at both ends of a 1 MiB object.
  std::vector<Piece> pieces = {{0, 0, 1}, {(1 << 20) / 4 - 1, 1, 1}};
  auto p = plan_ranges(pieces, 4, 1 << 20, model());
  REQUIRE_FALSE(p.whole);
  REQUIRE(p.ranges.size() == 2);
  CHECK(p.ranges[0] == ByteRun{0, 4});
  CHECK(p.ranges[1] == ByteRun{(1 << 20) - 4, 4});
  CHECK(p.piece_range == std::vector<uint32_t>{0, 1});
  CHECK(p.bytes == 8);
}

TEST_CASE("the cost model prefers one whole GET over many small ranges") {
  // 64 single elements spread 4 KiB apart in a 256 KiB object; no merging (gap 0).
  std::vector<Piece> pieces;
  for (uint64_t i = 0; i < 64; ++i) pieces.push_back({i * 1024, i, 1});
  // Latency dominates (64 requests vs 1): whole.
  auto p = plan_ranges(pieces, 4, 256 << 10, model(0.020, 200e6, 1, 0));
  CHECK(p.whole);
  CHECK(p.bytes == (256u << 10));
  // Free requests, slow network: ranges.
  auto q = plan_ranges(pieces, 4, 256 << 10, model(0.0, 1e6, 64, 0));
  CHECK_FALSE(q.whole);
  CHECK(q.ranges.size() == 64);
  CHECK(q.bytes == 256);
}

TEST_CASE("merging with the default gap turns a strided pattern into one range") {
  // [::16, ::16] inside a 256x256 float32 chunk: 16 rows x 16 elements.
  std::vector<Piece> pieces;
  uint64_t b = 0;
  for (uint64_t r = 0; r < 256; r += 16)
    for (uint64_t c = 0; c < 256; c += 16) pieces.push_back({r * 256 + c, b++, 1});
  auto p = plan_ranges(pieces, 4, 256 * 256 * 4, model());
  CHECK(p.needed == 256 * 4);
  if (!p.whole) {
    CHECK(p.ranges.size() == 1);
    CHECK(p.bytes < 256u * 256 * 4);
  }
  // With a small merge gap the 16 row groups are 16 ranges, too many to beat one GET at 20 ms
  // with parallelism 1.
  auto q = plan_ranges(pieces, 4, 256 * 256 * 4, model(0.020, 200e6, 1, 1024));
  CHECK(q.whole);
}

TEST_CASE("empty piece lists and repeated elements") {
  auto p = plan_ranges({}, 4, 1000, model());
  CHECK(p.whole);
  std::vector<Piece> rep = {{10, 0, 1}, {10, 1, 1}, {10, 2, 1}};
  auto q = plan_ranges(rep, 8, 1 << 20, model());
  REQUIRE_FALSE(q.whole);
  CHECK(q.ranges.size() == 1);
  CHECK(q.ranges[0] == ByteRun{80, 8});
  CHECK(q.needed == 8);
}

TEST_CASE("a read's ranged GETs are planned as a whole: merged gaps buy whole rounds") {
  // 8 chunks, each with 3 ranges: 24 requests at parallelism 8 = 3 rounds of 10 ms.
  RangeCostModel m;
  m.latency_s = 0.010;
  m.bandwidth_bps = 100e6;  // 1 KB per 10 us
  m.parallelism = 8;
  std::vector<RangePlan> plans(8);
  for (size_t c = 0; c < plans.size(); ++c) {
    RangePlan& p = plans[c];
    p.whole = false;
    // Gaps of 1 KB (between ranges 0 and 1) and of 50 KB + c KB (between 1 and 2).
    p.ranges = {{0, 1000}, {2000, 1000}, {53000 + 1000 * c, 1000}};
    p.piece_range = {0, 1, 2, 2};
    p.bytes = 3000;
  }
  std::vector<RangePlan*> ptrs;
  for (auto& p : plans) ptrs.push_back(&p);
  // Merging the eight 1 KB gaps saves a round (10 ms) for 8 KB (80 us); merging the 50 KB gaps
  // too would save another round for 400+ KB (4+ ms): also worth it. Result: one range a chunk.
  CHECK(coalesce_plans(ptrs, 0, m) == 16);
  for (size_t c = 0; c < plans.size(); ++c) {
    REQUIRE(plans[c].ranges.size() == 1);
    CHECK(plans[c].ranges[0] == ByteRun{0, 54000 + 1000 * c});
    CHECK(plans[c].piece_range == std::vector<uint32_t>{0, 0, 0, 0});
    CHECK(plans[c].bytes == 54000 + 1000 * c);
  }
  // On a slow link (1 KB per ms) the 50 KB gaps cost more than a round: only the small ones go.
  m.bandwidth_bps = 1e6;
  for (size_t c = 0; c < plans.size(); ++c) {
    plans[c].ranges = {{0, 1000}, {2000, 1000}, {53000 + 1000 * c, 1000}};
    plans[c].piece_range = {0, 1, 2, 2};
    plans[c].bytes = 3000;
  }
  CHECK(coalesce_plans(ptrs, 0, m) == 8);
  CHECK(plans[3].ranges == std::vector<ByteRun>{{0, 3000}, {56000, 1000}});
  CHECK(plans[3].piece_range == std::vector<uint32_t>{0, 0, 1, 1});
  // Already within one round: nothing merged.
  std::vector<RangePlan*> two{ptrs[0], ptrs[1]};
  plans[0].ranges = {{0, 1000}, {2000, 1000}};
  plans[0].piece_range = {0, 1};
  plans[1].ranges = {{0, 1000}, {2000, 1000}};
  plans[1].piece_range = {0, 1};
  CHECK(coalesce_plans(two, 0, m) == 0);
  // ... unless other GETs of the read fill the round: 4 whole chunks + 4 ranges = 8, no; 5 = 9.
  CHECK(coalesce_plans(two, 4, m) == 0);
  CHECK(coalesce_plans(two, 5, m) == 1);
}
