// azure_store.cpp -- see azure_store.hpp.
#include "store/azure/azure_store.hpp"

#include <algorithm>
#include <cstdlib>
#include <variant>

#include "net/crypto.hpp"
#include "net/integrity.hpp"
#include "store/azure/azure_xml.hpp"
#include "store/azure/connection_string.hpp"
#include "store/azure/credential_chain.hpp"
#include "store/azure/shared_key_signer.hpp"

namespace arraymorph::azure {
namespace {

bool is_success(long status) { return status >= 200 && status < 300; }

// 404 whose code says the *blob* is missing (or says nothing: HEAD has no body and Azurite may
// omit the header). ContainerNotFound and other 404s are real errors.
bool is_blob_not_found(const net::HttpResponse& r) {
  if (r.status != 404) return false;
  const std::string code = error_code(r);
  return code.empty() || code == "BlobNotFound";
}

uint64_t parse_u64(const std::optional<std::string>& s) {
  return s ? std::strtoull(s->c_str(), nullptr, 10) : 0;
}

}  // namespace

AzureStore::AzureStore(AzureStoreOptions options, std::shared_ptr<net::HttpTransport> transport,
                       std::shared_ptr<Stats> stats)
    : options_(std::move(options)), stats_(stats ? std::move(stats) : std::make_shared<Stats>()) {
  net::ClientOptions client;
  client.retry = options_.retry;
  client.stats = stats_;
  client_ = std::make_unique<net::RequestClient>(std::move(transport), std::move(client));
}

AzureStore::~AzureStore() = default;

StoreCapabilities AzureStore::capabilities() const {
  StoreCapabilities c;
  c.ranged_get = true;
  c.listing = true;
  c.batch_delete = false;  // parallel Delete Blob requests, not Blob Batch
  c.conditional_put = true;
  return c;
}

void AzureStore::authorize(net::HttpRequest& request) const {
  if (!options_.decoded_key.empty()) {
    sign_shared_key(request, options_.target.account, options_.decoded_key,
                    std::chrono::system_clock::now());
  } else if (!options_.sas_token.empty()) {
    request.url = append_sas(request.url, options_.sas_token);
  } else if (options_.tokens) {
    // send() fetched the token before the first attempt; a refresh that fails on a retry leaves
    // the request unauthorised and the service's 401/403 is what the caller sees.
    Result<std::string> token = options_.tokens->token();
    if (token.ok()) net::set_header(request.headers, "Authorization", "Bearer " + token.value());
  }
}

void AzureStore::send(OpKind kind, std::string operation, std::string key,
                      std::function<net::HttpRequest()> build, ResponseDone done,
                      std::function<std::string(const net::HttpResponse&)> verify) {
  if (options_.tokens) {
    // Fetched (or refreshed) here so that a failing token source is reported as such. Blocking
    // is safe on any thread: the token requests have their own transport and admission.
    Result<std::string> token = options_.tokens->token();
    if (!token.ok()) {
      stats_->op(kind).errors.fetch_add(1, std::memory_order_relaxed);
      done(token.status().with_context(operation + " of '" + key + "' in " + describe()));
      return;
    }
  }
  net::Call call;
  call.op = kind;
  call.verify = std::move(verify);
  call.idempotent = true;  // every Blob operation we issue is a GET, HEAD, PUT or DELETE
  call.build = [this, build = std::move(build)] {
    net::HttpRequest request = build();
    authorize(request);  // fresh x-ms-date on every attempt
    return request;
  };
  client_->start(std::move(call), [this, kind, operation = std::move(operation),
                                   key = std::move(key), done = std::move(done)](net::Completed&& c) {
    if (auto* error = std::get_if<net::TransportError>(&c.outcome)) {
      stats_->op(kind).errors.fetch_add(1, std::memory_order_relaxed);
      std::string why = error->message + " (after " + std::to_string(c.attempts) + " attempt" +
                        (c.attempts == 1 ? "" : "s") + ")";
      if (c.deadline_passed)
        why += " (retry_total_timeout of " + std::to_string(options_.retry.total_timeout_s) +
               " s reached)";
      done(Status(Code::kUnavailable, operation + " of '" + key + "' in " + describe() + ": " + why,
                  error->retryable()));
      return;
    }
    done(std::move(std::get<net::HttpResponse>(c.outcome)));
  });
}

// ------------------------------------------------------------------------------ operations

void AzureStore::get_async(const std::string& key, const std::optional<ByteRange>& range,
                           const GetDestination* dest, GetCallback done) {
  // A whole blob comes back with the Content-MD5 it was stored with (sent with every Put Blob);
  // for a range the header is the whole blob's: not checked.
  std::function<std::string(const net::HttpResponse&)> verify;
  if (!range) {
    verify = [dest](const net::HttpResponse& r) -> std::string {
      auto sum = net::find_header(r.headers, "Content-MD5");
      return sum ? net::check_md5(r, dest, *sum) : "";
    };
  }
  send(OpKind::kGet, "Get Blob", key,
       [this, key, range, dest] {
         net::HttpRequest req = get_blob_request(options_.target, key, range);
         req.dest = dest;
         req.dest_status = range ? 206 : 200;
         return req;
       },
       [this, key, dest, done = std::move(done)](Result<net::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kGet);
         if (!r.ok()) return done(Status(r.status()));  // counted by send()
         net::HttpResponse& resp = r.value();
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
       }, std::move(verify));
}

void AzureStore::head_async(const std::string& key, HeadCallback done) {
  send(OpKind::kHead, "Get Blob Properties", key,
       [this, key] { return get_properties_request(options_.target, key); },
       [this, key, done = std::move(done)](Result<net::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kHead);
         if (!r.ok()) return done(Status(r.status()));  // counted by send()
         const net::HttpResponse& resp = r.value();
         if (is_success(resp.status)) {
           ObjectInfo info;
           info.key = key;
           info.size = parse_u64(net::find_header(resp.headers, "Content-Length"));
           info.etag = net::find_header(resp.headers, "ETag").value_or("");
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
                           StatusCallback done, bool if_absent) {
  if (!if_absent && size > options_.block_threshold && options_.block_size > 0) {
    put_blocks_async(key, data, size, std::move(done));
    return;
  }
  send(OpKind::kPut, "Put Blob", key,
       [this, key, data, size, if_absent, md5 = net::md5_base64(data, size)] {
         net::HttpRequest req = put_blob_request(options_.target, key, data, size);
         // Verified by the service on receipt, and kept as the blob's MD5 for every GET.
         req.headers.emplace_back("Content-MD5", md5);
         req.headers.emplace_back("x-ms-blob-content-md5", md5);
         if (if_absent) req.headers.emplace_back("If-None-Match", "*");  // conditional create
         return req;
       },
       [this, key, size, if_absent, done = std::move(done)](Result<net::HttpResponse>&& r) {
         OpCounters& c = stats_->op(OpKind::kPut);
         if (!r.ok()) return done(Status(r.status()));  // counted by send()
         if (is_success(r.value().status)) {
           c.bytes.fetch_add(size, std::memory_order_relaxed);
           done(ok_status());
           return;
         }
         if (if_absent && (r.value().status == 409 || r.value().status == 412)) {
           done(Status(Code::kAlreadyExists, "'" + key + "' already exists in " + describe() + " (HTTP " +
                                                 std::to_string(r.value().status) + ")"));
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
         [this, key, up, size](Result<net::HttpResponse>&& r) {
           OpCounters& c = stats_->op(OpKind::kPut);
           if (!r.ok()) return up->done(Status(r.status()));  // counted by send()
           if (!is_success(r.value().status)) {
             c.errors.fetch_add(1, std::memory_order_relaxed);
             return up->done(
                 status_from_response(r.value(), options_.target, "Put Block List", key));
           }
           c.bytes.fetch_add(size, std::memory_order_relaxed);
           up->done(ok_status());
         });
  };

  for (size_t i = 0; i < n; ++i) {
    const unsigned char* part = data + i * block;
    const size_t len = std::min(block, size - i * block);
    const std::string id = up->ids[i];
    send(OpKind::kPut, "Put Block", key,
         [this, key, id, part, len, md5 = net::md5_base64(part, len)] {
           net::HttpRequest req = put_block_request(options_.target, key, id, part, len);
           req.headers.emplace_back("Content-MD5", md5);  // verified by the service on receipt
           return req;
         },
         [this, key, up, commit](Result<net::HttpResponse>&& r) {
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
       [this, key, done = std::move(done)](Result<net::HttpResponse>&& r) {
         if (!r.ok()) return done(Status(r.status()));  // counted by send()
         // Deleting a missing blob is not an error.
         if (is_success(r->status) || is_blob_not_found(*r)) return done(ok_status());
         stats_->op(OpKind::kDelete).errors.fetch_add(1, std::memory_order_relaxed);
         done(status_from_response(*r, options_.target, "Delete Blob", key));
       });
}

// ------------------------------------------------------------------------------ blocking API

Result<std::optional<Bytes>> AzureStore::get(const std::string& key,
                                             std::optional<ByteRange> range) {
  if (range && range->suffix)  // Blob storage has none (capabilities().suffix_range): HEAD first
    return invalid_argument("GET of '" + key + "' in " + describe() + ": Azure Blob takes no suffix byte range");
  if (range && range->length && *range->length == 0) {
    // "bytes=N-(N-1)" is not a range; an empty read only needs to know whether the blob exists.
    Result<std::optional<ObjectInfo>> h = head(key);
    if (!h.ok()) return h.status();
    if (!h.value()) return std::optional<Bytes>();
    return std::optional<Bytes>(Bytes());
  }
  return net::wait_for<Result<std::optional<Bytes>>>(
      [&](GetCallback cb) { get_async(key, range, nullptr, std::move(cb)); });
}

Status AzureStore::put(const std::string& key, const unsigned char* data, size_t size) {
  return net::wait_for<Status>([&](StatusCallback cb) { put_async(key, data, size, std::move(cb)); });
}

Status AzureStore::put_if_absent(const std::string& key, const unsigned char* data, size_t size) {
  return net::wait_for<Status>([&](StatusCallback cb) { put_async(key, data, size, std::move(cb), true); });
}

Result<std::optional<ObjectInfo>> AzureStore::head(const std::string& key) {
  return net::wait_for<Result<std::optional<ObjectInfo>>>(
      [&](HeadCallback cb) { head_async(key, std::move(cb)); });
}

Result<ListPage> AzureStore::list(const std::string& prefix, const std::string& delimiter,
                                  const std::string& token, size_t max_keys) {
  // Azure caps maxresults at 5000.
  const size_t max_results = std::min<size_t>(max_keys == 0 ? 1000 : max_keys, 5000);
  return net::wait_for<Result<ListPage>>([&](std::function<void(Result<ListPage>&&)> cb) {
    send(OpKind::kList, "List Blobs", prefix,
         [&, max_results] {
           return list_blobs_request(options_.target, prefix, delimiter, token, max_results);
         },
         [this, &prefix, cb = std::move(cb)](Result<net::HttpResponse>&& r) {
           OpCounters& c = stats_->op(OpKind::kList);
           if (!r.ok()) return cb(r.status());  // counted by send()
           if (is_success(r.value().status)) {
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
           cb(status_from_response(r.value(), options_.target, "List Blobs", prefix));
         });
  });
}

Status AzureStore::delete_many(const std::vector<std::string>& keys) {
  net::Completions<Status> done;
  for (size_t i = 0; i < keys.size(); ++i)
    delete_async(keys[i], [&done, i](Status&& s) { done.push(i, std::move(s)); });
  Status first;
  done.deliver(keys.size(), [&](size_t, Status&& s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  });
  return first;
}

void AzureStore::get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) {
  net::Completions<Result<std::optional<Bytes>>> done;
  for (size_t i = 0; i < requests.size(); ++i) {
    const GetRequest& r = requests[i];
    Status bad_dest = r.dest ? check_destination(*r.dest, r.key, describe()) : ok_status();
    if (!bad_dest.ok()) {
      done.push(i, std::move(bad_dest));
    } else if (r.range && (r.range->suffix || (r.range->length && *r.range->length == 0))) {
      // rare; the blocking form handles it
      done.push(i, deliver_to_destination(get(r.key, r.range), r.dest, r.key, describe()));
    } else {
      get_async(r.key, r.range, r.dest, [&done, i](Result<std::optional<Bytes>>&& result) {
        done.push(i, std::move(result));
      });
    }
  }
  done.deliver(requests.size(), on_done);
}

void AzureStore::put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) {
  net::Completions<Status> done;
  for (size_t i = 0; i < requests.size(); ++i) {
    const PutRequest& r = requests[i];
    put_async(r.key, r.data, r.size, [&done, i](Status&& s) { done.push(i, std::move(s)); });
  }
  done.deliver(requests.size(), on_done);
}

Status AzureStore::create_container() {
  return net::wait_for<Status>([&](StatusCallback cb) {
    send(OpKind::kPut, "Create Container", "",
         [this] { return create_container_request(options_.target); },
         [this, cb = std::move(cb)](Result<net::HttpResponse>&& r) {
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
  net::TransportOptions topts;
  topts.max_inflight = config.max_inflight > 0 ? config.max_inflight : 64;
  topts.event_loops = std::max(1, config.event_loops);
  topts.connect_timeout_s = config.connect_timeout_s;
  topts.request_timeout_s = config.request_timeout_s;
  topts.ca_bundle = config.azure.ca_bundle;
  topts.verify_tls = true;  // https is always verified; http only when the endpoint says so
  Result<AzureAuth> auth = choose_credential(config.azure, topts, config.retry);
  if (!auth.ok()) return auth.status();

  AzureStoreOptions options;
  options.target.endpoint = auth->endpoint.blob_endpoint;
  // Shared Key signs with AccountName; otherwise the name only labels messages.
  options.target.account = auth->endpoint.account;
  options.target.container = name;
  options.decoded_key = std::move(auth->decoded_key);
  options.sas_token = std::move(auth->sas_token);
  options.tokens = std::move(auth->tokens);
  options.retry = config.retry;
  options.block_threshold = config.azure.block_threshold;
  options.block_size = config.azure.block_size;

  net::Admission::process()->set_limit(static_cast<size_t>(topts.max_inflight));
  std::shared_ptr<net::HttpTransport> transport = net::make_curl_transport(topts);
  if (!transport) return internal_error("Azure: could not create the HTTP transport");
  return std::shared_ptr<ObjectStore>(
      std::make_shared<AzureStore>(std::move(options), std::move(transport), std::move(stats)));
}

}  // namespace arraymorph
