// dimension_sync.cpp -- see dimension_sync.hpp.
#include "vol/dimension_sync.hpp"

#include <optional>
#include <set>
#include <vector>

#include "model/dimension_names.hpp"
#include "model/links.hpp"
#include "model/hierarchy.hpp"

namespace arraymorph::vol {

bool affects_dimension_names(const std::string& attribute) {
  return attribute == "DIMENSION_LIST" || attribute == "DIMENSION_LABELS" || attribute == "CLASS";
}

bool sync_dimension_names(FileShared& f, const std::string& path) {
  auto node = check(f.tree->get(path));
  if (!node->array) return false;
  auto names = model::dimension_names(*node, model::base_name(path), [&f](uint64_t id) -> std::optional<std::string> {
    try {
      return model::base_name(f.path_for_id(id));
    } catch (const Error&) {
      return std::nullopt;  // a dangling reference names no dimension
    }
  });
  if (names == node->array->dimension_names) return false;
  node->array->dimension_names = std::move(names);
  if (f.writable()) f.tree->mark_dirty(path);
  return true;
}

std::set<std::string> arrays_attached_to_scales_in(FileShared& f, const std::string& path) {
  std::set<std::string> attached;
  std::vector<std::string> stack{path};
  while (!stack.empty()) {
    const std::string p = stack.back();
    stack.pop_back();
    auto node = check(f.tree->get(p));
    if (node->kind == model::NodeKind::kGroup) {
      for (const auto& k : check(f.tree->children(p))) stack.push_back(p == "/" ? "/" + k : p + "/" + k);
      continue;
    }
    auto refs = node->attributes.is_object() ? node->attributes.find("REFERENCE_LIST") : node->attributes.end();
    if (refs == node->attributes.end() || !refs->is_array()) continue;
    for (const auto& entry : *refs) {
      const model::json* ds = entry.is_object() && entry.contains("dataset") ? &entry["dataset"] : nullptr;
      if (!ds || !ds->is_string() || ds->get<std::string>().size() != 16) continue;
      try {
        attached.insert(f.path_for_id(std::stoull(ds->get<std::string>(), nullptr, 16)));
      } catch (const std::exception&) {
        // a dangling or malformed entry names no dataset
      }
    }
  }
  return attached;
}

void sync_arrays(FileShared& f, const std::set<std::string>& paths) {
  if (!f.writable()) return;
  bool changed = false;
  for (const auto& p : paths)
    if (f.tree->get(p).ok()) changed = sync_dimension_names(f, p) || changed;  // gone with a deleted subtree
  if (changed) check(f.tree->flush(false));
}

void sync_after_move(FileShared& f, const std::string& path) {
  if (!f.writable()) return;
  std::set<std::string> paths = arrays_attached_to_scales_in(f, path);
  // The arrays of the subtree too: a scale names its own dimension.
  std::vector<std::string> stack{path};
  while (!stack.empty()) {
    const std::string p = stack.back();
    stack.pop_back();
    auto node = check(f.tree->get(p));
    if (node->kind != model::NodeKind::kGroup) {
      if (node->kind == model::NodeKind::kArray) paths.insert(p);
      continue;
    }
    for (const auto& k : check(f.tree->children(p))) stack.push_back(p == "/" ? "/" + k : p + "/" + k);
  }
  sync_arrays(f, paths);
}

}  // namespace arraymorph::vol
