// test_s3_xml.cpp -- the S3 documents (listing, errors, multipart,
// batch delete), with responses shaped like AWS's and SeaweedFS's.
#include <doctest/doctest.h>

#include "store/s3/s3_xml.hpp"

using namespace arraymorph;
using namespace arraymorph::s3;
using arraymorph::net::parse_xml;

TEST_CASE("ListObjectsV2 page with prefixes and continuation") {
  const std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>demo.h5/</Prefix><KeyCount>3</KeyCount><MaxKeys>2</MaxKeys>
  <Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
  <Contents><Key>demo.h5/zarr.json</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>demo.h5/a &amp; b+c%d=e:f</Key><ETag>"x"</ETag><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>demo.h5/x/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>demo.h5/y/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";
  auto r = parse_list_objects_v2(body);
  REQUIRE(r.ok());
  REQUIRE(r->objects.size() == 2);
  CHECK(r->objects[0].key == "demo.h5/zarr.json");
  CHECK(r->objects[0].size == 1234);
  CHECK(r->objects[0].etag == "9b2cf535f27731c974343645a3985328");
  CHECK(r->objects[1].key == "demo.h5/a & b+c%d=e:f");
  CHECK(r->objects[1].size == 0);
  REQUIRE(r->common_prefixes.size() == 2);
  CHECK(r->common_prefixes[1] == "demo.h5/y/");
  CHECK(r->is_truncated);
  CHECK(r->next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST_CASE("ListObjectsV2 last page and empty listing") {
  auto r = parse_list_objects_v2(
      "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated></ListBucketResult>");
  REQUIRE(r.ok());
  CHECK(r->objects.empty());
  CHECK(r->common_prefixes.empty());
  CHECK_FALSE(r->is_truncated);
  CHECK(r->next_continuation_token.empty());
  CHECK_FALSE(parse_list_objects_v2("<Error><Code>NoSuchBucket</Code></Error>").ok());
  CHECK_FALSE(parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").ok());
}

TEST_CASE("Error documents") {
  auto e = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>
<BucketName>nope</BucketName><Resource>/nope/k</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>)");
  CHECK(e.code == "NoSuchBucket");
  CHECK(e.message == "The specified bucket does not exist");
  CHECK(e.bucket_name == "nope");
  CHECK(e.request_id == "4442587FB7D0A2F9");
  auto s = parse_error("<Error><Code>SignatureDoesNotMatch</Code><Message>a &lt; b</Message></Error>");
  CHECK(s.code == "SignatureDoesNotMatch");
  CHECK(s.message == "a < b");
  CHECK(parse_error("").code.empty());
  CHECK(parse_error("<html>502 Bad Gateway</html>").code.empty());
}

TEST_CASE("InitiateMultipartUpload") {
  auto id = parse_initiate_multipart(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
      "</InitiateMultipartUploadResult>");
  REQUIRE(id.ok());
  CHECK(*id == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  CHECK_FALSE(parse_initiate_multipart("<InitiateMultipartUploadResult/>").ok());
}

TEST_CASE("DeleteObjects result and request") {
  auto r = parse_delete_result(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b&amp;c</Key>"
      "<Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>");
  REQUIRE(r.ok());
  REQUIRE(r->deleted.size() == 1);
  CHECK(r->deleted[0] == "a");
  REQUIRE(r->errors.size() == 1);
  CHECK(r->errors[0].key == "b&c");
  CHECK(r->errors[0].code == "AccessDenied");
  const std::string req = build_delete_request({"x/1", "a<b>&c"});
  CHECK(req.find("<Quiet>true</Quiet>") != std::string::npos);
  CHECK(req.find("<Object><Key>x/1</Key></Object>") != std::string::npos);
  CHECK(req.find("<Key>a&lt;b&gt;&amp;c</Key>") != std::string::npos);
  auto back = parse_xml(req);
  REQUIRE(back.ok());
  CHECK(back->children_named("Object")[1]->child_text("Key") == "a<b>&c");
}

TEST_CASE("CompleteMultipartUpload body") {
  const std::string x = build_complete_multipart({{1, "\"e1\""}, {2, "\"e2\""}});
  auto doc = parse_xml(x);
  REQUIRE(doc.ok());
  CHECK(doc->name == "CompleteMultipartUpload");
  auto parts = doc->children_named("Part");
  REQUIRE(parts.size() == 2);
  CHECK(parts[1]->child_text("PartNumber") == "2");
  CHECK(parts[1]->child_text("ETag") == "\"e2\"");
}
