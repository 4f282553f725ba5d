// test_readahead.cpp -- sequential-pass detection and the look-ahead window (src/io/readahead).
#include <doctest/doctest.h>

#include "io/readahead.hpp"

using namespace arraymorph::io;
using Coords = std::vector<std::vector<uint64_t>>;

namespace {
Box rows(uint64_t r0, uint64_t r1, uint64_t cols) { return Box{{r0, 0}, {r1, cols - 1}}; }
}  // namespace

TEST_CASE("batches of rows in order: nothing before two reads agree, then two chunk rows, topped up") {
  // 1024 x 64 array in 256 x 32 chunks: a chunk row is 2 chunks; budget 8 chunks = 4 chunk rows.
  const std::vector<uint64_t> shape{1024, 64}, chunks{256, 32};
  ReadAhead ra;
  ReadAheadCounts c;
  CHECK(ra.on_read(rows(0, 63, 64), shape, chunks, 8, c).empty());
  CHECK_FALSE(ra.sequential());
  Coords got = ra.on_read(rows(64, 127, 64), shape, chunks, 8, c);
  CHECK(ra.sequential());
  CHECK(ra.depth() == 2);
  // A pass starts two chunk rows deep, in the order the pass needs them.
  CHECK(got == Coords{{1, 0}, {1, 1}, {2, 0}, {2, 1}});
  // Still 2 chunk rows ahead of the read: no refill.
  CHECK(ra.on_read(rows(128, 191, 64), shape, chunks, 8, c).empty());
  CHECK(ra.on_read(rows(192, 255, 64), shape, chunks, 8, c).empty());
  CHECK(c.hits == 0);
  // Chunk row 1 was read ahead; one row is left ahead: half the depth is missing, top up.
  CHECK(ra.on_read(rows(256, 319, 64), shape, chunks, 8, c) == Coords{{3, 0}, {3, 1}});
  CHECK(c.hits == 2);
  for (uint64_t r = 320; r < 1024; r += 64) CHECK(ra.on_read(rows(r, r + 63, 64), shape, chunks, 8, c).empty());
  CHECK(c.hits == 6);
  CHECK(c.unused == 0);
}

TEST_CASE("depth doubles after a read waited, follows the batch rate, and stays within the budget") {
  const std::vector<uint64_t> shape{1000}, chunks{10};  // 100 chunks
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{0}, {9}}, shape, chunks, 64, c, {1.0, 0, false});
  CHECK(ra.on_read(Box{{10}, {19}}, shape, chunks, 64, c, {1.25, 0, false}) == Coords{{2}, {3}});
  // The next read waited for chunk 2 still in flight: twice as deep (4 slabs: 3 ahead, +3).
  CHECK(ra.on_read(Box{{20}, {29}}, shape, chunks, 64, c, {1.5, 0, true}) == Coords{{4}, {5}, {6}});
  CHECK(ra.depth() == 4);
  // 4 slabs a second, a step takes 1.25 s: at least 2 * 4 * 1.25 + 1 = 11 slabs ahead.
  Coords got = ra.on_read(Box{{30}, {39}}, shape, chunks, 64, c, {1.75, 1.25, false});
  CHECK(ra.depth() == 11);
  CHECK(got.size() == 8);
  CHECK(got.front() == std::vector<uint64_t>{7});
  CHECK(got.back() == std::vector<uint64_t>{14});
  // However slow the network, never more than the budget ahead.
  ReadAhead deep;
  ReadAheadCounts d;
  uint64_t requested = 0;
  double now = 1;
  for (uint64_t r = 0; r < 1000; r += 10) {
    requested += deep.on_read(Box{{r}, {r + 9}}, shape, chunks, 16, d, {now += 0.01, 100.0, true}).size();
    CHECK(deep.depth() <= 16);
    CHECK(requested - d.hits <= 16);
  }
}

TEST_CASE("backward passes read ahead towards the start") {
  const std::vector<uint64_t> shape{100}, chunks{10};
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{90}, {99}}, shape, chunks, 3, c);
  CHECK(ra.on_read(Box{{80}, {89}}, shape, chunks, 3, c) == Coords{{7}, {6}});
}

TEST_CASE("a pass along the second axis takes column slabs") {
  const std::vector<uint64_t> shape{20, 40}, chunks{10, 10};
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{0, 0}, {19, 4}}, shape, chunks, 4, c);
  CHECK(ra.on_read(Box{{0, 5}, {19, 9}}, shape, chunks, 4, c) == Coords{{0, 1}, {1, 1}, {0, 2}, {1, 2}});
}

TEST_CASE("random access never reads ahead; a broken pass cancels what has not started and counts the rest") {
  const std::vector<uint64_t> shape{1000}, chunks{10};
  ReadAhead ra;
  ReadAheadCounts c;
  int cancels = 0;
  ra.cancel_hook = [&] {
    ++cancels;
    return Coords{{3}};  // the step holding chunk 3 had not started
  };
  for (uint64_t start : {500, 120, 730, 40, 990, 310}) CHECK(ra.on_read(Box{{start}, {start + 5}}, shape, chunks, 8, c).empty());
  CHECK_FALSE(ra.sequential());
  CHECK(cancels == 0);  // no pass, nothing to cancel
  ra.on_read(Box{{0}, {9}}, shape, chunks, 8, c);
  CHECK(ra.on_read(Box{{10}, {19}}, shape, chunks, 8, c) == Coords{{2}, {3}});
  CHECK(ra.on_read(Box{{600}, {609}}, shape, chunks, 8, c).empty());  // jump: the pass ends
  CHECK_FALSE(ra.sequential());
  CHECK(cancels == 1);
  CHECK(c.cancelled == 1);
  CHECK(c.unused == 1);  // chunk 2: fetched (or in flight), never read
  CHECK(c.hits == 0);
  for (uint64_t start : {120, 730, 40}) CHECK(ra.on_read(Box{{start}, {start + 5}}, shape, chunks, 8, c).empty());
  CHECK(cancels == 1);
}

TEST_CASE("the same block read twice, or a changed extent on another axis, is no pass") {
  const std::vector<uint64_t> shape{100, 100}, chunks{10, 10};
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{0, 0}, {9, 9}}, shape, chunks, 8, c);
  CHECK(ra.on_read(Box{{0, 0}, {9, 9}}, shape, chunks, 8, c).empty());
  CHECK(ra.on_read(Box{{10, 0}, {19, 19}}, shape, chunks, 8, c).empty());
  CHECK_FALSE(ra.sequential());
}

TEST_CASE("a slab larger than the budget reads nothing ahead") {
  const std::vector<uint64_t> shape{100, 100}, chunks{10, 10};  // a chunk row is 10 chunks
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{0, 0}, {4, 99}}, shape, chunks, 8, c);
  CHECK(ra.on_read(Box{{5, 0}, {9, 99}}, shape, chunks, 8, c).empty());
  CHECK(ra.sequential());
}
