// listing.hpp -- builds S3-style list pages (prefix, delimiter roll-up, pagination) from keys
// fed in ascending order. Shared by the memory and local stores so both paginate exactly alike.
//
// Continuation token: the last entry (key or common prefix) of the previous page; the next page
// starts strictly after it. Because a common prefix sorts before every key it rolls up, this is
// unambiguous without an opaque encoding.
//
// Thread-safety: a PageBuilder is used by one thread for one list() call.
#pragma once

#include <cstdint>
#include <string>

#include "store/store.hpp"

namespace arraymorph {

class PageBuilder {
 public:
  PageBuilder(std::string prefix, std::string delimiter, std::string token, size_t max_keys);

  // Feed every key under the prefix in ascending byte order. Returns false once the page is full
  // and the next entry has been seen (the caller may stop feeding).
  bool add(const std::string& key, uint64_t size, const std::string& etag = "");
  ListPage finish() { return std::move(page_); }

 private:
  std::string prefix_;
  std::string delimiter_;
  std::string token_;
  size_t max_keys_;
  size_t emitted_ = 0;
  std::string last_entry_;
  bool full_ = false;
  ListPage page_;
};

}  // namespace arraymorph
