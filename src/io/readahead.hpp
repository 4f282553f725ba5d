// readahead.hpp -- read-ahead for sequential passes through a dataset (issue 19, item 2).
//
// Training loops and scans read a dataset batch after batch in order
// (`for i in range(0, n, b): x = ds[i:i+b]`); each batch used to cost a full round trip of
// ranged GETs. ReadAhead watches the bounding boxes of one dataset handle's reads: when two
// consecutive reads are dense blocks with the same extent on every axis but one, and the second
// continues the first along that axis (forward or backward, touching or overlapping), the pass is
// sequential. Then it names the next chunks along that axis -- as many chunk slabs as fit in the
// read-ahead budget -- for the caller to fetch whole, in the same round trip as the current read,
// into the file's chunk cache; the following batches are served from the cache. It refills only
// when less than half of the window is left ahead, so a pass costs about (chunks / window)
// round trips instead of one per batch.
//
// Misprediction is bounded: nothing is fetched before two reads agree, a read that breaks the
// pattern resets it, and what was fetched ahead and never read is at most one window (counted as
// `unused` in stats()["readahead"]). Random access never triggers it.
//
// Units: boxes are element coordinates, inclusive; chunk coordinates are chunk grid indices;
// budgets are in chunks. Thread-safety: none; one per dataset handle, used on the HDF5 thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace arraymorph::io {

struct Box {
  std::vector<uint64_t> lo, hi;  // inclusive element bounds per dimension
};

struct ReadAheadCounts {
  uint64_t hits = 0;    // chunks a read needed that an earlier read had fetched ahead
  uint64_t unused = 0;  // chunks fetched ahead that the pass left without reading
};

class ReadAhead {
 public:
  // Called once per read of a dense block `box` of an array of `shape` in `chunk_shape` chunks,
  // with `budget_chunks` (the read-ahead budget in chunks; 0 disables). Returns the chunk
  // coordinates to fetch ahead (in the order the pass will need them) and accounts hits on, and
  // abandonment of, earlier look-ahead in `counts`.
  std::vector<std::vector<uint64_t>> on_read(const Box& box, const std::vector<uint64_t>& shape,
                                             const std::vector<uint64_t>& chunk_shape, uint64_t budget_chunks,
                                             ReadAheadCounts& counts);
  // A read that is not a dense block (points, strided selections), or a write: ends the pass.
  void reset(ReadAheadCounts& counts);
  bool sequential() const { return axis_ >= 0; }

 private:
  std::optional<Box> last_;
  int axis_ = -1;       // axis of the current pass, -1: none
  int dir_ = 0;         // +1 forward, -1 backward
  int64_t frontier_ = -1;  // farthest chunk index along axis_ already fetched ahead (-1: none)
  std::set<std::vector<uint64_t>> ahead_;  // fetched ahead, not read yet
};

}  // namespace arraymorph::io
