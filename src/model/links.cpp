// links.cpp -- see links.hpp.
#include "model/links.hpp"

#include "model/creation_order.hpp"
#include "model/object_ids.hpp"

#include <set>

namespace arraymorph::model {
namespace {

constexpr int kMaxSoftLinks = 16;                  // HDF5's default H5Pset_nlinks
constexpr uint64_t kBatchBytes = 64ull << 20;       // bytes held in memory per copy batch
constexpr size_t kBatchKeys = 256;                  // objects per copy batch
constexpr const char* kLinksKey = "links";          // _hdf5.links of a group

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

bool inside(const std::string& path, const std::string& root) {
  return root == "/" || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                         path[root.size()] == '/');
}

std::vector<std::string> segments(const std::string& normalized) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i < normalized.size()) {
    size_t j = normalized.find('/', i);
    if (j == std::string::npos) j = normalized.size();
    out.push_back(normalized.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

const json* soft_record(const Node& group, const std::string& name) {
  if (group.kind != NodeKind::kGroup || !group.hdf5.is_object()) return nullptr;
  auto links = group.hdf5.find(kLinksKey);
  if (links == group.hdf5.end() || !links->is_object()) return nullptr;
  auto it = links->find(name);
  if (it == links->end() || !it->is_object() || it->value("type", "") != "soft") return nullptr;
  if (!it->contains("target") || !(*it)["target"].is_string()) return nullptr;
  return &*it;
}

// The soft or external link record `name` of `group`, or null.
const json* link_record(const Node& group, const std::string& name) {
  if (const json* soft = soft_record(group, name)) return soft;
  if (group.kind != NodeKind::kGroup || !group.hdf5.is_object()) return nullptr;
  auto links = group.hdf5.find(kLinksKey);
  if (links == group.hdf5.end() || !links->is_object()) return nullptr;
  auto it = links->find(name);
  if (it == links->end() || !it->is_object() || it->value("type", "") != "external") return nullptr;
  if (!it->contains("file") || !(*it)["file"].is_string() || !it->contains("path") || !(*it)["path"].is_string())
    return nullptr;
  return &*it;
}

bool is_external(const json& rec) { return rec.value("type", "") == "external"; }

Result<std::string> resolve(Hierarchy& tree, const std::string& path, bool follow_last, int& hops) {
  auto norm = normalize_path(path);
  if (!norm.ok()) return norm.status();
  const auto segs = segments(norm.value());
  std::string cur = "/";
  for (size_t i = 0; i < segs.size(); ++i) {
    const bool last = i + 1 == segs.size();
    if (!last || follow_last) {
      auto parent = tree.get(cur);
      if (!parent.ok() && parent.status().code() != Code::kNotFound) return parent.status();
      const json* rec = parent.ok() ? link_record(*parent.value(), segs[i]) : nullptr;
      if (rec && is_external(*rec)) {
        if (last) return join(cur, segs[i]);  // the link itself: the caller opens the other file
        return unsupported("the path '" + path + "' continues below the external link '" + join(cur, segs[i]) +
                           "' (only opening objects follows external links: open the linked group first)");
      }
      if (rec) {
        if (++hops > kMaxSoftLinks)
          return invalid_argument("too many soft links while resolving '" + path + "' (more than " +
                                  std::to_string(kMaxSoftLinks) + "; is there a cycle?)");
        auto target = join_path(cur, (*rec)["target"].get<std::string>());
        if (!target.ok()) return target.status().with_context("following soft link '" + join(cur, segs[i]) + "'");
        auto r = resolve(tree, target.value(), true, hops);
        if (!r.ok()) return r.status();
        cur = r.value();
        continue;
      }
    }
    cur = join(cur, segs[i]);
  }
  return cur;
}

// Makes sure the group that will hold `loc` exists (creating it with `make_parents`).
Status ensure_parent(Hierarchy& tree, const std::string& loc, bool make_parents) {
  const std::string parent = parent_path(loc);
  auto p = tree.get(parent);
  if (!p.ok()) {
    if (p.status().code() != Code::kNotFound) return p.status();
    if (!make_parents) return not_found("parent group '" + parent + "' of '" + loc + "' does not exist");
    Node g;
    g.kind = NodeKind::kGroup;
    return tree.create(parent, g, true);
  }
  if (p.value()->kind != NodeKind::kGroup)
    return invalid_argument("'" + parent + "' is a dataset; it cannot contain '" + base_name(loc) + "'");
  return ok_status();
}

// Edits the link record `name` of `group` (set, or erase when `record` is null) and writes the
// group's metadata.
Status set_link_record(Hierarchy& tree, const std::string& group, const std::string& name, const json* record) {
  auto g = tree.get(group);
  if (!g.ok()) return g.status();
  Node& node = *g.value();
  if (!node.hdf5.is_object()) node.hdf5 = json::object();
  json& links = node.hdf5[kLinksKey];
  if (!links.is_object()) links = json::object();
  if (record) {
    links[name] = *record;
    note_link_added(node, name);
  } else {
    links.erase(name);
    if (links.empty()) node.hdf5.erase(kLinksKey);
    note_link_removed(node, name);
  }
  tree.mark_dirty(group);
  Status s = tree.flush(false);
  return s.ok() ? s : s.with_context("recording link '" + join(group, name) + "'");
}

// The record of a soft or external link.
json link_record_json(const LinkInfo& link) {
  if (link.kind == LinkKind::kExternal) return {{"type", "external"}, {"file", link.file}, {"path", link.target}};
  return {{"type", "soft"}, {"target", link.target}};
}

// ------------------------------------------------------------------------------ copy plan
struct PlanNode {
  std::string rel;  // "" for the copied object itself, "/a/b" below it
  Node node;
};
struct KeyCopy {
  size_t plan_index;   // node the object belongs to
  std::string from;    // source key
  std::string suffix;  // key below the node's prefix ("/c/0/1")
  uint64_t size;
};

struct Planner {
  Hierarchy& src;
  const CopyOptions& opts;
  std::vector<PlanNode> nodes;
  std::vector<KeyCopy> keys;
  std::set<std::string> stack;  // object paths being walked (cycles through expanded soft links)

  Status walk(const std::string& path, const std::string& rel, int depth) {
    auto got = src.get(path);
    if (!got.ok()) return got.status();
    const size_t index = nodes.size();
    nodes.push_back({rel, *got.value()});
    Node& n = nodes.back().node;
    n.consolidated.reset();
    if (opts.without_attrs) {
      n.attributes = json::object();
      if (n.hdf5.is_object()) {
        n.hdf5.erase("attributes");
        n.hdf5.erase("attribute_order");
      }
    }
    if (n.kind == NodeKind::kDatatype) return ok_status();  // metadata only
    if (n.kind == NodeKind::kArray) {
      const std::string prefix = src.key_prefix(path);
      auto objs = list_all(src.store(), prefix + "/");
      if (!objs.ok()) return objs.status().with_context("listing the chunks of '" + path + "'");
      for (const auto& o : objs.value()) {
        std::string suffix = o.key.substr(prefix.size());
        if (suffix == "/zarr.json") continue;  // written from the (possibly newer) in-memory node
        keys.push_back({index, o.key, std::move(suffix), o.size});
      }
      return ok_status();
    }
    if (opts.shallow && depth >= 1) {  // a member group of a shallow copy: copied empty
      if (n.hdf5.is_object()) n.hdf5.erase(kLinksKey);
      return ok_status();
    }
    stack.insert(path);
    auto names = link_names(src, path);
    if (!names.ok()) return names.status();
    const Node group = *got.value();
    for (const auto& name : names.value()) {
      const std::string child = join(path, name);
      const std::string child_rel = rel + "/" + name;
      const json* rec = link_record(group, name);
      Status s;
      if (rec && is_external(*rec)) continue;  // copied as its record, with the group
      if (!rec) {
        s = walk(child, child_rel, depth + 1);
      } else if (opts.expand_soft) {
        auto target = resolve_object(src, child);
        if (!target.ok()) return target.status();
        auto ex = src.exists(target.value());
        if (!ex.ok()) return ex.status();
        if (ex.value() && !stack.count(target.value())) {  // else stays a soft link
          nodes[index].node.hdf5[kLinksKey].erase(name);
          s = walk(target.value(), child_rel, depth + 1);
        }
      }
      if (!s.ok()) return s;
    }
    if (nodes[index].node.hdf5.is_object() && nodes[index].node.hdf5.contains(kLinksKey) &&
        nodes[index].node.hdf5[kLinksKey].empty())
      nodes[index].node.hdf5.erase(kLinksKey);
    stack.erase(path);
    return ok_status();
  }
};

// GETs from one store and PUTs into another, in parallel batches bounded in bytes.
Status copy_keys(ObjectStore& from, ObjectStore& to, const std::vector<KeyCopy>& keys,
                 const std::vector<std::string>& dst_keys) {
  size_t i = 0;
  while (i < keys.size()) {
    size_t j = i;
    uint64_t bytes = 0;
    while (j < keys.size() && (j == i || (bytes + keys[j].size <= kBatchBytes && j - i < kBatchKeys))) {
      bytes += keys[j].size;
      ++j;
    }
    std::vector<GetRequest> gets;
    for (size_t k = i; k < j; ++k) gets.push_back({keys[k].from, std::nullopt});
    std::vector<Result<std::optional<Bytes>>> got(gets.size(), Result<std::optional<Bytes>>(std::nullopt));
    from.get_many(gets, [&](size_t k, Result<std::optional<Bytes>>&& r) { got[k] = std::move(r); });
    std::vector<PutRequest> puts;
    for (size_t k = 0; k < gets.size(); ++k) {
      if (!got[k].ok()) return got[k].status().with_context("reading '" + gets[k].key + "' to copy it");
      if (!got[k].value()) continue;  // vanished meanwhile: nothing to copy
      const Bytes& b = *got[k].value();
      puts.push_back({dst_keys[i + k], b.data(), b.size()});
    }
    Status first;
    to.put_many(puts, [&](size_t k, Status&& st) {
      if (!st.ok() && first.ok()) first = st.with_context("writing '" + puts[k].key + "'");
    });
    if (!first.ok()) return first;
    i = j;
  }
  return ok_status();
}

}  // namespace

std::map<std::string, std::string> soft_links_of(const Node& group) {
  std::map<std::string, std::string> out;
  if (group.kind != NodeKind::kGroup || !group.hdf5.is_object()) return out;
  auto links = group.hdf5.find(kLinksKey);
  if (links == group.hdf5.end() || !links->is_object()) return out;
  for (auto it = links->begin(); it != links->end(); ++it)
    if (soft_record(group, it.key())) out[it.key()] = (*it)["target"].get<std::string>();
  return out;
}

Result<std::string> link_location(Hierarchy& tree, const std::string& path) {
  int hops = 0;
  return resolve(tree, path, false, hops);
}

Result<std::string> resolve_object(Hierarchy& tree, const std::string& path) {
  int hops = 0;
  return resolve(tree, path, true, hops);
}

Result<LinkInfo> link_info(Hierarchy& tree, const std::string& loc) {
  LinkInfo info;
  if (loc == "/") {
    info.kind = LinkKind::kHard;
    return info;
  }
  auto parent = tree.get(parent_path(loc));
  if (!parent.ok()) {
    if (parent.status().code() == Code::kNotFound) return info;
    return parent.status();
  }
  if (parent.value()->kind != NodeKind::kGroup) return info;
  if (const json* rec = link_record(*parent.value(), base_name(loc))) {
    if (is_external(*rec)) {
      info.kind = LinkKind::kExternal;
      info.file = (*rec)["file"].get<std::string>();
      info.target = (*rec)["path"].get<std::string>();
    } else {
      info.kind = LinkKind::kSoft;
      info.target = (*rec)["target"].get<std::string>();
    }
    return info;
  }
  auto ex = tree.exists(loc);
  if (!ex.ok()) return ex.status();
  if (ex.value()) info.kind = LinkKind::kHard;
  return info;
}

Result<std::vector<std::string>> link_names(Hierarchy& tree, const std::string& group, LinkOrder order) {
  auto kids = tree.children(group);
  if (!kids.ok()) return kids.status();
  auto node = tree.get(group);
  if (!node.ok()) return node.status();
  std::set<std::string> names(kids.value().begin(), kids.value().end());
  const Node& g = *node.value();
  if (g.hdf5.is_object() && g.hdf5.contains(kLinksKey) && g.hdf5[kLinksKey].is_object())
    for (auto it = g.hdf5[kLinksKey].begin(); it != g.hdf5[kLinksKey].end(); ++it)
      if (link_record(g, it.key())) names.insert(it.key());
  std::vector<std::string> sorted(names.begin(), names.end());
  if (order == LinkOrder::kCreation) return in_creation_order(*node.value(), sorted);
  return sorted;
}

namespace {
// Records the soft or external link `rec` at the free name `loc` (`what` names its kind).
Status add_link_record(Hierarchy& tree, const std::string& loc, const json& rec, const char* what, bool make_parents) {
  if (loc == "/") return Status(Code::kAlreadyExists, "the root group always exists");
  Status s = ensure_parent(tree, loc, make_parents);
  if (!s.ok()) return s;
  auto info = link_info(tree, loc);
  if (!info.ok()) return info.status();
  if (info.value().kind != LinkKind::kNone)
    return Status(Code::kAlreadyExists,
                  std::string("cannot create ") + what + " '" + loc + "': an object with that name already exists");
  return set_link_record(tree, parent_path(loc), base_name(loc), &rec);
}
}  // namespace

Status create_soft_link(Hierarchy& tree, const std::string& loc, const std::string& target, bool make_parents) {
  if (target.empty()) return invalid_argument("soft link '" + loc + "' needs a non-empty target path");
  return add_link_record(tree, loc, {{"type", "soft"}, {"target", target}}, "soft link", make_parents);
}

Status create_external_link(Hierarchy& tree, const std::string& loc, const std::string& file, const std::string& path,
                            bool make_parents) {
  if (file.empty()) return invalid_argument("external link '" + loc + "' needs a target file name");
  if (path.empty()) return invalid_argument("external link '" + loc + "' needs a target object path");
  return add_link_record(tree, loc, {{"type", "external"}, {"file", file}, {"path", path}}, "external link",
                         make_parents);
}

Status delete_link(Hierarchy& tree, const std::string& loc) {
  auto info = link_info(tree, loc);
  if (!info.ok()) return info.status();
  switch (info.value().kind) {
    case LinkKind::kNone: return not_found("link '" + loc + "' does not exist");
    case LinkKind::kSoft:
    case LinkKind::kExternal: return set_link_record(tree, parent_path(loc), base_name(loc), nullptr);
    case LinkKind::kHard: return tree.remove(loc);
  }
  return ok_status();
}

Status move_link(Hierarchy& tree, const std::string& src, const std::string& dst, bool make_parents) {
  if (src == dst) return ok_status();
  if (src == "/") return invalid_argument("the root group cannot be moved");
  auto from = link_info(tree, src);
  if (!from.ok()) return from.status();
  if (from.value().kind == LinkKind::kNone) return not_found("cannot move '" + src + "': it does not exist");
  auto to = link_info(tree, dst);
  if (!to.ok()) return to.status();
  if (to.value().kind != LinkKind::kNone)
    return Status(Code::kAlreadyExists,
                  "cannot move '" + src + "' to '" + dst + "': an object with that name already exists");
  if (from.value().kind == LinkKind::kSoft || from.value().kind == LinkKind::kExternal) {
    Status s = ensure_parent(tree, dst, make_parents);
    if (!s.ok()) return s;
    const json rec = link_record_json(from.value());
    s = set_link_record(tree, parent_path(dst), base_name(dst), &rec);
    if (!s.ok()) return s;
    return set_link_record(tree, parent_path(src), base_name(src), nullptr);
  }
  if (inside(dst, src)) return invalid_argument("cannot move group '" + src + "' into itself ('" + dst + "')");
  CopyOptions keep;
  keep.keep_ids = true;
  Status s = copy_object(tree, src, tree, dst, make_parents, keep);
  if (!s.ok()) return s.with_context("moving '" + src + "' to '" + dst + "'");
  s = tree.remove(src);
  return s.ok() ? s : s.with_context("removing '" + src + "' after copying it to '" + dst + "'");
}

Status copy_object(Hierarchy& src, const std::string& src_path, Hierarchy& dst, const std::string& dst_loc,
                   bool make_parents, const CopyOptions& options) {
  if (dst_loc == "/") return Status(Code::kAlreadyExists, "cannot copy onto the root group: it already exists");
  auto to = link_info(dst, dst_loc);
  if (!to.ok()) return to.status();
  if (to.value().kind != LinkKind::kNone)
    return Status(Code::kAlreadyExists, "cannot copy '" + src_path + "' to '" + dst_loc +
                                            "': destination object already exists");
  // Plan first (a snapshot of the source), so copying a group into its own subtree terminates.
  Planner plan{src, options, {}, {}, {}};
  Status s = plan.walk(src_path, "", 0);
  if (!s.ok()) return s;
  s = ensure_parent(dst, dst_loc, make_parents);
  if (!s.ok()) return s;
  // Chunks first, metadata last: an interrupted copy leaves no node pointing at missing data.
  std::vector<std::string> dst_keys;
  dst_keys.reserve(plan.keys.size());
  for (const auto& k : plan.keys) dst_keys.push_back(dst.key_prefix(dst_loc + plan.nodes[k.plan_index].rel) + k.suffix);
  s = copy_keys(src.store(), dst.store(), plan.keys, dst_keys);
  if (!s.ok()) return s.with_context("copying '" + src_path + "' to '" + dst_loc + "'");
  for (auto& n : plan.nodes) {
    const std::string path = dst_loc + n.rel;
    if (!options.keep_ids) clear_object_id(n.node);  // a copy is a new object
    s = dst.create(path, std::move(n.node), false);
    if (!s.ok()) return s.with_context("copying '" + src_path + "' to '" + dst_loc + "'");
  }
  return ok_status();
}

}  // namespace arraymorph::model
