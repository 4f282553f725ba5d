// write_lock.hpp -- the writer lock of one arraymorph file, an object in its own store.
//
// Native HDF5 refuses a second process opening a file for writing (flock). arraymorph does the
// same with the object `<file>/.arraymorph-lock`, created with the store's conditional create
// (ObjectStore::put_if_absent: S3/Azure `If-None-Match: *`, local link(2)). It holds who owns it:
// {"host", "pid", "id", "since"}. A second writer fails with Code::kConflict naming the owner.
// A lock whose owner is a dead process on this host (kill(pid, 0) == ESRCH) is stale: it is
// removed and taken over, so a SIGKILLed writer does not block the next one. A lock held by
// another host can only be overridden (HDF5_USE_FILE_LOCKING=FALSE, ARRAYMORPH_FILE_LOCKING=false,
// h5py locking=False) or removed by hand. See docs/format.md, "Concurrent writers".
//
// Thread-safety: none needed; used from the HDF5 calling thread.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace arraymorph::model {

// "<file_key>/.arraymorph-lock": not a Zarr node (no zarr.json), so Zarr readers ignore it.
std::string lock_key(const std::string& file_key);

class WriteLock {
 public:
  // Takes the lock of `file_key`, or kConflict naming the holder (host, pid, since) and the way
  // to override. Store failures pass through.
  static Result<std::unique_ptr<WriteLock>> acquire(std::shared_ptr<ObjectStore> store,
                                                    const std::string& file_key);
  // Deletes the lock object when it is still ours (a forced override may have replaced it).
  Status release();
  const std::string& key() const { return key_; }

 private:
  WriteLock(std::shared_ptr<ObjectStore> store, std::string key, std::string id)
      : store_(std::move(store)), key_(std::move(key)), id_(std::move(id)) {}
  std::shared_ptr<ObjectStore> store_;
  std::string key_;
  std::string id_;
  bool released_ = false;
};

}  // namespace arraymorph::model
