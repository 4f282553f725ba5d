// range_planner.hpp -- chooses, for one chunk of a read, between one whole-object GET and a few
// ranged GETs of the bytes the selection needs (docs/design.md §4).
//
// Input: the chunk's pieces (element runs inside the chunk, from chunk_plan) and the element
// size. The byte runs they cover are sorted and unioned; runs whose gap is at most `merge_gap`
// bytes are merged into one range (reading the gap costs less than another request). Then the
// cost model
//
//     time ≈ requests · latency / parallelism + bytes / bandwidth
//
// compares the ranged plan with one GET of the whole object (object_bytes); ties go to the whole
// object, which can also be cached. Only meaningful for uncompressed chunks (codecs == [bytes]),
// where a byte offset in the object is an element offset in the chunk; compressed chunks are
// always fetched whole by the caller.
//
// Defaults (configurable, docs/configuration.md): latency 20 ms (first byte of an object-store
// GET in-region), bandwidth 200 MB/s (what one client typically pulls from S3/Azure), parallelism
// = max_inflight (64), merge gap 64 KiB (≈ latency · bandwidth / parallelism: one request's
// cost expressed in bytes).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/chunk_plan.hpp"

namespace arraymorph::io {

struct RangeCostModel {
  double latency_s = 0.020;          // per request
  double bandwidth_bps = 200e6;      // bytes per second, all requests together
  double parallelism = 64;           // requests in flight (max_inflight)
  uint64_t merge_gap = 64ull << 10;  // bytes: runs closer than this are fetched as one range

  double seconds(uint64_t requests, uint64_t bytes) const;
  // The same for one read as a whole: its requests go out in ceil(requests / parallelism) rounds.
  double rounds_seconds(uint64_t requests, uint64_t bytes) const;
};

struct ByteRun {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ByteRun& o) const { return offset == o.offset && length == o.length; }
};

struct RangePlan {
  bool whole = true;             // one GET of the whole object; ranges/piece_range unused
  std::vector<ByteRun> ranges;   // sorted, disjoint, gaps > merge_gap
  std::vector<uint32_t> piece_range;  // for each input piece: index of the range holding it
  uint64_t bytes = 0;            // bytes the chosen plan transfers
  uint64_t needed = 0;           // bytes of the union of the pieces
};

// Sorts, unions overlapping/adjacent runs and merges runs separated by at most `gap` bytes.
std::vector<ByteRun> merge_runs(std::vector<ByteRun> runs, uint64_t gap);

// Plans the GETs of one chunk object of `object_bytes` bytes (uncompressed).
RangePlan plan_ranges(const std::vector<Piece>& pieces, size_t element_size, uint64_t object_bytes,
                      const RangeCostModel& model);

// Plans the ranged GETs of one read as a whole (issue 19, item 5: fancy and point selections
// touching many chunks, e.g. `ds[sorted_rows, :]`). Per chunk, plan_ranges prices each extra
// request at latency / parallelism; but all of a read's requests go out together, so what the
// read costs is its number of rounds, ceil(requests / parallelism) · latency, plus bytes /
// bandwidth. Merging the m smallest gaps between ranges of the same chunk (over all chunks of
// the read) saves m requests for the gaps' bytes; this picks the m with the least
// rounds_seconds (only whole rounds less pay; ties keep fewer bytes) and applies it to `plans`
// (ranges and piece_range updated; whole plans untouched). `other_requests`: the read's other
// GETs (whole chunks). Returns the number of gaps merged.
uint64_t coalesce_plans(const std::vector<RangePlan*>& plans, uint64_t other_requests, const RangeCostModel& model);

}  // namespace arraymorph::io
