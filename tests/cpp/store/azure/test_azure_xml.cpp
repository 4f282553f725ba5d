// Blob service XML (src/store/azure/azure_xml): List Blobs pages, error bodies and
// the Put Block List body.
#include <doctest/doctest.h>

#include "store/azure/azure_xml.hpp"

using namespace arraymorph;
using namespace arraymorph::azure;

TEST_CASE("List Blobs page with blobs, prefixes and a continuation marker") {
  const std::string body = R"(<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="data">
  <Prefix>f.h5/</Prefix><Marker /><MaxResults>3</MaxResults><Delimiter>/</Delimiter>
  <Blobs>
    <Blob><Name>f.h5/zarr.json</Name><Properties><Creation-Time>Tue, 24 Nov 2026 22:30:00 GMT</Creation-Time>
      <Content-Length>1234</Content-Length><Etag>"0x8D9"</Etag><BlobType>BlockBlob</BlobType></Properties></Blob>
    <BlobPrefix><Name>f.h5/x/</Name></BlobPrefix>
    <Blob><Name>f.h5/a &amp; b&lt;1&gt;</Name><Properties><Content-Length>0</Content-Length><Etag>0x1</Etag></Properties></Blob>
    <BlobPrefix><Name>f.h5/y/</Name></BlobPrefix>
  </Blobs>
  <NextMarker>2!72!MDAwMDA2IWYuaDUveS8h</NextMarker>
</EnumerationResults>)";
  auto r = parse_list_blobs(body);
  REQUIRE(r.ok());
  REQUIRE(r->blobs.size() == 2);
  CHECK(r->blobs[0].key == "f.h5/zarr.json");
  CHECK(r->blobs[0].size == 1234);
  CHECK(r->blobs[0].etag == "\"0x8D9\"");
  CHECK(r->blobs[1].key == "f.h5/a & b<1>");
  CHECK(r->blobs[1].size == 0);
  CHECK(r->prefixes == std::vector<std::string>{"f.h5/x/", "f.h5/y/"});
  CHECK(r->next_marker == "2!72!MDAwMDA2IWYuaDUveS8h");
}

TEST_CASE("last page: empty NextMarker; empty listing without <Blobs> children") {
  auto last = parse_list_blobs(
      "<?xml version=\"1.0\"?><EnumerationResults><Blobs><Blob><Name>k</Name><Properties>"
      "<Content-Length>5</Content-Length></Properties></Blob></Blobs><NextMarker/>"
      "</EnumerationResults>");
  REQUIRE(last.ok());
  CHECK(last->next_marker.empty());
  REQUIRE(last->blobs.size() == 1);
  CHECK(last->blobs[0].size == 5);

  auto empty = parse_list_blobs("<EnumerationResults><Blobs /><NextMarker /></EnumerationResults>");
  REQUIRE(empty.ok());
  CHECK(empty->blobs.empty());
  CHECK(empty->prefixes.empty());
}

TEST_CASE("names with Encoded=\"true\" are percent-decoded; character references decoded") {
  auto r = parse_list_blobs(
      "<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">a%01b</Name></Blob>"
      "<Blob><Name>caf&#233;&#x2F;x</Name></Blob></Blobs></EnumerationResults>");
  REQUIRE(r.ok());
  REQUIRE(r->blobs.size() == 2);
  CHECK(r->blobs[0].key == std::string("a\x01" "b"));
  CHECK(r->blobs[1].key == "caf\xC3\xA9/x");
}

TEST_CASE("malformed or foreign documents are errors, not empty pages") {
  auto truncated = parse_list_blobs("<EnumerationResults><Blobs><Blob><Name>k</Name>");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.status().code() == Code::kIo);
  auto foreign = parse_list_blobs("<Error><Code>X</Code></Error>");
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.status().message().find("<Error>") != std::string::npos);
  auto mismatched = parse_list_blobs("<EnumerationResults><Blobs></Blob></EnumerationResults>");
  CHECK_FALSE(mismatched.ok());
}

TEST_CASE("error bodies: code and the first line of the message") {
  auto e = parse_error_body(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ContainerNotFound</Code>"
      "<Message>The specified container does not exist.\nRequestId:abc\nTime:2026-11-24</Message>"
      "</Error>");
  CHECK(e.code == "ContainerNotFound");
  CHECK(e.message == "The specified container does not exist.");
  auto none = parse_error_body("");
  CHECK(none.code.empty());
  CHECK(none.message.empty());
  CHECK(parse_error_body("<html>oops</html>").code.empty());
}

TEST_CASE("Put Block List body lists the ids as Latest, escaped") {
  CHECK(block_list_xml({"YQ==", "Yg=="}) ==
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest>"
        "<Latest>Yg==</Latest></BlockList>");
}

