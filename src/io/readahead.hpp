// readahead.hpp -- read-ahead for sequential passes through a dataset (issue 19, item 2).
//
// Training loops and scans read a dataset batch after batch in order
// (`for i in range(0, n, b): x = ds[i:i+b]`); each batch used to cost a full round trip of
// ranged GETs. ReadAhead watches the bounding boxes of one dataset handle's reads: when two
// consecutive reads are dense blocks with the same extent on every axis but one, and the second
// continues the first along that axis (forward or backward, touching or overlapping), the pass is
// sequential. Then it names the next chunk slabs along that axis for a Prefetcher
// (prefetch.hpp) to fetch in the background into the file's chunk cache, while the caller goes
// on with its batches; the following batches are served from the cache.
//
// Depth (chunk slabs kept ahead of the read) adapts to the pass, within the budget:
//   - a pass starts 2 slabs deep;
//   - a read that had to wait for look-ahead still in flight (ReadTiming::waited) doubles it;
//   - with the batch rate (slabs the reads advance per second, a moving average) and the time a
//     prefetch step takes (ReadTiming::fetch_s), it is at least 2 * rate * fetch_s + 1 slabs, so a
//     step started now lands before the pass gets there, with one step of slack.
// It refills when at least half a depth is missing ahead, so steps are large and few.
//
// Misprediction is bounded and cancelled: nothing is fetched before two reads agree; a read that
// breaks the pattern resets the pass, which cancels the steps not started yet (the cancel hook,
// set by the owner: their chunks count as `cancelled`) and counts what was fetched or is in
// flight but never read as `unused` (at most the depth, which is at most the budget). Random
// access never triggers it.
//
// Units: boxes are element coordinates, inclusive; chunk coordinates are chunk grid indices;
// budgets and depths are in chunks / chunk slabs; times in seconds (any monotonic origin).
// Thread-safety: none; one per dataset handle, used on the HDF5 thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <vector>

namespace arraymorph::io {

struct Box {
  std::vector<uint64_t> lo, hi;  // inclusive element bounds per dimension
};

struct ReadAheadCounts {
  uint64_t hits = 0;       // chunks a read needed that an earlier read had requested ahead
  uint64_t unused = 0;     // chunks fetched (or in flight) ahead that the pass left without reading
  uint64_t cancelled = 0;  // chunks requested ahead whose step was cancelled before it started
};

// What the owner observed around this read (all optional: zeros mean "unknown").
struct ReadTiming {
  double now_s = 0;     // when this read started
  double fetch_s = 0;   // how long a prefetch step has been taking (Prefetcher::step_seconds)
  bool waited = false;  // the previous read waited for look-ahead still in flight
};

class ReadAhead {
 public:
  using Coords = std::vector<std::vector<uint64_t>>;
  // Returns the chunks of the steps not started yet and drops them (Prefetcher::cancel).
  std::function<Coords()> cancel_hook;

  // Called once per read of a dense block `box` of an array of `shape` in `chunk_shape` chunks,
  // with `budget_chunks` (the read-ahead budget in chunks; 0 disables). Returns the chunk
  // coordinates to fetch ahead (in the order the pass will need them) and accounts hits on, and
  // abandonment of, earlier look-ahead in `counts`.
  Coords on_read(const Box& box, const std::vector<uint64_t>& shape, const std::vector<uint64_t>& chunk_shape,
                 uint64_t budget_chunks, ReadAheadCounts& counts, const ReadTiming& timing = {});
  // A read that is not a dense block (points, strided selections), or a write: ends the pass.
  void reset(ReadAheadCounts& counts);
  bool sequential() const { return axis_ >= 0; }
  uint64_t depth() const { return depth_; }  // slabs, 0 outside a pass

 private:
  std::optional<Box> last_;
  int axis_ = -1;          // axis of the current pass, -1: none
  int dir_ = 0;            // +1 forward, -1 backward
  int64_t frontier_ = -1;  // farthest chunk index along axis_ already requested ahead (-1: none)
  uint64_t depth_ = 0;     // slabs to keep ahead
  double last_now_ = 0;    // ReadTiming::now_s of the previous read
  double rate_ = 0;        // slabs per second the pass advances (moving average; 0: unknown)
  std::set<std::vector<uint64_t>> ahead_;  // requested ahead, not read yet
};

}  // namespace arraymorph::io
