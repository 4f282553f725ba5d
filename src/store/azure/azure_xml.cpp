// azure_xml.cpp -- see azure_xml.hpp.
#include "store/azure/azure_xml.hpp"

#include <cstdlib>

#include "net/encoding.hpp"
#include "net/xml.hpp"

namespace arraymorph::azure {
namespace {

std::string blob_name(const net::XmlNode* name) {
  if (!name) return {};
  auto encoded = name->attribute("Encoded");
  return encoded && *encoded == "true" ? net::percent_decode(name->text) : name->text;
}

}  // namespace

Result<ListBlobsResult> parse_list_blobs(const std::string& body) {
  auto root = net::parse_xml(body);
  if (!root.ok()) return io_error("List Blobs: " + root.status().message());
  if (root->name != "EnumerationResults")
    return io_error("List Blobs: expected <EnumerationResults>, got <" + root->name + ">");
  ListBlobsResult out;
  out.next_marker = root->child_text("NextMarker");
  const net::XmlNode* blobs = root->child("Blobs");
  if (!blobs) return out;  // an empty listing may omit <Blobs> entirely
  for (const auto& item : blobs->children) {
    if (item.name == "Blob") {
      ObjectInfo info;
      info.key = blob_name(item.child("Name"));
      if (const net::XmlNode* props = item.child("Properties")) {
        const std::string len = props->child_text("Content-Length");
        info.size = len.empty() ? 0 : std::strtoull(len.c_str(), nullptr, 10);
        info.etag = props->child_text("Etag");
      }
      out.blobs.push_back(std::move(info));
    } else if (item.name == "BlobPrefix") {
      out.prefixes.push_back(blob_name(item.child("Name")));
    }
  }
  return out;
}

AzureErrorBody parse_error_body(const std::string& body) {
  AzureErrorBody out;
  auto root = net::parse_xml(body);
  if (!root.ok() || root->name != "Error") return out;
  out.code = root->child_text("Code");
  out.message = root->child_text("Message");
  const size_t nl = out.message.find_first_of("\r\n");
  if (nl != std::string::npos) out.message.resize(nl);
  return out;
}

std::string block_list_xml(const std::vector<std::string>& block_ids) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const auto& id : block_ids) out += "<Latest>" + net::escape_xml(id) + "</Latest>";
  out += "</BlockList>";
  return out;
}

}  // namespace arraymorph::azure
