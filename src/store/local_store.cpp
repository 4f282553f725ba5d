// local_store.cpp -- ObjectStore over a directory: POSIX I/O for the data path (pread, fsync,
// rename), std::filesystem for walking directories.
#include "store/local_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <random>
#include <string_view>
#include <system_error>
#include <vector>

#include "store/listing.hpp"

namespace arraymorph {
namespace {

namespace fs = std::filesystem;

// Closes a POSIX descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Close explicitly where its error matters (after writing).
  int release_close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string errno_text(int err) { return std::strerror(err); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Validates a key; `what` is "key" or "prefix". A prefix may end in '/' or in a partial segment.
Status check_key(const std::string& key, bool is_prefix) {
  const char* what = is_prefix ? "list prefix" : "object key";
  if (key.empty()) {
    if (is_prefix) return ok_status();
    return invalid_argument("empty object key");
  }
  if (key.front() == '/') return invalid_argument(std::string(what) + " '" + key + "' starts with '/'");
  if (key.find('\0') != std::string::npos) {
    return invalid_argument(std::string(what) + " contains a NUL byte");
  }
  size_t begin = 0;
  while (true) {
    const size_t slash = key.find('/', begin);
    const bool last = slash == std::string::npos;
    const std::string_view seg(key.data() + begin, (last ? key.size() : slash) - begin);
    // The last piece of a prefix is a partial name ("c/0" matches "c/01"), so only whole
    // segments are checked there.
    if (!(is_prefix && last)) {
      if (seg.empty()) {
        return invalid_argument(std::string(what) + " '" + key + "' has an empty segment");
      } else if (seg == "." || seg == "..") {
        return invalid_argument(std::string(what) + " '" + key + "' has a '" + std::string(seg) +
                                "' segment");
      } else if (starts_with(seg, kLocalTempPrefix)) {
        return invalid_argument(std::string(what) + " '" + key + "' has a segment starting with '" +
                                kLocalTempPrefix + "' (reserved for in-progress writes)");
      }
    }
    if (last) break;
    begin = slash + 1;
  }
  return ok_status();
}

Status write_all(int fd, const unsigned char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(errno_text(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return ok_status();
}

// Reads the spans' bytes of the object (span offsets relative to `base`) with preadv: one call
// per run of spans that are adjacent in the file (up to IOV_MAX at a time); gaps are skipped,
// never read. A short read is corruption (files are replaced by rename, never truncated).
Status pread_spans(int fd, uint64_t base, const std::vector<DestSpan>& spans) {
  size_t i = 0;       // current span
  size_t within = 0;  // bytes of spans[i] already read
  std::vector<iovec> iov;
  while (i < spans.size()) {
    if (within == spans[i].size) {
      ++i;
      within = 0;
      continue;
    }
    const uint64_t at = base + spans[i].offset + within;
    iov.clear();
    uint64_t next = spans[i].offset + spans[i].size;  // body offset just past the last iovec
    iov.push_back({spans[i].dst + within, spans[i].size - within});
    for (size_t j = i + 1; j < spans.size() && spans[j].offset == next && iov.size() < IOV_MAX; ++j) {
      if (spans[j].size == 0) continue;
      iov.push_back({spans[j].dst, spans[j].size});
      next += spans[j].size;
    }
    const ssize_t n = ::preadv(fd, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(errno_text(errno));
    }
    if (n == 0) return io_error("short read (the file is shorter than its size)");
    // Advance (span, within) by n bytes.
    size_t left = static_cast<size_t>(n);
    while (left > 0) {
      const size_t take = std::min(left, spans[i].size - within);
      within += take;
      left -= take;
      if (within == spans[i].size && left > 0) {
        ++i;
        within = 0;
        while (spans[i].size == 0) ++i;  // zero-sized spans were skipped in the iovecs
      }
    }
  }
  return ok_status();
}

// preadv straight into the destination pays off for a few large spans; see read_object.
bool worth_preadv(const GetDestination& d) {
  constexpr size_t kMinAverageSpan = 16 << 10;  // bytes
  return d.spans.size() <= 1 || d.size / d.spans.size() >= kMinAverageSpan;
}

class LocalStore final : public ObjectStore {
 public:
  LocalStore(fs::path root, std::shared_ptr<Stats> stats)
      : root_(std::move(root)), stats_(std::move(stats)), instance_(std::random_device{}()) {}

  Result<std::optional<Bytes>> get(const std::string& key,
                                   std::optional<ByteRange> range) override {
    return read_object(key, range, nullptr);
  }

  // Requests with a destination are read by preadv straight into it.
  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override {
    run_batch(requests.size(), [&](size_t i) {
      const GetRequest& r = requests[i];
      on_done(i, read_object(r.key, r.range, r.dest));
    });
  }

  Result<std::optional<Bytes>> read_object(const std::string& key, const std::optional<ByteRange>& range,
                                           const GetDestination* dest) {
    if (dest && dest->valid() && !worth_preadv(*dest)) {
      // Many small spans: one pread and a memcpy per span cost less than the kernel's per-iovec
      // work (measured: 64 MiB as 1 KiB spans, 24 ms vs 31 ms of CPU).
      return deliver_to_destination(read_object(key, range, nullptr), dest, key, describe());
    }
    count(OpKind::kGet);
    if (Status s = check_key(key, false); !s.ok()) return fail(OpKind::kGet, s);
    if (dest) {
      if (Status s = check_destination(*dest, key, describe()); !s.ok()) return fail(OpKind::kGet, s);
    }
    const std::string path = (root_ / key).string();
    int raw = -1;
    do {
      raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (raw < 0 && errno == EINTR);
    if (raw < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return missing(OpKind::kGet, std::optional<Bytes>());
      return fail(OpKind::kGet, io_error("opening '" + key + "': " + errno_text(errno)));
    }
    Fd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return fail(OpKind::kGet, io_error("stat of '" + key + "': " + errno_text(errno)));
    }
    // A directory is a key prefix, not an object (as in S3).
    if (!S_ISREG(st.st_mode)) return missing(OpKind::kGet, std::optional<Bytes>());
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t begin = 0;
    uint64_t length = size;
    if (range) {
      const auto [b, e] = range->clip(size);
      begin = b;
      length = e - b;
    }
    if (dest) {
      if (length != dest->size) return fail(OpKind::kGet, destination_size_mismatch(*dest, length, key, describe()));
      if (Status s = pread_spans(fd.get(), begin, dest->spans); !s.ok()) {
        return fail(OpKind::kGet, s.with_context("reading '" + key + "'"));
      }
      if (stats_) {
        stats_->op(OpKind::kGet).bytes.fetch_add(length, std::memory_order_relaxed);
        stats_->note_zero_copy(length);
      }
      return std::optional<Bytes>(Bytes());
    }
    Bytes out(static_cast<size_t>(length));
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done,
                                static_cast<off_t>(begin + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(OpKind::kGet, io_error("reading '" + key + "': " + errno_text(errno)));
      }
      // Files are replaced by rename, never truncated in place, so a short read is corruption.
      if (n == 0) {
        return fail(OpKind::kGet, io_error("short read of '" + key + "' in " + describe()));
      }
      done += static_cast<size_t>(n);
    }
    if (stats_) stats_->op(OpKind::kGet).bytes.fetch_add(out.size(), std::memory_order_relaxed);
    return std::optional<Bytes>(std::move(out));
  }

  Status put(const std::string& key, const unsigned char* data, size_t size) override {
    return put_impl(key, data, size, false);
  }

  // link(2) of the complete temporary file fails with EEXIST when the key exists: atomic.
  Status put_if_absent(const std::string& key, const unsigned char* data, size_t size) override {
    return put_impl(key, data, size, true);
  }

  Status put_impl(const std::string& key, const unsigned char* data, size_t size, bool exclusive) {
    count(OpKind::kPut);
    if (Status s = check_key(key, false); !s.ok()) return fail(OpKind::kPut, s);
    const fs::path target = root_ / key;
    const fs::path dir = target.parent_path();
    // A concurrent delete may prune the directory between creating it and opening the temp
    // file; creating it again is all that is needed.
    Status s;
    for (int attempt = 0; attempt < 4; ++attempt) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) {
        s = io_error("creating directory for '" + key + "': " + ec.message());
        continue;
      }
      s = put_once(key, target, dir, data, size, exclusive);
      if (s.ok() || s.code() != Code::kNotFound) break;
    }
    if (s.code() == Code::kNotFound) s = io_error(s.message());
    if (!s.ok()) return fail(OpKind::kPut, s);
    if (stats_) stats_->op(OpKind::kPut).bytes.fetch_add(size, std::memory_order_relaxed);
    return ok_status();
  }

  Result<std::optional<ObjectInfo>> head(const std::string& key) override {
    count(OpKind::kHead);
    if (Status s = check_key(key, false); !s.ok()) return fail(OpKind::kHead, s);
    const std::string path = (root_ / key).string();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return missing(OpKind::kHead, std::optional<ObjectInfo>());
      }
      return fail(OpKind::kHead, io_error("stat of '" + key + "': " + errno_text(errno)));
    }
    if (!S_ISREG(st.st_mode)) return missing(OpKind::kHead, std::optional<ObjectInfo>());
    return std::optional<ObjectInfo>(ObjectInfo{key, static_cast<uint64_t>(st.st_size), ""});
  }

  Result<ListPage> list(const std::string& prefix, const std::string& delimiter,
                        const std::string& token, size_t max_keys) override {
    count(OpKind::kList);
    if (Status s = check_key(prefix, true); !s.ok()) return fail(OpKind::kList, s);
    // Walk only the directory holding the prefix's last (possibly partial) segment.
    const size_t slash = prefix.rfind('/');
    const std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
    std::vector<Entry> entries;
    std::error_code ec;
    collect(dir_key.empty() ? root_ : root_ / dir_key, dir_key, prefix, delimiter, entries, ec);
    if (ec) {
      return fail(OpKind::kList,
                  io_error("listing '" + prefix + "' in " + describe() + ": " + ec.message()));
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });
    PageBuilder builder(prefix, delimiter, token, max_keys);
    for (const Entry& e : entries) {
      if (!builder.add(e.key, e.size)) break;
    }
    return builder.finish();
  }

  Status delete_many(const std::vector<std::string>& keys) override {
    for (const std::string& key : keys) {
      count(OpKind::kDelete);
      if (Status s = check_key(key, false); !s.ok()) return fail(OpKind::kDelete, s);
      const fs::path path = root_ / key;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
        return fail(OpKind::kDelete, io_error("deleting '" + key + "': " + errno_text(errno)));
      }
      prune(path.parent_path());
    }
    return ok_status();
  }

  StoreCapabilities capabilities() const override { return {true, true, false, true, true}; }
  std::string describe() const override { return "file://" + root_.string(); }

 private:
  struct Entry {
    std::string key;
    uint64_t size;
  };

  // Gathers the keys below `dir` (whose key prefix is `dir_key`) that start with `prefix`.
  // With the "/" delimiter, a subdirectory that will be rolled up is reported as its common
  // prefix (if it holds any object) instead of being walked in full.
  void collect(const fs::path& dir, const std::string& dir_key, const std::string& prefix,
               const std::string& delimiter, std::vector<Entry>& out,
               std::error_code& ec) const {
    fs::directory_iterator it(dir, ec);
    if (ec) {
      // A prefix naming no directory simply matches nothing.
      if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
        ec.clear();
      }
      return;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return;
      const std::string name = it->path().filename().string();
      if (starts_with(name, kLocalTempPrefix)) continue;
      const std::string key = dir_key + name;
      std::error_code type_ec;
      const fs::file_status st = it->status(type_ec);
      if (type_ec) continue;  // vanished while walking: a concurrent delete
      if (fs::is_directory(st)) {
        const std::string sub = key + "/";
        // Only descend where keys can still start with the prefix.
        if (!(starts_with(sub, prefix) || starts_with(prefix, sub))) continue;
        if (delimiter == "/" && sub.size() > prefix.size() && starts_with(sub, prefix)) {
          if (holds_object(it->path())) out.push_back(Entry{sub, 0});
          continue;
        }
        collect(it->path(), sub, prefix, delimiter, out, ec);
        if (ec) return;
      } else if (fs::is_regular_file(st) && starts_with(key, prefix)) {
        std::error_code size_ec;
        const uintmax_t size = fs::file_size(it->path(), size_ec);
        if (size_ec) continue;
        out.push_back(Entry{key, static_cast<uint64_t>(size)});
      }
    }
  }

  // True when some regular, non-temporary file lies below `dir` (S3 has no empty "directories").
  static bool holds_object(const fs::path& dir) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (starts_with(name, kLocalTempPrefix)) continue;
      std::error_code type_ec;
      if (it->is_regular_file(type_ec)) return true;
    }
    return false;
  }

  // Removes now-empty directories from `dir` up to (not including) the root. rmdir refuses
  // non-empty directories, which makes this safe against concurrent puts.
  void prune(fs::path dir) const {
    while (dir != root_ && dir.native().size() > root_.native().size()) {
      if (::rmdir(dir.c_str()) != 0) return;
      dir = dir.parent_path();
    }
  }

  // kNotFound means the directory vanished under us (the caller recreates it and retries).
  Status put_once(const std::string& key, const fs::path& target, const fs::path& dir,
                  const unsigned char* data, size_t size, bool exclusive) {
    const fs::path tmp = dir / (std::string(kLocalTempPrefix) + std::to_string(::getpid()) + "-" +
                                std::to_string(instance_) + "-" +
                                std::to_string(next_temp_.fetch_add(1)));
    int raw = -1;
    do {
      raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    } while (raw < 0 && errno == EINTR);
    if (raw < 0) {
      const int err = errno;
      if (err == ENOENT) return Status(Code::kNotFound, "directory of '" + key + "' vanished");
      return io_error("creating temporary file for '" + key + "': " + errno_text(err));
    }
    Fd fd(raw);
    Status s = write_all(fd.get(), data, size);
    if (s.ok() && ::fsync(fd.get()) != 0) s = io_error("fsync: " + errno_text(errno));
    if (s.ok() && fd.release_close() != 0) s = io_error("close: " + errno_text(errno));
    if (s.ok() && exclusive) {
      if (::link(tmp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        if (err == EEXIST) return Status(Code::kAlreadyExists, "'" + key + "' already exists");
        return io_error("linking '" + key + "' into place: " + errno_text(err));
      }
      ::unlink(tmp.c_str());
    } else if (s.ok() && ::rename(tmp.c_str(), target.c_str()) != 0) {
      s = io_error("renaming into place: " + errno_text(errno));
    }
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s.with_context("writing '" + key + "'");
    }
    sync_dir(dir);
    return ok_status();
  }

  // Makes the rename itself durable. Failure here is ignored: some filesystems (and FUSE
  // mounts) do not support fsync on directories, and the data is already safe in the file.
  static void sync_dir(const fs::path& dir) {
    const int raw = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (raw < 0) return;
    Fd fd(raw);
    (void)::fsync(fd.get());
  }

  void count(OpKind k) const {
    if (stats_) stats_->op(k).requests.fetch_add(1, std::memory_order_relaxed);
  }
  Status fail(OpKind k, const Status& s) const {
    if (stats_) stats_->op(k).errors.fetch_add(1, std::memory_order_relaxed);
    return s.with_context(describe());
  }
  template <typename T>
  T missing(OpKind k, T value) const {
    if (stats_) stats_->op(k).not_found.fetch_add(1, std::memory_order_relaxed);
    return value;
  }

  const fs::path root_;
  const std::shared_ptr<Stats> stats_;
  // Temp names: pid + per-store random id + counter keep concurrent writers (threads, processes,
  // several stores on one directory) from ever picking the same name.
  const uint64_t instance_;
  std::atomic<uint64_t> next_temp_{0};
};

}  // namespace

Result<std::shared_ptr<ObjectStore>> make_local_store(const std::string& root,
                                                      std::shared_ptr<Stats> stats) {
  std::error_code ec;
  fs::path path = root.empty() ? fs::current_path(ec) : fs::path(root);
  if (ec) return io_error("cannot determine the current directory: " + ec.message());
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return not_found("local store root '" + path.string() + "' does not exist");
  if (!fs::is_directory(st)) {
    return invalid_argument("local store root '" + path.string() + "' is not a directory");
  }
  // Absolute, so a later chdir() cannot move the store; trailing '/' dropped for describe().
  path = fs::absolute(path, ec).lexically_normal();
  if (path.has_relative_path() && !path.has_filename()) path = path.parent_path();
  return std::shared_ptr<ObjectStore>(std::make_shared<LocalStore>(path, std::move(stats)));
}

}  // namespace arraymorph
