// Planner tests: any HDF5 selection -> per-chunk pieces. Each test rebuilds the selected values
// from the plan and compares them with what direct indexing gives.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <numeric>
#include <vector>

#include "io/chunk_plan.hpp"

using namespace arraymorph;
using namespace arraymorph::io;

namespace {

// Value stored at a linear index of the dataset: the index itself.
// Chunk c holds the dataset's elements in C order within the chunk; we reconstruct the global
// index of (chunk coords, chunk offset) and check it equals the file element paired with it.
uint64_t global_index(const std::vector<uint64_t>& shape, const std::vector<uint64_t>& cs,
                      const std::vector<uint64_t>& coords, uint64_t chunk_off) {
  size_t r = shape.size();
  std::vector<uint64_t> within(r);
  for (size_t d = r; d-- > 0;) {
    within[d] = chunk_off % cs[d];
    chunk_off /= cs[d];
  }
  uint64_t lin = 0;
  for (size_t d = 0; d < r; ++d) lin = lin * shape[d] + coords[d] * cs[d] + within[d];
  return lin;
}

// Runs the plan and returns, for each buffer position, the dataset linear index it receives.
std::vector<uint64_t> execute(const std::vector<uint64_t>& shape, const std::vector<uint64_t>& cs, hid_t space) {
  auto runs = selection_runs(space);
  REQUIRE(runs.ok());
  uint64_t n = 0;
  for (auto& r : runs.value()) n += r.length;
  auto plan = plan_chunks(shape, cs, runs.value(), {Run{0, n}});
  REQUIRE(plan.ok());
  CHECK(plan.value().elements == n);
  std::vector<uint64_t> out(n, UINT64_MAX);
  for (const auto& w : plan.value().chunks)
    for (const auto& p : w.pieces)
      for (uint64_t k = 0; k < p.count; ++k) out[p.buf_offset + k] = global_index(shape, cs, w.coords, p.chunk_offset + k);
  return out;
}

std::vector<uint64_t> expected(hid_t space) {
  auto runs = selection_runs(space);
  REQUIRE(runs.ok());
  std::vector<uint64_t> out;
  for (auto& r : runs.value())
    for (uint64_t k = 0; k < r.length; ++k) out.push_back(r.offset + k);
  return out;
}

hid_t make_space(const std::vector<hsize_t>& dims) { return H5Screate_simple(int(dims.size()), dims.data(), nullptr); }

}  // namespace

TEST_CASE("full selection of a 2-D array with ragged edge chunks") {
  hid_t s = make_space({7, 5});
  H5Sselect_all(s);
  auto got = execute({7, 5}, {3, 2}, s);
  CHECK(got == expected(s));
  auto plan = plan_chunks({7, 5}, {3, 2}, selection_runs(s).value(), {Run{0, 35}});
  CHECK(plan.value().chunks.size() == 9);  // ceil(7/3) * ceil(5/2)
  // Edge chunk (2, 2) holds 1 x 1 valid elements.
  bool found = false;
  for (auto& w : plan.value().chunks)
    if (w.coords == std::vector<uint64_t>{2, 2}) {
      CHECK(w.valid == 1);
      CHECK(w.selected == 1);
      found = true;
    }
  CHECK(found);
  H5Sclose(s);
}

TEST_CASE("strided hyperslab in 3-D") {
  hid_t s = make_space({9, 8, 10});
  hsize_t start[] = {1, 0, 2}, stride[] = {3, 2, 4}, count[] = {3, 4, 2}, block[] = {1, 1, 2};
  H5Sselect_hyperslab(s, H5S_SELECT_SET, start, stride, count, block);
  CHECK(execute({9, 8, 10}, {4, 3, 3}, s) == expected(s));
  H5Sclose(s);
}

TEST_CASE("point selection in arbitrary order pairs points with buffer positions") {
  hid_t s = make_space({10, 10});
  hsize_t pts[] = {9, 9, 0, 0, 5, 3, 0, 9, 9, 0};
  H5Sselect_elements(s, H5S_SELECT_SET, 5, pts);
  auto got = execute({10, 10}, {4, 4}, s);
  CHECK(got == std::vector<uint64_t>{99, 0, 53, 9, 90});
  H5Sclose(s);
}

TEST_CASE("union of hyperslabs and 1-D") {
  hid_t s = make_space({100});
  hsize_t a0[] = {3}, ac[] = {10}, b0[] = {50}, bc[] = {25};
  H5Sselect_hyperslab(s, H5S_SELECT_SET, a0, nullptr, ac, nullptr);
  H5Sselect_hyperslab(s, H5S_SELECT_OR, b0, nullptr, bc, nullptr);
  CHECK(execute({100}, {7}, s) == expected(s));
  H5Sclose(s);
}

TEST_CASE("scalar dataspace has one chunk with one element") {
  auto plan = plan_chunks({}, {}, {Run{0, 1}}, {Run{0, 1}});
  REQUIRE(plan.ok());
  REQUIRE(plan.value().chunks.size() == 1);
  CHECK(plan.value().chunks[0].coords.empty());
  CHECK(plan.value().chunks[0].valid == 1);
}

TEST_CASE("memory runs are split to match file runs") {
  // File: 2 rows of 4 in a 4x4 array with 2x2 chunks; memory: 8 scattered single elements.
  std::vector<Run> file{{0, 4}, {4, 4}};
  std::vector<Run> mem;
  for (uint64_t i = 0; i < 8; ++i) mem.push_back({i * 3, 1});
  auto plan = plan_chunks({4, 4}, {2, 2}, file, mem);
  REQUIRE(plan.ok());
  uint64_t total = 0;
  for (auto& w : plan.value().chunks)
    for (auto& p : w.pieces) {
      CHECK(p.count == 1);
      CHECK(p.buf_offset % 3 == 0);
      total += p.count;
    }
  CHECK(total == 8);
}

TEST_CASE("mismatched element counts and out-of-extent selections are errors") {
  auto short_mem = plan_chunks({4, 4}, {2, 2}, {Run{0, 8}}, {Run{0, 7}});
  CHECK_FALSE(short_mem.ok());
  auto long_mem = plan_chunks({4, 4}, {2, 2}, {Run{0, 8}}, {Run{0, 9}});
  CHECK_FALSE(long_mem.ok());
  auto outside = plan_chunks({4, 4}, {2, 2}, {Run{10, 8}}, {Run{0, 8}});
  CHECK_FALSE(outside.ok());
  CHECK(outside.status().message().find("extent") != std::string::npos);
}
