// curl_transport.cpp -- the libcurl multi event loop behind HttpTransport (see curl_transport.hpp).
#include "net/curl_transport.hpp"
#include "net/sharded_transport.hpp"
#include "net/strings.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace arraymorph::net {

namespace {

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* h) const noexcept { curl_multi_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

void global_init_once() {
  // curl_global_init is not thread-safe; call it exactly once per process. Never cleaned up:
  // other libraries in the process (h5py's ROS3, Python) may share libcurl.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where a libcurl failure happened, for the retry taxonomy (TransportFailure). A failure with
// no request byte on the wire is a connect failure whatever its code (libcurl reports a connect
// timeout as CURLE_OPERATION_TIMEDOUT): re-sending it is safe for every method.
TransportFailure failure_of(CURLcode c, bool sent_nothing) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportFailure::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return sent_nothing ? TransportFailure::kConnect : TransportFailure::kBroken;
    default:  // TLS verification, malformed URL, out of memory, ...: a re-send cannot help
      return TransportFailure::kFatal;
  }
}

// One request on its way: owns everything libcurl points into until the handler has run.
struct Transfer {
  HttpRequest request;
  ResponseHandler handler;
  HttpResponse response;
  EasyPtr easy;
  SlistPtr header_list;
  size_t sent = 0;
  char error[CURL_ERROR_SIZE] = {0};
  // Zero-copy body: decided at the first body byte from the final status line.
  enum class Sink { kUndecided, kBody, kDest } sink = Sink::kUndecided;
  size_t dest_span = 0;  // first span that may still receive bytes (spans are sorted)
};

// Writes body bytes [pos, pos + len) into the destination spans they overlap; bytes outside
// every span (gaps, or past the destination's size) are dropped.
void scatter_to_dest(Transfer& t, const unsigned char* data, uint64_t pos, size_t len) {
  const std::vector<DestSpan>& spans = t.request.dest->spans;
  const uint64_t end = pos + len;
  size_t& i = t.dest_span;
  while (i < spans.size() && spans[i].offset + spans[i].size <= pos) ++i;
  for (size_t j = i; j < spans.size() && spans[j].offset < end; ++j) {
    const uint64_t b = std::max(pos, spans[j].offset);
    const uint64_t e = std::min(end, spans[j].offset + spans[j].size);
    std::memcpy(spans[j].dst + (b - spans[j].offset), data + (b - pos), static_cast<size_t>(e - b));
  }
}

size_t on_header(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string line(buf, len);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after 100 Continue or an intermediate response): start afresh.
    t->response.headers.clear();
    return len;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return len;  // the blank line ending the headers
  std::string name = trim(line.substr(0, colon));
  std::string value = trim(line.substr(colon + 1));
  // (Not for zero-copy GETs: their body goes to the destination; error bodies are small.)
  if (t->request.method != "HEAD" && !t->request.dest && name.size() == 14 &&
      curl_strnequal(name.c_str(), "content-length", 14)) {
    // Pre-size the body once; cap the reservation so a lying header cannot exhaust memory.
    const unsigned long long cl = std::strtoull(value.c_str(), nullptr, 10);
    t->response.body.reserve(static_cast<size_t>(std::min<unsigned long long>(cl, 1ull << 30)));
  }
  t->response.headers.emplace_back(std::move(name), std::move(value));
  return len;
}

size_t on_body(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->sink == Transfer::Sink::kUndecided) {
    long status = 0;
    if (t->request.dest) curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    const bool to_dest = t->request.dest && status == t->request.dest_status;
    t->sink = to_dest ? Transfer::Sink::kDest : Transfer::Sink::kBody;
  }
  if (t->sink == Transfer::Sink::kDest) {
    scatter_to_dest(*t, reinterpret_cast<const unsigned char*>(buf), t->response.dest_bytes, len);
    t->response.dest_bytes += len;
    return len;
  }
  t->response.body.insert(t->response.body.end(), reinterpret_cast<unsigned char*>(buf),
                          reinterpret_cast<unsigned char*>(buf) + len);
  return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t total = t->request.body_length();
  const size_t k = std::min(size * n, total - t->sent);
  if (k > 0) std::memcpy(buf, t->request.body_data() + t->sent, k);
  t->sent += k;
  return k;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  // libcurl rewinds the upload when it re-sends on a fresh connection.
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->request.body_length())
    return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options) : options_(std::move(options)) {
    global_init_once();
    options_.max_inflight = std::max(1, options_.max_inflight);
    multi_.reset(curl_multi_init());
    // Keep one idle connection per possible in-flight request so the window never reconnects.
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_inflight));
    thread_ = std::thread([this] { loop(); });
  }

  ~CurlTransport() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    curl_multi_wakeup(multi_.get());
    thread_.join();
  }

  void issue(HttpRequest request, ResponseHandler handler) override {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->handler = std::move(handler);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) {
        queue_.push_back(std::move(t));
      }
    }
    if (t) {  // not queued: the transport is shutting down
      t->handler(TransportError{"HTTP transport shut down before the request was sent", TransportFailure::kFatal});
      return;
    }
    curl_multi_wakeup(multi_.get());
  }

 private:
  void loop() {
    for (;;) {
      std::deque<std::unique_ptr<Transfer>> starting;
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stop_;
        while (!stopping && !queue_.empty() &&
               active_.size() + starting.size() < static_cast<size_t>(options_.max_inflight)) {
          starting.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (stopping) break;
      for (auto& t : starting) start(std::move(t));
      if (!starting.empty() && options_.on_active) options_.on_active(active_.size());

      int running = 0;
      curl_multi_perform(multi_.get(), &running);
      bool finished_any = false;
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        finish(msg->easy_handle, msg->data.result);
        finished_any = true;
      }
      if (finished_any) {
        if (options_.on_active) options_.on_active(active_.size());
        continue;  // slots freed: start queued requests before sleeping
      }
      // Sleeps until a socket is ready, a timeout of libcurl's is due, or issue() wakes us.
      curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
    }
    shutdown();
  }

  void start(std::unique_ptr<Transfer> t) {
    EasyPtr easy;
    if (!pool_.empty()) {
      easy = std::move(pool_.back());
      pool_.pop_back();
      curl_easy_reset(easy.get());
    } else {
      easy.reset(curl_easy_init());
    }
    if (!easy) {
      t->handler(TransportError{"cannot create a libcurl handle (out of memory?)", TransportFailure::kFatal});
      return;
    }
    CURL* h = easy.get();
    const HttpRequest& r = t->request;
    curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(h, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    // Object keys may contain ".." or "." segments: send the path exactly as encoded and signed.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout_s * 1000.0));
    // The request timeout, capped by what is left of the call's deadline (queueing included).
    double timeout_s = options_.request_timeout_s;
    if (r.deadline != std::chrono::steady_clock::time_point{}) {
      const double left =
          std::chrono::duration<double>(r.deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        auto handler = std::move(t->handler);
        recycle(std::move(easy));
        handler(TransportError{"the call's deadline (retry_total_timeout) passed before " +
                                   r.method + " to " + host_port_of(r.url) + " could start",
                               TransportFailure::kFatal});
        return;
      }
      timeout_s = std::min(timeout_s, left);
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, std::max(1L, static_cast<long>(timeout_s * 1000.0)));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle.c_str());

    const bool has_body = r.method == "PUT" || r.method == "POST";
    if (r.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      // UPLOAD streams the (borrowed) body through on_read with a known length, so curl sends
      // Content-Length and never copies it; CUSTOMREQUEST turns the PUT into POST where needed.
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, t.get());
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &on_seek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, t.get());
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body_length()));
      if (r.method != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }

    curl_slist* list = nullptr;
    for (const auto& [name, value] : r.headers) {
      // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would remove it).
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      list = curl_slist_append(list, line.c_str());
    }
    // No "Expect: 100-continue" round trip before bodies: S3 answers errors after the body anyway.
    list = curl_slist_append(list, "Expect:");
    t->header_list.reset(list);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);

    t->easy = std::move(easy);
    if (curl_multi_add_handle(multi_.get(), h) != CURLM_OK) {
      auto handler = std::move(t->handler);
      recycle(std::move(t->easy));
      handler(TransportError{"cannot start request to " + host_port_of(r.url), TransportFailure::kFatal});
      return;
    }
    Transfer* raw = t.get();
    active_.emplace(raw, std::move(t));
  }

  void finish(CURL* h, CURLcode code) {
    Transfer* raw = nullptr;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, reinterpret_cast<char**>(&raw));
    curl_multi_remove_handle(multi_.get(), h);
    auto it = active_.find(raw);
    if (it == active_.end()) return;  // cannot happen: every added handle is in active_
    std::unique_ptr<Transfer> t = std::move(it->second);
    active_.erase(it);
    Outcome outcome;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
      t->response.status = status;
      // An empty body never reached on_body: it still counts as delivered (0 bytes).
      t->response.into_dest = t->sink == Transfer::Sink::kDest ||
                              (t->sink == Transfer::Sink::kUndecided && t->request.dest &&
                               status == t->request.dest_status);
      outcome = std::move(t->response);
    } else {
      std::string detail = t->error[0] ? std::string(t->error) : curl_easy_strerror(code);
      std::string what = code == CURLE_COULDNT_CONNECT ? "connection refused or unreachable: cannot connect to "
                         : code == CURLE_OPERATION_TIMEDOUT ? "request timed out talking to "
                                                            : "HTTP transfer failed with ";
      long sent = 0;  // bytes of request headers written (0: never connected)
      curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
      outcome = TransportError{what + host_port_of(t->request.url) + " (" + t->request.method +
                                   "): " + detail,
                               failure_of(code, sent == 0)};
    }
    recycle(std::move(t->easy));
    t->handler(std::move(outcome));
  }

  void recycle(EasyPtr easy) {
    if (easy && pool_.size() < static_cast<size_t>(options_.max_inflight)) {
      pool_.push_back(std::move(easy));
    }
  }

  // On the loop thread after stop: fail what is queued or on the wire, outside the lock.
  void shutdown() {
    std::deque<std::unique_ptr<Transfer>> queued;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queued.swap(queue_);
    }
    for (auto& [raw, t] : active_) {
      curl_multi_remove_handle(multi_.get(), t->easy.get());
      queued.push_back(std::move(t));
    }
    active_.clear();
    for (auto& t : queued) {
      t->handler(TransportError{"HTTP transport shut down before " + t->request.method + " to " +
                                    host_port_of(t->request.url) + " finished",
                                TransportFailure::kFatal});
    }
  }

  TransportOptions options_;
  MultiPtr multi_;
  std::mutex mu_;                                  // guards queue_ and stop_
  std::deque<std::unique_ptr<Transfer>> queue_;    // issued, waiting for a slot
  bool stop_ = false;
  // Loop-thread only:
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> active_;
  std::vector<EasyPtr> pool_;
  std::thread thread_;
};

}  // namespace

std::string host_port_of(const std::string& url) {
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "http" : url.substr(0, scheme_end);
  const size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  // A port is present when the last ':' comes after any IPv6 literal's closing bracket.
  const auto colon = host.rfind(':');
  const auto bracket = host.rfind(']');
  const bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) host += scheme == "https" ? ":443" : ":80";
  return host;
}

Outcome issue_and_wait(HttpTransport& transport, HttpRequest request) {
  std::promise<Outcome> done;
  auto future = done.get_future();
  transport.issue(std::move(request), [&done](Outcome&& o) { done.set_value(std::move(o)); });
  return future.get();
}

std::shared_ptr<HttpTransport> make_curl_transport(const TransportOptions& options) {
  return make_sharded_transport(options, options.event_loops, [](const TransportOptions& one) {
    return std::make_shared<CurlTransport>(one);
  });
}

}  // namespace arraymorph::net
