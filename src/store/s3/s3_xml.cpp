// s3_xml.cpp -- the S3 documents, read with net/xml (see s3_xml.hpp).
#include "store/s3/s3_xml.hpp"

#include <cstdlib>

#include "net/strings.hpp"
#include "net/xml.hpp"

namespace arraymorph::s3 {

using net::escape_xml;
using net::parse_xml;

namespace {

// Parses `body` and checks its root element is `root` ("" = any); `what` names it in errors.
Result<XmlNode> parse_document(const std::string& body, const char* root, const char* what) {
  auto doc = parse_xml(body);
  if (!doc.ok()) return doc.status();
  if (*root && doc->name != root)
    return Status(Code::kIo, std::string("unexpected S3 ") + what + " response <" + doc->name +
                                 ">: " + net::excerpt(body));
  return doc;
}

uint64_t to_u64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

Result<ListObjectsResult> parse_list_objects_v2(const std::string& body) {
  auto doc = parse_document(body, "ListBucketResult", "listing");
  if (!doc.ok()) return doc.status();
  ListObjectsResult out;
  for (const XmlNode* c : doc->children_named("Contents")) {
    ListedObject o;
    o.key = c->child_text("Key");
    o.size = to_u64(c->child_text("Size"));
    o.etag = strip_quotes(c->child_text("ETag"));
    out.objects.push_back(std::move(o));
  }
  for (const XmlNode* p : doc->children_named("CommonPrefixes")) {
    for (const XmlNode* q : p->children_named("Prefix")) out.common_prefixes.push_back(q->text);
  }
  out.is_truncated = doc->child_text("IsTruncated") == "true";
  out.next_continuation_token = doc->child_text("NextContinuationToken");
  if (out.is_truncated && out.next_continuation_token.empty())
    return Status(Code::kIo, "S3 listing is truncated but has no NextContinuationToken");
  return out;
}

S3ErrorInfo parse_error(const std::string& body) {
  S3ErrorInfo info;
  auto doc = parse_xml(body);
  if (!doc.ok()) return info;
  const XmlNode* err = doc->name == "Error" ? &*doc : doc->child("Error");
  if (!err) return info;
  info.code = err->child_text("Code");
  info.message = err->child_text("Message");
  info.bucket_name = err->child_text("BucketName");
  info.request_id = err->child_text("RequestId");
  return info;
}

Result<std::string> parse_initiate_multipart(const std::string& body) {
  auto doc = parse_xml(body);
  if (!doc.ok()) return doc.status();
  std::string id = doc->child_text("UploadId");
  if (id.empty()) return Status(Code::kIo, "S3 multipart upload started without an UploadId: " + net::excerpt(body));
  return id;
}

Result<DeleteObjectsResult> parse_delete_result(const std::string& body) {
  auto doc = parse_document(body, "DeleteResult", "delete");
  if (!doc.ok()) return doc.status();
  DeleteObjectsResult out;
  for (const XmlNode* d : doc->children_named("Deleted")) out.deleted.push_back(d->child_text("Key"));
  for (const XmlNode* e : doc->children_named("Error")) {
    out.errors.push_back({e->child_text("Key"), e->child_text("Code"), e->child_text("Message")});
  }
  return out;
}

std::string build_delete_request(const std::vector<std::string>& keys) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const auto& k : keys) x += "<Object><Key>" + escape_xml(k) + "</Key></Object>";
  x += "</Delete>";
  return x;
}

std::string build_complete_multipart(const std::vector<std::pair<int, std::string>>& parts) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& [number, etag] : parts) {
    x += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + escape_xml(etag) +
         "</ETag></Part>";
  }
  x += "</CompleteMultipartUpload>";
  return x;
}

}  // namespace arraymorph::s3
