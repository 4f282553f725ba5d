// azure_store.cpp -- see azure_store.hpp.
#include "store/azure/azure_store.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>

#include "store/azure/azure_xml.hpp"
#include "store/azure/connection_string.hpp"
#include "store/azure/shared_key_signer.hpp"

namespace arraymorph::azure {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Counts completions of a batch; the waiting thread returns after the last callback returned.
class Latch {
 public:
  explicit Latch(size_t n) : n_(n) {}
  void count_down() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--n_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return n_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t n_;
};

// Runs `start(callback)` and blocks until the callback delivered a T.
template <typename T, typename Start>
T wait_for(Start&& start) {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  start([&promise](T&& value) { promise.set_value(std::move(value)); });
  return future.get();
}

bool is_success(long status) { return status >= 200 && status < 300; }

// 404 whose code says the *blob* is missing (or says nothing: HEAD has no body and Azurite may
// omit the header). ContainerNotFound and other 404s are real errors.
bool is_blob_not_found(const http::HttpResponse& r) {
  if (r.status != 404) return false;
  const std::string code = error_code(r);
  return code.empty() || code == "BlobNotFound";
}

uint64_t parse_u64(const std::optional<std::string>& s) {
  return s ? std::strtoull(s->c_str(), nullptr, 10) : 0;
}

}  // namespace

struct AzureStore::Call {
  OpKind kind;
  std::string operation;  // "Get Blob", ... for messages
  std::string key;
  std::function<http::HttpRequest()> build;
  ResponseDone done;
  int attempts = 0;
  SteadyClock::time_point start = SteadyClock::now();
};

AzureStore::AzureStore(AzureStoreOptions options, std::shared_ptr<http::HttpTransport> transport,
                       std::shared_ptr<Stats> stats)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      stats_(stats ? std::move(stats) : std::make_shared<Stats>()),
      rng_(std::random_device{}()) {}

AzureStore::~AzureStore() = default;

StoreCapabilities AzureStore::capabilities() const {
  StoreCapabilities c;
  c.ranged_get = true;
  c.listing = true;
  c.batch_delete = false;  // parallel Delete Blob requests, not Blob Batch
  return c;
}

void AzureStore::authorize(http::HttpRequest& request) const {
  if (!options_.decoded_key.empty()) {
    sign_shared_key(request, options_.target.account, options_.decoded_key,
                    std::chrono::system_clock::now());
  } else if (!options_.sas_token.empty()) {
    request.url = append_sas(request.url, options_.sas_token);
  }
}

double AzureStore::random_unit() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void AzureStore::send(OpKind kind, std::string operation, std::string key,
                      std::function<http::HttpRequest()> build, ResponseDone done) {
  auto call = std::make_shared<Call>();
  call->kind = kind;
  call->operation = std::move(operation);
  call->key = std::move(key);
  call->build = std::move(build);
  call->done = std::move(done);
  attempt(call);
}

void AzureStore::attempt(const std::shared_ptr<Call>& call) {
  http::HttpRequest request = call->build();
  authorize(request);  // fresh x-ms-date on every attempt
  ++call->attempts;
  stats_->op(call->kind).requests.fetch_add(1, std::memory_order_relaxed);
  const uint64_t issued = inflight_.fetch_add(1, std::memory_order_relaxed) + 1;
  stats_->note_inflight(std::min<uint64_t>(issued, static_cast<uint64_t>(
                                                       std::max(1, options_.max_inflight))));

  transport_->issue(std::move(request), [this, call](http::Outcome&& outcome) {
    inflight_.fetch_sub(1, std::memory_order_relaxed);
    const RetryPolicy& policy = options_.retry;
    if (http::is_retryable(outcome) && call->attempts < policy.max_attempts) {
      const double delay = http::backoff_for_attempt(call->attempts, policy.initial_backoff_s,
                                                     policy.max_backoff_s, policy.jitter,
                                                     [this] { return random_unit(); });
      const double elapsed =
          std::chrono::duration<double>(SteadyClock::now() - call->start).count();
      if (elapsed + delay <= policy.total_timeout_s) {
        stats_->op(call->kind).retries.fetch_add(1, std::memory_order_relaxed);
        timer_.schedule(delay, [this, call](bool cancelled) {
          if (!cancelled) {
            attempt(call);
            return;
          }
          call->done(Status(Code::kUnavailable, call->operation + " of '" + call->key + "' in " +
                                                    describe() + ": store closed during a retry"));
        });
        return;
      }
    }
    if (auto* error = std::get_if<http::TransportError>(&outcome)) {
      call->done(Status(Code::kUnavailable,
                        call->operation + " of '" + call->key + "' in " + describe() + ": " +
                            error->message + " (after " + std::to_string(call->attempts) +
                            " attempt" + (call->attempts == 1 ? "" : "s") + ")",
                        error->retryable));
      return;
    }
    call->done(std::move(std::get<http::HttpResponse>(outcome)));
  });
}

// ------------------------------------------------------------------------------ operations

void AzureStore::get_async(const std::string& key, const std::optional<ByteRange>& range,
                           const GetDestination* dest, GetCallback done) {
  send(OpKind::kGet, "Get Blob", key,
       [this, key, range, dest] {
         http::HttpRequest req = get_blob_request(options_.target, key, range);
         req.dest = dest;
         req.dest_status = range ? 206 : 200;
         return req;
       },
       [this, key, dest, done = std::move(done)](Result<http::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kGet);
         if (!r.ok()) {
           c.errors.fetch_add(1, std::memory_order_relaxed);
           done(r.status());
           return;
         }
         http::HttpResponse& resp = r.value();
         if (resp.into_dest) {  // received straight into the destination
           if (resp.dest_bytes != dest->size) {
             c.errors.fetch_add(1, std::memory_order_relaxed);
             done(destination_size_mismatch(*dest, resp.dest_bytes, key, describe()));
             return;
           }
           c.bytes.fetch_add(resp.dest_bytes, std::memory_order_relaxed);
           stats_->note_zero_copy(resp.dest_bytes);
           done(std::optional<Bytes>(Bytes()));
         } else if (is_success(resp.status)) {
           c.bytes.fetch_add(resp.body.size(), std::memory_order_relaxed);
           done(deliver_to_destination(std::optional<Bytes>(std::move(resp.body)), dest, key, describe()));
         } else if (is_blob_not_found(resp)) {
           c.not_found.fetch_add(1, std::memory_order_relaxed);  // a never-written chunk
           done(std::optional<Bytes>());
         } else if (resp.status == 416) {  // range starts at or past the end
           done(deliver_to_destination(std::optional<Bytes>(Bytes()), dest, key, describe()));
         } else {
           c.errors.fetch_add(1, std::memory_order_relaxed);
           done(status_from_response(resp, options_.target, "Get Blob", key));
         }
       });
}

void AzureStore::head_async(const std::string& key, HeadCallback done) {
  send(OpKind::kHead, "Get Blob Properties", key,
       [this, key] { return get_properties_request(options_.target, key); },
       [this, key, done = std::move(done)](Result<http::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kHead);
         if (!r.ok()) {
           c.errors.fetch_add(1, std::memory_order_relaxed);
           done(r.status());
           return;
         }
         const http::HttpResponse& resp = r.value();
         if (is_success(resp.status)) {
           ObjectInfo info;
           info.key = key;
           info.size = parse_u64(http::find_header(resp.headers, "Content-Length"));
           info.etag = http::find_header(resp.headers, "ETag").value_or("");
           done(std::optional<ObjectInfo>(std::move(info)));
         } else if (is_blob_not_found(resp)) {
           c.not_found.fetch_add(1, std::memory_order_relaxed);
           done(std::optional<ObjectInfo>());
         } else {
           c.errors.fetch_add(1, std::memory_order_relaxed);
           done(status_from_response(resp, options_.target, "Get Blob Properties", key));
         }
       });
}

void AzureStore::put_async(const std::string& key, const unsigned char* data, size_t size,
                           StatusCallback done) {
  if (size > options_.block_threshold && options_.block_size > 0) {
    put_blocks_async(key, data, size, std::move(done));
    return;
  }
  send(OpKind::kPut, "Put Blob", key,
       [this, key, data, size] { return put_blob_request(options_.target, key, data, size); },
       [this, key, size, done = std::move(done)](Result<http::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kPut);
         if (!r.ok()) {
           c.errors.fetch_add(1, std::memory_order_relaxed);
           done(Status(r.status()));
           return;
         }
         if (is_success(r.value().status)) {
           c.bytes.fetch_add(size, std::memory_order_relaxed);
           done(ok_status());
           return;
         }
         c.errors.fetch_add(1, std::memory_order_relaxed);
         done(status_from_response(r.value(), options_.target, "Put Blob", key));
       });
}

// Put Block for every block at once, then Put Block List. Uncommitted blocks of a failed upload
// are garbage-collected by the service (after a week), so nothing needs cleaning up here.
void AzureStore::put_blocks_async(const std::string& key, const unsigned char* data, size_t size,
                                  StatusCallback done) {
  struct Upload {
    std::mutex mu;
    size_t remaining = 0;
    Status first_error;
    std::vector<std::string> ids;
    StatusCallback done;
  };
  auto up = std::make_shared<Upload>();
  const size_t block = static_cast<size_t>(options_.block_size);
  const size_t n = (size + block - 1) / block;
  up->remaining = n;
  up->done = std::move(done);
  for (size_t i = 0; i < n; ++i) up->ids.push_back(block_id(i));

  auto commit = [this, key, up, size] {
    send(OpKind::kPut, "Put Block List", key,
         [this, key, up] { return put_block_list_request(options_.target, key, up->ids); },
         [this, key, up, size](Result<http::HttpResponse>&& r) {
           OpCounters& c = stats_->op(OpKind::kPut);
           Status s;
           if (!r.ok()) {
             s = r.status();
           } else if (!is_success(r.value().status)) {
             s = status_from_response(r.value(), options_.target, "Put Block List", key);
           }
           if (s.ok()) {
             c.bytes.fetch_add(size, std::memory_order_relaxed);
           } else {
             c.errors.fetch_add(1, std::memory_order_relaxed);
           }
           up->done(std::move(s));
         });
  };

  for (size_t i = 0; i < n; ++i) {
    const unsigned char* part = data + i * block;
    const size_t len = std::min(block, size - i * block);
    const std::string id = up->ids[i];
    send(OpKind::kPut, "Put Block", key,
         [this, key, id, part, len] { return put_block_request(options_.target, key, id, part, len); },
         [this, key, up, commit](Result<http::HttpResponse>&& r) {
           Status s;
           if (!r.ok()) {
             s = r.status();
           } else if (!is_success(r.value().status)) {
             s = status_from_response(r.value(), options_.target, "Put Block", key);
           }
           bool last = false;
           Status failed;
           {
             std::lock_guard<std::mutex> lock(up->mu);
             if (!s.ok() && up->first_error.ok()) up->first_error = s;
             last = --up->remaining == 0;
             failed = up->first_error;
           }
           if (!last) return;
           if (!failed.ok()) {
             stats_->op(OpKind::kPut).errors.fetch_add(1, std::memory_order_relaxed);
             up->done(std::move(failed));
             return;
           }
           commit();
         });
  }
}

void AzureStore::delete_async(const std::string& key, StatusCallback done) {
  send(OpKind::kDelete, "Delete Blob", key,
       [this, key] { return delete_blob_request(options_.target, key); },
       [this, key, done = std::move(done)](Result<http::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kDelete);
         if (!r.ok()) {
           c.errors.fetch_add(1, std::memory_order_relaxed);
           done(Status(r.status()));
           return;
         }
         const http::HttpResponse& resp = r.value();
         if (is_success(resp.status) || is_blob_not_found(resp)) {
           done(ok_status());  // deleting a missing blob is not an error
           return;
         }
         c.errors.fetch_add(1, std::memory_order_relaxed);
         done(status_from_response(resp, options_.target, "Delete Blob", key));
       });
}

// ------------------------------------------------------------------------------ blocking API

Result<std::optional<Bytes>> AzureStore::get(const std::string& key,
                                             std::optional<ByteRange> range) {
  if (range && range->length && *range->length == 0) {
    // "bytes=N-(N-1)" is not a range; an empty read only needs to know whether the blob exists.
    Result<std::optional<ObjectInfo>> h = head(key);
    if (!h.ok()) return h.status();
    if (!h.value()) return std::optional<Bytes>();
    return std::optional<Bytes>(Bytes());
  }
  return wait_for<Result<std::optional<Bytes>>>(
      [&](GetCallback cb) { get_async(key, range, nullptr, std::move(cb)); });
}

Status AzureStore::put(const std::string& key, const unsigned char* data, size_t size) {
  return wait_for<Status>([&](StatusCallback cb) { put_async(key, data, size, std::move(cb)); });
}

Result<std::optional<ObjectInfo>> AzureStore::head(const std::string& key) {
  return wait_for<Result<std::optional<ObjectInfo>>>(
      [&](HeadCallback cb) { head_async(key, std::move(cb)); });
}

Result<ListPage> AzureStore::list(const std::string& prefix, const std::string& delimiter,
                                  const std::string& token, size_t max_keys) {
  // Azure caps maxresults at 5000.
  const size_t max_results = std::min<size_t>(max_keys == 0 ? 1000 : max_keys, 5000);
  return wait_for<Result<ListPage>>([&](std::function<void(Result<ListPage>&&)> cb) {
    send(OpKind::kList, "List Blobs", prefix,
         [&, max_results] {
           return list_blobs_request(options_.target, prefix, delimiter, token, max_results);
         },
         [this, &prefix, cb = std::move(cb)](Result<http::HttpResponse>&& r) {
           OpCounters& c = stats_->op(OpKind::kList);
           if (r.ok() && is_success(r.value().status)) {
             c.bytes.fetch_add(r.value().body.size(), std::memory_order_relaxed);
             Result<ListBlobsResult> parsed = parse_list_blobs(r.value().body_string());
             if (!parsed.ok()) {
               c.errors.fetch_add(1, std::memory_order_relaxed);
               cb(parsed.status().with_context("listing '" + prefix + "' in " + describe()));
               return;
             }
             ListPage page;
             page.objects = std::move(parsed->blobs);
             page.common_prefixes = std::move(parsed->prefixes);
             page.next_token = std::move(parsed->next_marker);
             cb(std::move(page));
             return;
           }
           c.errors.fetch_add(1, std::memory_order_relaxed);
           cb(r.ok() ? status_from_response(r.value(), options_.target, "List Blobs", prefix)
                     : r.status());
         });
  });
}

Status AzureStore::delete_many(const std::vector<std::string>& keys) {
  if (keys.empty()) return ok_status();
  Latch latch(keys.size());
  std::mutex mu;
  Status first;
  for (const std::string& key : keys) {
    delete_async(key, [&](Status&& s) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!s.ok() && first.ok()) first = std::move(s);
      }
      latch.count_down();
    });
  }
  latch.wait();
  return first;
}

void AzureStore::get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) {
  if (requests.empty()) return;
  Latch latch(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const GetRequest& r = requests[i];
    Status bad_dest = r.dest ? check_destination(*r.dest, r.key, describe()) : ok_status();
    if (!bad_dest.ok()) {
      on_done(i, std::move(bad_dest));
      latch.count_down();
      continue;
    }
    if (r.range && r.range->length && *r.range->length == 0) {
      // rare; the blocking form handles it
      on_done(i, deliver_to_destination(get(r.key, r.range), r.dest, r.key, describe()));
      latch.count_down();
      continue;
    }
    get_async(r.key, r.range, r.dest, [&on_done, &latch, i](Result<std::optional<Bytes>>&& result) {
      on_done(i, std::move(result));
      latch.count_down();
    });
  }
  latch.wait();
}

void AzureStore::put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) {
  if (requests.empty()) return;
  Latch latch(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const PutRequest& r = requests[i];
    put_async(r.key, r.data, r.size, [&on_done, &latch, i](Status&& s) {
      on_done(i, std::move(s));
      latch.count_down();
    });
  }
  latch.wait();
}

Status AzureStore::create_container() {
  return wait_for<Status>([&](StatusCallback cb) {
    send(OpKind::kPut, "Create Container", "",
         [this] { return create_container_request(options_.target); },
         [this, cb = std::move(cb)](Result<http::HttpResponse>&& r) {
           if (!r.ok()) {
             cb(Status(r.status()));
           } else if (is_success(r.value().status) || error_code(r.value()) == "ContainerAlreadyExists") {
             cb(ok_status());
           } else {
             cb(status_from_response(r.value(), options_.target, "Create Container", ""));
           }
         });
  });
}

}  // namespace arraymorph::azure

// ------------------------------------------------------------------------------ factory

namespace arraymorph {

Result<std::shared_ptr<ObjectStore>> make_azure_store(const Config& config,
                                                      const std::string& container,
                                                      std::shared_ptr<Stats> stats) {
  using namespace azure;
  const std::string name = container.empty() ? config.azure.container : container;
  if (name.empty())
    return invalid_argument("Azure: no container given: set BUCKET_NAME or use az://container/...");
  if (config.azure.connection_string.empty())
    return invalid_argument(
        "Azure: AZURE_STORAGE_CONNECTION_STRING is not set (e.g. "
        "\"DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...\", or "
        "\"UseDevelopmentStorage=true\" for Azurite)");
  Result<ConnectionInfo> info = parse_connection_string(config.azure.connection_string);
  if (!info.ok()) return info.status();

  AzureStoreOptions options;
  options.target.endpoint = info->blob_endpoint;
  // Shared Key signs with AccountName; with a SAS the name only labels messages.
  options.target.account =
      info->account.empty() ? account_from_endpoint(info->blob_endpoint) : info->account;
  options.target.container = name;
  options.decoded_key = info->account_key;
  options.sas_token = info->sas_token;
  if (!config.azure.sas_token.empty()) options.sas_token = normalize_sas(config.azure.sas_token);
  if (options.decoded_key.empty() && options.sas_token.empty())
    return invalid_argument(
        "Azure: no credentials: AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor "
        "SharedAccessSignature, and AZURE_STORAGE_SAS_TOKEN is not set");
  options.retry = config.retry;
  options.block_threshold = config.azure.block_threshold;
  options.block_size = config.azure.block_size;

  http::TransportOptions topts;
  topts.max_inflight = config.max_inflight > 0 ? config.max_inflight : 64;
  topts.event_loops = std::max(1, config.event_loops);
  options.max_inflight = topts.max_inflight;
  topts.connect_timeout_s = config.connect_timeout_s;
  topts.request_timeout_s = config.request_timeout_s;
  topts.verify_tls = true;  // https is always verified; http only when the endpoint says so
  std::shared_ptr<http::HttpTransport> transport = http::make_curl_transport(topts);
  if (!transport) return internal_error("Azure: could not create the HTTP transport");
  return std::shared_ptr<ObjectStore>(
      std::make_shared<AzureStore>(std::move(options), std::move(transport), std::move(stats)));
}

}  // namespace arraymorph
