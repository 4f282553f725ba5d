// store_api.cpp -- the store-utility entry points of the public C API (arraymorph.h), used by
// tools such as the `arraymorph` command: list, read, write and delete the objects of a store URL
// without opening it as an HDF5 file, and show the resolved configuration with secrets masked.
//
// Every function resolves `url` exactly as H5Fopen does (store_factory.hpp) through the shared
// ConnectorState, so the stores, settings and statistics are the connector's own. No exception
// leaves a function: failures become -1 and a message (naming the key and store) in errbuf.
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "arraymorph/arraymorph.h"
#include "vol/connector_state.hpp"
#include "store/store_factory.hpp"

namespace arraymorph {
namespace {

void write_error(char* errbuf, size_t len, const std::string& message) {
  if (!errbuf || !len) return;
  std::strncpy(errbuf, message.c_str(), len - 1);
  errbuf[len - 1] = '\0';
}

struct Target {
  std::shared_ptr<ObjectStore> store;
  StoreLocation loc;
  Config config;
};

// The store of `url` and the full key of `key` below the URL's key ("" = the URL's key itself).
Target open_target(const char* url, const char* key) {
  auto& state = ConnectorState::instance();
  Target t;
  t.config = check(state.effective_config());
  t.loc = check(resolve_location(url ? url : "", t.config));
  t.store = check(state.store(t.loc, t.config));
  const std::string rel = key ? key : "";
  if (rel.find("..") != std::string::npos || (!rel.empty() && rel.front() == '/')) {
    throw Error(invalid_argument("key '" + rel + "' must be relative, without '..'"));
  }
  if (!rel.empty()) t.loc.key = t.loc.key.empty() ? rel : t.loc.key + "/" + rel;
  return t;
}

// Runs `fn` and turns any exception into -1 + errbuf.
template <typename Fn>
int guarded(char* errbuf, size_t len, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    write_error(errbuf, len, e.what());
  } catch (...) {
    write_error(errbuf, len, "unknown error");
  }
  return -1;
}

// Shown instead of a secret: whether one is set, never its value.
std::string mask(const std::string& secret) { return secret.empty() ? "" : "***"; }

}  // namespace
}  // namespace arraymorph

extern "C" {

int arraymorph_store_list(const char* url, const char* key, arraymorph_list_cb cb, void* user, char* errbuf,
                          size_t errbuf_len) {
  using namespace arraymorph;
  return guarded(errbuf, errbuf_len, [&] {
    Target t = open_target(url, key);
    const std::string prefix = t.loc.key.empty() ? "" : t.loc.key + "/";  // below, never beside
    std::string token;
    do {
      ListPage page = check(t.store->list(prefix, "", token));
      for (const ObjectInfo& o : page.objects) {
        if (cb && cb(o.key.c_str() + prefix.size(), o.size, user) != 0) return 1;
      }
      token = page.next_token;
    } while (!token.empty());
    return 0;
  });
}

int arraymorph_store_get(const char* url, const char* key, arraymorph_get_cb cb, void* user, char* errbuf,
                         size_t errbuf_len) {
  using namespace arraymorph;
  return guarded(errbuf, errbuf_len, [&] {
    Target t = open_target(url, key);
    std::optional<Bytes> body = check(t.store->get(t.loc.key));
    if (!body) return 1;
    if (cb) cb(body->data(), body->size(), user);
    return 0;
  });
}

int arraymorph_store_put(const char* url, const char* key, const void* data, size_t size, char* errbuf,
                         size_t errbuf_len) {
  using namespace arraymorph;
  return guarded(errbuf, errbuf_len, [&] {
    Target t = open_target(url, key);
    if (t.loc.key.empty()) throw Error(invalid_argument(std::string("'") + url + "' names no key"));
    check(t.store->put(t.loc.key, static_cast<const unsigned char*>(data), size));
    return 0;
  });
}

int arraymorph_store_delete(const char* url, const char* key, int recursive, uint64_t* deleted, char* errbuf,
                            size_t errbuf_len) {
  using namespace arraymorph;
  return guarded(errbuf, errbuf_len, [&] {
    Target t = open_target(url, key);
    if (t.loc.key.empty()) {
      throw Error(invalid_argument(std::string("'") + url + "' names a whole store; refusing to delete it"));
    }
    uint64_t n = 0;
    if (recursive) {
      n = check(delete_prefix(*t.store, t.loc.key + "/"));
    } else {
      check(t.store->delete_many({t.loc.key}));
      n = 1;
    }
    if (deleted) *deleted = n;
    return 0;
  });
}

size_t arraymorph_config_json(const char* url, char* buf, size_t len) {
  using namespace arraymorph;
  nlohmann::json j = nlohmann::json::object();
  try {
    auto& state = ConnectorState::instance();
    Config c = check(state.effective_config());
    j["platform"] = platform_name(c.platform);
    j["platform_explicit"] = c.platform_explicit;
    j["threads"] = c.effective_threads();
    j["max_inflight"] = c.max_inflight;
    j["event_loops"] = c.event_loops;
    j["cache_bytes"] = c.cache_bytes;
    j["readahead_bytes"] = c.readahead_bytes;
    j["shard_chunks"] = c.shard_chunks;
    j["log_level"] = c.log_level;
    j["s3"] = {{"bucket", c.s3.bucket},
               {"access_key", c.s3.access_key},
               {"secret_key", mask(c.s3.secret_key)},
               {"session_token", mask(c.s3.session_token)},
               {"region", c.s3.region},
               {"endpoint", c.s3.endpoint},
               {"use_tls", c.s3.use_tls},
               {"virtual_addressing", c.s3.virtual_addressing},
               {"signed_payloads", c.s3.signed_payloads},
               {"anonymous", c.s3.anonymous},
               {"ca_bundle", c.s3.ca_bundle},
               {"request_payer", c.s3.request_payer}};
    // The connection string carries the account key: show only its non-secret fields' presence.
    j["azure"] = {{"container", c.azure.container},
                  {"connection_string", mask(c.azure.connection_string)},
                  {"sas_token", mask(c.azure.sas_token)},
                  {"account", c.azure.account},
                  {"credential", c.azure.credential},
                  {"tenant_id", c.azure.tenant_id},
                  {"client_id", c.azure.client_id},
                  {"client_secret", mask(c.azure.client_secret)},
                  {"authority_host", c.azure.authority_host},
                  {"federated_token_file", c.azure.federated_token_file},
                  {"imds_endpoint", c.azure.imds_endpoint},
                  {"identity_endpoint", c.azure.identity_endpoint},
                  {"identity_header", mask(c.azure.identity_header)},
                  {"ca_bundle", c.azure.ca_bundle}};
    j["local"] = {{"root", c.local.root}};
    if (url && *url) {
      StoreLocation loc = check(resolve_location(url, c));
      j["location"] = {{"platform", platform_name(loc.platform)}, {"root", loc.root}, {"key", loc.key}};
    }
  } catch (const std::exception& e) {
    j["error"] = e.what();
  }
  const std::string s = j.dump();
  if (buf && len) {
    const size_t n = std::min(len - 1, s.size());
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
  }
  return s.size();
}

}  // extern "C"
