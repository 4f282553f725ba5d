// hierarchy.cpp -- see hierarchy.hpp.
#include "model/hierarchy.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "model/chunk_key.hpp"
#include "model/creation_order.hpp"
#include "model/object_ids.hpp"
#include "model/write_lock.hpp"

namespace arraymorph::model {

Result<std::string> normalize_path(const std::string& path) {
  if (path.find('\0') != std::string::npos)
    return invalid_argument("path '" + path.substr(0, path.find('\0')) + "\\0...' contains a NUL byte");
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    if (seg == "..") return invalid_argument("path '" + path + "' contains '..', which HDF5 does not allow");
    if (!seg.empty() && seg != ".") out += "/" + seg;
    i = j + 1;
  }
  return out.empty() ? std::string("/") : out;
}

Result<std::string> join_path(const std::string& base, const std::string& name) {
  if (!name.empty() && name[0] == '/') return normalize_path(name);
  // An anonymous object (H5Gcreate_anon/H5Dcreate_anon, not linked yet) has no path to start from.
  if (base.empty())
    return unsupported("the relative name '" + name + "' from an anonymous object (H5Gcreate_anon/H5Dcreate_anon) "
                       "before H5Olink gives it a name");
  return normalize_path(base + "/" + name);
}

std::string parent_path(const std::string& path) {
  size_t k = path.rfind('/');
  if (k == 0 || k == std::string::npos) return "/";
  return path.substr(0, k);
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

Hierarchy::Hierarchy(std::shared_ptr<ObjectStore> store, std::string file_key)
    : store_(std::move(store)), file_key_(std::move(file_key)) {}

std::string Hierarchy::key_prefix(const std::string& path) const { return node_prefix(file_key_, path); }

Result<bool> Hierarchy::file_exists() {
  auto h = store_->head(metadata_key(file_key_));
  if (!h.ok()) return h.status();
  return h.value().has_value();
}

Status Hierarchy::open() {
  auto root = load("/");
  if (!root.ok()) return root.status();
  if (!root.value()) {
    return not_found("file '" + file_key_ + "' does not exist in " + store_->describe() + " (no '" +
                     metadata_key(file_key_) + "'; errno = 2)");
  }
  if (root.value()->kind != NodeKind::kGroup)
    return Status(Code::kIo, "'" + file_key_ + "' is a Zarr array, not a group; it cannot be opened as a file");
  if (root.value()->consolidated && root.value()->consolidated->is_object()) {
    // One GET for the whole tree: fill every entry from the inline consolidated metadata.
    for (auto it = root.value()->consolidated->begin(); it != root.value()->consolidated->end(); ++it) {
      auto path = normalize_path("/" + it.key());
      if (!path.ok()) continue;
      auto node = from_zarr_json(it.value(), metadata_key(key_prefix(path.value())));
      if (!node.ok()) {
        AM_LOG(kWarning, "commit", "ignoring the consolidated metadata of '" << file_key_ << "': "
                                       << node.status().message() << "; reading per-node metadata");
        entries_.clear();  // stale or foreign: fall back to per-node metadata
        entries_["/"].node = root.value();
        complete_ = false;
        return ok_status();
      }
      entries_[path.value()].node = std::make_shared<Node>(std::move(node).value());
    }
    for (auto& kv : entries_) kv.second.kids.emplace();
    for (auto& kv : entries_) {
      if (kv.first == "/" ) continue;
      entries_[parent_path(kv.first)].kids->insert(base_name(kv.first));
    }
    complete_ = true;
    consolidated_stored_ = true;
    AM_LOG(kDebug, "commit", file_key_ << ": opened from consolidated metadata (" << entries_.size() << " nodes)");
  } else {
    AM_LOG(kDebug, "commit", file_key_ << ": no consolidated metadata; reading per-node metadata");
  }
  return ok_status();
}

Status Hierarchy::create_truncate() {
  // The write lock (model/write_lock.hpp), taken before truncating, survives it.
  auto removed = delete_prefix(*store_, file_key_ + "/", lock_key(file_key_));
  if (!removed.ok()) return removed.status().with_context("removing the old contents of '" + file_key_ + "'");
  entries_.clear();
  dirty_.clear();
  Node root;
  root.kind = NodeKind::kGroup;
  assign_object_id(root);
  Status s = write_node("/", root);
  if (!s.ok()) return s;
  entries_["/"] = Entry{std::make_shared<Node>(root), Status(), std::set<std::string>()};
  complete_ = true;
  authoritative_ = true;
  modified_ = true;
  consolidated_stored_ = false;
  return ok_status();
}

Status Hierarchy::begin_change() {
  if (!consolidated_stored_) return ok_status();
  // Commit protocol step 1 (docs/format.md): the consolidated copy leaves the store before any
  // per-node document or object changes, so a crash from here on leaves readers on the per-node
  // documents (the truth) instead of a stale copy.
  auto root = get("/");
  if (!root.ok()) return root.status();
  Node copy = *root.value();
  copy.consolidated.reset();
  Status s = write_node("/", copy);
  if (!s.ok()) return s.with_context("withdrawing the consolidated metadata of '" + file_key_ + "' before a change");
  root.value()->consolidated.reset();
  consolidated_stored_ = false;
  AM_LOG(kDebug, "commit", file_key_ << ": consolidated metadata withdrawn before the first change");
  return ok_status();
}

Status Hierarchy::write_node(const std::string& path, const Node& node) {
  const std::string text = to_zarr_json(node).dump(2);
  return store_->put(metadata_key(key_prefix(path)), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size());
}

// Returns the node, or a null pointer when absent.
Result<std::shared_ptr<Node>> Hierarchy::load(const std::string& path) {
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    if (!it->second.error.ok()) return it->second.error;
    return it->second.node;
  }
  if (complete_ && authoritative_) return std::shared_ptr<Node>();
  const std::string key = metadata_key(key_prefix(path));
  auto got = store_->get(key);
  if (!got.ok()) return got.status();
  std::shared_ptr<Node> node;
  if (got.value()) {
    std::string text(got.value()->begin(), got.value()->end());
    auto parsed = parse_zarr_json(text, key);
    if (!parsed.ok()) return parsed.status();
    node = std::make_shared<Node>(std::move(parsed).value());
  }
  entries_[path].node = node;
  if (node && path != "/" && complete_) {
    // The node exists but the consolidated copy did not list it: that copy is stale (written by a
    // tool that does not follow the commit protocol). Trust none of its listings from now on, so
    // what a listing shows never depends on which names were looked up before.
    AM_LOG(kWarning, "commit", "consolidated metadata of '" << file_key_ << "' is stale (it lacks '" << path
                                   << "'); listing groups from the store");
    complete_ = false;
    for (auto& kv : entries_) kv.second.kids.reset();
  }
  return node;
}

Status Hierarchy::reload(const std::string& path) {
  if (dirty_.count(path)) return Status();
  const std::string key = metadata_key(key_prefix(path));
  auto got = store_->get(key);
  if (!got.ok()) return got.status();
  if (!got.value()) return not_found("object '" + path + "' no longer exists in file '" + file_key_ + "'");
  auto parsed = parse_zarr_json(std::string(got.value()->begin(), got.value()->end()), key);
  if (!parsed.ok()) return parsed.status();
  Entry& e = entries_[path];
  if (e.node && e.node->kind != parsed.value().kind)
    return io_error("object '" + path + "' changed between group and dataset since it was opened");
  if (e.node)
    *e.node = std::move(parsed).value();
  else
    e.node = std::make_shared<Node>(std::move(parsed).value());
  e.error = Status();
  return Status();
}

Result<std::shared_ptr<Node>> Hierarchy::get(const std::string& path) {
  // Walk from the root so a path through a dataset ("/d/x") is "not found", as in HDF5.
  if (path != "/") {
    auto parent = get(parent_path(path));
    if (!parent.ok()) return parent.status();
    if (parent.value()->kind != NodeKind::kGroup)
      return not_found("'" + parent_path(path) + "' is a dataset, not a group, so '" + path + "' does not exist");
  }
  auto node = load(path);
  if (!node.ok()) return node.status();
  if (!node.value()) return not_found("object '" + path + "' does not exist in file '" + file_key_ + "'");
  return node;
}

Result<bool> Hierarchy::exists(const std::string& path) {
  auto n = get(path);
  if (n.ok()) return true;
  if (n.status().code() == Code::kNotFound) return false;
  return n.status();
}

Result<std::vector<std::string>> Hierarchy::children(const std::string& path) {
  auto node = get(path);
  if (!node.ok()) return node.status();
  if (node.value()->kind != NodeKind::kGroup) return invalid_argument("'" + path + "' is not a group");
  Entry& e = entries_[path];
  if (!e.kids) {
    std::set<std::string> kids;
    const std::string prefix = key_prefix(path) + "/";
    std::vector<std::string> candidates;
    std::string token;
    do {
      auto page = store_->list(prefix, "/", token);
      if (!page.ok()) return page.status().with_context("listing group '" + path + "'");
      for (const auto& cp : page.value().common_prefixes) {
        std::string name = cp.substr(prefix.size());
        if (!name.empty() && name.back() == '/') name.pop_back();
        if (name.empty()) continue;
        if (name == "." || name == ".." || name.find('\0') != std::string::npos) {
          // HDF5 names cannot hold these (a NUL would list as two names, '..' escapes the group).
          AM_LOG(kWarning, "file", "ignoring key prefix '" << prefix << name.substr(0, name.find('\0'))
                                       << "': its name is not a valid HDF5 link name");
          continue;
        }
        candidates.push_back(name);
      }
      token = page.value().next_token;
    } while (!token.empty());
    // A child is a node only if it has zarr.json; fetch them together (we need them next anyway).
    std::vector<GetRequest> reqs;
    std::vector<std::string> todo;
    for (const auto& name : candidates) {
      std::string child = path == "/" ? "/" + name : path + "/" + name;
      auto it = entries_.find(child);
      if (it != entries_.end()) {
        if (it->second.node || !it->second.error.ok()) kids.insert(name);
        continue;
      }
      reqs.push_back({metadata_key(key_prefix(child)), std::nullopt});
      todo.push_back(child);
    }
    std::vector<Result<std::optional<Bytes>>> results(reqs.size(), Result<std::optional<Bytes>>(std::nullopt));
    store_->get_many(reqs, [&](size_t i, Result<std::optional<Bytes>>&& r) { results[i] = std::move(r); });
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (!results[i].ok()) return results[i].status();
      std::shared_ptr<Node> n;
      if (results[i].value()) {
        std::string text(results[i].value()->begin(), results[i].value()->end());
        auto parsed = parse_zarr_json(text, reqs[i].key);
        kids.insert(base_name(todo[i]));
        if (!parsed.ok()) {
          // One corrupt document must not hide its siblings: the name is listed, and opening it
          // reports the error naming its key.
          AM_LOG(kWarning, "file", parsed.status().message());
          entries_[todo[i]].error = parsed.status();
          continue;
        }
        n = std::make_shared<Node>(std::move(parsed).value());
      }
      entries_[todo[i]].node = n;
    }
    entries_[path].kids = std::move(kids);
  }
  const auto& k = *entries_[path].kids;
  return std::vector<std::string>(k.begin(), k.end());
}

Status Hierarchy::create(const std::string& path, Node node, bool make_parents) {
  if (path == "/") return Status(Code::kAlreadyExists, "the root group always exists");
  if (path == "/" + base_name(lock_key(file_key_)))
    return invalid_argument("'" + path + "' is reserved for arraymorph's write lock");
  const std::string parent = parent_path(path);
  auto p = get(parent);
  if (!p.ok()) {
    if (p.status().code() != Code::kNotFound || !make_parents) {
      if (p.status().code() == Code::kNotFound)
        return not_found("parent group '" + parent + "' of '" + path + "' does not exist");
      return p.status();
    }
    Node g;
    g.kind = NodeKind::kGroup;
    Status s = create(parent, g, true);
    if (!s.ok()) return s;
    p = get(parent);
    if (!p.ok()) return p.status();
  }
  if (p.value()->kind != NodeKind::kGroup)
    return invalid_argument("'" + parent + "' is a dataset; it cannot contain '" + base_name(path) + "'");
  auto ex = load(path);
  if (!ex.ok()) return ex.status();
  if (ex.value()) return Status(Code::kAlreadyExists, "object '" + path + "' already exists");
  if (!object_id(node)) assign_object_id(node);  // model/object_ids.hpp
  Status s = begin_change();
  if (!s.ok()) return s;
  s = write_node(path, node);
  if (!s.ok()) return s;
  Entry e;
  e.node = std::make_shared<Node>(std::move(node));
  if (e.node->kind == NodeKind::kGroup) e.kids.emplace();
  entries_[path] = std::move(e);
  if (entries_[parent].kids) entries_[parent].kids->insert(base_name(path));
  if (note_link_added(*p.value(), base_name(path))) mark_dirty(parent);
  modified_ = true;
  return ok_status();
}

Status Hierarchy::remove(const std::string& path) {
  if (path == "/") return invalid_argument("the root group cannot be deleted");
  auto n = get(path);
  if (!n.ok()) return n.status();
  Status s = begin_change();
  if (!s.ok()) return s;
  auto removed = delete_prefix(*store_, key_prefix(path) + "/");
  if (!removed.ok()) return removed.status().with_context("deleting '" + path + "'");
  // Forget the node and everything below it.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const std::string& k = it->first;
    if (k == path || (k.size() > path.size() && k.compare(0, path.size(), path) == 0 && k[path.size()] == '/')) {
      dirty_.erase(k);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  entries_[path].node = nullptr;
  auto pit = entries_.find(parent_path(path));
  if (pit != entries_.end() && pit->second.kids) pit->second.kids->erase(base_name(path));
  if (pit != entries_.end() && pit->second.node && note_link_removed(*pit->second.node, base_name(path)))
    mark_dirty(parent_path(path));
  modified_ = true;
  return ok_status();
}

void Hierarchy::mark_dirty(const std::string& path) {
  dirty_.insert(path);
  modified_ = true;
}

Status Hierarchy::load_all() {
  std::vector<std::string> stack{"/"};
  while (!stack.empty()) {
    std::string p = stack.back();
    stack.pop_back();
    auto node = get(p);
    if (!node.ok()) return node.status();
    if (node.value()->kind != NodeKind::kGroup) continue;
    auto kids = children(p);
    if (!kids.ok()) return kids.status();
    for (const auto& k : kids.value()) stack.push_back(p == "/" ? "/" + k : p + "/" + k);
  }
  complete_ = true;
  return ok_status();
}

Status Hierarchy::flush(bool consolidate) {
  bool nodes_dirty = false;
  for (const auto& path : dirty_) nodes_dirty = nodes_dirty || path != "/";
  if (nodes_dirty) {
    Status s = begin_change();
    if (!s.ok()) return s;
  }
  for (const auto& path : dirty_) {
    auto it = entries_.find(path);
    if (it == entries_.end() || !it->second.node || path == "/") continue;
    Status s = write_node(path, *it->second.node);
    if (!s.ok()) return s.with_context("writing metadata of '" + path + "'");
    AM_LOG(kDebug, "commit", file_key_ << ": wrote metadata of '" << path << "'");
  }
  bool root_dirty = dirty_.count("/") > 0;
  dirty_.clear();  // (a failure above returned with the nodes still dirty, so a retry writes them)
  if (!consolidate && !root_dirty) return ok_status();
  auto root = get("/");
  if (!root.ok()) return root.status();
  if (consolidate) {
    if (!complete_) {
      Status s = load_all();
      if (!s.ok()) return s;
    }
    json meta = json::object();
    for (const auto& kv : entries_) {
      if (kv.first == "/" || !kv.second.node) continue;
      Node copy = *kv.second.node;
      copy.consolidated.reset();
      meta[kv.first.substr(1)] = to_zarr_json(copy);
    }
    root.value()->consolidated = meta;
  } else {
    root.value()->consolidated.reset();  // never write back a copy that was not just rebuilt
  }
  // Commit point: the root document, with the consolidated copy when it was rebuilt, is written
  // after every per-node document it describes.
  Status s = write_node("/", *root.value());
  if (!s.ok()) {
    dirty_.insert("/");
    return s.with_context("writing the root metadata of '" + file_key_ + "'");
  }
  consolidated_stored_ = consolidate;
  AM_LOG(kDebug, "commit", file_key_ << ": root zarr.json written"
                               << (consolidate ? " with consolidated metadata" : ""));
  if (consolidate) modified_ = false;
  return s;
}

}  // namespace arraymorph::model
