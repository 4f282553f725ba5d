// azure_store.hpp -- ObjectStore over the Azure Blob REST API (Shared Key, SAS or an OAuth bearer
// token; credential_chain.hpp picks one), on an asynchronous HttpTransport.
//
// This file only builds Blob requests and maps Blob responses. Sending them -- attempts, the retry
// taxonomy, backoff, the per-call deadline, admission, in-flight stats and the completion model --
// is net::RequestClient's (net/request_client.hpp); each attempt is rebuilt and re-signed with a
// fresh x-ms-date. The blocking methods (get, put, ...) start a chain of requests and wait;
// get_many/put_many start every request of the batch at once and wait for all.
//
// Integrity: every Put Blob / Put Block carries Content-MD5 (the service rejects a body that
// does not match); a whole-blob GET is checked against the Content-MD5 it returns, re-fetched on
// a mismatch and then reported naming the blob (net::Call::verify).
//
// Semantics (store.hpp): a missing blob (BlobNotFound) is nullopt for get/head and not an error
// for delete; a missing container is an error naming it; 403 names account and container and
// hints at the key or clock. Messages never contain the key, the SAS token or a bearer token.
//
// Zero-copy reads: a get_many request with a GetDestination has its body written by the
// transport straight into the destination (counted in Stats::zero_copy_*).
//
// Ownership: the store owns its Options (credentials) and its request client and shares the
// Stats. It must outlive the calls made on it (all methods block until their requests finished,
// so this holds for any caller that does not destroy it concurrently).
// Thread-safety: every public method may be called concurrently from any thread. The callbacks
// of get_many/put_many run ON THE CALLING THREAD, one at a time, as with every network store.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "store/store.hpp"
#include "net/request_client.hpp"
#include "net/transport.hpp"
#include "store/azure/azure_requests.hpp"
#include "store/azure/token_credential.hpp"

namespace arraymorph::azure {

struct AzureStoreOptions {
  BlobTarget target;
  std::string decoded_key;  // Shared Key (raw bytes). Secret. Preferred when set.
  std::string sas_token;    // used when decoded_key is empty. Secret.
  // Used when both are empty: "Authorization: Bearer" with a token refreshed before it expires.
  std::shared_ptr<TokenCache> tokens;
  RetryPolicy retry;
  uint64_t block_threshold = 64ull << 20;  // bytes: larger puts use Put Block + Put Block List
  uint64_t block_size = 16ull << 20;       // bytes per block
};

class AzureStore final : public ObjectStore {
 public:
  AzureStore(AzureStoreOptions options, std::shared_ptr<net::HttpTransport> transport,
             std::shared_ptr<Stats> stats);
  ~AzureStore() override;

  StoreCapabilities capabilities() const override;
  std::string describe() const override { return options_.target.describe(); }

  // ObjectStore operations (semantics in store/store.hpp).
  Result<std::optional<ObjectInfo>> head(const std::string& key) override;
  Result<std::optional<Bytes>> get(const std::string& key,
                                   std::optional<ByteRange> range = std::nullopt) override;
  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override;
  Status put(const std::string& key, const unsigned char* data, size_t size) override;
  // Put Blob with If-None-Match: * (409 BlobAlreadyExists / 412 -> kAlreadyExists).
  Status put_if_absent(const std::string& key, const unsigned char* data, size_t size) override;
  void put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) override;
  Result<ListPage> list(const std::string& prefix, const std::string& delimiter,
                        const std::string& token = "", size_t max_keys = 1000) override;
  Status delete_many(const std::vector<std::string>& keys) override;

  // Create Container; an existing container is not an error. For tools and test harnesses.
  Status create_container();

 private:
  using ResponseDone = std::function<void(Result<net::HttpResponse>&&)>;
  using GetCallback = std::function<void(Result<std::optional<Bytes>>&&)>;
  using HeadCallback = std::function<void(Result<std::optional<ObjectInfo>>&&)>;
  using StatusCallback = std::function<void(Status&&)>;

  // Sends build() (authorized afresh each attempt) with retries; `done` gets the final HTTP
  // response, whatever its status, or a Status for a transport failure.
  void send(OpKind kind, std::string operation, std::string key,
            std::function<net::HttpRequest()> build, ResponseDone done,
            std::function<std::string(const net::HttpResponse&)> verify = nullptr);
  void authorize(net::HttpRequest& request) const;

  // With `dest`, a 200/206 body is received straight into it (zero-copy, see GetDestination).
  void get_async(const std::string& key, const std::optional<ByteRange>& range,
                 const GetDestination* dest, GetCallback done);
  void head_async(const std::string& key, HeadCallback done);
  void put_async(const std::string& key, const unsigned char* data, size_t size,
                 StatusCallback done, bool if_absent = false);
  void put_blocks_async(const std::string& key, const unsigned char* data, size_t size,
                        StatusCallback done);
  void delete_async(const std::string& key, StatusCallback done);

  AzureStoreOptions options_;
  std::shared_ptr<Stats> stats_;
  // Last member: destroyed first, so pending retries are cancelled while the rest is alive.
  std::unique_ptr<net::RequestClient> client_;
};

}  // namespace arraymorph::azure

namespace arraymorph {
// Builds the store from config.azure (endpoint and credential: credential_chain.hpp; block
// sizes, CA bundle), config.retry and the transport settings. Errors name the missing setting
// (AZURE_STORAGE_CONNECTION_STRING, BUCKET_NAME, ...), never a secret. Also declared in store/backends.hpp.
Result<std::shared_ptr<ObjectStore>> make_azure_store(const Config& config,
                                                      const std::string& container,
                                                      std::shared_ptr<Stats> stats);
}  // namespace arraymorph
