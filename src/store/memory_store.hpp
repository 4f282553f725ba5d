// memory_store.hpp -- an ObjectStore kept in process memory ("mem://space").
//
// Used by tests and by programs that want a scratch HDF5 file without touching disk. The objects
// live in a MemorySpace; several store objects may view one space (store_factory keeps one space
// per "mem://" name so a file can be closed and reopened), each with its own Stats and executor.
// Byte counts in Stats are payload bytes; every call counts as one request (delete_many: one per
// key, as the local store does).
//
// Thread-safety: all methods may be called concurrently; a space is guarded by one mutex, held
// only to look up or swap an object, never while copying payloads.
#pragma once

#include <memory>
#include <string>

#include "common/stats.hpp"
#include "store/store.hpp"

namespace arraymorph {

class MemorySpace;  // the objects of one memory store; opaque, shareable between store views

std::shared_ptr<MemorySpace> make_memory_space();

// A store over a fresh, private space. `stats` may be null.
std::shared_ptr<ObjectStore> make_memory_store(std::shared_ptr<Stats> stats);
// A store over an existing space; describe() gives "mem://" + name.
std::shared_ptr<ObjectStore> make_memory_store(std::shared_ptr<MemorySpace> space,
                                               const std::string& name,
                                               std::shared_ptr<Stats> stats);

}  // namespace arraymorph
