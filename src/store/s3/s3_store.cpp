// s3_store.cpp -- the S3 ObjectStore: request building, retries, error mapping, batch forms.
#include "store/s3/s3_store.hpp"

#include <cstdlib>

#include <algorithm>
#include <chrono>

#include "net/crypto.hpp"
#include "net/curl_transport.hpp"
#include "net/integrity.hpp"
#include "store/s3/s3_credentials.hpp"
#include "store/s3/s3_xml.hpp"

namespace arraymorph::s3 {

using net::HttpResponse;
using net::Outcome;
using net::TransportError;

// One logical request: the unsigned request plus its retry state. Shared with the callbacks of
// the transport and the timer until `done` has run.
struct S3Store::Call {
  OpKind op = OpKind::kGet;
  std::string key;  // for messages ("" for bucket-level requests)
  net::HttpRequest request;
  std::string payload_hash;
  bool idempotent = true;    // false for the multipart POSTs (see net::Call)
  bool error_in_200 = false;  // CompleteMultipartUpload may answer 200 with an <Error>
  std::function<std::string(const HttpResponse&)> verify;  // see net::Call::verify
  std::function<void(net::Completed&&)> done;
};

namespace {

using net::Completions;

const HttpResponse* response_of(const Outcome& o) { return std::get_if<HttpResponse>(&o); }

}  // namespace

S3Store::S3Store(S3StoreOptions options, std::shared_ptr<net::HttpTransport> transport,
                 std::shared_ptr<Stats> stats)
    : options_(std::move(options)),
      stats_(stats ? std::move(stats) : std::make_shared<Stats>()) {
  net::ClientOptions client;
  client.retry = options_.retry;
  client.stats = stats_;
  client_ = std::make_unique<net::RequestClient>(std::move(transport), std::move(client));
  if (!options_.clock) options_.clock = [] { return std::time(nullptr); };
  options_.multipart_part_size = std::max<uint64_t>(options_.multipart_part_size, 5ull << 20);
}

S3Store::~S3Store() = default;

StoreCapabilities S3Store::capabilities() const {
  StoreCapabilities c;
  c.ranged_get = true;
  c.listing = true;
  c.batch_delete = true;
  c.conditional_put = true;
  c.suffix_range = true;
  return c;
}

std::string S3Store::target(const std::string& key) const {
  return "s3://" + options_.bucket + (key.empty() ? "" : "/" + key);
}

std::shared_ptr<S3Store::Call> S3Store::make_call(OpKind op, std::string method,
                                                  const std::string& key, std::string url) const {
  auto c = std::make_shared<Call>();
  c->op = op;
  c->key = key;
  c->request.method = std::move(method);
  c->request.url = std::move(url);
  c->payload_hash = options_.signed_payloads ? kEmptyPayloadSha256 : kUnsignedPayload;
  return c;
}

void S3Store::set_body(Call& call, const unsigned char* data, size_t size) const {
  call.request.body_ptr = data;
  call.request.body_size = size;
  if (options_.signed_payloads) call.payload_hash = sha256_hex(data, size);
}

void S3Store::set_owned_body(Call& call, std::string body) const {
  call.request.body_ptr = nullptr;
  call.request.owned_body = std::move(body);
  if (options_.signed_payloads) call.payload_hash = sha256_hex(call.request.owned_body);
}

void S3Store::send(const std::shared_ptr<Call>& call) {
  net::Call c;
  c.op = call->op;
  c.idempotent = call->idempotent;
  c.error_in_200_body = call->error_in_200;
  c.verify = call->verify;
  c.build = [this, call] {
    net::HttpRequest req = call->request;  // the body stays borrowed; only headers are copied
    if (options_.request_payer) req.headers.emplace_back("x-amz-request-payer", "requester");
    SigningOptions so;
    so.region = options_.region;
    so.service = "s3";
    so.now = options_.clock();  // fresh date on every attempt
    so.payload_hash = call->payload_hash;
    // A failed refresh signs with empty keys: the server refuses the request and failure() adds
    // the chain's error to the 403 message.
    auto creds = options_.credentials->get();
    sign_request(req, creds.ok() ? *creds : Credentials{}, so);
    return req;
  };
  client_->start(std::move(c), [call](net::Completed&& done) { call->done(std::move(done)); });
}

net::Completed S3Store::run(const std::shared_ptr<Call>& call) {
  return net::wait_for<net::Completed>([&](std::function<void(net::Completed&&)> cb) {
    call->done = std::move(cb);
    send(call);
  });
}

Status S3Store::failure(const Call& call, const net::Completed& done) const {
  const Outcome& outcome = done.outcome;
  stats_->op(call.op).errors.fetch_add(1, std::memory_order_relaxed);
  const std::string what = std::string("S3 ") + call.request.method + " " + target(call.key);
  std::string tries =
      done.attempts > 1 ? " (after " + std::to_string(done.attempts) + " attempts)" : "";
  if (done.deadline_passed)
    tries += " (retry_total_timeout of " + std::to_string(options_.retry.total_timeout_s) +
             " s reached)";
  if (const auto* err = std::get_if<TransportError>(&outcome)) {
    return Status(Code::kUnavailable,
                  what + " failed" + tries + ": " + err->message + " [endpoint " +
                      options_.endpoint.describe() + "]",
                  err->retryable());
  }
  const HttpResponse& r = std::get<HttpResponse>(outcome);
  const S3ErrorInfo info = parse_error(r.body_string());
  std::string detail = "HTTP " + std::to_string(r.status);
  if (!info.code.empty()) detail += " " + info.code;
  if (!info.message.empty()) detail += " (" + info.message + ")";
  const std::string base = what + ": " + detail + tries;

  if (info.code == "NoSuchBucket")
    return Status(Code::kNotFound, "S3 bucket '" + options_.bucket + "' does not exist at " +
                                       options_.endpoint.describe() + " (" + what + ": " + detail +
                                       "); create it or fix BUCKET_NAME");
  if (r.status == 403 || r.status == 401) {
    std::string hint;
    if (info.code == "SignatureDoesNotMatch")
      hint = "the secret access key (AWS_SECRET_ACCESS_KEY) is probably wrong, or the region "
             "(AWS_REGION) does not match the bucket";
    else if (info.code == "InvalidAccessKeyId")
      hint = "the access key id (AWS_ACCESS_KEY_ID) is not known to the server";
    else if (info.code == "RequestTimeTooSkewed" || info.code == "RequestExpired")
      hint = "this machine's clock differs too much from the server's; fix the clock (NTP)";
    else if (info.code == "AccessDenied")
      hint = "the credentials are valid but not allowed to access bucket '" + options_.bucket +
             "'" + (call.key.empty() ? "" : " key '" + call.key + "'") +
             " (check the bucket policy / IAM permissions)";
    else
      hint = "check the access key and secret (wrong key), this machine's clock (clock skew) and "
             "AWS_REGION (region mismatch)";
    const std::string chain_error = options_.credentials->last_error();
    if (!chain_error.empty())
      hint = "the credentials could not be refreshed (" + chain_error + ")";
    return Status(Code::kPermissionDenied,
                  "access denied: " + base + " -- bucket '" + options_.bucket + "'" +
                      (call.key.empty() ? "" : ", key '" + call.key + "'") + ": " + hint);
  }
  if (r.status == 301 || info.code == "AuthorizationHeaderMalformed" ||
      info.code == "PermanentRedirect" || info.code == "IllegalLocationConstraintException") {
    // AWS names the bucket's region in x-amz-bucket-region (and <Region> in some bodies).
    const std::string region = net::find_header(r.headers, "x-amz-bucket-region").value_or("");
    if (!region.empty() && region != options_.region)
      return Status(Code::kInvalidArgument,
                    base + ": bucket '" + options_.bucket + "' is in region '" + region +
                        "', not AWS_REGION='" + options_.region + "': set AWS_REGION=" + region);
    return Status(Code::kInvalidArgument,
                  base + ": the bucket is probably in another region than AWS_REGION='" +
                      options_.region + "'");
  }
  if (net::is_retryable_status(r.status)) return Status(Code::kUnavailable, base, true);
  if (r.status == 404) return Status(Code::kNotFound, base);
  if (r.status == 400) return Status(Code::kInvalidArgument, base);
  return Status(Code::kIo, base);
}

// ---------------------------------------------------------------------------------------- get

void S3Store::async_get(const std::string& key, std::optional<ByteRange> range,
                        const GetDestination* dest, GetCallback done) {
  const bool empty_range = range && range->length && *range->length == 0;
  auto call = make_call(empty_range ? OpKind::kHead : OpKind::kGet, empty_range ? "HEAD" : "GET",
                        key, object_url(options_.endpoint, options_.bucket, key));
  if (range && !empty_range) {
    std::string spec = range->suffix ? "bytes=-" + std::to_string(range->length.value_or(0))
                                     : "bytes=" + std::to_string(range->offset) + "-";
    if (range->length && !range->suffix) spec += std::to_string(range->offset + *range->length - 1);
    call->request.headers.emplace_back("Range", spec);
  }
  if (dest && !empty_range) {
    call->request.dest = dest;
    call->request.dest_status = range ? 206 : 200;
  }
  if (!range) {
    // Whole objects come back with the CRC32C they were stored with (x-amz-checksum-crc32c on
    // every PUT); a composite multipart checksum ("...-N") covers parts, not the body: skipped.
    call->request.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
    call->verify = [dest](const HttpResponse& r) -> std::string {
      if (r.status != 200) return "";
      auto sum = net::find_header(r.headers, "x-amz-checksum-crc32c");
      if (!sum || sum->find('-') != std::string::npos) return "";
      return net::check_crc32c(r, dest, *sum);
    };
  }
  Call* raw = call.get();
  call->done = [this, raw, range, dest, empty_range, done = std::move(done)](net::Completed&& completed) {
    Outcome& o = completed.outcome;
    const HttpResponse* r = response_of(o);
    OpCounters& counters = stats_->op(raw->op);
    if (r && r->status == 404 && parse_error(r->body_string()).code != "NoSuchBucket") {
      counters.not_found.fetch_add(1, std::memory_order_relaxed);
      return done(std::optional<Bytes>());
    }
    if (r && r->into_dest) {  // received straight into the destination
      if (r->dest_bytes != dest->size) {
        counters.errors.fetch_add(1, std::memory_order_relaxed);
        return done(destination_size_mismatch(*dest, r->dest_bytes, raw->key, describe()));
      }
      counters.bytes.fetch_add(r->dest_bytes, std::memory_order_relaxed);
      stats_->note_zero_copy(r->dest_bytes);
      return done(std::optional<Bytes>(Bytes()));
    }
    Result<std::optional<Bytes>> result = Status();
    if (r && r->status == 416) {
      result = std::optional<Bytes>(Bytes());  // range starts past the end
    } else if (r && (r->status == 200 || r->status == 206)) {
      if (empty_range) {
        result = std::optional<Bytes>(Bytes());
      } else if (r->status == 200 && range && (range->offset > 0 || range->length)) {
        // The server ignored Range: cut the range out of the whole object.
        const Bytes& all = r->body;
        const auto [b, e] = range->clip(all.size());
        result = std::optional<Bytes>(Bytes(all.begin() + static_cast<std::ptrdiff_t>(b),
                                            all.begin() + static_cast<std::ptrdiff_t>(e)));
      } else {
        result = std::optional<Bytes>(std::move(std::get<HttpResponse>(o).body));
      }
      counters.bytes.fetch_add(result.value()->size(), std::memory_order_relaxed);
    } else {
      result = failure(*raw, completed);
    }
    done(deliver_to_destination(std::move(result), dest, raw->key, describe()));
  };
  send(call);
}

Result<std::optional<Bytes>> S3Store::get(const std::string& key, std::optional<ByteRange> range) {
  return net::wait_for<Result<std::optional<Bytes>>>(
      [&](GetCallback cb) { async_get(key, range, nullptr, std::move(cb)); });
}

void S3Store::get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) {
  Completions<Result<std::optional<Bytes>>> q;
  for (size_t i = 0; i < requests.size(); ++i) {
    const GetRequest& g = requests[i];
    if (g.dest) {
      if (Status s = check_destination(*g.dest, g.key, describe()); !s.ok()) {
        q.push(i, std::move(s));
        continue;
      }
    }
    async_get(g.key, g.range, g.dest,
              [&q, i](Result<std::optional<Bytes>>&& r) { q.push(i, std::move(r)); });
  }
  for (size_t n = 0; n < requests.size(); ++n) {
    auto [i, r] = q.pop();
    on_done(i, std::move(r));
  }
}

// ---------------------------------------------------------------------------------------- put

void S3Store::async_put(const std::string& key, const unsigned char* data, size_t size,
                        StatusCallback done, bool if_absent) {
  auto call = make_call(OpKind::kPut, "PUT", key, object_url(options_.endpoint, options_.bucket, key));
  set_body(*call, data, size);
  // The server rejects a body that does not match (BadDigest) and keeps the checksum for GETs.
  call->request.headers.emplace_back("x-amz-checksum-crc32c",
                                     net::crc32c_base64(net::crc32c(data, size)));
  // Conditional create (model/write_lock.hpp): the server refuses it with 412 when the key exists.
  if (if_absent) call->request.headers.emplace_back("If-None-Match", "*");
  Call* raw = call.get();
  call->done = [this, raw, size, if_absent, done = std::move(done)](net::Completed&& completed) {
    Outcome& o = completed.outcome;
    const HttpResponse* r = response_of(o);
    Status s;
    if (r && r->status == 200) {
      stats_->op(OpKind::kPut).bytes.fetch_add(size, std::memory_order_relaxed);
    } else if (if_absent && r && r->status == 412) {
      s = Status(Code::kAlreadyExists, "'" + raw->key + "' already exists in " + describe() + " (HTTP 412)");
    } else {
      s = failure(*raw, completed);
    }
    done(std::move(s));
  };
  send(call);
}

Status S3Store::put(const std::string& key, const unsigned char* data, size_t size) {
  if (size > options_.multipart_threshold) return put_multipart(key, data, size);
  return net::wait_for<Status>([&](StatusCallback cb) { async_put(key, data, size, std::move(cb)); });
}

Status S3Store::put_if_absent(const std::string& key, const unsigned char* data, size_t size) {
  if (size > options_.multipart_threshold) return ObjectStore::put_if_absent(key, data, size);
  return net::wait_for<Status>([&](StatusCallback cb) { async_put(key, data, size, std::move(cb), true); });
}

Status S3Store::put_multipart(const std::string& key, const unsigned char* data, size_t size) {
  const auto url = [&](const QueryParams& q) {
    return object_url(options_.endpoint, options_.bucket, key, q);
  };
  // 1. Initiate.
  auto init = make_call(OpKind::kPut, "POST", key, url({{"uploads", ""}}));
  init->idempotent = false;
  net::Completed step = run(init);
  const HttpResponse* r = response_of(step.outcome);
  if (!r || r->status != 200) return failure(*init, step).with_context("starting multipart upload");
  auto upload_id = parse_initiate_multipart(r->body_string());
  if (!upload_id.ok()) return upload_id.status().with_context("S3 PUT " + target(key));

  // 2. All parts at once; each completion records its ETag.
  const uint64_t part = options_.multipart_part_size;
  const size_t nparts = static_cast<size_t>((size + part - 1) / part);
  std::vector<std::pair<int, std::string>> etags(nparts);
  Completions<Status> q;
  for (size_t i = 0; i < nparts; ++i) {
    const int number = static_cast<int>(i + 1);
    auto c = make_call(OpKind::kPut, "PUT", key,
                       url({{"partNumber", std::to_string(number)}, {"uploadId", *upload_id}}));
    const size_t off = static_cast<size_t>(i * part);
    const size_t len = static_cast<size_t>(std::min<uint64_t>(part, size - off));
    set_body(*c, data + off, len);
    // Parts carry Content-MD5: a per-part x-amz-checksum-* needs an upload created with that
    // algorithm, which not every S3-compatible server supports.
    c->request.headers.emplace_back("Content-MD5", md5_base64(data + off, len));
    Call* raw = c.get();
    c->done = [this, raw, i, number, len, &etags, &q](net::Completed&& completed) {
      Outcome& out = completed.outcome;
      const HttpResponse* pr = response_of(out);
      Status s;
      if (pr && pr->status == 200) {
        etags[i] = {number, net::find_header(pr->headers, "ETag").value_or("")};
        stats_->op(OpKind::kPut).bytes.fetch_add(len, std::memory_order_relaxed);
      } else {
        s = failure(*raw, completed);
      }
      q.push(i, std::move(s));
    };
    send(c);
  }
  Status first_error;
  for (size_t n = 0; n < nparts; ++n) {
    auto [i, s] = q.pop();
    if (!s.ok() && first_error.ok()) first_error = s.with_context("part " + std::to_string(i + 1));
  }

  // 3. Complete (or abort so no orphaned parts keep costing storage).
  if (first_error.ok()) {
    auto done = make_call(OpKind::kPut, "POST", key, url({{"uploadId", *upload_id}}));
    set_owned_body(*done, build_complete_multipart(etags));
    done->request.headers.emplace_back("Content-Type", "application/xml");
    done->idempotent = false;  // a repeated Complete of a finished upload fails with NoSuchUpload
    done->error_in_200 = true;
    step = run(done);
    r = response_of(step.outcome);
    // S3 may answer 200 and still report an error in the body.
    if (r && r->status == 200 && parse_error(r->body_string()).code.empty()) return Status();
    first_error = failure(*done, step).with_context("completing multipart upload");
  }
  auto abort = make_call(OpKind::kDelete, "DELETE", key, url({{"uploadId", *upload_id}}));
  run(abort);
  return first_error;
}

void S3Store::put_many(const std::vector<PutRequest>& requests, const PutDone& on_done) {
  Completions<Status> q;
  std::vector<size_t> large;
  for (size_t i = 0; i < requests.size(); ++i) {
    const PutRequest& r = requests[i];
    if (r.size > options_.multipart_threshold) {
      large.push_back(i);
      continue;
    }
    async_put(r.key, r.data, r.size, [&q, i](Status&& s) { q.push(i, std::move(s)); });
  }
  // Large objects: their parts go out in parallel while the small PUTs are in flight.
  for (size_t i : large) on_done(i, put_multipart(requests[i].key, requests[i].data, requests[i].size));
  for (size_t n = large.size(); n < requests.size(); ++n) {
    auto [i, s] = q.pop();
    on_done(i, std::move(s));
  }
}

// ---------------------------------------------------------------------------------------- head

Result<std::optional<ObjectInfo>> S3Store::head(const std::string& key) {
  auto call = make_call(OpKind::kHead, "HEAD", key, object_url(options_.endpoint, options_.bucket, key));
  net::Completed completed = run(call);
  const HttpResponse* r = response_of(completed.outcome);
  if (r && r->status == 404) {
    stats_->op(OpKind::kHead).not_found.fetch_add(1, std::memory_order_relaxed);
    return std::optional<ObjectInfo>();
  }
  if (!r || r->status != 200) return failure(*call, completed);
  ObjectInfo info;
  info.key = key;
  info.size = std::strtoull(net::find_header(r->headers, "Content-Length").value_or("0").c_str(),
                            nullptr, 10);
  std::string etag = net::find_header(r->headers, "ETag").value_or("");
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  info.etag = etag;
  return std::optional<ObjectInfo>(std::move(info));
}

// ---------------------------------------------------------------------------------------- list

Result<ListPage> S3Store::list(const std::string& prefix, const std::string& delimiter,
                               const std::string& token, size_t max_keys) {
  QueryParams q{{"list-type", "2"}, {"prefix", prefix}};
  if (!delimiter.empty()) q.emplace_back("delimiter", delimiter);
  q.emplace_back("max-keys", std::to_string(std::clamp<size_t>(max_keys, 1, 1000)));
  if (!token.empty()) q.emplace_back("continuation-token", token);
  auto call = make_call(OpKind::kList, "GET", "", object_url(options_.endpoint, options_.bucket, "", q));
  net::Completed completed = run(call);
  const HttpResponse* r = response_of(completed.outcome);
  if (!r || r->status != 200) return failure(*call, completed).with_context("listing prefix '" + prefix + "'");
  auto parsed = parse_list_objects_v2(r->body_string());
  if (!parsed.ok()) return parsed.status().with_context("S3 LIST " + target(prefix));
  stats_->op(OpKind::kList).bytes.fetch_add(r->body.size(), std::memory_order_relaxed);
  ListPage page;
  for (auto& obj : parsed->objects) page.objects.push_back({std::move(obj.key), obj.size, std::move(obj.etag)});
  page.common_prefixes = std::move(parsed->common_prefixes);
  if (parsed->is_truncated) page.next_token = std::move(parsed->next_continuation_token);
  if (!options_.endpoint.is_aws && !page.common_prefixes.empty()) {
    auto kept = drop_empty_prefixes(page.common_prefixes);
    if (!kept.ok()) return kept.status();
    page.common_prefixes = std::move(*kept);
  }
  return page;
}

Result<std::vector<std::string>> S3Store::drop_empty_prefixes(const std::vector<std::string>& prefixes) {
  // Filer-backed servers (SeaweedFS) keep a directory after its last object is deleted and still
  // report it as a CommonPrefix; AWS never does. One max-keys=1 listing per prefix, all at once,
  // tells which prefixes still hold an object.
  Completions<Result<bool>> q;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    auto call = make_call(OpKind::kList, "GET", "",
                          object_url(options_.endpoint, options_.bucket, "",
                                     {{"list-type", "2"}, {"prefix", prefixes[i]}, {"max-keys", "1"}}));
    Call* raw = call.get();
    call->done = [this, raw, i, &q](net::Completed&& completed) {
      Outcome& o = completed.outcome;
      const HttpResponse* r = response_of(o);
      if (!r || r->status != 200) return q.push(i, Result<bool>(failure(*raw, completed)));
      auto parsed = parse_list_objects_v2(r->body_string());
      if (!parsed.ok()) return q.push(i, Result<bool>(parsed.status()));
      q.push(i, Result<bool>(!parsed->objects.empty()));
    };
    send(call);
  }
  std::vector<char> keep(prefixes.size(), 0);
  Status first;
  for (size_t n = 0; n < prefixes.size(); ++n) {
    auto [i, r] = q.pop();
    if (!r.ok()) {
      if (first.ok()) first = r.status();
    } else {
      keep[i] = r.value();
    }
  }
  if (!first.ok()) return first;
  std::vector<std::string> out;
  for (size_t i = 0; i < prefixes.size(); ++i)
    if (keep[i]) out.push_back(prefixes[i]);
  return out;
}

// ---------------------------------------------------------------------------------------- delete

Status S3Store::delete_many(const std::vector<std::string>& keys) {
  constexpr size_t kBatch = 1000;  // DeleteObjects limit
  const size_t nbatches = (keys.size() + kBatch - 1) / kBatch;
  Completions<Status> q;
  for (size_t b = 0; b < nbatches; ++b) {
    std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(b * kBatch),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), (b + 1) * kBatch)));
    auto call = make_call(OpKind::kDelete, "POST", "",
                          object_url(options_.endpoint, options_.bucket, "", {{"delete", ""}}));
    set_owned_body(*call, build_delete_request(batch));
    const std::string& body = call->request.owned_body;
    call->request.headers.emplace_back(
        "Content-MD5", md5_base64(reinterpret_cast<const unsigned char*>(body.data()), body.size()));
    call->request.headers.emplace_back("Content-Type", "application/xml");
    Call* raw = call.get();
    call->done = [this, raw, b, &q](net::Completed&& completed) {
      Outcome& o = completed.outcome;
      const HttpResponse* r = response_of(o);
      Status s;
      if (!r || r->status != 200) {
        s = failure(*raw, completed);
      } else if (auto res = parse_delete_result(r->body_string()); !res.ok()) {
        s = res.status();
      } else {
        for (const auto& e : res->errors) {
          if (e.code == "NoSuchKey") continue;  // deleting a missing key is not an error
          stats_->op(OpKind::kDelete).errors.fetch_add(1, std::memory_order_relaxed);
          s = Status(e.code == "AccessDenied" ? Code::kPermissionDenied : Code::kIo,
                     "S3 DELETE " + target(e.key) + ": " + e.code + " (" + e.message + ")");
          break;
        }
      }
      q.push(b, std::move(s));
    };
    send(call);
  }
  Status first;
  for (size_t n = 0; n < nbatches; ++n) {
    auto [b, s] = q.pop();
    if (!s.ok() && first.ok()) first = std::move(s);
  }
  return first;
}

}  // namespace arraymorph::s3

// -------------------------------------------------------------------------------- the factory

namespace arraymorph {

Result<std::shared_ptr<ObjectStore>> make_s3_store(const Config& config, const std::string& bucket,
                                                   std::shared_ptr<Stats> stats) {
  if (bucket.empty())
    return invalid_argument("no S3 bucket: set BUCKET_NAME or open an s3://bucket/key URL");
  if (bucket.find('/') != std::string::npos)
    return invalid_argument("invalid S3 bucket name '" + bucket + "' (contains '/')");
  // Region: AWS_REGION / AWS_DEFAULT_REGION / configured (already in config.s3.region), else the
  // profile's `region` in ~/.aws/config, else the default.
  S3Config s3 = config.s3;
  const auto set = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
  };
  if ((s3.region.empty() || s3.region == kDefaultS3Region) && !set("AWS_REGION") &&
      !set("AWS_DEFAULT_REGION")) {
    if (auto region = s3::profile_region()) s3.region = *region;
  }
  auto endpoint = s3::resolve_endpoint(s3);
  if (!endpoint.ok()) return endpoint.status();
  auto creds = s3::make_credential_source(config.s3);
  if (!creds.ok()) return creds.status();
  if (!stats) stats = std::make_shared<Stats>();

  net::TransportOptions t;
  t.max_inflight = std::max(1, config.max_inflight);
  t.event_loops = std::max(1, config.event_loops);
  t.connect_timeout_s = config.connect_timeout_s;
  t.request_timeout_s = config.request_timeout_s;
  t.ca_bundle = config.s3.ca_bundle;
  t.verify_tls = endpoint->verify_tls;
  net::Admission::process()->set_limit(static_cast<size_t>(t.max_inflight));

  s3::S3StoreOptions o;
  o.bucket = bucket;
  o.endpoint = *endpoint;
  o.credentials = *creds;
  o.region = s3.region.empty() ? kDefaultS3Region : s3.region;
  o.signed_payloads = config.s3.signed_payloads;
  o.request_payer = config.s3.request_payer;
  o.multipart_threshold = config.s3.multipart_threshold;
  o.multipart_part_size = config.s3.multipart_part_size;
  o.retry = config.retry;
  return std::shared_ptr<ObjectStore>(
      std::make_shared<s3::S3Store>(std::move(o), net::make_curl_transport(t), std::move(stats)));
}

}  // namespace arraymorph
