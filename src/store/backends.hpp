// backends.hpp -- constructors of the network backends, implemented in src/store/s3/ and
// src/store/azure/ and compiled only with ARRAYMORPH_WITH_S3 / ARRAYMORPH_WITH_AZURE.
// store_factory.cpp is the only caller; everything else goes through open_store().
//
// Both validate the configuration (credentials, endpoint) and fail with a Status naming the
// missing environment variable, never with a secret in the message. `stats` may be null.
// Thread-safety: the returned stores are safe for concurrent use (store.hpp).
#pragma once

#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "store/store.hpp"

namespace arraymorph {

#if defined(ARRAYMORPH_WITH_S3)
Result<std::shared_ptr<ObjectStore>> make_s3_store(const Config& config, const std::string& bucket,
                                                   std::shared_ptr<Stats> stats);
#endif

#if defined(ARRAYMORPH_WITH_AZURE)
Result<std::shared_ptr<ObjectStore>> make_azure_store(const Config& config,
                                                      const std::string& container,
                                                      std::shared_ptr<Stats> stats);
#endif

}  // namespace arraymorph
