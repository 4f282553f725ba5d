// s3_test_options.hpp -- S3StoreOptions for tests over a fake transport: bucket "bkt" at
// http://127.0.0.1:9000 (path style), static test keys AKID / SECRET.
#pragma once

#include "store/s3/s3_store.hpp"

namespace arraymorph::testing {

inline s3::S3StoreOptions loopback_s3_options() {
  s3::S3StoreOptions o;
  o.bucket = "bkt";
  S3Config c;
  c.endpoint = "http://127.0.0.1:9000";
  c.use_tls = false;
  o.endpoint = s3::resolve_endpoint(c).value();
  o.credentials = s3::static_credentials({"AKID", "SECRET", "", false});
  return o;
}

}  // namespace arraymorph::testing
