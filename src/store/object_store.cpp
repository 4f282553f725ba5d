// object_store.cpp -- the non-virtual parts of store.hpp: default batch forms and the
// list_all / delete_prefix conveniences built on the primitives.
#include "store/store.hpp"

#include <algorithm>
#include <cstring>

namespace arraymorph {

Status ObjectStore::put_if_absent(const std::string& key, const unsigned char* data, size_t size) {
  auto h = head(key);
  if (!h.ok()) return h.status();
  if (h.value()) return Status(Code::kAlreadyExists, "'" + key + "' already exists in " + describe());
  return put(key, data, size);
}

void ObjectStore::run_batch(size_t n, const std::function<void(size_t)>& task) const {
  if (n == 0) return;
  if (executor_) {
    executor_(n, task);
    return;
  }
  for (size_t i = 0; i < n; ++i) task(i);
}

bool GetDestination::valid() const {
  uint64_t end = 0;  // end of the previous span: spans are sorted and disjoint
  for (const DestSpan& s : spans) {
    if (s.offset < end || s.offset > size || s.size > size - s.offset) return false;
    if (s.size > 0 && s.dst == nullptr) return false;
    end = s.offset + s.size;
  }
  return true;
}

Status check_destination(const GetDestination& dest, const std::string& key, const std::string& where) {
  if (dest.valid()) return ok_status();
  return invalid_argument("destination of the GET of '" + key + "' in " + where +
                          " has unsorted, overlapping or out-of-range spans");
}

Status destination_size_mismatch(const GetDestination& dest, uint64_t got, const std::string& key,
                                 const std::string& where) {
  return io_error("GET of '" + key + "' in " + where + " returned " + std::to_string(got) +
                  " bytes but the destination holds " + std::to_string(dest.size) +
                  " bytes: the object is shorter or longer than expected (corrupt or changed)");
}

Status copy_to_destination(const GetDestination& dest, const unsigned char* body, size_t size,
                           const std::string& key, const std::string& where) {
  if (size != dest.size) return destination_size_mismatch(dest, size, key, where);
  for (const DestSpan& s : dest.spans) std::memcpy(s.dst, body + s.offset, s.size);
  return ok_status();
}

void ObjectStore::get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) {
  run_batch(requests.size(), [&](size_t i) {
    const GetRequest& r = requests[i];
    if (r.dest) {
      if (Status s = check_destination(*r.dest, r.key, describe()); !s.ok()) return on_done(i, std::move(s));
    }
    on_done(i, deliver_to_destination(get(r.key, r.range), r.dest, r.key, describe()));
  });
}

Result<std::optional<Bytes>> deliver_to_destination(Result<std::optional<Bytes>>&& result,
                                                    const GetDestination* dest,
                                                    const std::string& key, const std::string& where) {
  if (!dest || !result.ok() || !result.value()) return std::move(result);
  const Bytes& body = *result.value();
  Status s = copy_to_destination(*dest, body.data(), body.size(), key, where);
  if (!s.ok()) return s;
  return std::optional<Bytes>(Bytes());
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

Result<size_t> delete_prefix(ObjectStore& store, const std::string& prefix, const std::string& keep) {
  Result<std::vector<ObjectInfo>> all = list_all(store, prefix);
  if (!all.ok()) return all.status();
  if (!keep.empty()) {
    auto& v = all.value();
    v.erase(std::remove_if(v.begin(), v.end(), [&](const ObjectInfo& o) { return o.key == keep; }), v.end());
  }
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
