// s3_store.hpp -- ObjectStore over the S3 REST API (AWS S3 and S3-compatible servers).
//
// Every operation is a signed request issued through an net::HttpTransport (libcurl in
// production, a scripted fake in tests). get_many/put_many issue all requests at once; the
// transport keeps up to max_inflight on the wire. Retryable failures (429, 5xx, resets,
// timeouts) are re-sent after an exponential backoff with jitter, re-signed with a fresh date;
// the wait runs on a timer thread, never on the transport's event loop. Results of the batch
// forms are handed to the caller's on_done on the calling thread (the transport thread only
// queues them), so callbacks never stall the event loop.
//
// Semantics (issue 5): NoSuchKey on GET/HEAD is std::nullopt (fill value), never an error. A
// range starting at or past the end gives empty bytes. 403 names the bucket/key and hints at a
// wrong key, clock skew or region; NoSuchBucket names the bucket; a refused connection names the
// endpoint. Objects above S3Config::multipart_threshold go up as multipart uploads of
// multipart_part_size parts, aborted on failure. Messages never contain credentials.
//
// Integrity: a single PUT carries x-amz-checksum-crc32c, multipart parts Content-MD5 (the server
// rejects a body that does not match); a whole-object GET asks for the stored checksum
// (x-amz-checksum-mode) and checks the body against it, re-fetches on a mismatch and then
// reports it naming the object (net::Call::verify). Ranged GETs are not checked.
//
// Zero-copy reads: a get_many request with a GetDestination has its body written by the
// transport straight into the destination (Stats::zero_copy_*); a response the transport could
// not stream there (the server ignored Range) is copied into it instead.
//
// Counters: Stats::op(kind) requests and retries (counted by the client), bytes (payload received
// or sent on success), errors (final failures), not_found; Stats::note_inflight by the client.
//
// Thread-safety: all methods may be called concurrently. The store must outlive its calls (all
// public methods return only when their requests have completed).
#pragma once

#include <atomic>
#include <ctime>
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
#include "store/s3/s3_credentials.hpp"
#include "store/s3/s3_url.hpp"
#include "store/s3/sigv4_signer.hpp"

namespace arraymorph::s3 {

struct S3StoreOptions {
  std::string bucket;
  S3Endpoint endpoint;
  // Asked once per attempt (aws-c-auth caches and refreshes; s3_credentials.hpp).
  std::shared_ptr<CredentialSource> credentials;
  std::string region = kDefaultS3Region;
  bool signed_payloads = false;
  bool request_payer = false;  // send x-amz-request-payer: requester (requester-pays buckets)
  uint64_t multipart_threshold = 64ull << 20;  // bytes; objects larger than this use multipart
  uint64_t multipart_part_size = 16ull << 20;  // bytes (S3 minimum is 5 MiB except the last part)
  RetryPolicy retry;
  std::function<std::time_t()> clock;  // signing time; default std::time
};

class S3Store final : public ObjectStore {
 public:
  S3Store(S3StoreOptions options, std::shared_ptr<net::HttpTransport> transport,
          std::shared_ptr<Stats> stats);
  ~S3Store() override;

  Result<std::optional<Bytes>> get(const std::string& key,
                                   std::optional<ByteRange> range = std::nullopt) override;
  Status put(const std::string& key, const unsigned char* data, size_t size) override;
  // PUT with If-None-Match: * (412 -> kAlreadyExists); single-request objects only.
  Status put_if_absent(const std::string& key, const unsigned char* data, size_t size) override;
  Result<std::optional<ObjectInfo>> head(const std::string& key) override;
  Result<ListPage> list(const std::string& prefix, const std::string& delimiter,
                        const std::string& token = "", size_t max_keys = 1000) override;
  Status delete_many(const std::vector<std::string>& keys) override;
  StoreCapabilities capabilities() const override;
  std::string describe() const override { return "s3://" + options_.bucket; }

  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override;
  void put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) override;

 private:
  struct Call;
  using GetCallback = std::function<void(Result<std::optional<Bytes>>&&)>;
  using StatusCallback = std::function<void(Status&&)>;

  // Hands `call` to the request client (signed afresh per attempt); call->done gets the final
  // outcome on an internal thread.
  void send(const std::shared_ptr<Call>& call);
  std::shared_ptr<Call> make_call(OpKind op, std::string method, const std::string& key,
                                  std::string url) const;
  void set_body(Call& call, const unsigned char* data, size_t size) const;
  void set_owned_body(Call& call, std::string body) const;

  // With `dest`, a 200/206 body is received straight into it (zero-copy, see GetDestination).
  void async_get(const std::string& key, std::optional<ByteRange> range, const GetDestination* dest,
                 GetCallback done);
  void async_put(const std::string& key, const unsigned char* data, size_t size,
                 StatusCallback done, bool if_absent = false);
  Status put_multipart(const std::string& key, const unsigned char* data, size_t size);
  // Non-AWS servers only: removes common prefixes under which no object is left.
  Result<std::vector<std::string>> drop_empty_prefixes(const std::vector<std::string>& prefixes);
  // Blocking single request (used by the multipart steps and list).
  net::Completed run(const std::shared_ptr<Call>& call);

  // Maps a failed outcome to a Status that names the object and hints at the cause.
  Status failure(const Call& call, const net::Completed& done) const;
  std::string target(const std::string& key) const;

  S3StoreOptions options_;
  std::shared_ptr<Stats> stats_;
  // Declared last: destroyed first, so pending retries are cancelled while the rest is alive.
  std::unique_ptr<net::RequestClient> client_;
};

}  // namespace arraymorph::s3

namespace arraymorph {
// Resolves endpoint and credentials from `config`, creates a libcurl transport sized by
// config.max_inflight and returns the store for `bucket`. Errors name the variable to fix.
Result<std::shared_ptr<ObjectStore>> make_s3_store(const Config& config, const std::string& bucket,
                                                   std::shared_ptr<Stats> stats);
}  // namespace arraymorph
