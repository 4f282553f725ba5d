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
  std::lock_guard<std::mutex> lock(mu_);
  make_stale_locked(key);
  put_locked(key, std::move(data), std::move(tag));
}

void ChunkCache::put_locked(const std::string& key, Data data, Tag tag) {
  const uint64_t charge = charge_of(key, data);
  if (auto found = index_.find(key); found != index_.end()) remove_locked(found->second);
  if (charge > capacity_) return;  // would evict everything and still not fit
  while (bytes_ + charge > capacity_ && !lru_.empty()) remove_locked(std::prev(lru_.end()));
  lru_.push_front(Entry{key, std::move(data), std::move(tag), charge});
  index_.emplace(key, lru_.begin());
  bytes_ += charge;
}

bool ChunkCache::update(const std::string& key, Data data, Tag tag) {
  if (!enabled()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  make_stale_locked(key);
  if (index_.find(key) == index_.end()) return false;
  put_locked(key, std::move(data), std::move(tag));
  return true;
}

void ChunkCache::erase(const std::string& key) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  make_stale_locked(key);
  if (auto found = index_.find(key); found != index_.end()) remove_locked(found->second);
}

void ChunkCache::erase_prefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, stale] : filling_)
    if (key.compare(0, prefix.size(), prefix) == 0) stale = true;
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->key.compare(0, prefix.size(), prefix) == 0) remove_locked(it);
    it = next;
  }
}

void ChunkCache::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& entry : filling_) entry.second = true;
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

bool ChunkCache::begin_fill(const std::string& key) {
  if (!enabled()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return filling_.emplace(key, false).second;
}

void ChunkCache::end_fill(const std::string& key, std::optional<Data> data, Tag tag) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto f = filling_.find(key);
    if (f == filling_.end()) return;
    const bool stale = f->second;
    filling_.erase(f);
    if (!stale && data) put_locked(key, std::move(*data), std::move(tag));
  }
  fill_done_.notify_all();
}

bool ChunkCache::wait_fill(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  if (filling_.find(key) == filling_.end()) return false;
  fill_done_.wait(lock, [&] { return filling_.find(key) == filling_.end(); });
  return true;
}

size_t ChunkCache::fills_in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return filling_.size();
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
