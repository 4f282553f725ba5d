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

void sync_after_move(FileShared& f, const std::string& path) {
  if (!f.writable()) return;
  bool changed = false;
  std::set<std::string> attached;  // datasets that scales in the subtree are attached to
  std::vector<std::string> stack{path};
  while (!stack.empty()) {
    const std::string p = stack.back();
    stack.pop_back();
    auto node = check(f.tree->get(p));
    if (node->kind == model::NodeKind::kGroup) {
      for (const auto& k : check(f.tree->children(p))) stack.push_back(p == "/" ? "/" + k : p + "/" + k);
      continue;
    }
    changed = sync_dimension_names(f, p) || changed;
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
  for (const auto& p : attached) changed = sync_dimension_names(f, p) || changed;
  if (changed) check(f.tree->flush(false));
}

}  // namespace arraymorph::vol
