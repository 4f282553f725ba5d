// connector_state.cpp -- see connector_state.hpp.
#include "vol/connector_state.hpp"

#include <algorithm>

namespace arraymorph {

ConnectorState& ConnectorState::instance() {
  // Leaked on purpose: HDF5 may close files from its atexit handler after static destructors ran.
  static ConnectorState* state = new ConnectorState();
  return *state;
}

Result<Config> ConnectorState::effective_config(const std::map<std::string, std::string>& extra) {
  auto cfg = Config::from_env();
  if (!cfg.ok()) return cfg.status();
  Config config = std::move(cfg).value();
  std::map<std::string, std::string> settings;
  {
    std::lock_guard<std::mutex> lock(mu_);
    settings = settings_;
  }
  for (const auto& kv : extra) settings[kv.first] = kv.second;
  Status s = config.apply(settings);
  if (!s.ok()) return s;
  return config;
}

Status ConnectorState::set(const std::string& key, const std::string& value) {
  // Validate against a scratch config so a bad value never lands in the settings.
  Config probe;
  Status s = probe.apply({{key, value}});
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  settings_[key] = value;
  return ok_status();
}

void ConnectorState::reset_settings() {
  std::lock_guard<std::mutex> lock(mu_);
  settings_.clear();
}

std::shared_ptr<ThreadPool> ConnectorState::pool(const Config& config) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t want = static_cast<size_t>(config.effective_threads());
  if (!pool_ || pool_->size() != want) pool_ = std::make_shared<ThreadPool>(want);
  return pool_;
}

Result<std::shared_ptr<ObjectStore>> ConnectorState::store(const StoreLocation& loc, const Config& config) {
  // Keyed by exactly what the store is built from (StoreIdentity): any change to a field the
  // store uses gives a new store; files already open keep theirs.
  const StoreIdentity id = store_identity(loc, config);
  const std::string key = id.cache_key();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stores_.find(key);
  if (it != stores_.end()) {
    if (auto s = it->second.lock()) return s;
  }
  auto made = open_store(id, stats_);
  if (!made.ok()) return made.status();
  const size_t parallel = static_cast<size_t>(std::max(1, id.max_inflight));
  // Blocking backends (local, memory) run batches on the worker pool; network backends override
  // get_many/put_many with their own event loop and never call this.
  made.value()->set_executor([this, parallel](size_t n, const std::function<void(size_t)>& task) {
    std::shared_ptr<ThreadPool> p;
    {
      std::lock_guard<std::mutex> guard(mu_);
      p = pool_;
    }
    if (!p) {
      for (size_t i = 0; i < n; ++i) task(i);
      return;
    }
    p->parallel_for(n, parallel, task);
  });
  stores_[key] = made.value();
  return made;
}

}  // namespace arraymorph
