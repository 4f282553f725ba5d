// test_readahead.cpp -- sequential-pass detection and the look-ahead window (src/io/readahead).
#include <doctest/doctest.h>

#include "io/readahead.hpp"

using namespace arraymorph::io;
using Coords = std::vector<std::vector<uint64_t>>;

namespace {
Box rows(uint64_t r0, uint64_t r1, uint64_t cols) { return Box{{r0, 0}, {r1, cols - 1}}; }
}  // namespace

TEST_CASE("batches of rows in order: nothing before two reads agree, then a window of chunk rows") {
  // 1024 x 64 array in 256 x 32 chunks: a chunk row is 2 chunks; budget 8 chunks = 4 chunk rows.
  const std::vector<uint64_t> shape{1024, 64}, chunks{256, 32};
  ReadAhead ra;
  ReadAheadCounts c;
  CHECK(ra.on_read(rows(0, 63, 64), shape, chunks, 8, c).empty());
  CHECK_FALSE(ra.sequential());
  Coords got = ra.on_read(rows(64, 127, 64), shape, chunks, 8, c);
  CHECK(ra.sequential());
  // Chunk rows 1..3 exist (the grid has 4): 6 chunks, in the order the pass needs them.
  CHECK(got == Coords{{1, 0}, {1, 1}, {2, 0}, {2, 1}, {3, 0}, {3, 1}});
  // Still 3 chunk rows ahead of the read: no refill.
  CHECK(ra.on_read(rows(128, 191, 64), shape, chunks, 8, c).empty());
  CHECK(ra.on_read(rows(192, 255, 64), shape, chunks, 8, c).empty());
  CHECK(c.hits == 0);
  CHECK(ra.on_read(rows(256, 319, 64), shape, chunks, 8, c).empty());  // chunk row 1: read ahead
  CHECK(c.hits == 2);
  for (uint64_t r = 320; r < 1024; r += 64) CHECK(ra.on_read(rows(r, r + 63, 64), shape, chunks, 8, c).empty());
  CHECK(c.hits == 6);
  CHECK(c.unused == 0);
}

TEST_CASE("the window refills when less than half of it is left ahead") {
  const std::vector<uint64_t> shape{100}, chunks{10};  // 10 chunks
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{0}, {9}}, shape, chunks, 4, c);
  CHECK(ra.on_read(Box{{10}, {19}}, shape, chunks, 4, c) == Coords{{2}, {3}, {4}, {5}});
  CHECK(ra.on_read(Box{{20}, {29}}, shape, chunks, 4, c).empty());  // 3 ahead
  CHECK(ra.on_read(Box{{30}, {39}}, shape, chunks, 4, c).empty());  // 2 ahead: half, enough
  CHECK(ra.on_read(Box{{40}, {49}}, shape, chunks, 4, c) == Coords{{6}, {7}, {8}});  // 1 ahead
  CHECK(c.hits == 3);
}

TEST_CASE("backward passes read ahead towards the start") {
  const std::vector<uint64_t> shape{100}, chunks{10};
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{90}, {99}}, shape, chunks, 3, c);
  CHECK(ra.on_read(Box{{80}, {89}}, shape, chunks, 3, c) == Coords{{7}, {6}, {5}});
}

TEST_CASE("a pass along the second axis takes column slabs") {
  const std::vector<uint64_t> shape{20, 40}, chunks{10, 10};
  ReadAhead ra;
  ReadAheadCounts c;
  ra.on_read(Box{{0, 0}, {19, 4}}, shape, chunks, 4, c);
  CHECK(ra.on_read(Box{{0, 5}, {19, 9}}, shape, chunks, 4, c) == Coords{{0, 1}, {1, 1}, {0, 2}, {1, 2}});
}

TEST_CASE("random access never reads ahead; a broken pass counts what it left unread") {
  const std::vector<uint64_t> shape{1000}, chunks{10};
  ReadAhead ra;
  ReadAheadCounts c;
  for (uint64_t start : {500, 120, 730, 40, 990, 310}) CHECK(ra.on_read(Box{{start}, {start + 5}}, shape, chunks, 8, c).empty());
  CHECK_FALSE(ra.sequential());
  ra.on_read(Box{{0}, {9}}, shape, chunks, 8, c);
  CHECK(ra.on_read(Box{{10}, {19}}, shape, chunks, 8, c).size() == 8);
  CHECK(ra.on_read(Box{{600}, {609}}, shape, chunks, 8, c).empty());  // jump: the pass ends
  CHECK_FALSE(ra.sequential());
  CHECK(c.unused == 8);  // bounded by one window
  CHECK(c.hits == 0);
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
