// azure_xml.hpp -- the Blob service's XML bodies: List Blobs results, error bodies, and the
// Put Block List request body.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace arraymorph::azure {

struct ListBlobsResult {
  std::vector<ObjectInfo> blobs;       // <Blob>: Name, Properties/Content-Length, Properties/Etag
  std::vector<std::string> prefixes;   // <BlobPrefix><Name>
  std::string next_marker;             // <NextMarker>, empty on the last page
};

// Parses an EnumerationResults document. Names sent with Encoded="true" are percent-decoded.
Result<ListBlobsResult> parse_list_blobs(const std::string& body);

struct AzureErrorBody {
  std::string code;     // e.g. "BlobNotFound", "ContainerNotFound", "AuthenticationFailed"
  std::string message;  // first line only (Azure appends RequestId/Time lines)
};
// Reads <Error><Code/><Message/></Error>; empty fields when the body is not such a document
// (HEAD responses have no body: use the x-ms-error-code header instead).
AzureErrorBody parse_error_body(const std::string& body);

// <?xml ...?><BlockList><Latest>id</Latest>...</BlockList>
std::string block_list_xml(const std::vector<std::string>& block_ids);

}  // namespace arraymorph::azure
