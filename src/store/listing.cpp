// listing.cpp -- S3-style list pages from an ascending key stream.
#include "store/listing.hpp"

#include <utility>

namespace arraymorph {

PageBuilder::PageBuilder(std::string prefix, std::string delimiter, std::string token,
                         size_t max_keys)
    : prefix_(std::move(prefix)),
      delimiter_(std::move(delimiter)),
      token_(std::move(token)),
      // S3 treats max-keys=0 as "return nothing"; callers that loop on the token would spin, so
      // 0 falls back to S3's default page size.
      max_keys_(max_keys == 0 ? 1000 : max_keys) {}

bool PageBuilder::add(const std::string& key, uint64_t size, const std::string& etag) {
  if (full_) return false;
  if (key.compare(0, prefix_.size(), prefix_) != 0) return true;
  std::string entry;
  bool rolled_up = false;
  if (!delimiter_.empty()) {
    const size_t pos = key.find(delimiter_, prefix_.size());
    if (pos != std::string::npos) {
      entry = key.substr(0, pos + delimiter_.size());
      rolled_up = true;
    }
  }
  if (!rolled_up) entry = key;
  if (!token_.empty() && entry <= token_) return true;
  if (rolled_up && emitted_ > 0 && entry == last_entry_) return true;
  if (emitted_ == max_keys_) {
    page_.next_token = last_entry_;
    full_ = true;
    return false;
  }
  if (rolled_up) {
    page_.common_prefixes.push_back(entry);
  } else {
    page_.objects.push_back(ObjectInfo{key, size, etag});
  }
  last_entry_ = std::move(entry);
  ++emitted_;
  return true;
}

}  // namespace arraymorph
