// chunk_cache.cpp -- see chunk_cache.hpp.
#include "io/chunk_cache.hpp"

namespace arraymorph::io {

void ChunkCache::remove_locked(std::list<Entry>::iterator it) {
  bytes_ -= it->charge;
  index_.erase(it->key);
  lru_.erase(it);
}

std::optional<ChunkCache::Data> ChunkCache::get(const std::string& key, const Tag& tag) {
  if (!enabled()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  auto it = found->second;
  if (!same_owner(it->tag.owner, tag.owner) || it->tag.shape != tag.shape) {
    remove_locked(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return it->data;
}

void ChunkCache::put(const std::string& key, Data data, Tag tag) {
  if (!enabled()) return;
  const uint64_t charge = charge_of(key, data);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto found = index_.find(key); found != index_.end()) remove_locked(found->second);
  if (charge > capacity_) return;  // would evict everything and still not fit
  while (bytes_ + charge > capacity_ && !lru_.empty()) remove_locked(std::prev(lru_.end()));
  lru_.push_front(Entry{key, std::move(data), std::move(tag), charge});
  index_.emplace(key, lru_.begin());
  bytes_ += charge;
}

bool ChunkCache::update(const std::string& key, Data data, Tag tag) {
  if (!enabled()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.find(key) == index_.end()) return false;
  }
  put(key, std::move(data), std::move(tag));  // single HDF5 thread writes; a race only drops it
  return true;
}

void ChunkCache::erase(const std::string& key) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto found = index_.find(key); found != index_.end()) remove_locked(found->second);
}

void ChunkCache::erase_prefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->key.compare(0, prefix.size(), prefix) == 0) remove_locked(it);
    it = next;
  }
}

void ChunkCache::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

uint64_t ChunkCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t ChunkCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace arraymorph::io
