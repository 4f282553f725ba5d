// store.hpp -- the ObjectStore interface every backend implements (memory, local, s3, azure).
//
// Modelled on zarr-python's minimal store: a handful of primitives on flat string keys, with
// capability flags instead of methods that throw "unsupported". Keys are '/'-separated, never
// start with '/', and are relative to the store's root (bucket / container / directory).
//
// Missing objects are not errors for get/head: they return std::nullopt, because a missing chunk
// means "all fill value" (docs/design.md §2). Every other failure is a Status naming the key.
//
// Thread-safety: every method may be called concurrently from any thread. Implementations own
// their connections and buffers; callers own the returned bytes.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <utility>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace arraymorph {

using Bytes = std::vector<unsigned char>;

// A byte range of an object: [offset, offset+length). length == nullopt means "to the end".
// suffix: the last `length` bytes instead (offset unused; HTTP "bytes=-N"; the whole object when
// it is shorter), only for stores whose capabilities().suffix_range is set. Shard indexes at the
// end of a shard object are read this way without knowing its size (src/io/shard_io.hpp).
struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  bool suffix = false;

  static ByteRange last(uint64_t n) { return ByteRange{0, n, true}; }
  // [begin, end) of an object of `size` bytes that this range covers (clipped at the end, as S3
  // does).
  std::pair<uint64_t, uint64_t> clip(uint64_t size) const {
    if (suffix) return {size - std::min(size, length.value_or(0)), size};
    const uint64_t b = std::min(offset, size);
    return {b, length ? b + std::min(*length, size - b) : size};
  }
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // may be empty (local store)
};

struct ListPage {
  std::vector<ObjectInfo> objects;         // keys directly matched (below prefix, before delimiter)
  std::vector<std::string> common_prefixes;  // with a delimiter: "dir/" style prefixes, each ends in it
  std::string next_token;                    // empty when this is the last page
};

struct StoreCapabilities {
  bool ranged_get = true;
  bool listing = true;
  bool batch_delete = false;  // delete_many is one request (S3 DeleteObjects) rather than a loop
  // put_if_absent is atomic (local: link(2); memory: one lock; S3 If-None-Match: *; Azure
  // If-None-Match: *). Without it put_if_absent is a HEAD then a PUT, which two writers can race.
  bool conditional_put = false;
  // get() accepts ByteRange::last(n) (S3, local, memory; Azure Blob has no suffix range).
  bool suffix_range = false;
};

// One run of a GET body delivered into caller memory: body bytes [offset, offset + size) are
// written to dst[0, size). `offset` counts from the first byte of the body (of the range, for a
// ranged GET), not of the object.
struct DestSpan {
  uint64_t offset = 0;
  unsigned char* dst = nullptr;
  size_t size = 0;
};

// A caller-owned destination for a GET body (zero-copy reads, docs/design.md §4): instead of handing
// back an owned Bytes, the store writes the body straight into the spans. The body must be
// exactly `size` bytes; bytes no span covers are dropped. Spans are sorted by offset, do not
// overlap, and lie within [0, size) (check with valid()).
//
// Outcome: on success the request's result is an empty Bytes (present) and every span holds its
// bytes. A body of another length is an error naming the key and both sizes, and nothing is
// written past any span; a missing object is nullopt and leaves the spans untouched. A failed
// request may have written part of the spans. Memory of the spans is borrowed: it must stay
// valid until get_many returns, and no two requests of a batch may write the same bytes.
struct GetDestination {
  uint64_t size = 0;
  std::vector<DestSpan> spans;

  // The whole body into one contiguous buffer of `n` bytes.
  static GetDestination contiguous(unsigned char* dst, size_t n) {
    return GetDestination{n, {DestSpan{0, dst, n}}};
  }
  bool valid() const;
  // True when one span receives the whole body (a single contiguous copy).
  bool is_contiguous() const {
    return spans.size() == 1 && spans[0].offset == 0 && spans[0].size == size;
  }
};

// Copies `body` into `dest` after checking its length (the fallback of stores that have no
// direct path). The error names `key` and `where` (the store) and both sizes.
Status copy_to_destination(const GetDestination& dest, const unsigned char* body, size_t size,
                           const std::string& key, const std::string& where);
// invalid_argument naming `key` when `dest` is not valid() (stores check before sending).
Status check_destination(const GetDestination& dest, const std::string& key, const std::string& where);
// The error for a body of the wrong length, shared by every store.
Status destination_size_mismatch(const GetDestination& dest, uint64_t got, const std::string& key,
                                 const std::string& where);

// For results that arrived as owned bytes although the request had a destination (stores without
// a direct path, or a server that answered differently): copies a present object's bytes into
// `dest` and returns the empty marker; failures, missing objects and dest == nullptr pass
// through unchanged.
Result<std::optional<Bytes>> deliver_to_destination(Result<std::optional<Bytes>>&& result,
                                                    const GetDestination* dest,
                                                    const std::string& key, const std::string& where);

// One request of a batch. With `dest` set the body goes there (see GetDestination); `dest` is
// borrowed and must stay valid until get_many returns.
struct GetRequest {
  std::string key;
  std::optional<ByteRange> range;
  const GetDestination* dest = nullptr;
};
struct PutRequest {
  std::string key;
  const unsigned char* data = nullptr;  // borrowed: must stay valid until put_many returns
  size_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Whole object or a range. A range starting past the end yields an empty Bytes.
  virtual Result<std::optional<Bytes>> get(const std::string& key,
                                           std::optional<ByteRange> range = std::nullopt) = 0;
  // Durable when it returns ok (local: fsync'ed rename; cloud: 200 from the server).
  virtual Status put(const std::string& key, const unsigned char* data, size_t size) = 0;
  virtual Result<std::optional<ObjectInfo>> head(const std::string& key) = 0;
  // Creates `key` only if no object has that key: kAlreadyExists (naming the key) when one does.
  // Atomic when capabilities().conditional_put; the default is HEAD + PUT (a race window).
  virtual Status put_if_absent(const std::string& key, const unsigned char* data, size_t size);
  // One page of keys starting with `prefix`. With a delimiter (normally "/"), keys containing it
  // after the prefix are rolled up into common_prefixes. Pass the previous page's next_token.
  virtual Result<ListPage> list(const std::string& prefix, const std::string& delimiter,
                                const std::string& token = "", size_t max_keys = 1000) = 0;
  // Deleting a missing key is not an error.
  virtual Status delete_many(const std::vector<std::string>& keys) = 0;

  virtual StoreCapabilities capabilities() const { return {}; }
  // "file:///root", "s3://bucket", "az://account/container": used in error messages.
  virtual std::string describe() const = 0;

  // Batch forms used by the I/O engine: all requests are issued together and may complete in any
  // order; on_done(i, ...) is called exactly once per request, possibly from another thread, and
  // get_many/put_many return only after every callback has returned. The defaults run the
  // blocking calls above on the store's executor (see set_executor) and copy into a request's
  // destination; the backends override get_many to receive straight into it (counted in
  // Stats::zero_copy_reads) and network backends use their own event loop.
  using GetDone = std::function<void(size_t index, Result<std::optional<Bytes>>&& result)>;
  using PutDone = std::function<void(size_t index, Status&& status)>;
  virtual void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done);
  virtual void put_many(const std::vector<PutRequest>& requests, const PutDone& on_done);

  // Runs `n` independent tasks, at most `parallelism` at a time, and returns after all of them.
  // Installed by the owner of the store (the connector context) to share its worker pool; when
  // unset the batch forms run serially on the calling thread.
  using Executor = std::function<void(size_t n, const std::function<void(size_t)>& task)>;
  void set_executor(Executor executor) { executor_ = std::move(executor); }

 protected:
  void run_batch(size_t n, const std::function<void(size_t)>& task) const;

 private:
  Executor executor_;
};

// Lists every key under `prefix` (no delimiter), following continuation tokens.
Result<std::vector<ObjectInfo>> list_all(ObjectStore& store, const std::string& prefix);
// Deletes every key under `prefix`. Returns the number of keys deleted.
// `keep`: one key below the prefix that survives (a file's write lock when truncating it).
Result<size_t> delete_prefix(ObjectStore& store, const std::string& prefix, const std::string& keep = "");

}  // namespace arraymorph
