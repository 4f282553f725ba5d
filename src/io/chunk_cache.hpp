// chunk_cache.hpp -- bytes-bounded LRU cache of decoded chunks (docs/design.md §4), one per open file
// (FileShared::chunk_cache), shared by the datasets of that file and dropped with it.
//
// Keys are full chunk object keys ("<file key>/<dataset path>/c/0/1"), which name the store
// location, the dataset and the chunk. Each entry also remembers who it belongs to, and a lookup
// only hits when that still matches:
//   - `owner`: the dataset's metadata node (compared by identity through a weak_ptr). A dataset
//     deleted and re-created under the same path has a new node, so its predecessor's chunks
//     never hit.
//   - `shape`: the extent when the chunk was cached. After a resize (which rewrites or deletes
//     boundary chunks in the store) older entries never hit.
// A mismatching entry is dropped on lookup. Entries hold the decoded bytes (chunk_bytes long) or
// nothing for a chunk known to be absent (all fill value), which costs only a small overhead.
//
// Our own writes call update() after the PUT succeeded (write-through: a cached chunk gets the
// new bytes; uncached chunks are not added) and erase() when the PUT failed. Entries larger than the capacity are not cached;
// capacity 0 disables the cache (every call is a no-op / miss).
//
// Fills in flight (background read-ahead, src/io/prefetch.hpp): begin_fill() marks a key as
// being fetched; end_fill() inserts what arrived and wakes readers blocked in wait_fill(), so a
// read never fetches a chunk a second time while its prefetch is on the way. Any write-side call
// for the key while its fill is in flight (put, update, erase, erase_prefix, clear) marks the
// fill stale and end_fill() then drops its bytes: a GET issued before our own PUT can never put
// the old contents back into the cache after the new ones.
//
// Thread-safety: all methods lock an internal mutex; cached buffers are immutable and shared
// (shared_ptr<const Bytes>), so a reader may keep one after it has been evicted.
#pragma once

#include <cstdint>
#include <condition_variable>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store.hpp"

namespace arraymorph::io {

class ChunkCache {
 public:
  using Data = std::shared_ptr<const Bytes>;  // nullptr: the chunk is absent (fill value)
  struct Tag {
    std::weak_ptr<const void> owner;
    std::vector<uint64_t> shape;
  };
  static constexpr uint64_t kEntryOverhead = 128;  // bytes charged per entry besides its data

  explicit ChunkCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  bool enabled() const { return capacity_ > 0; }
  uint64_t capacity() const { return capacity_; }

  // The entry for `key` if present and its tag matches (moves it to the front); nullopt on a miss.
  std::optional<Data> get(const std::string& key, const Tag& tag);
  // Inserts or replaces; evicts least recently used entries to stay within the capacity.
  void put(const std::string& key, Data data, Tag tag);
  // Write-through for our own writes: replaces the entry if `key` is cached (returns true);
  // chunks not in the cache are not added, so a large write does not flood it.
  bool update(const std::string& key, Data data, Tag tag);
  void erase(const std::string& key);
  // Drops every entry whose key starts with `prefix` (e.g. "<file>/<dataset>/" after a resize).
  void erase_prefix(const std::string& prefix);
  void clear();

  // Starts a fill of `key` (false: one is in flight already, or the cache is disabled).
  bool begin_fill(const std::string& key);
  // Ends it: inserts `data` (when given and the fill was not made stale) and wakes waiters.
  void end_fill(const std::string& key, std::optional<Data> data, Tag tag);
  // Blocks while a fill of `key` is in flight; true when it had to wait.
  bool wait_fill(const std::string& key);
  size_t fills_in_flight() const;

  uint64_t bytes() const;
  size_t size() const;

 private:
  struct Entry {
    std::string key;
    Data data;
    Tag tag;
    uint64_t charge = 0;
  };
  static uint64_t charge_of(const std::string& key, const Data& d) {
    return kEntryOverhead + key.size() + (d ? d->size() : 0);
  }
  static bool same_owner(const std::weak_ptr<const void>& a, const std::weak_ptr<const void>& b) {
    return !a.owner_before(b) && !b.owner_before(a);
  }
  void remove_locked(std::list<Entry>::iterator it);
  void put_locked(const std::string& key, Data data, Tag tag);
  void make_stale_locked(const std::string& key) {
    if (auto f = filling_.find(key); f != filling_.end()) f->second = true;
  }

  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  uint64_t bytes_ = 0;
  std::unordered_map<std::string, bool> filling_;  // key -> stale (a write came while in flight)
  std::condition_variable fill_done_;
};

}  // namespace arraymorph::io
