// fake_transport.hpp -- a scripted HttpTransport for the Azure unit tests: answers each request
// synchronously (on the calling thread) with script(request, index) and records every request.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "net/transport.hpp"

namespace arraymorph::azure::fake {

// Answers each request synchronously with script(request, index_of_this_request).
class FakeTransport : public net::HttpTransport {
 public:
  using Script = std::function<net::Outcome(const net::HttpRequest&, size_t)>;
  explicit FakeTransport(Script script) : script_(std::move(script)) {}

  void issue(net::HttpRequest request, net::ResponseHandler handler) override {
    size_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = requests_.size();
      requests_.push_back(request);
    }
    const auto start = std::chrono::steady_clock::now();
    handler(script_(request, index));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard<std::mutex> lock(mu_);
    longest_handler_s_ = std::max(longest_handler_s_, took);
  }
  // The longest time a response handler ran: a retry backoff must never be slept in it.
  double longest_handler_s() {
    std::lock_guard<std::mutex> lock(mu_);
    return longest_handler_s_;
  }
  std::vector<net::HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  Script script_;
  std::mutex mu_;
  std::vector<net::HttpRequest> requests_;
  double longest_handler_s_ = 0;
};

inline net::HttpResponse response(long status, std::string body = "", net::Headers headers = {}) {
  net::HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body.assign(body.begin(), body.end());
  return r;
}

inline net::HttpResponse azure_error(long status, const std::string& code) {
  return response(status,
                  "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code +
                      "</Code><Message>Details.\nRequestId:1</Message></Error>",
                  {{"x-ms-error-code", code}});
}

}  // namespace arraymorph::azure::fake
