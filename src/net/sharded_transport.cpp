// sharded_transport.cpp -- see sharded_transport.hpp.
#include "net/sharded_transport.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

namespace arraymorph::net {
namespace {

// Requests on the wire per shard; their sum is what on_active reports.
struct ActiveCounts {
  explicit ActiveCounts(size_t n) : per_shard(n) {}
  std::vector<std::atomic<size_t>> per_shard;
  size_t total() const {
    size_t t = 0;
    for (const auto& c : per_shard) t += c.load();
    return t;
  }
};

class ShardedTransport final : public HttpTransport {
 public:
  ShardedTransport(const TransportOptions& options, int loops, const TransportFactory& make_one)
      : counts_(std::make_shared<ActiveCounts>(static_cast<size_t>(loops))) {
    for (int i = 0; i < loops; ++i) {
      TransportOptions o = options;
      o.max_inflight = options.max_inflight / loops + (i < options.max_inflight % loops ? 1 : 0);
      if (options.on_active) {
        // Store this shard's count, then report the sum: the last of simultaneous updates sees
        // every other shard's stored count.
        o.on_active = [counts = counts_, report = options.on_active, i](size_t n) {
          counts->per_shard[static_cast<size_t>(i)].store(n);
          report(counts->total());
        };
      }
      shards_.push_back(make_one(o));
    }
  }

  void issue(HttpRequest request, ResponseHandler handler) override {
    shards_[next_.fetch_add(1, std::memory_order_relaxed) % shards_.size()]->issue(std::move(request),
                                                                                 std::move(handler));
  }

 private:
  std::shared_ptr<ActiveCounts> counts_;
  std::vector<std::shared_ptr<HttpTransport>> shards_;
  std::atomic<size_t> next_{0};
};

}  // namespace

std::shared_ptr<HttpTransport> make_sharded_transport(const TransportOptions& options, int loops,
                                                      const TransportFactory& make_one) {
  loops = std::min(loops, options.max_inflight);
  if (loops <= 1) return make_one(options);
  return std::make_shared<ShardedTransport>(options, loops, make_one);
}

}  // namespace arraymorph::net
