// memory_store.cpp -- ObjectStore over a mutex-guarded std::map of immutable payloads.
#include "store/memory_store.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "store/listing.hpp"

namespace arraymorph {

class MemorySpace {
 public:
  // Payloads are immutable once stored, so readers copy them outside the lock.
  using Payload = std::shared_ptr<const Bytes>;

  Payload find(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : it->second;
  }
  void store(const std::string& key, Payload payload) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[key] = std::move(payload);
  }
  // False (and nothing stored) when the key exists.
  bool store_if_absent(const std::string& key, Payload payload) {
    std::lock_guard<std::mutex> lock(mu_);
    return objects_.emplace(key, std::move(payload)).second;
  }
  void erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(key);
  }
  void list(PageBuilder& builder, const std::string& prefix, const std::string& token) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.lower_bound(std::max(prefix, token));
    for (; it != objects_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      if (!builder.add(it->first, it->second->size())) break;
    }
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Payload> objects_;
};

namespace {

Status check_key(const std::string& key) {
  if (key.empty()) return invalid_argument("empty object key");
  if (key.front() == '/') return invalid_argument("object key '" + key + "' starts with '/'");
  return ok_status();
}

class MemoryStore final : public ObjectStore {
 public:
  MemoryStore(std::shared_ptr<MemorySpace> space, std::string name, std::shared_ptr<Stats> stats)
      : space_(std::move(space)), name_(std::move(name)), stats_(std::move(stats)) {}

  Result<std::optional<Bytes>> get(const std::string& key,
                                   std::optional<ByteRange> range) override {
    auto found = lookup(OpKind::kGet, key);
    if (!found.ok()) return found.status();
    const MemorySpace::Payload& p = found.value();
    if (!p) return std::optional<Bytes>();
    const auto [begin, end] = slice(*p, range);
    Bytes out(p->begin() + static_cast<std::ptrdiff_t>(begin),
              p->begin() + static_cast<std::ptrdiff_t>(end));
    if (stats_) stats_->op(OpKind::kGet).bytes.fetch_add(out.size(), std::memory_order_relaxed);
    return std::optional<Bytes>(std::move(out));
  }

  // Requests with a destination are copied from the stored payload straight into it.
  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override {
    run_batch(requests.size(), [&](size_t i) {
      const GetRequest& r = requests[i];
      if (!r.dest) return on_done(i, get(r.key, r.range));
      on_done(i, get_into(r.key, r.range, *r.dest));
    });
  }

  Status put(const std::string& key, const unsigned char* data, size_t size) override {
    count(OpKind::kPut);
    if (Status s = check_key(key); !s.ok()) return fail(OpKind::kPut, s);
    auto payload = std::make_shared<const Bytes>(data, data + size);
    space_->store(key, std::move(payload));
    if (stats_) stats_->op(OpKind::kPut).bytes.fetch_add(size, std::memory_order_relaxed);
    return ok_status();
  }

  StoreCapabilities capabilities() const override {
    StoreCapabilities c;
    c.conditional_put = true;
    c.suffix_range = true;
    return c;
  }

  Status put_if_absent(const std::string& key, const unsigned char* data, size_t size) override {
    count(OpKind::kPut);
    if (Status s = check_key(key); !s.ok()) return fail(OpKind::kPut, s);
    if (!space_->store_if_absent(key, std::make_shared<const Bytes>(data, data + size)))
      return Status(Code::kAlreadyExists, "'" + key + "' already exists in " + describe());
    if (stats_) stats_->op(OpKind::kPut).bytes.fetch_add(size, std::memory_order_relaxed);
    return ok_status();
  }

  Result<std::optional<ObjectInfo>> head(const std::string& key) override {
    auto found = lookup(OpKind::kHead, key);
    if (!found.ok()) return found.status();
    const MemorySpace::Payload& p = found.value();
    if (!p) return std::optional<ObjectInfo>();
    return std::optional<ObjectInfo>(ObjectInfo{key, p->size(), ""});
  }

  Result<ListPage> list(const std::string& prefix, const std::string& delimiter,
                        const std::string& token, size_t max_keys) override {
    count(OpKind::kList);
    PageBuilder builder(prefix, delimiter, token, max_keys);
    space_->list(builder, prefix, token);
    return builder.finish();
  }

  Status delete_many(const std::vector<std::string>& keys) override {
    for (const std::string& key : keys) {
      count(OpKind::kDelete);
      if (Status s = check_key(key); !s.ok()) return fail(OpKind::kDelete, s);
      space_->erase(key);
    }
    return ok_status();
  }

  std::string describe() const override { return "mem://" + name_; }

 private:
  // Counts the request, checks the key and finds its payload (null, counted as not found, when
  // the key holds no object).
  Result<MemorySpace::Payload> lookup(OpKind op, const std::string& key) {
    count(op);
    if (Status s = check_key(key); !s.ok()) return fail(op, s);
    MemorySpace::Payload p = space_->find(key);
    if (!p && stats_) stats_->op(op).not_found.fetch_add(1, std::memory_order_relaxed);
    return p;
  }

  // [begin, end) of a payload covered by `range` (clipped at the end, as in S3).
  static std::pair<uint64_t, uint64_t> slice(const Bytes& payload, const std::optional<ByteRange>& range) {
    if (!range) return {0, payload.size()};
    return range->clip(payload.size());
  }

  Result<std::optional<Bytes>> get_into(const std::string& key, const std::optional<ByteRange>& range,
                                        const GetDestination& dest) {
    count(OpKind::kGet);
    if (Status s = check_key(key); !s.ok()) return fail(OpKind::kGet, s);
    if (Status s = check_destination(dest, key, describe()); !s.ok()) return fail(OpKind::kGet, s);
    MemorySpace::Payload p = space_->find(key);
    if (!p) {
      if (stats_) stats_->op(OpKind::kGet).not_found.fetch_add(1, std::memory_order_relaxed);
      return std::optional<Bytes>();
    }
    const auto [begin, end] = slice(*p, range);
    Status s = copy_to_destination(dest, p->data() + begin, static_cast<size_t>(end - begin), key, describe());
    if (!s.ok()) return fail(OpKind::kGet, s);
    if (stats_) {
      stats_->op(OpKind::kGet).bytes.fetch_add(end - begin, std::memory_order_relaxed);
      stats_->note_zero_copy(end - begin);
    }
    return std::optional<Bytes>(Bytes());
  }

  void count(OpKind k) const {
    if (stats_) stats_->op(k).requests.fetch_add(1, std::memory_order_relaxed);
  }
  Status fail(OpKind k, const Status& s) const {
    if (stats_) stats_->op(k).errors.fetch_add(1, std::memory_order_relaxed);
    return s.with_context(describe());
  }

  std::shared_ptr<MemorySpace> space_;
  std::string name_;
  std::shared_ptr<Stats> stats_;
};

}  // namespace

std::shared_ptr<MemorySpace> make_memory_space() { return std::make_shared<MemorySpace>(); }

std::shared_ptr<ObjectStore> make_memory_store(std::shared_ptr<Stats> stats) {
  return make_memory_store(make_memory_space(), "", std::move(stats));
}

std::shared_ptr<ObjectStore> make_memory_store(std::shared_ptr<MemorySpace> space,
                                               const std::string& name,
                                               std::shared_ptr<Stats> stats) {
  return std::make_shared<MemoryStore>(std::move(space), name, std::move(stats));
}

}  // namespace arraymorph
