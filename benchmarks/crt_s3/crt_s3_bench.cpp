// crt_s3_bench.cpp -- benchmark-only prototype (issue 18): the same chunk-object workloads through
// today's S3 data path (S3Store: our SigV4 signer, request client and libcurl transport) and
// through aws-c-s3's meta request API (aws-c-http connections, aws-c-auth signing, aws-checksums),
// so docs/design.md can decide whether the S3 data path moves onto aws-c-s3. Never built by the
// project's own build or CI: benchmarks/crt_s3/build.sh builds it, benchmarks/crt_s3_bench.py runs
// it against SeaweedFS behind the latency proxy.
//
//   crt_s3_bench ours|crt put|get|range|points N SIZE PREFIX
//
// Environment: the published variables (BUCKET_NAME, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_REGION, AWS_ENDPOINT_URL_S3 as http://127.0.0.1:PORT), as for arraymorph itself.
//
// Workloads (objects PREFIX/c/<i>, SIZE bytes each; the W1-W10 shapes at transport level):
//   put     N PUTs issued together (W1 write_all: 256 x 256 KiB), bodies from one buffer
//   get     N whole-object GETs issued together, each body into its slice of one buffer (W2)
//   range   N ranged GETs of SIZE/4 bytes from the middle of each object, together (slabs,
//           strided: one ranged GET per chunk)
//   points  N ranged GETs of 4 bytes, one after another (W5 points: latency-bound)
// Both clients keep up to 64 requests on the wire over 2 event-loop threads (arraymorph's
// defaults: max_inflight 64, event_loops 2), sign with SigV4 and unsigned payloads, put a
// CRC32C checksum header on PUTs and ask for the stored checksum on whole GETs. Prints one JSON
// line: client, op, n, size, seconds (the operation only, not client set-up), cpu_seconds
// (process user+system over the same span), failures.
#include <aws/auth/credentials.h>
#include <aws/auth/signing_config.h>
#include <aws/common/logging.h>
#include <aws/common/uri.h>
#include <aws/http/request_response.h>
#include <aws/io/channel_bootstrap.h>
#include <aws/io/event_loop.h>
#include <aws/io/host_resolver.h>
#include <aws/io/stream.h>
#include <aws/s3/s3.h>
#include <aws/s3/s3_client.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "store/s3/s3_store.hpp"

using namespace arraymorph;

namespace {

double cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

struct Work {
  std::string op;
  size_t n = 0;
  size_t size = 0;
  std::string prefix;
  std::vector<unsigned char> buf;  // N * SIZE: PUT bodies / GET destinations
  std::string key(size_t i) const { return prefix + "/c/" + std::to_string(i); }
  uint64_t range_off() const { return size / 2 - size / 8; }
  size_t range_len() const { return op == "points" ? 4 : size / 4; }
};

// What a "put" writes: object i, byte j is (i * 131 + j * 7) mod 251.
void fill(const Work& w, unsigned char* out) {
  for (size_t i = 0; i < w.n; ++i)
    for (size_t j = 0; j < w.size; ++j) out[i * w.size + j] = static_cast<unsigned char>((i * 131 + j * 7) % 251);
}

// After a GET workload: the bytes received are the ones a "put" wrote (counts mismatching objects).
int verify(const Work& w) {
  if (w.op == "put") return 0;
  std::vector<unsigned char> want(w.n * w.size);
  fill(w, want.data());
  int bad = 0;
  for (size_t i = 0; i < w.n; ++i) {
    const size_t off = w.op == "get" ? 0 : w.range_off();
    const size_t len = w.op == "get" ? w.size : w.range_len();
    bad += std::memcmp(w.buf.data() + i * w.size, want.data() + i * w.size + off, len) != 0;
  }
  return bad;
}

// ---------------------------------------------------------------------------- today's client
int run_ours(Work& w) {
  auto config = Config::from_env();
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  auto stats = std::make_shared<Stats>();
  auto store = make_s3_store(*config, config->s3.bucket, stats);
  if (!store.ok()) {
    std::cerr << store.status().message() << "\n";
    return 2;
  }
  ObjectStore& s = **store;
  std::atomic<int> failures{0};
  auto on_get = [&](size_t, Result<std::optional<Bytes>>&& r) { failures += !(r.ok() && r->has_value()); };
  std::vector<GetDestination> dests;
  std::vector<GetRequest> gets;
  std::vector<PutRequest> puts;
  for (size_t i = 0; i < w.n; ++i) {
    unsigned char* dst = w.buf.data() + i * w.size;
    if (w.op == "put") {
      puts.push_back({w.key(i), dst, w.size});
    } else if (w.op == "get") {
      dests.push_back(GetDestination::contiguous(dst, w.size));
    } else {
      dests.push_back(GetDestination::contiguous(dst, w.range_len()));
    }
  }
  for (size_t i = 0; i < dests.size(); ++i) {
    GetRequest g{w.key(i), std::nullopt, &dests[i]};
    if (w.op != "get") g.range = ByteRange{w.range_off(), w.range_len()};
    gets.push_back(std::move(g));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_now();
  if (w.op == "put") {
    s.put_many(puts, [&](size_t, Status&& st) { failures += !st.ok(); });
  } else if (w.op == "points") {
    for (auto& g : gets) s.get_many({g}, on_get);
  } else {
    s.get_many(gets, on_get);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  failures += verify(w);
  std::printf("{\"client\": \"ours\", \"op\": \"%s\", \"n\": %zu, \"size\": %zu, \"seconds\": %.4f, "
              "\"cpu_seconds\": %.4f, \"failures\": %d}\n",
              w.op.c_str(), w.n, w.size, secs, cpu_now() - c0, failures.load());
  return failures.load() ? 1 : 0;
}

// ---------------------------------------------------------------------------- aws-c-s3
struct Latch {
  std::mutex m;
  std::condition_variable cv;
  size_t left = 0;
  void done() {
    std::lock_guard<std::mutex> g(m);
    if (--left == 0) cv.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> g(m);
    cv.wait(g, [&] { return left == 0; });
  }
};

struct CrtRequest {
  Latch* latch = nullptr;
  std::atomic<int>* failures = nullptr;
  unsigned char* dst = nullptr;  // GET: body bytes [range_start.., ...) land here
  uint64_t base = 0;             // object offset of dst[0]
  size_t cap = 0;
  aws_http_message* message = nullptr;
  aws_input_stream* body = nullptr;
};

int on_body(aws_s3_meta_request*, const aws_byte_cursor* body, uint64_t range_start, void* user) {
  auto* r = static_cast<CrtRequest*>(user);
  const uint64_t at = range_start - r->base;
  if (at + body->len > r->cap) return AWS_OP_ERR;  // longer than asked for: fail the request
  std::memcpy(r->dst + at, body->ptr, body->len);
  return AWS_OP_SUCCESS;
}

void on_finish(aws_s3_meta_request*, const aws_s3_meta_request_result* result, void* user) {
  auto* r = static_cast<CrtRequest*>(user);
  if (result->error_code != AWS_ERROR_SUCCESS) {
    r->failures->fetch_add(1);
    std::fprintf(stderr, "crt: %s (HTTP %d)\n", aws_error_name(result->error_code), result->response_status);
  }
}

void on_shutdown(void* user) { static_cast<CrtRequest*>(user)->latch->done(); }

aws_byte_cursor cur(const std::string& s) { return aws_byte_cursor_from_array(s.data(), s.size()); }

int run_crt(Work& w) {
  aws_allocator* alloc = aws_default_allocator();
  aws_s3_library_init(alloc);
  static aws_logger logger;
  if (!env("CRT_S3_BENCH_LOG").empty()) {  // e.g. CRT_S3_BENCH_LOG=1: aws-c-* errors on stderr
    aws_logger_standard_options lo{};
    lo.level = AWS_LL_ERROR;
    lo.file = stderr;
    aws_logger_init_standard(&logger, alloc, &lo);
    aws_logger_set(&logger);
  }
  const std::string bucket = env("BUCKET_NAME"), region = env("AWS_REGION", "us-east-1");
  const std::string endpoint = env("AWS_ENDPOINT_URL_S3");
  const std::string ak = env("AWS_ACCESS_KEY_ID"), sk = env("AWS_SECRET_ACCESS_KEY");

  aws_event_loop_group_options elg_opts{};
  elg_opts.loop_count = 2;
  aws_event_loop_group* elg = aws_event_loop_group_new(alloc, &elg_opts);
  aws_host_resolver_default_options hr_opts{};
  hr_opts.max_entries = 8;
  hr_opts.el_group = elg;
  aws_host_resolver* resolver = aws_host_resolver_new_default(alloc, &hr_opts);
  aws_client_bootstrap_options bs_opts{};
  bs_opts.event_loop_group = elg;
  bs_opts.host_resolver = resolver;
  aws_client_bootstrap* bootstrap = aws_client_bootstrap_new(alloc, &bs_opts);

  aws_credentials_provider_static_options cred_opts{};
  cred_opts.access_key_id = cur(ak);
  cred_opts.secret_access_key = cur(sk);
  aws_credentials_provider* creds = aws_credentials_provider_new_static(alloc, &cred_opts);
  aws_signing_config_aws signing{};
  aws_s3_init_default_signing_config(&signing, cur(region), creds);

  aws_s3_client_config cc{};
  cc.max_active_connections_override = 64;
  cc.region = cur(region);
  cc.client_bootstrap = bootstrap;
  cc.tls_mode = AWS_MR_TLS_DISABLED;
  cc.signing_config = &signing;
  cc.part_size = 8u << 20;
  cc.throughput_target_gbps = 10.0;
  aws_s3_client* client = aws_s3_client_new(alloc, &cc);
  if (client == nullptr) {
    std::fprintf(stderr, "aws_s3_client_new: %s\n", aws_error_name(aws_last_error()));
    return 2;
  }
  aws_uri uri{};
  aws_byte_cursor ep = cur(endpoint);
  if (aws_uri_init_parse(&uri, alloc, &ep) != AWS_OP_SUCCESS) {
    std::fprintf(stderr, "bad AWS_ENDPOINT_URL_S3\n");
    return 2;
  }
  aws_s3_checksum_config put_sum{};
  put_sum.location = AWS_SCL_HEADER;
  put_sum.checksum_algorithm = AWS_SCA_CRC32C;
  aws_s3_checksum_config get_sum{};
  get_sum.validate_response_checksum = true;

  std::atomic<int> failures{0};
  Latch latch;
  std::vector<CrtRequest> reqs(w.n);
  auto issue = [&](size_t i) {
    CrtRequest& r = reqs[i];
    r.latch = &latch;
    r.failures = &failures;
    r.dst = w.buf.data() + i * w.size;
    r.message = aws_http_message_new_request(alloc);
    const std::string path = "/" + bucket + "/" + w.key(i);
    aws_http_message_set_request_path(r.message, cur(path));
    aws_s3_meta_request_options o{};
    o.signing_config = &signing;
    o.message = r.message;
    o.endpoint = &uri;  // sets Host from it
    o.user_data = &r;
    o.finish_callback = on_finish;
    o.shutdown_callback = on_shutdown;
    if (w.op == "put") {
      aws_http_message_set_request_method(r.message, aws_byte_cursor_from_c_str("PUT"));
      const std::string len = std::to_string(w.size);
      aws_http_message_add_header(r.message, aws_http_header{aws_byte_cursor_from_c_str("Content-Length"), cur(len)});
      aws_byte_cursor body = aws_byte_cursor_from_array(r.dst, w.size);
      r.body = aws_input_stream_new_from_cursor(alloc, &body);
      aws_http_message_set_body_stream(r.message, r.body);
      o.type = AWS_S3_META_REQUEST_TYPE_PUT_OBJECT;
      o.checksum_config = &put_sum;
    } else {
      aws_http_message_set_request_method(r.message, aws_byte_cursor_from_c_str("GET"));
      o.type = AWS_S3_META_REQUEST_TYPE_GET_OBJECT;
      o.body_callback = on_body;
      if (w.op == "get") {
        r.cap = w.size;
        // CRT_S3_BENCH_GET_CHECKSUM=0: no checksum validation on whole GETs (see the design note)
        if (env("CRT_S3_BENCH_GET_CHECKSUM", "1") != "0") o.checksum_config = &get_sum;
      } else {
        r.base = w.range_off();
        r.cap = w.range_len();
        const std::string range = "bytes=" + std::to_string(r.base) + "-" + std::to_string(r.base + r.cap - 1);
        aws_http_message_add_header(r.message, aws_http_header{aws_byte_cursor_from_c_str("Range"), cur(range)});
      }
    }
    aws_s3_meta_request* mr = aws_s3_client_make_meta_request(client, &o);
    if (mr == nullptr) {
      std::fprintf(stderr, "make_meta_request: %s\n", aws_error_name(aws_last_error()));
      failures.fetch_add(1);
      latch.done();
      return;
    }
    aws_s3_meta_request_release(mr);  // the client keeps it alive until shutdown_callback
  };

  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_now();
  if (w.op == "points") {
    for (size_t i = 0; i < w.n; ++i) {
      latch.left = 1;
      issue(i);
      latch.wait();
    }
  } else {
    latch.left = w.n;
    for (size_t i = 0; i < w.n; ++i) issue(i);
    latch.wait();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_now() - c0;
  failures += verify(w);
  for (auto& r : reqs) {
    if (r.message != nullptr) aws_http_message_release(r.message);
    if (r.body != nullptr) aws_input_stream_release(r.body);
  }
  std::printf("{\"client\": \"crt\", \"op\": \"%s\", \"n\": %zu, \"size\": %zu, \"seconds\": %.4f, "
              "\"cpu_seconds\": %.4f, \"failures\": %d}\n",
              w.op.c_str(), w.n, w.size, secs, cpu, failures.load());
  std::fflush(stdout);
  aws_uri_clean_up(&uri);
  aws_s3_client_release(client);
  aws_credentials_provider_release(creds);
  aws_client_bootstrap_release(bootstrap);
  aws_host_resolver_release(resolver);
  aws_event_loop_group_release(elg);
  // The client shuts down asynchronously; the process exits here (a benchmark, not a library).
  std::_Exit(failures.load() ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: crt_s3_bench ours|crt put|get|range|points N SIZE PREFIX\n";
    return 2;
  }
  Work w;
  const std::string client = argv[1];
  w.op = argv[2];
  w.n = std::stoul(argv[3]);
  w.size = std::stoul(argv[4]);
  w.prefix = argv[5];
  w.buf.assign(w.n * w.size, 0);
  if (w.op == "put") fill(w, w.buf.data());
  return client == "crt" ? run_crt(w) : run_ours(w);
}
