// s3_xml.hpp -- the XML documents S3 speaks, read with the one reader in net/xml.hpp: the few we
// parse (ListObjectsV2, Error, InitiateMultipartUpload, DeleteObjects result) and build (Delete
// request, CompleteMultipartUpload). Malformed input yields a kIo Status (with a short excerpt)
// or, where partial data is fine (error bodies), what could be read.
//
// Thread-safety: pure functions on values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "net/xml.hpp"

namespace arraymorph::s3 {

using net::XmlNode;

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes
};
struct ListObjectsResult {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_continuation_token;
};
Result<ListObjectsResult> parse_list_objects_v2(const std::string& body);

struct S3ErrorInfo {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", ... ("" when the body has none)
  std::string message;
  std::string bucket_name;  // some servers name it
  std::string request_id;
};
// Tolerant: an empty or non-XML body gives an empty S3ErrorInfo.
S3ErrorInfo parse_error(const std::string& body);

Result<std::string> parse_initiate_multipart(const std::string& body);  // the UploadId

struct DeleteError {
  std::string key;
  std::string code;
  std::string message;
};
struct DeleteObjectsResult {
  std::vector<std::string> deleted;
  std::vector<DeleteError> errors;
};
Result<DeleteObjectsResult> parse_delete_result(const std::string& body);

// <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>...</Delete>
std::string build_delete_request(const std::vector<std::string>& keys);
// parts: (part number, ETag as returned by UploadPart, quotes included)
std::string build_complete_multipart(const std::vector<std::pair<int, std::string>>& parts);

}  // namespace arraymorph::s3
