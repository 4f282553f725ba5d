// azure_requests.cpp -- see azure_requests.hpp.
#include "store/azure/azure_requests.hpp"

#include <cstdio>

#include "store/azure/azure_xml.hpp"
#include "net/encoding.hpp"

namespace arraymorph::azure {
namespace {

net::HttpRequest base_request(const char* method, std::string url) {
  net::HttpRequest r;
  r.method = method;
  r.url = std::move(url);
  r.headers.emplace_back("x-ms-version", kApiVersion);
  return r;
}

void add_query(std::string& url, const std::string& name, const std::string& value) {
  url += (url.find('?') == std::string::npos ? '?' : '&');
  url += name + "=" + net::percent_encode(value, false);
}

}  // namespace

std::string BlobTarget::container_url() const { return endpoint + "/" + container; }

std::string BlobTarget::blob_url(const std::string& key) const {
  return container_url() + "/" + net::percent_encode(key, true);
}

std::string BlobTarget::describe() const {
  return "az://" + (account.empty() ? std::string() : account + "/") + container;
}

std::string range_header_value(const ByteRange& range) {
  std::string v = "bytes=" + std::to_string(range.offset) + "-";
  if (range.length) v += std::to_string(range.offset + *range.length - 1);
  return v;
}

net::HttpRequest get_blob_request(const BlobTarget& t, const std::string& key,
                                   const std::optional<ByteRange>& range) {
  net::HttpRequest r = base_request("GET", t.blob_url(key));
  // x-ms-range rather than Range: it is a signed x-ms-* header and takes the same syntax.
  if (range) r.headers.emplace_back("x-ms-range", range_header_value(*range));
  return r;
}

net::HttpRequest get_properties_request(const BlobTarget& t, const std::string& key) {
  return base_request("HEAD", t.blob_url(key));
}

net::HttpRequest put_blob_request(const BlobTarget& t, const std::string& key,
                                   const unsigned char* data, size_t size) {
  net::HttpRequest r = base_request("PUT", t.blob_url(key));
  r.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  // An explicit type: otherwise a transport might add its own and break the signature.
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.body_ptr = data;
  r.body_size = size;
  // A null pointer would select the (empty) owned body; that is what an empty blob is anyway.
  return r;
}

net::HttpRequest put_block_request(const BlobTarget& t, const std::string& key,
                                    const std::string& id, const unsigned char* data,
                                    size_t size) {
  std::string url = t.blob_url(key);
  add_query(url, "comp", "block");
  add_query(url, "blockid", id);
  net::HttpRequest r = base_request("PUT", std::move(url));
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.body_ptr = data;
  r.body_size = size;
  return r;
}

net::HttpRequest put_block_list_request(const BlobTarget& t, const std::string& key,
                                         const std::vector<std::string>& block_ids) {
  std::string url = t.blob_url(key);
  add_query(url, "comp", "blocklist");
  net::HttpRequest r = base_request("PUT", std::move(url));
  r.headers.emplace_back("Content-Type", "application/xml");
  r.owned_body = block_list_xml(block_ids);
  return r;
}

net::HttpRequest delete_blob_request(const BlobTarget& t, const std::string& key) {
  return base_request("DELETE", t.blob_url(key));
}

net::HttpRequest list_blobs_request(const BlobTarget& t, const std::string& prefix,
                                     const std::string& delimiter, const std::string& marker,
                                     size_t max_results) {
  std::string url = t.container_url();
  add_query(url, "restype", "container");
  add_query(url, "comp", "list");
  if (!prefix.empty()) add_query(url, "prefix", prefix);
  if (!delimiter.empty()) add_query(url, "delimiter", delimiter);
  if (!marker.empty()) add_query(url, "marker", marker);
  if (max_results > 0) add_query(url, "maxresults", std::to_string(max_results));
  return base_request("GET", std::move(url));
}

net::HttpRequest create_container_request(const BlobTarget& t) {
  std::string url = t.container_url();
  add_query(url, "restype", "container");
  return base_request("PUT", std::move(url));
}

std::string block_id(size_t index) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "arraymorph-block-%08zu", index);
  return net::base64_encode(buf);
}

std::string error_code(const net::HttpResponse& response) {
  if (auto h = net::find_header(response.headers, "x-ms-error-code")) return *h;
  return parse_error_body(response.body_string()).code;
}

Status status_from_response(const net::HttpResponse& response, const BlobTarget& t,
                            const std::string& operation, const std::string& key) {
  const std::string code = error_code(response);
  const AzureErrorBody body = parse_error_body(response.body_string());
  const std::string what = operation + (key.empty() ? "" : " of '" + key + "'") + " in " +
                           t.describe();
  std::string detail = "HTTP " + std::to_string(response.status);
  if (!code.empty()) detail += " " + code;
  if (!body.message.empty()) detail += ": " + body.message;

  const long s = response.status;
  if (s == 401 || s == 403) {
    return Status(Code::kPermissionDenied,
                  what + " was denied (" + detail + "). Check the account key or SAS token for " +
                      (t.account.empty() ? std::string("the account of ") + t.endpoint
                                         : "account '" + t.account + "'") +
                      " and container '" + t.container +
                      "' (AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_SAS_TOKEN), the SAS "
                      "permissions and expiry, and that this machine's clock is correct: Shared "
                      "Key requests more than 15 minutes off are rejected");
  }
  if (code == "ContainerNotFound") {
    return not_found("container '" + t.container + "' does not exist in " +
                     (t.account.empty() ? std::string("the account") : "account '" + t.account + "'") +
                     " (" + what + ", " + detail + "); create it or set BUCKET_NAME");
  }
  if (s == 404) return not_found(what + ": not found (" + detail + ")");
  if (s == 429 || s >= 500) return Status(Code::kUnavailable, what + " failed (" + detail + ")", true);
  if (s == 400) return invalid_argument(what + " was rejected (" + detail + ")");
  if (s == 409) return Status(Code::kAlreadyExists, what + " conflicts (" + detail + ")");
  return io_error(what + " failed (" + detail + ")");
}

}  // namespace arraymorph::azure
