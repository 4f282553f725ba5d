// azure_store_probe -- drives AzureStore against a live server for tests/python/test_azure_store.py
// (which starts Azurite). Not a doctest executable: it needs a server, so the harness runs it.
//
//   azure_store_probe get <container> <key>        one Get Blob; prints the outcome
//   azure_store_probe create <container>           Create Container (exists: fine)
//   azure_store_probe smoke <container> <prefix>   1,200-chunk batches, block upload, ranges,
//                                                  paginated listing, delete, request counts
//
// Configuration comes from the environment like the connector's (Config::from_env:
// AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, ARRAYMORPH_* knobs).
// Output: "ok ..." and exit 0, or "error <code>: <message>" / "FAIL <what>" and exit 1;
// usage errors exit 2.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "store/azure/azure_store.hpp"

using namespace arraymorph;

namespace {

int fail(const std::string& what) {
  std::printf("FAIL %s\n", what.c_str());
  return 1;
}

int report(const Status& s) {
  if (s.ok()) {
    std::printf("ok\n");
    return 0;
  }
  std::printf("error %s: %s\n", code_name(s.code()), s.message().c_str());
  return 1;
}

Bytes pattern(size_t n, unsigned seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    b[i] = static_cast<unsigned char>(x >> 24);
  }
  return b;
}

int smoke(ObjectStore& store, Stats& stats, const std::string& p) {
  using Clock = std::chrono::steady_clock;
  // 1. A batch of 1,200 small chunks in one put_many, then one get_many with absent chunks.
  constexpr size_t kChunks = 1200;
  std::vector<Bytes> payloads;
  std::vector<PutRequest> puts;
  for (size_t i = 0; i < kChunks; ++i) payloads.push_back(pattern(64 + i % 17, static_cast<unsigned>(i)));
  for (size_t i = 0; i < kChunks; ++i)
    puts.push_back({p + "c/" + std::to_string(i / 40) + "/" + std::to_string(i % 40),
                    payloads[i].data(), payloads[i].size()});
  std::atomic<size_t> put_errors{0};
  std::mutex mu;
  std::string first_error;
  auto t0 = Clock::now();
  store.put_many(puts, [&](size_t, Status&& s) {
    if (s.ok()) return;
    ++put_errors;
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = s.to_string();
  });
  if (put_errors) return fail("put_many: " + std::to_string(put_errors.load()) + " errors, first: " + first_error);
  const double put_s = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<GetRequest> gets;
  for (const PutRequest& r : puts) gets.push_back({r.key, std::nullopt});
  for (int i = 0; i < 10; ++i) gets.push_back({p + "absent/" + std::to_string(i), std::nullopt});
  std::vector<int> calls(gets.size(), 0);
  std::vector<std::string> problems;
  t0 = Clock::now();
  store.get_many(gets, [&](size_t i, Result<std::optional<Bytes>>&& r) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls[i];
    if (!r.ok()) {
      problems.push_back(gets[i].key + ": " + r.status().to_string());
    } else if (i < kChunks && (!r.value() || *r.value() != payloads[i])) {
      problems.push_back(gets[i].key + ": wrong content");
    } else if (i >= kChunks && r.value()) {
      problems.push_back(gets[i].key + ": absent chunk returned data");
    }
  });
  const double get_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!problems.empty()) return fail("get_many: " + std::to_string(problems.size()) + " problems, first: " + problems[0]);
  if (!std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }))
    return fail("get_many: a callback ran other than exactly once");
  if (stats.op(OpKind::kGet).not_found.load() != 10) return fail("get not_found count != 10");

  // 2. Block upload (the caller sets a small azure.block_threshold) and ranged reads of it.
  const Bytes big = pattern((3u << 20) + 5, 99);
  Status s = store.put(p + "big", big.data(), big.size());
  if (!s.ok()) return fail("big put: " + s.to_string());
  auto got = store.get(p + "big");
  if (!got.ok() || !got.value() || *got.value() != big) return fail("big get: content differs");
  auto part = store.get(p + "big", ByteRange{(1u << 20) - 3, 7});
  if (!part.ok() || !part.value() ||
      *part.value() != Bytes(big.begin() + (1u << 20) - 3, big.begin() + (1u << 20) + 4))
    return fail("ranged get across a block boundary");
  auto h = store.head(p + "big");
  if (!h.ok() || !h.value() || h.value()->size != big.size()) return fail("head of big");

  // 3. Paginated listing of everything, then delete it all.
  size_t listed = 0, pages = 0;
  std::string token;
  do {
    Result<ListPage> page = store.list(p, "", token, 500);
    if (!page.ok()) return fail("list: " + page.status().to_string());
    listed += page->objects.size();
    token = page->next_token;
    ++pages;
  } while (!token.empty() && pages < 100);
  if (listed != kChunks + 1 || pages != 3)
    return fail("list: " + std::to_string(listed) + " keys in " + std::to_string(pages) + " pages");
  Result<size_t> deleted = delete_prefix(store, p);
  if (!deleted.ok() || deleted.value() != kChunks + 1) return fail("delete_prefix");
  Result<ListPage> after = store.list(p, "");
  if (!after.ok() || !after->objects.empty()) return fail("keys left after delete_prefix");

  std::printf("ok put_many %.2fs get_many %.2fs max_inflight_seen %llu\n%s\n", put_s, get_s,
              static_cast<unsigned long long>(stats.max_inflight_seen.load()),
              stats.to_json().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s get|create|smoke <container> [key|prefix]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const std::string container = argv[2];
  Result<Config> config = Config::from_env();
  if (!config.ok()) return report(config.status());
  if (mode == "smoke") {
    // Small blocks so the block path runs without uploading 64 MiB.
    config->azure.block_threshold = 1u << 20;
    config->azure.block_size = 1u << 20;
  }
  auto stats = std::make_shared<Stats>();
  Result<std::shared_ptr<ObjectStore>> store = make_azure_store(config.value(), container, stats);
  if (!store.ok()) return report(store.status());

  if (mode == "get" && argc == 4) {
    auto r = store.value()->get(argv[3]);
    if (!r.ok()) return report(r.status());
    std::printf("ok %s\n", r.value() ? ("size " + std::to_string(r.value()->size())).c_str()
                                      : "missing");
    return 0;
  }
  if (mode == "create") {
    return report(static_cast<azure::AzureStore&>(*store.value()).create_container());
  }
  if (mode == "smoke" && argc == 4) return smoke(*store.value(), *stats, argv[3]);
  std::fprintf(stderr, "unknown mode or missing argument\n");
  return 2;
}
