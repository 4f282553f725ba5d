// object_store.cpp -- the non-virtual parts of store.hpp: default batch forms and the
// list_all / delete_prefix conveniences built on the primitives.
#include "arraymorph/store.hpp"

#include <algorithm>

namespace arraymorph {

void ObjectStore::run_batch(size_t n, const std::function<void(size_t)>& task) const {
  if (n == 0) return;
  if (executor_) {
    executor_(n, task);
    return;
  }
  for (size_t i = 0; i < n; ++i) task(i);
}

void ObjectStore::get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) {
  run_batch(requests.size(), [&](size_t i) {
    const GetRequest& r = requests[i];
    on_done(i, get(r.key, r.range));
  });
}

void ObjectStore::put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) {
  run_batch(requests.size(), [&](size_t i) {
    const PutRequest& r = requests[i];
    on_done(i, put(r.key, r.data, r.size));
  });
}

Result<std::vector<ObjectInfo>> list_all(ObjectStore& store, const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    Result<ListPage> page = store.list(prefix, "", token);
    if (!page.ok()) return page.status();
    for (ObjectInfo& o : page->objects) out.push_back(std::move(o));
    // A server that hands back the token it was given would otherwise loop forever.
    if (!page->next_token.empty() && page->next_token == token) {
      return internal_error("listing '" + prefix + "' in " + store.describe() +
                            " returned the same continuation token twice");
    }
    token = std::move(page->next_token);
  } while (!token.empty());
  return out;
}

Result<size_t> delete_prefix(ObjectStore& store, const std::string& prefix) {
  Result<std::vector<ObjectInfo>> all = list_all(store, prefix);
  if (!all.ok()) return all.status();
  // 1000 is S3 DeleteObjects' per-request limit; other backends do not care.
  constexpr size_t kGroup = 1000;
  const std::vector<ObjectInfo>& objects = all.value();
  for (size_t begin = 0; begin < objects.size(); begin += kGroup) {
    const size_t end = std::min(objects.size(), begin + kGroup);
    std::vector<std::string> keys;
    keys.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) keys.push_back(objects[i].key);
    Status s = store.delete_many(keys);
    if (!s.ok()) return s.with_context("deleting prefix '" + prefix + "'");
  }
  return objects.size();
}

}  // namespace arraymorph
