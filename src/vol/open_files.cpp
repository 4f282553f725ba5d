// open_files.cpp -- see open_files.hpp.
#include "vol/open_files.hpp"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "common/log.hpp"
#include "vol/object_model.hpp"

namespace arraymorph::vol {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<FileShared>> files;
  bool armed_any = false;
  bool armed_network = false;
};

// Leaked on purpose: used from atexit handlers, after static destructors may have run.
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

std::atomic<bool> g_exiting{false};

void on_exit() {
  if (g_exiting.exchange(true)) return;  // registered twice; the first run did the work
  std::vector<std::shared_ptr<FileShared>> open;
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    for (auto& kv : registry().files)
      if (auto f = kv.second.lock()) open.push_back(std::move(f));
  }
  for (auto& f : open) f->finish_at_exit();
}

}  // namespace

std::shared_ptr<FileShared> find_open_file(const std::string& url) {
  std::lock_guard<std::mutex> lock(registry().mu);
  auto it = registry().files.find(url);
  if (it == registry().files.end()) return nullptr;
  auto f = it->second.lock();
  if (!f || f->open_file_ids() == 0) return nullptr;
  return f;
}

void register_open_file(const std::shared_ptr<FileShared>& file) {
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().files[file->url] = file;
}

void unregister_open_file(const FileShared* file) {
  std::lock_guard<std::mutex> lock(registry().mu);
  auto it = registry().files.find(file->url);
  if (it == registry().files.end()) return;
  auto f = it->second.lock();
  if (!f || f.get() == file) registry().files.erase(it);
}

void arm_exit_hook(bool network_store) {
  std::lock_guard<std::mutex> lock(registry().mu);
  Registry& r = registry();
  if (r.armed_any && (r.armed_network || !network_store)) return;
  if (std::atexit(on_exit) != 0) {
    AM_LOG(kWarning, "file", "cannot register the exit hook; files left open are closed by HDF5 at exit");
    return;
  }
  r.armed_any = true;
  r.armed_network = r.armed_network || network_store;
}

bool exiting() { return g_exiting.load(); }

}  // namespace arraymorph::vol
