// s3_tool.cpp -- a small CLI the pytest suite drives (tests/python/test_s3_store.py).
//
//   s3_tool sign                 reads one JSON request per stdin line, prints one JSON line with
//                                the canonical request, string to sign, signature and headers
//                                (cross-checked against botocore's signer)
//   s3_tool probe <op> [key]     runs one store operation against the S3 store that
//                                Config::from_env() describes (BUCKET_NAME, AWS_*), prints
//                                "OK ..." and exits 0, or prints "ERROR <code>: <message>" and
//                                exits 1. ops: get head put list delete roundtrip bigput many
//
// Not a unit test itself (no doctest main): the lead wires it in CMake as a plain executable.
// Never prints credentials: error messages come from the store, which never includes them.
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <string>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "store/s3/s3_store.hpp"
#include "store/s3/sigv4_signer.hpp"

using namespace arraymorph;

namespace {

int sign_mode() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const auto in = nlohmann::json::parse(line);
    net::HttpRequest r;
    r.method = in.value("method", "GET");
    r.url = in.at("url").get<std::string>();
    for (const auto& h : in.value("headers", nlohmann::json::array()))
      r.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
    r.owned_body = in.value("body", "");
    s3::Credentials c;
    c.access_key = in.at("access_key").get<std::string>();
    c.secret_key = in.at("secret_key").get<std::string>();
    c.session_token = in.value("session_token", "");
    s3::SigningOptions o;
    o.region = in.value("region", "us-east-1");
    o.service = in.value("service", "s3");
    o.now = in.at("time").get<std::time_t>();
    o.payload_hash = in.value("signed_payload", true) ? s3::sha256_hex(r.owned_body)
                                                      : s3::kUnsignedPayload;
    const auto parts = s3::sign_request(r, c, o);
    nlohmann::json out;
    out["canonical_request"] = parts.canonical_request;
    out["string_to_sign"] = parts.string_to_sign;
    out["signature"] = parts.signature;
    out["authorization"] = parts.authorization;
    out["headers"] = nlohmann::json::array();
    for (const auto& [k, v] : r.headers) out["headers"].push_back({k, v});
    std::cout << out.dump() << std::endl;
  }
  return 0;
}

int fail(const Status& s) {
  std::cout << "ERROR " << code_name(s.code()) << ": " << s.message() << std::endl;
  return 1;
}

int check_eq(bool ok, const std::string& what) {
  if (ok) return 0;
  std::cout << "ERROR mismatch: " << what << std::endl;
  return 1;
}

// put / get / ranged get / head / list / missing key / delete, asserting values.
int roundtrip(ObjectStore& store, const std::string& prefix) {
  const std::string k1 = prefix + "/a b+c%d=e:f/\xC3\xA9t\xC3\xA9/c/0/1";
  const std::string k2 = prefix + "/x/zarr.json";
  Bytes data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 7 + 3);
  if (auto s = store.put(k1, data.data(), data.size()); !s.ok()) return fail(s);
  if (auto s = store.put(k2, data.data(), 10); !s.ok()) return fail(s);
  auto g = store.get(k1);
  if (!g.ok()) return fail(g.status());
  if (check_eq(g->has_value() && **g == data, "whole get")) return 1;
  auto r = store.get(k1, ByteRange{1000, 17});
  if (!r.ok()) return fail(r.status());
  if (check_eq(r->has_value() && **r == Bytes(data.begin() + 1000, data.begin() + 1017), "ranged get")) return 1;
  auto tail = store.get(k1, ByteRange{99990, std::nullopt});
  if (!tail.ok()) return fail(tail.status());
  if (check_eq(tail->has_value() && (*tail)->size() == 10, "open range")) return 1;
  auto past = store.get(k1, ByteRange{200000, 5});
  if (!past.ok()) return fail(past.status());
  if (check_eq(past->has_value() && (*past)->empty(), "range past end")) return 1;
  auto h = store.head(k1);
  if (!h.ok()) return fail(h.status());
  if (check_eq(h->has_value() && (*h)->size == data.size(), "head size")) return 1;
  auto miss = store.get(prefix + "/missing");
  if (!miss.ok()) return fail(miss.status());
  if (check_eq(!miss->has_value(), "missing get is nullopt")) return 1;
  auto page = store.list(prefix + "/", "/", "", 1000);
  if (!page.ok()) return fail(page.status());
  if (check_eq(page->common_prefixes.size() == 2, "list common prefixes")) return 1;
  auto all = list_all(store, prefix + "/");
  if (!all.ok()) return fail(all.status());
  if (check_eq(all->size() == 2, "list_all count")) return 1;
  if (auto s = store.delete_many({k1, k2, prefix + "/never-written"}); !s.ok()) return fail(s);
  auto gone = store.head(k1);
  if (!gone.ok()) return fail(gone.status());
  if (check_eq(!gone->has_value(), "deleted")) return 1;
  std::cout << "OK roundtrip" << std::endl;
  return 0;
}

int probe_mode(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: s3_tool probe get|head|put|list|delete|roundtrip|bigput|many [key]\n";
    return 2;
  }
  const std::string op = argv[2];
  const std::string key = argc > 3 ? argv[3] : "probe/key";
  auto config = Config::from_env();
  if (!config.ok()) return fail(config.status());
  if (op == "bigput") {
    // Small multipart threshold so a modest object exercises Initiate/UploadPart/Complete.
    config->s3.multipart_threshold = 5ull << 20;
    config->s3.multipart_part_size = 5ull << 20;
  }
  auto stats = std::make_shared<Stats>();
  auto store = make_s3_store(*config, config->s3.bucket, stats);
  if (!store.ok()) return fail(store.status());
  ObjectStore& s = **store;
  const auto t0 = std::chrono::steady_clock::now();
  int rc = 0;
  if (op == "get") {
    auto r = s.get(key);
    if (!r.ok()) rc = fail(r.status());
    else std::cout << "OK " << (r->has_value() ? std::to_string((*r)->size()) + " bytes" : "missing") << std::endl;
  } else if (op == "head") {
    auto r = s.head(key);
    if (!r.ok()) rc = fail(r.status());
    else std::cout << "OK " << (r->has_value() ? std::to_string((*r)->size) + " bytes" : "missing") << std::endl;
  } else if (op == "put") {
    const std::string body = "probe";
    auto st = s.put(key, reinterpret_cast<const unsigned char*>(body.data()), body.size());
    if (!st.ok()) rc = fail(st);
    else std::cout << "OK put" << std::endl;
  } else if (op == "list") {
    auto r = s.list(key, "/", "", 1000);
    if (!r.ok()) rc = fail(r.status());
    else std::cout << "OK " << r->objects.size() << " objects" << std::endl;
  } else if (op == "delete") {
    auto st = s.delete_many({key});
    if (!st.ok()) rc = fail(st);
    else std::cout << "OK deleted" << std::endl;
  } else if (op == "bigput") {
    // 12 MiB + 1 byte: three parts; byte i is (i * 31 + 7) mod 256 so the test can verify it.
    Bytes data((12u << 20) + 1);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 31 + 7);
    auto st = s.put(key, data.data(), data.size());
    if (!st.ok()) rc = fail(st);
    else std::cout << "OK put " << data.size() << " bytes in " << stats->op(OpKind::kPut).requests.load() << " requests" << std::endl;
  } else if (op == "many") {
    // put_many + get_many of 64 small objects: all issued at once through the transport.
    std::vector<std::string> keys;
    std::vector<Bytes> bodies;
    for (int i = 0; i < 64; ++i) {
      keys.push_back(key + "/c/" + std::to_string(i));
      bodies.emplace_back(4096, static_cast<unsigned char>(i));
    }
    std::vector<PutRequest> puts;
    for (size_t i = 0; i < keys.size(); ++i) puts.push_back({keys[i], bodies[i].data(), bodies[i].size()});
    int failures = 0;
    s.put_many(puts, [&](size_t, Status&& st) { failures += !st.ok(); });
    std::vector<GetRequest> gets;
    for (const auto& k : keys) gets.push_back({k, std::nullopt});
    gets.push_back({key + "/c/missing", std::nullopt});
    int matches = 0, missing = 0;
    s.get_many(gets, [&](size_t i, Result<std::optional<Bytes>>&& r) {
      if (!r.ok()) ++failures;
      else if (!r->has_value()) ++missing;
      else matches += (i < bodies.size() && **r == bodies[i]);
    });
    if (failures || matches != 64 || missing != 1) {
      std::cout << "ERROR many: failures=" << failures << " matches=" << matches << " missing=" << missing << std::endl;
      rc = 1;
    } else {
      std::cout << "OK many max_inflight_seen=" << stats->max_inflight_seen.load() << std::endl;
    }
  } else if (op == "roundtrip") {
    rc = roundtrip(s, key);
  } else {
    std::cerr << "unknown op " << op << "\n";
    return 2;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "elapsed " << secs << " s; stats " << stats->to_json() << std::endl;
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "sign") return sign_mode();
    if (mode == "probe") return probe_mode(argc, argv);
  } catch (const std::exception& e) {
    std::cout << "ERROR exception: " << e.what() << std::endl;
    return 1;
  }
  std::cerr << "usage: s3_tool sign | s3_tool probe <op> [key]\n";
  return 2;
}
