// coordinated_store.cpp -- see coordinated_store.hpp.
#include "mpi/coordinated_store.hpp"

#include <string>
#include <utility>
#include <vector>

#ifdef ARRAYMORPH_WITH_MPI
#include "mpi/context_internal.hpp"
#endif

namespace arraymorph::mpi {
namespace {
thread_local int t_data_depth = 0;  // > 0 inside H5Dread/H5Dwrite
}  // namespace

DataTransferScope::DataTransferScope() { ++t_data_depth; }
DataTransferScope::~DataTransferScope() { --t_data_depth; }

#ifndef ARRAYMORPH_WITH_MPI

std::shared_ptr<ObjectStore> coordinate_metadata(std::shared_ptr<ObjectStore> inner, ContextPtr) { return inner; }

#else

namespace {

class CoordinatedStore final : public ObjectStore {
 public:
  CoordinatedStore(std::shared_ptr<ObjectStore> inner, ContextPtr file_context)
      : inner_(std::move(inner)), file_context_(std::move(file_context)) {}

  Result<std::optional<Bytes>> get(const std::string& key, std::optional<ByteRange> range) override {
    return inner_->get(key, range);
  }
  Result<std::optional<ObjectInfo>> head(const std::string& key) override { return inner_->head(key); }
  Result<ListPage> list(const std::string& prefix, const std::string& delimiter, const std::string& token,
                        size_t max_keys) override {
    return inner_->list(prefix, delimiter, token, max_keys);
  }
  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override {
    inner_->get_many(requests, on_done);
  }
  StoreCapabilities capabilities() const override { return inner_->capabilities(); }
  std::string describe() const override { return inner_->describe(); }

  Status put(const std::string& key, const unsigned char* data, size_t size) override {
    return once("put " + key, [&] { return inner_->put(key, data, size); });
  }
  // Forwarded so the inner store's atomic conditional create (capabilities().conditional_put)
  // is used, not the base class's HEAD + PUT.
  Status put_if_absent(const std::string& key, const unsigned char* data, size_t size) override {
    return once("put_if_absent " + key, [&] { return inner_->put_if_absent(key, data, size); });
  }
  Status delete_many(const std::vector<std::string>& keys) override {
    // The key lists come from each rank's own listing; only their existence is compared.
    return once("delete", [&] { return inner_->delete_many(keys); });
  }
  void put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) override {
    ContextPtr c = context();
    if (!c) return inner_->put_many(requests, on_done);
    std::vector<Status> results(requests.size());
    const std::string label = "put_many " + std::to_string(requests.size()) +
                              (requests.empty() ? std::string() : " " + requests.front().key);
    Status agreed = once_in(*c, label, [&] {
      inner_->put_many(requests, [&](size_t i, Status&& s) { results[i] = std::move(s); });
      for (const Status& s : results)
        if (!s.ok()) return s;
      return ok_status();
    });
    for (size_t i = 0; i < requests.size(); ++i) {
      Status s = !results[i].ok() ? results[i] : agreed;
      on_done(i, std::move(s));
    }
  }

 private:
  // The context this write is coordinated over, or null for a plain write.
  ContextPtr context() const {
    if (t_data_depth > 0) return nullptr;
    if (file_context_) return file_context_;
    return process_context();
  }

  template <class Write>
  Status once(const std::string& label, Write&& write) {
    ContextPtr c = context();
    if (!c) return write();
    return once_in(*c, label, std::forward<Write>(write));
  }

  template <class Write>
  static Status once_in(Context& c, const std::string& label, Write&& write) {
    // After a failed step the ranks' views differ and no collective may be issued; the error was
    // reported then. Rank 0 keeps writing its own view so that closing the file does not fail
    // (and stay open) forever.
    if (c.broken) return c.rank == 0 ? write() : ok_status();
    Status s = enter(c, kMetadata, label);
    if (!s.ok()) return s;
    return agree(c, c.rank == 0 ? write() : ok_status());
  }

  std::shared_ptr<ObjectStore> inner_;
  ContextPtr file_context_;
};

}  // namespace

std::shared_ptr<ObjectStore> coordinate_metadata(std::shared_ptr<ObjectStore> inner, ContextPtr file_context) {
  return std::make_shared<CoordinatedStore>(std::move(inner), std::move(file_context));
}

#endif  // ARRAYMORPH_WITH_MPI

}  // namespace arraymorph::mpi
