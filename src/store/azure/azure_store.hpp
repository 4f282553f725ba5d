// azure_store.hpp -- ObjectStore over the Azure Blob REST API (Shared Key or SAS), on an
// asynchronous HttpTransport.
//
// Every operation is a chain of transport requests with completion callbacks; the blocking
// methods (get, put, ...) start the chain and wait, and get_many/put_many start every request of
// the batch at once (the transport keeps up to max_inflight on the wire) and wait for all.
// Retryable failures (429, 5xx, resets, timeouts) are re-sent after an exponential backoff with
// jitter, scheduled on a RetryTimer so the transport's thread never sleeps; each attempt is
// rebuilt and re-signed with a fresh x-ms-date.
//
// Semantics (store.hpp): a missing blob (BlobNotFound) is nullopt for get/head and not an error
// for delete; a missing container is an error naming it; 403 names account and container and
// hints at the key or clock. Messages never contain the key or the SAS token.
//
// Zero-copy reads: a get_many request with a GetDestination has its body written by the
// transport straight into the destination (counted in Stats::zero_copy_*).
//
// Ownership: the store owns its Options (credentials) and its RetryTimer and shares the
// transport and the Stats. It must outlive the calls made on it (all methods block until their
// requests finished, so this holds for any caller that does not destroy it concurrently).
// Thread-safety: every public method may be called concurrently from any thread. The callbacks
// of get_many/put_many run on the transport's thread: they must be short and must not call the
// blocking methods of this store (that would wait on the thread that has to deliver the answer).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "arraymorph/config.hpp"
#include "arraymorph/stats.hpp"
#include "arraymorph/store.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "store/azure/azure_requests.hpp"

namespace arraymorph::azure {

struct AzureStoreOptions {
  BlobTarget target;
  std::string decoded_key;  // Shared Key (raw bytes). Secret. Preferred when set.
  std::string sas_token;    // used when decoded_key is empty. Secret.
  RetryPolicy retry;
  uint64_t block_threshold = 64ull << 20;  // bytes: larger puts use Put Block + Put Block List
  uint64_t block_size = 16ull << 20;       // bytes per block
  // The transport's window: requests beyond it wait in its queue, so the concurrency we report
  // to Stats::note_inflight is capped at it.
  int max_inflight = 64;
};

class AzureStore final : public ObjectStore {
 public:
  AzureStore(AzureStoreOptions options, std::shared_ptr<http::HttpTransport> transport,
             std::shared_ptr<Stats> stats);
  ~AzureStore() override;

  Result<std::optional<Bytes>> get(const std::string& key,
                                   std::optional<ByteRange> range = std::nullopt) override;
  Status put(const std::string& key, const unsigned char* data, size_t size) override;
  Result<std::optional<ObjectInfo>> head(const std::string& key) override;
  Result<ListPage> list(const std::string& prefix, const std::string& delimiter,
                        const std::string& token = "", size_t max_keys = 1000) override;
  Status delete_many(const std::vector<std::string>& keys) override;
  StoreCapabilities capabilities() const override;
  std::string describe() const override { return options_.target.describe(); }

  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override;
  void put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) override;

  // Create Container; an existing container is not an error. For tools and test harnesses.
  Status create_container();

 private:
  struct Call;
  using ResponseDone = std::function<void(Result<http::HttpResponse>&&)>;
  using GetCallback = std::function<void(Result<std::optional<Bytes>>&&)>;
  using HeadCallback = std::function<void(Result<std::optional<ObjectInfo>>&&)>;
  using StatusCallback = std::function<void(Status&&)>;

  // Sends build() (authorized afresh each attempt) with retries; `done` gets the final HTTP
  // response, whatever its status, or a Status for a transport failure.
  void send(OpKind kind, std::string operation, std::string key,
            std::function<http::HttpRequest()> build, ResponseDone done);
  void attempt(const std::shared_ptr<Call>& call);
  void authorize(http::HttpRequest& request) const;
  double random_unit();

  // With `dest`, a 200/206 body is received straight into it (zero-copy, see GetDestination).
  void get_async(const std::string& key, const std::optional<ByteRange>& range,
                 const GetDestination* dest, GetCallback done);
  void head_async(const std::string& key, HeadCallback done);
  void put_async(const std::string& key, const unsigned char* data, size_t size,
                 StatusCallback done);
  void put_blocks_async(const std::string& key, const unsigned char* data, size_t size,
                        StatusCallback done);
  void delete_async(const std::string& key, StatusCallback done);

  AzureStoreOptions options_;
  std::shared_ptr<http::HttpTransport> transport_;
  std::shared_ptr<Stats> stats_;
  std::atomic<uint64_t> inflight_{0};
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  // Last member: destroyed first, so its thread stops before the transport and options go.
  http::RetryTimer timer_;
};

}  // namespace arraymorph::azure

namespace arraymorph {
// Builds the store from config.azure (connection string, SAS token, block sizes), config.retry
// and the transport settings. Errors name the missing setting (AZURE_STORAGE_CONNECTION_STRING,
// BUCKET_NAME), never a secret. Also declared in store/backends.hpp.
Result<std::shared_ptr<ObjectStore>> make_azure_store(const Config& config,
                                                      const std::string& container,
                                                      std::shared_ptr<Stats> stats);
}  // namespace arraymorph
