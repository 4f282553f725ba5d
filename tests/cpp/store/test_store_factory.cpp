// resolve_location / open_store: every name form, errors naming the variable to set, and the
// memory-space registry.
#include <doctest/doctest.h>

#include <filesystem>

#include "common/config.hpp"
#include "store/store_factory.hpp"
#include "store_conformance.hpp"
#include "temp_dir.hpp"

using namespace arraymorph;
using arraymorph::testing::TempDir;
using arraymorph::testing::to_bytes;

namespace {

StoreLocation resolve_ok(const std::string& name, const Config& config = Config()) {
  Result<StoreLocation> loc = resolve_location(name, config);
  REQUIRE_MESSAGE(loc.ok(), loc.status().to_string());
  return loc.value();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("URL forms") {
  StoreLocation l = resolve_ok("s3://bucket/a/b.h5");
  CHECK(l.platform == Platform::kS3);
  CHECK(l.root == "bucket");
  CHECK(l.key == "a/b.h5");

  l = resolve_ok("s3://bucket");
  CHECK(l.platform == Platform::kS3);
  CHECK(l.root == "bucket");
  CHECK(l.key.empty());
  l = resolve_ok("s3://bucket/");
  CHECK(l.key.empty());
  l = resolve_ok("s3://bucket/dir/");
  CHECK(l.key == "dir");

  l = resolve_ok("az://container/a.h5");
  CHECK(l.platform == Platform::kAzure);
  CHECK(l.root == "container");
  CHECK(l.key == "a.h5");

  l = resolve_ok("file:///data/run1/out.h5");
  CHECK(l.platform == Platform::kLocal);
  CHECK(l.root == "/data/run1");
  CHECK(l.key == "out.h5");
  l = resolve_ok("file://localhost/data/out.h5");
  CHECK(l.root == "/data");
  CHECK(l.key == "out.h5");
  l = resolve_ok("file:///data/run1/");
  CHECK(l.root == "/data/run1");
  CHECK(l.key.empty());
  l = resolve_ok("file:///out.h5");
  CHECK(l.root == "/");
  CHECK(l.key == "out.h5");

  l = resolve_ok("mem://space/a.h5");
  CHECK(l.platform == Platform::kMemory);
  CHECK(l.root == "space");
  CHECK(l.key == "a.h5");
}

TEST_CASE("bad URLs") {
  Config c;
  for (const char* bad : {"s3:///key", "az://", "file://otherhost/x.h5", "gs://b/k", ""}) {
    INFO(bad);
    Result<StoreLocation> r = resolve_location(bad, c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
  CHECK(contains(resolve_location("gs://b/k", c).status().message(), "gs"));
}

TEST_CASE("plain names use the configured platform") {
  Config c;
  c.platform = Platform::kS3;
  c.s3.bucket = "bk";
  StoreLocation l = resolve_ok("demo.h5", c);
  CHECK(l.platform == Platform::kS3);
  CHECK(l.root == "bk");
  CHECK(l.key == "demo.h5");
  l = resolve_ok("/runs/demo.h5/", c);
  CHECK(l.key == "runs/demo.h5");

  c.platform = Platform::kAzure;
  c.azure.container = "ct";
  l = resolve_ok("x/demo.h5", c);
  CHECK(l.platform == Platform::kAzure);
  CHECK(l.root == "ct");
  CHECK(l.key == "x/demo.h5");

  c.platform = Platform::kMemory;
  l = resolve_ok("demo.h5", c);
  CHECK(l.platform == Platform::kMemory);
  CHECK(l.key == "demo.h5");
}

TEST_CASE("a missing bucket or container names BUCKET_NAME") {
  Config c;
  c.platform = Platform::kS3;
  Result<StoreLocation> r = resolve_location("demo.h5", c);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.status().message(), "BUCKET_NAME"));
  c.platform = Platform::kAzure;
  r = resolve_location("demo.h5", c);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.status().message(), "BUCKET_NAME"));
}

TEST_CASE("plain names on the local platform") {
  TempDir dir;
  Config c;
  c.platform = Platform::kLocal;
  c.local.root = dir.str();
  StoreLocation l = resolve_ok("demo.h5", c);
  CHECK(l.platform == Platform::kLocal);
  CHECK(std::filesystem::equivalent(l.root, dir.path()));
  CHECK(l.key == "demo.h5");

  c.local.root.clear();  // the current directory
  l = resolve_ok("demo.h5", c);
  CHECK(std::filesystem::equivalent(l.root, std::filesystem::current_path()));

  l = resolve_ok("/abs/dir/demo.h5", c);  // an absolute path is that file
  CHECK(l.root == "/abs/dir");
  CHECK(l.key == "demo.h5");

  c.local.root = (dir.path() / "missing").string();
  Result<StoreLocation> r = resolve_location("demo.h5", c);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.status().message(), "ARRAYMORPH_LOCAL_ROOT"));
  CHECK(contains(r.status().message(), c.local.root));
}

TEST_CASE("open_store: local, memory registry, backends not built") {
  TempDir dir;
  Config c;
  Result<std::shared_ptr<ObjectStore>> s =
      open_store(resolve_ok("file://" + dir.str() + "/f.h5"), c, nullptr);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  CHECK(s.value()->describe() == "file://" + dir.str());

  s = open_store(resolve_ok("file://" + dir.str() + "/missing/f.h5"), c, nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.status().message(), dir.str() + "/missing"));

  // The same mem:// space is the same objects, across opens; other spaces are separate.
  auto stats1 = std::make_shared<Stats>();
  auto stats2 = std::make_shared<Stats>();
  Result<std::shared_ptr<ObjectStore>> m1 = open_store(resolve_ok("mem://factory-test/a.h5"), c, stats1);
  Result<std::shared_ptr<ObjectStore>> m2 = open_store(resolve_ok("mem://factory-test/b.h5"), c, stats2);
  Result<std::shared_ptr<ObjectStore>> other = open_store(resolve_ok("mem://factory-other"), c, nullptr);
  REQUIRE(m1.ok());
  REQUIRE(m2.ok());
  REQUIRE(other.ok());
  const Bytes v = to_bytes("shared");
  REQUIRE(m1.value()->put("a.h5/zarr.json", v.data(), v.size()).ok());
  Result<std::optional<Bytes>> got = m2.value()->get("a.h5/zarr.json");
  REQUIRE(got.ok());
  REQUIRE(got.value().has_value());
  CHECK(*got.value() == v);
  CHECK_FALSE(other.value()->get("a.h5/zarr.json").value().has_value());
  CHECK(m1.value()->describe() == "mem://factory-test");
  // Each opener counts into its own Stats.
  CHECK(stats1->op(OpKind::kPut).requests == 1);
  CHECK(stats2->op(OpKind::kPut).requests == 0);
  CHECK(stats2->op(OpKind::kGet).requests == 1);

#if !defined(ARRAYMORPH_WITH_S3)
  s = open_store(resolve_ok("s3://bucket/k.h5"), c, nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message() ==
        "S3 backend not built into this arraymorph (rebuild with -DARRAYMORPH_WITH_S3=ON)");
#endif
#if !defined(ARRAYMORPH_WITH_AZURE)
  s = open_store(resolve_ok("az://container/k.h5"), c, nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.status().message(), "-DARRAYMORPH_WITH_AZURE=ON"));
#endif
}
