// write_lock.cpp -- see write_lock.hpp.
#include "model/write_lock.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "common/log.hpp"

namespace arraymorph::model {
namespace {

using json = nlohmann::json;

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

std::string random_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid()));
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return buf;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The holder's record, or an empty object when it cannot be read (corrupt / vanished).
json read_holder(ObjectStore& store, const std::string& key) {
  auto got = store.get(key);
  if (!got.ok() || !got.value()) return json::object();
  json j = json::parse(got.value()->begin(), got.value()->end(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// A lock left by a process of this host that no longer runs.
bool is_stale(const json& holder) {
  if (holder.value("host", "") != host_name()) return false;
  if (!holder.contains("pid") || !holder["pid"].is_number_integer()) return false;
  const long pid = holder["pid"].get<long>();
  if (pid <= 0) return false;
  if (pid == static_cast<long>(::getpid())) return true;  // ours, left by a handle this process lost
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::string lock_key(const std::string& file_key) { return file_key + "/.arraymorph-lock"; }

Result<std::unique_ptr<WriteLock>> WriteLock::acquire(std::shared_ptr<ObjectStore> store,
                                                      const std::string& file_key) {
  const std::string key = lock_key(file_key);
  const std::string id = random_id();
  const std::string text = json{{"host", host_name()}, {"pid", static_cast<long>(::getpid())},
                                {"id", id}, {"since", utc_now()}}.dump();
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status s = store->put_if_absent(key, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    if (s.ok()) {
      AM_LOG(kInfo, "lock", "took the write lock '" << key << "' in " << store->describe());
      return std::unique_ptr<WriteLock>(new WriteLock(store, key, id));
    }
    if (s.code() != Code::kAlreadyExists) return s.with_context("taking the write lock of '" + file_key + "'");
    const json holder = read_holder(*store, key);
    if (attempt == 0 && is_stale(holder)) {
      AM_LOG(kWarning, "lock", "removing the stale write lock '" << key << "' of process "
                                   << holder.value("pid", 0L) << " (no longer running)");
      Status d = store->delete_many({key});
      if (!d.ok()) return d.with_context("removing the stale write lock of '" + file_key + "'");
      continue;
    }
    std::string who = holder.empty() ? std::string("another writer")
                                     : "process " + std::to_string(holder.value("pid", 0L)) + " on host '" +
                                           holder.value("host", "?") + "' since " + holder.value("since", "?");
    return Status(Code::kConflict,
                  "unable to lock file '" + file_key + "' for writing: it is open for writing by " + who +
                      " (lock object '" + key + "' in " + store->describe() +
                      "); errno = 11, error message = 'Resource temporarily unavailable'. Use "
                      "HDF5_USE_FILE_LOCKING=FALSE (or h5py locking=False) to open it anyway at your own risk, "
                      "or delete the lock object if that writer is gone");
  }
  return Status(Code::kConflict, "unable to lock file '" + file_key + "' for writing: the lock keeps reappearing");
}

Status WriteLock::release() {
  if (released_) return ok_status();
  const json holder = read_holder(*store_, key_);
  released_ = true;
  if (holder.value("id", "") != id_) {
    AM_LOG(kWarning, "lock", "write lock '" << key_ << "' was replaced by another writer; leaving it");
    return ok_status();
  }
  Status s = store_->delete_many({key_});
  if (s.ok()) AM_LOG(kInfo, "lock", "released the write lock '" << key_ << "'");
  return s;
}

}  // namespace arraymorph::model
