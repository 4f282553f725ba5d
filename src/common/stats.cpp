// stats.cpp -- reset and JSON rendering of the request/cache counters.
#include "common/stats.hpp"

#include <nlohmann/json.hpp>

namespace arraymorph {

const char* op_kind_name(OpKind k) noexcept {
  switch (k) {
    case OpKind::kGet: return "get";
    case OpKind::kPut: return "put";
    case OpKind::kHead: return "head";
    case OpKind::kList: return "list";
    case OpKind::kDelete: return "delete";
    case OpKind::kCount: break;
  }
  return "unknown";
}

void Stats::reset() {
  for (auto& c : ops_) {
    c.requests.store(0, std::memory_order_relaxed);
    c.bytes.store(0, std::memory_order_relaxed);
    c.retries.store(0, std::memory_order_relaxed);
    c.errors.store(0, std::memory_order_relaxed);
    c.not_found.store(0, std::memory_order_relaxed);
  }
  cache_hits.store(0, std::memory_order_relaxed);
  cache_misses.store(0, std::memory_order_relaxed);
  max_inflight_seen.store(0, std::memory_order_relaxed);
  zero_copy_reads.store(0, std::memory_order_relaxed);
  zero_copy_bytes.store(0, std::memory_order_relaxed);
  direct_verbatim.store(0, std::memory_order_relaxed);
  direct_reframed.store(0, std::memory_order_relaxed);
  direct_recoded.store(0, std::memory_order_relaxed);
  readahead_chunks.store(0, std::memory_order_relaxed);
  readahead_hits.store(0, std::memory_order_relaxed);
  readahead_unused.store(0, std::memory_order_relaxed);
  readahead_cancelled.store(0, std::memory_order_relaxed);
  readahead_waits.store(0, std::memory_order_relaxed);
  codec_encoded.store(0, std::memory_order_relaxed);
  codec_decoded.store(0, std::memory_order_relaxed);
  codec_on_caller.store(0, std::memory_order_relaxed);
}

std::string Stats::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < ops_.size(); ++i) {
    const OpCounters& c = ops_[i];
    j[op_kind_name(static_cast<OpKind>(i))] = {
        {"requests", c.requests.load(std::memory_order_relaxed)},
        {"bytes", c.bytes.load(std::memory_order_relaxed)},
        {"retries", c.retries.load(std::memory_order_relaxed)},
        {"errors", c.errors.load(std::memory_order_relaxed)},
        {"not_found", c.not_found.load(std::memory_order_relaxed)},
    };
  }
  j["cache"] = {{"hits", cache_hits.load(std::memory_order_relaxed)},
                {"misses", cache_misses.load(std::memory_order_relaxed)}};
  j["zero_copy"] = {{"reads", zero_copy_reads.load(std::memory_order_relaxed)},
                    {"bytes", zero_copy_bytes.load(std::memory_order_relaxed)}};
  j["direct_chunks"] = {{"verbatim", direct_verbatim.load(std::memory_order_relaxed)},
                        {"reframed", direct_reframed.load(std::memory_order_relaxed)},
                        {"recoded", direct_recoded.load(std::memory_order_relaxed)}};
  j["readahead"] = {{"chunks", readahead_chunks.load(std::memory_order_relaxed)},
                    {"hits", readahead_hits.load(std::memory_order_relaxed)},
                    {"unused", readahead_unused.load(std::memory_order_relaxed)},
                    {"cancelled", readahead_cancelled.load(std::memory_order_relaxed)},
                    {"waits", readahead_waits.load(std::memory_order_relaxed)}};
  j["codec"] = {{"encoded", codec_encoded.load(std::memory_order_relaxed)},
                {"decoded", codec_decoded.load(std::memory_order_relaxed)},
                {"on_caller", codec_on_caller.load(std::memory_order_relaxed)}};
  j["max_inflight_seen"] = max_inflight_seen.load(std::memory_order_relaxed);
  return j.dump();
}

}  // namespace arraymorph
