// store_conformance.hpp -- the one ObjectStore conformance suite every backend runs (memory,
// local, and S3/Azure against real servers). Header-only so each test executable can include it
// with its own doctest main.
//
// run_store_conformance writes, reads and deletes only keys below `scratch_prefix` (which should
// end in '/'), and leaves nothing behind when it passes. It needs list-after-write consistency,
// which S3, Azure and the local filesystem all provide.
//
// Thread-safety: runs on the calling thread; the batch checks exercise the store's executor.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace arraymorph::testing {

inline Bytes pattern_bytes(size_t n, unsigned seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    b[i] = static_cast<unsigned char>(x >> 24);
  }
  return b;
}

inline Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

inline void put_ok(ObjectStore& store, const std::string& key, const Bytes& data) {
  const Status s = store.put(key, data.data(), data.size());
  INFO("put ", key, ": ", s.to_string());
  REQUIRE(s.ok());
}

inline std::optional<Bytes> get_ok(ObjectStore& store, const std::string& key,
                                   std::optional<ByteRange> range = std::nullopt) {
  Result<std::optional<Bytes>> r = store.get(key, range);
  INFO("get ", key, ": ", r.status().to_string());
  REQUIRE(r.ok());
  return r.value();
}

inline std::vector<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> out;
  for (const ObjectInfo& o : objects) out.push_back(o.key);
  return out;
}

inline void check_round_trips(ObjectStore& store, const std::string& p) {
  const Bytes empty;
  const Bytes one = {0xA5};
  const Bytes big = pattern_bytes(3u << 20, 7);
  put_ok(store, p + "rt/empty", empty);
  put_ok(store, p + "rt/one", one);
  put_ok(store, p + "rt/big", big);

  std::optional<Bytes> got = get_ok(store, p + "rt/empty");
  REQUIRE(got.has_value());
  CHECK(got->empty());
  got = get_ok(store, p + "rt/one");
  REQUIRE(got.has_value());
  CHECK(*got == one);
  got = get_ok(store, p + "rt/big");
  REQUIRE(got.has_value());
  CHECK(got->size() == big.size());
  CHECK(*got == big);

  Result<std::optional<ObjectInfo>> h = store.head(p + "rt/big");
  REQUIRE(h.ok());
  REQUIRE(h.value().has_value());
  CHECK(h.value()->size == big.size());
  CHECK(h.value()->key == p + "rt/big");
  h = store.head(p + "rt/empty");
  REQUIRE(h.ok());
  REQUIRE(h.value().has_value());
  CHECK(h.value()->size == 0);

  // Overwrite with a shorter object: no stale tail may survive.
  const Bytes replacement = to_bytes("replaced");
  put_ok(store, p + "rt/big", replacement);
  got = get_ok(store, p + "rt/big");
  REQUIRE(got.has_value());
  CHECK(*got == replacement);
  h = store.head(p + "rt/big");
  REQUIRE(h.ok());
  REQUIRE(h.value().has_value());
  CHECK(h.value()->size == replacement.size());
}

inline void check_ranges(ObjectStore& store, const std::string& p) {
  const Bytes data = to_bytes("0123456789");
  put_ok(store, p + "range", data);
  std::optional<Bytes> got = get_ok(store, p + "range", ByteRange{3, 4});
  REQUIRE(got.has_value());
  CHECK(*got == to_bytes("3456"));
  got = get_ok(store, p + "range", ByteRange{6, std::nullopt});
  REQUIRE(got.has_value());
  CHECK(*got == to_bytes("6789"));
  // A length running past the end is clipped.
  got = get_ok(store, p + "range", ByteRange{8, 100});
  REQUIRE(got.has_value());
  CHECK(*got == to_bytes("89"));
  got = get_ok(store, p + "range", ByteRange{0, 1});
  REQUIRE(got.has_value());
  CHECK(*got == to_bytes("0"));
  got = get_ok(store, p + "range", ByteRange{10, std::nullopt});
  REQUIRE(got.has_value());
  CHECK(got->empty());
  got = get_ok(store, p + "range", ByteRange{25, 5});
  REQUIRE(got.has_value());
  CHECK(got->empty());
  // Suffix ranges (shard indexes, src/io/shard_io.hpp), where the store has them.
  if (store.capabilities().suffix_range) {
    got = get_ok(store, p + "range", ByteRange::last(3));
    REQUIRE(got.has_value());
    CHECK(*got == to_bytes("789"));
    got = get_ok(store, p + "range", ByteRange::last(100));  // longer than the object: all of it
    REQUIRE(got.has_value());
    CHECK(*got == data);
    CHECK_FALSE(get_ok(store, p + "missing/suffix", ByteRange::last(4)).has_value());
  } else {
    CHECK_FALSE(store.get(p + "range", ByteRange::last(3)).ok());  // refused, never a wrong range
  }
}

inline void check_missing(ObjectStore& store, const std::string& p) {
  std::optional<Bytes> got = get_ok(store, p + "missing/object");
  CHECK_FALSE(got.has_value());
  got = get_ok(store, p + "missing/object", ByteRange{0, 10});
  CHECK_FALSE(got.has_value());
  Result<std::optional<ObjectInfo>> h = store.head(p + "missing/object");
  REQUIRE(h.ok());
  CHECK_FALSE(h.value().has_value());
}

inline void check_listing(ObjectStore& store, const std::string& p) {
  const std::string d = p + "ls/";
  for (const char* k : {"a", "b/1", "b/2", "b/sub/3", "c/4", "d"}) put_ok(store, d + k, to_bytes(k));

  // Without a delimiter: every key, sorted, with sizes.
  Result<ListPage> page = store.list(d, "");
  REQUIRE(page.ok());
  CHECK(page->common_prefixes.empty());
  CHECK(page->next_token.empty());
  CHECK(keys_of(page->objects) ==
        std::vector<std::string>{d + "a", d + "b/1", d + "b/2", d + "b/sub/3", d + "c/4", d + "d"});
  REQUIRE(page->objects.size() == 6);
  CHECK(page->objects[3].size == std::strlen("b/sub/3"));

  // With "/": one level, directories rolled up.
  page = store.list(d, "/");
  REQUIRE(page.ok());
  CHECK(keys_of(page->objects) == std::vector<std::string>{d + "a", d + "d"});
  CHECK(page->common_prefixes == std::vector<std::string>{d + "b/", d + "c/"});
  CHECK(page->next_token.empty());

  page = store.list(d + "b/", "/");
  REQUIRE(page.ok());
  CHECK(keys_of(page->objects) == std::vector<std::string>{d + "b/1", d + "b/2"});
  CHECK(page->common_prefixes == std::vector<std::string>{d + "b/sub/"});

  // A prefix ending inside a name matches by string, not by directory.
  page = store.list(d + "b", "/");
  REQUIRE(page.ok());
  CHECK(page->objects.empty());
  CHECK(page->common_prefixes == std::vector<std::string>{d + "b/"});

  page = store.list(d + "nothing-here/", "/");
  REQUIRE(page.ok());
  CHECK(page->objects.empty());
  CHECK(page->common_prefixes.empty());
  CHECK(page->next_token.empty());
}

inline void check_pagination(ObjectStore& store, const std::string& p) {
  const std::string d = p + "page/";
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) {
    expected.push_back(d + "k" + std::to_string(i));
    put_ok(store, expected.back(), to_bytes(std::to_string(i)));
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    Result<ListPage> page = store.list(d, "", token, 2);
    REQUIRE(page.ok());
    CHECK(page->objects.size() <= 2);
    for (const ObjectInfo& o : page->objects) seen.push_back(o.key);
    token = page->next_token;
    ++pages;
    REQUIRE(pages <= 5);
  } while (!token.empty());
  CHECK(seen == expected);
  CHECK(pages >= 3);

  // Pagination over common prefixes and objects mixed.
  const std::string m = p + "pagemix/";
  for (const char* k : {"a/1", "a/2", "b", "c/1", "d", "e/1"}) put_ok(store, m + k, to_bytes(k));
  std::vector<std::string> entries;
  token.clear();
  pages = 0;
  do {
    Result<ListPage> page = store.list(m, "/", token, 2);
    REQUIRE(page.ok());
    CHECK(page->objects.size() + page->common_prefixes.size() <= 2);
    for (const ObjectInfo& o : page->objects) entries.push_back(o.key);
    for (const std::string& c : page->common_prefixes) entries.push_back(c);
    token = page->next_token;
    ++pages;
    REQUIRE(pages <= 6);
  } while (!token.empty());
  std::sort(entries.begin(), entries.end());
  CHECK(entries == std::vector<std::string>{m + "a/", m + "b", m + "c/", m + "d", m + "e/"});
}

inline void check_special_keys(ObjectStore& store, const std::string& p) {
  const std::vector<std::string> names = {
      "with space.bin", "unicode-\xC3\xA9\xE6\x97\xA5\xE6\x9C\xAC.bin", "plus+sign",
      "per%20cent",     "equals=sign",                                 "colon:name",
      "mix a+b=c:d%e",  "dir with space/inner+x"};
  std::vector<std::string> keys;
  for (const std::string& n : names) {
    keys.push_back(p + "special/" + n);
    put_ok(store, keys.back(), to_bytes(n));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    std::optional<Bytes> got = get_ok(store, keys[i]);
    INFO("key ", keys[i]);
    REQUIRE(got.has_value());
    CHECK(*got == to_bytes(names[i]));
    Result<std::optional<ObjectInfo>> h = store.head(keys[i]);
    REQUIRE(h.ok());
    CHECK(h.value().has_value());
  }
  Result<std::vector<ObjectInfo>> all = list_all(store, p + "special/");
  REQUIRE(all.ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(keys_of(all.value()) == sorted);
  REQUIRE(store.delete_many(keys).ok());
  all = list_all(store, p + "special/");
  REQUIRE(all.ok());
  CHECK(all->empty());
}

inline void check_delete_many(ObjectStore& store, const std::string& p) {
  const std::string d = p + "del/";
  put_ok(store, d + "x", to_bytes("x"));
  put_ok(store, d + "y/z", to_bytes("z"));
  put_ok(store, d + "keep", to_bytes("keep"));
  const Status s = store.delete_many({d + "x", d + "y/z", d + "never-existed", d + "no/such/dir"});
  INFO(s.to_string());
  REQUIRE(s.ok());
  CHECK_FALSE(get_ok(store, d + "x").has_value());
  CHECK_FALSE(get_ok(store, d + "y/z").has_value());
  CHECK(get_ok(store, d + "keep").has_value());
  Result<ListPage> page = store.list(d, "/");
  REQUIRE(page.ok());
  CHECK(keys_of(page->objects) == std::vector<std::string>{d + "keep"});
  CHECK(page->common_prefixes.empty());
  REQUIRE(store.delete_many({}).ok());
}

inline void check_batches(ObjectStore& store, const std::string& p) {
  constexpr size_t kN = 50;
  std::vector<Bytes> payloads;
  std::vector<PutRequest> puts;
  for (size_t i = 0; i < kN; ++i) payloads.push_back(pattern_bytes(100 + i * 37, static_cast<unsigned>(i)));
  for (size_t i = 0; i < kN; ++i) {
    puts.push_back(PutRequest{p + "batch/" + std::to_string(i), payloads[i].data(), payloads[i].size()});
  }
  std::vector<std::atomic<int>> put_calls(kN);
  std::mutex mu;
  std::vector<std::string> put_errors;
  store.put_many(puts, [&](size_t i, Status&& s) {
    put_calls.at(i).fetch_add(1);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      put_errors.push_back(s.to_string());
    }
  });
  for (size_t i = 0; i < kN; ++i) CHECK(put_calls[i].load() == 1);
  CHECK(put_errors.empty());

  std::vector<GetRequest> gets;
  for (size_t i = 0; i < kN; ++i) {
    GetRequest g{p + "batch/" + std::to_string(i), std::nullopt};
    if (i % 5 == 0) g.range = ByteRange{10, 20};  // some ranged
    gets.push_back(g);
  }
  gets.push_back(GetRequest{p + "batch/absent", std::nullopt});
  std::vector<std::atomic<int>> get_calls(gets.size());
  std::vector<std::optional<Bytes>> results(gets.size());
  std::vector<bool> ok(gets.size(), false);
  store.get_many(gets, [&](size_t i, Result<std::optional<Bytes>>&& r) {
    get_calls.at(i).fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    ok[i] = r.ok();
    if (r.ok()) results[i] = std::move(r).value();
  });
  for (size_t i = 0; i < gets.size(); ++i) {
    INFO("request ", i);
    CHECK(get_calls[i].load() == 1);
    REQUIRE(ok[i]);
  }
  for (size_t i = 0; i < kN; ++i) {
    INFO("request ", i);
    REQUIRE(results[i].has_value());
    if (i % 5 == 0) {
      CHECK(*results[i] == Bytes(payloads[i].begin() + 10, payloads[i].begin() + 30));
    } else {
      CHECK(*results[i] == payloads[i]);
    }
  }
  CHECK_FALSE(results[kN].has_value());

  // Empty batches call nothing and return.
  store.get_many({}, [&](size_t, Result<std::optional<Bytes>>&&) { FAIL("callback on empty batch"); });
  store.put_many({}, [&](size_t, Status&&) { FAIL("callback on empty batch"); });
}

// One get_many request with a destination; returns the result (the callback runs exactly once).
inline Result<std::optional<Bytes>> get_into(ObjectStore& store, const std::string& key,
                                             std::optional<ByteRange> range, const GetDestination& dest) {
  std::vector<GetRequest> reqs{GetRequest{key, range, &dest}};
  std::optional<Result<std::optional<Bytes>>> out;
  int calls = 0;
  store.get_many(reqs, [&](size_t, Result<std::optional<Bytes>>&& r) {
    ++calls;
    out.emplace(std::move(r));
  });
  REQUIRE(calls == 1);
  return std::move(*out);
}

// GetDestination: the body lands in the caller's spans (contiguous or scattered, whole object or
// range), a body of another length is an error naming the key and both sizes that writes nothing
// past the spans, a missing object leaves them untouched, invalid spans are refused.
inline void check_destinations(ObjectStore& store, const std::string& p) {
  constexpr unsigned char kCanary = 0xEE;
  const Bytes data = pattern_bytes(3000, 11);
  const std::string key = p + "dest/object";
  put_ok(store, key, data);

  // Whole object, one contiguous buffer (with a canary byte after it).
  Bytes buf(3001, kCanary);
  auto r = get_into(store, key, std::nullopt, GetDestination::contiguous(buf.data(), 3000));
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  CHECK(r.value()->empty());  // the marker: the bytes are in the destination
  CHECK(Bytes(buf.begin(), buf.begin() + 3000) == data);
  CHECK(buf[3000] == kCanary);

  // Ranged, scattered into three spans with gaps (gap bytes are dropped).
  Bytes a(10, kCanary), b(250, kCanary), c(100, kCanary);
  GetDestination scattered{1000, {{0, a.data(), 10}, {50, b.data(), 250}, {900, c.data(), 100}}};
  r = get_into(store, key, ByteRange{100, 1000}, scattered);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  CHECK(a == Bytes(data.begin() + 100, data.begin() + 110));
  CHECK(b == Bytes(data.begin() + 150, data.begin() + 400));
  CHECK(c == Bytes(data.begin() + 1000, data.begin() + 1100));

  // Many small spans (every other 100 bytes) of the whole object.
  Bytes every_other(1500, kCanary);
  GetDestination striped{3000, {}};
  for (size_t i = 0; i < 15; ++i) striped.spans.push_back({i * 200, every_other.data() + i * 100, 100});
  r = get_into(store, key, std::nullopt, striped);
  REQUIRE(r.ok());
  for (size_t i = 0; i < 15; ++i) {
    INFO("stripe ", i);
    CHECK(Bytes(every_other.begin() + i * 100, every_other.begin() + (i + 1) * 100) ==
          Bytes(data.begin() + i * 200, data.begin() + i * 200 + 100));
  }

  // The object is longer than the destination: an error, and not one byte written past it.
  Bytes small(2999 + 64, kCanary);
  r = get_into(store, key, std::nullopt, GetDestination::contiguous(small.data(), 2999));
  REQUIRE_FALSE(r.ok());
  const std::string longer = r.status().message();
  CHECK(longer.find(key) != std::string::npos);
  CHECK(longer.find("3000") != std::string::npos);
  CHECK(longer.find("2999") != std::string::npos);
  CHECK(std::all_of(small.begin() + 2999, small.end(), [](unsigned char x) { return x == kCanary; }));

  // Shorter than the destination (a range clipped at the end): an error naming both sizes.
  Bytes big(500, kCanary);
  r = get_into(store, key, ByteRange{2800, 500}, GetDestination::contiguous(big.data(), 500));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(key) != std::string::npos);
  CHECK(r.status().message().find("200") != std::string::npos);
  CHECK(r.status().message().find("500") != std::string::npos);

  // Missing: nullopt, destination untouched.
  Bytes untouched(16, kCanary);
  r = get_into(store, p + "dest/absent", std::nullopt, GetDestination::contiguous(untouched.data(), 16));
  REQUIRE(r.ok());
  CHECK_FALSE(r.value().has_value());
  CHECK(std::all_of(untouched.begin(), untouched.end(), [](unsigned char x) { return x == kCanary; }));

  // Overlapping spans are refused before anything is sent.
  GetDestination overlapping{3000, {{0, a.data(), 10}, {5, b.data(), 10}}};
  r = get_into(store, key, std::nullopt, overlapping);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
}

inline void check_list_all_and_delete_prefix(ObjectStore& store, const std::string& p) {
  const std::string d = p + "bulk/";
  // More than one default page would be slow on a remote store; 1000+ keys are covered by the
  // memory-store tests of delete_prefix. Here: a few levels deep.
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) keys.push_back(d + "lvl" + std::to_string(i % 3) + "/k" + std::to_string(i));
  for (const std::string& k : keys) put_ok(store, k, to_bytes(k));
  put_ok(store, p + "bulk-sibling", to_bytes("sibling"));  // shares the string prefix minus '/'

  Result<std::vector<ObjectInfo>> all = list_all(store, d);
  REQUIRE(all.ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(keys_of(all.value()) == sorted);

  Result<size_t> deleted = delete_prefix(store, d);
  REQUIRE(deleted.ok());
  CHECK(deleted.value() == keys.size());
  all = list_all(store, d);
  REQUIRE(all.ok());
  CHECK(all->empty());
  CHECK(get_ok(store, p + "bulk-sibling").has_value());
}

// The suite. `scratch_prefix` like "conformance-1234/": everything below it is deleted first.
inline void run_store_conformance(ObjectStore& store, const std::string& scratch_prefix) {
  INFO("store ", store.describe(), " prefix ", scratch_prefix);
  REQUIRE(delete_prefix(store, scratch_prefix).ok());
  check_round_trips(store, scratch_prefix);
  check_ranges(store, scratch_prefix);
  check_missing(store, scratch_prefix);
  check_listing(store, scratch_prefix);
  check_pagination(store, scratch_prefix);
  check_special_keys(store, scratch_prefix);
  check_delete_many(store, scratch_prefix);
  check_batches(store, scratch_prefix);
  check_destinations(store, scratch_prefix);
  check_list_all_and_delete_prefix(store, scratch_prefix);

  Result<size_t> cleaned = delete_prefix(store, scratch_prefix);
  REQUIRE(cleaned.ok());
  Result<std::vector<ObjectInfo>> left = list_all(store, scratch_prefix);
  REQUIRE(left.ok());
  CHECK(left->empty());
}

}  // namespace arraymorph::testing

namespace arraymorph {
using testing::run_store_conformance;
}  // namespace arraymorph
