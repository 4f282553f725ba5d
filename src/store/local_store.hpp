// local_store.hpp -- an ObjectStore over a directory of the local (or shared) filesystem.
//
// Key "a/b/c" is the file <root>/a/b/c; directories are created on put and pruned (when empty)
// on delete, so the tree mirrors an object store. Puts are atomic and durable: the bytes go to a
// unique ".am-tmp-*" file in the target directory, are fsync'ed, renamed over the key and the
// directory is fsync'ed. Readers therefore see the old or the new object, never a torn one, and
// listings skip the temporary files. Listing is sorted by key bytes, like S3.
//
// Keys must not start with '/', contain empty segments or "." / ".." segments, or have a
// segment starting with ".am-tmp-": such keys are invalid_argument. Sizes are in bytes.
//
// Thread-safety: all methods may be called concurrently (also from several processes; the
// filesystem's rename is the only synchronisation needed).
#pragma once

#include <memory>
#include <string>

#include "common/stats.hpp"
#include "common/status.hpp"
#include "store/store.hpp"

namespace arraymorph {

// Name prefix of in-progress put files; never a valid key segment.
inline constexpr const char* kLocalTempPrefix = ".am-tmp-";

// `root` must be an existing directory; `stats` may be null.
Result<std::shared_ptr<ObjectStore>> make_local_store(const std::string& root,
                                                      std::shared_ptr<Stats> stats);

}  // namespace arraymorph
