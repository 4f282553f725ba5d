// connector_state.hpp -- the process-wide state of the loaded connector.
//
// docs/design.md §3 allows no mutable globals beyond the registered connector; this is that one object,
// reached through ConnectorState::instance(). It owns: explicit settings made through
// arraymorph_configure() (layered over the environment at every file open), the statistics
// shared by every store, the worker pool, and a cache of open stores (so files on one bucket share
// connections). Files keep shared_ptrs to what they use, so reconfiguring never pulls a pool or a
// store out from under an open file.
//
// Thread-safety: every method locks an internal mutex; returned objects are themselves
// thread-safe (ObjectStore, ThreadPool, Stats).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "store/store.hpp"
#include "sched/thread_pool.hpp"
#include "store/store_factory.hpp"

namespace arraymorph {

class ConnectorState {
 public:
  static ConnectorState& instance();

  // Environment + explicit settings (+ `extra`, e.g. from H5Pset_fapl_arraymorph).
  Result<Config> effective_config(const std::map<std::string, std::string>& extra = {});
  Status set(const std::string& key, const std::string& value);
  void reset_settings();

  std::shared_ptr<Stats> stats() { return stats_; }
  // A pool of config.effective_threads() workers (recreated when the size changes).
  std::shared_ptr<ThreadPool> pool(const Config& config);
  // The store for a location, shared between files with the same StoreIdentity (location and
  // every setting the store is built from; see store_factory.hpp).
  Result<std::shared_ptr<ObjectStore>> store(const StoreLocation& loc, const Config& config);

 private:
  ConnectorState() : stats_(std::make_shared<Stats>()) {}
  std::mutex mu_;
  std::map<std::string, std::string> settings_;
  std::shared_ptr<Stats> stats_;
  std::shared_ptr<ThreadPool> pool_;
  std::map<std::string, std::weak_ptr<ObjectStore>> stores_;  // by StoreIdentity::cache_key()
};

}  // namespace arraymorph
