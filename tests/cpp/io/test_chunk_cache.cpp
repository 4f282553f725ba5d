// Chunk cache: LRU order, byte bound, tag checks (owner identity, shape), write-through update.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "io/chunk_cache.hpp"

using namespace arraymorph;
using namespace arraymorph::io;

namespace {
ChunkCache::Data bytes(size_t n, unsigned char v) { return std::make_shared<const Bytes>(n, v); }
constexpr uint64_t kOver = ChunkCache::kEntryOverhead;
}  // namespace

TEST_CASE("hits return the cached bytes, misses nullopt") {
  auto owner = std::make_shared<int>(1);
  ChunkCache c(1 << 20);
  ChunkCache::Tag tag{owner, {10, 10}};
  CHECK_FALSE(c.get("f/a/c/0/0", tag).has_value());
  c.put("f/a/c/0/0", bytes(100, 7), tag);
  auto hit = c.get("f/a/c/0/0", tag);
  REQUIRE(hit.has_value());
  REQUIRE(static_cast<bool>(*hit));
  CHECK((*hit)->size() == 100);
  CHECK((**hit)[0] == 7);
  CHECK(c.size() == 1);
  CHECK(c.bytes() == 100 + kOver + 9);
  // Absent chunks are cached as nullptr.
  c.put("f/a/c/0/1", nullptr, tag);
  auto absent = c.get("f/a/c/0/1", tag);
  REQUIRE(absent.has_value());
  CHECK_FALSE(static_cast<bool>(*absent));
}

TEST_CASE("least recently used entries are evicted to stay within the byte bound") {
  auto owner = std::make_shared<int>(1);
  ChunkCache::Tag tag{owner, {4}};
  const uint64_t entry = 1000 + kOver + 1;  // keys are one character
  ChunkCache c(3 * entry);
  c.put("a", bytes(1000, 1), tag);
  c.put("b", bytes(1000, 2), tag);
  c.put("c", bytes(1000, 3), tag);
  CHECK(c.size() == 3);
  CHECK(c.get("a", tag).has_value());  // a is now the most recent
  c.put("d", bytes(1000, 4), tag);      // evicts b
  CHECK(c.size() == 3);
  CHECK_FALSE(c.get("b", tag).has_value());
  CHECK(c.get("a", tag).has_value());
  CHECK(c.get("c", tag).has_value());
  CHECK(c.get("d", tag).has_value());
  CHECK(c.bytes() <= c.capacity());
  // Bigger than the whole cache: not cached, and nothing else evicted.
  c.put("e", bytes(5000, 5), tag);
  CHECK_FALSE(c.get("e", tag).has_value());
  CHECK(c.size() == 3);
  // Replacing an entry keeps the accounting right.
  c.put("a", bytes(10, 9), tag);
  CHECK(c.bytes() == 2 * entry + 10 + kOver + 1);
}

TEST_CASE("a different owner or shape never hits") {
  auto owner = std::make_shared<int>(1);
  ChunkCache c(1 << 20);
  c.put("k", bytes(8, 1), {owner, {10}});
  auto other = std::make_shared<int>(1);
  CHECK_FALSE(c.get("k", {other, {10}}).has_value());  // re-created dataset: other node
  CHECK(c.size() == 0);                                   // stale entry dropped
  c.put("k", bytes(8, 1), {owner, {10}});
  CHECK_FALSE(c.get("k", {owner, {12}}).has_value());  // resized
  c.put("k", bytes(8, 1), {owner, {10}});
  std::weak_ptr<int> w = owner;
  owner.reset();  // the node is gone; a new one (maybe at the same address) must not match
  auto again = std::make_shared<int>(2);
  CHECK_FALSE(c.get("k", {again, {10}}).has_value());
}

TEST_CASE("update replaces only cached entries; erase and clear") {
  auto owner = std::make_shared<int>(1);
  ChunkCache::Tag tag{owner, {10}};
  ChunkCache c(1 << 20);
  CHECK_FALSE(c.update("x", bytes(4, 1), tag));
  CHECK_FALSE(c.get("x", tag).has_value());
  c.put("x", bytes(4, 1), tag);
  CHECK(c.update("x", bytes(4, 2), tag));
  CHECK((**c.get("x", tag))[0] == 2);
  c.erase("x");
  CHECK_FALSE(c.get("x", tag).has_value());
  c.put("y", bytes(4, 1), tag);
  c.clear();
  CHECK(c.size() == 0);
  CHECK(c.bytes() == 0);
}

TEST_CASE("capacity 0 disables the cache") {
  auto owner = std::make_shared<int>(1);
  ChunkCache c(0);
  CHECK_FALSE(c.enabled());
  c.put("k", bytes(1, 1), {owner, {1}});
  CHECK_FALSE(c.get("k", {owner, {1}}).has_value());
  CHECK(c.size() == 0);
}

TEST_CASE("erase_prefix drops one dataset's entries") {
  auto owner = std::make_shared<int>(1);
  ChunkCache::Tag tag{owner, {10}};
  ChunkCache c(1 << 20);
  c.put("f/a/c/0", bytes(4, 1), tag);
  c.put("f/a/c/1", bytes(4, 1), tag);
  c.put("f/ab/c/0", bytes(4, 1), tag);
  c.erase_prefix("f/a/");
  CHECK(c.size() == 1);
  CHECK(c.get("f/ab/c/0", tag).has_value());
}
