// test_callback_thread.cpp -- the one documented callback thread (net/request_client.hpp): the
// batch callbacks of EVERY network store (get_many, put_many) run on the thread that called them,
// never on a transport or timer thread, so read_chunks' scatter runs on the same thread whichever
// backend. Both stores run over a mock transport that answers from threads of its own.
#include <doctest/doctest.h>

#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "store/store.hpp"
#include "net/transport.hpp"
#if ARRAYMORPH_WITH_S3
#include "store/s3/s3_test_options.hpp"
#include "store/s3/s3_store.hpp"
#endif
#if ARRAYMORPH_WITH_AZURE
#include "store/azure/azure_store.hpp"
#endif

using namespace arraymorph;
using namespace arraymorph::net;

namespace {

// Answers 200 (with a small body for GETs), each from a new thread; records the
// threads it answered from.
class AnsweringTransport : public HttpTransport {
 public:
  ~AnsweringTransport() override {
    for (auto& t : threads_) t.join();
  }
  void issue(HttpRequest request, ResponseHandler handler) override {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, method = request.method, h = std::move(handler)]() mutable {
      {
        std::lock_guard<std::mutex> inner(mu_);
        answered_from_.insert(std::this_thread::get_id());
      }
      HttpResponse r;
      r.status = 200;  // success for both (Azure answers 201 to a PUT, any 2xx will do)
      if (method == "GET") r.body = {'a', 'b', 'c'};
      h(std::move(r));
    });
  }
  std::set<std::thread::id> answered_from() {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_from_;
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::set<std::thread::id> answered_from_;
};

void check_callbacks_on_calling_thread(ObjectStore& store, AnsweringTransport& transport) {
  const auto me = std::this_thread::get_id();
  std::vector<GetRequest> gets;
  for (int i = 0; i < 16; ++i) gets.push_back({"k" + std::to_string(i), std::nullopt, nullptr});
  std::set<std::thread::id> get_threads;
  size_t got = 0;
  store.get_many(gets, [&](size_t, Result<std::optional<Bytes>>&& r) {
    get_threads.insert(std::this_thread::get_id());
    if (r.ok() && r.value() && r.value()->size() == 3) ++got;
  });
  CHECK(got == gets.size());
  CHECK(get_threads == std::set<std::thread::id>{me});

  const unsigned char data[4] = {1, 2, 3, 4};
  std::vector<PutRequest> puts;
  for (int i = 0; i < 16; ++i) puts.push_back({"p" + std::to_string(i), data, sizeof data});
  std::set<std::thread::id> put_threads;
  size_t put_ok = 0;
  store.put_many(puts, [&](size_t, Status&& s) {
    put_threads.insert(std::this_thread::get_id());
    put_ok += s.ok();
  });
  CHECK(put_ok == puts.size());
  CHECK(put_threads == std::set<std::thread::id>{me});
  // The answers really came from other threads.
  CHECK(transport.answered_from().count(me) == 0);
  CHECK(!transport.answered_from().empty());
}

}  // namespace

#if ARRAYMORPH_WITH_S3
TEST_CASE("S3: get_many/put_many callbacks run on the calling thread") {
  auto transport = std::make_shared<AnsweringTransport>();
  s3::S3Store store(testing::loopback_s3_options(), transport, nullptr);
  check_callbacks_on_calling_thread(store, *transport);
}
#endif

#if ARRAYMORPH_WITH_AZURE
TEST_CASE("Azure: get_many/put_many callbacks run on the calling thread") {
  auto transport = std::make_shared<AnsweringTransport>();
  azure::AzureStoreOptions o;
  o.target.endpoint = "http://127.0.0.1:10000/devstoreaccount1";
  o.target.account = "devstoreaccount1";
  o.target.container = "data";
  o.decoded_key = "not-a-real-key";
  azure::AzureStore store(std::move(o), transport, nullptr);
  check_callbacks_on_calling_thread(store, *transport);
}
#endif
