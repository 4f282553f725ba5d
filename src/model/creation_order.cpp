// creation_order.cpp -- see creation_order.hpp.
#include "model/creation_order.hpp"

#include <algorithm>
#include <set>

namespace arraymorph::model {
namespace {

constexpr const char* kFlagsKey = "link_creation_order";
constexpr const char* kOrderKey = "link_order";
constexpr unsigned kTracked = 0x1;  // H5P_CRT_ORDER_TRACKED
constexpr unsigned kIndexed = 0x2;  // H5P_CRT_ORDER_INDEXED

// The recorded names; an absent or malformed list reads as empty (never a crash on bad input).
std::vector<std::string> recorded(const Node& group) {
  std::vector<std::string> out;
  if (!group.hdf5.is_object()) return out;
  auto it = group.hdf5.find(kOrderKey);
  if (it == group.hdf5.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

unsigned link_order_flags(const Node& group) {
  if (group.kind != NodeKind::kGroup || !group.hdf5.is_object()) return 0;
  auto it = group.hdf5.find(kFlagsKey);
  if (it == group.hdf5.end() || !it->is_number_unsigned()) return 0;
  return it->get<unsigned>() & (kTracked | kIndexed);
}

void set_link_order_flags(Node& group, unsigned flags) {
  flags &= kTracked | kIndexed;
  if (!group.hdf5.is_object()) group.hdf5 = json::object();
  if (flags) {
    group.hdf5[kFlagsKey] = flags;
    if (!group.hdf5.contains(kOrderKey)) group.hdf5[kOrderKey] = json::array();
  } else {
    group.hdf5.erase(kFlagsKey);
    group.hdf5.erase(kOrderKey);
  }
}

bool tracks_link_order(const Node& group) { return (link_order_flags(group) & kTracked) != 0; }

bool note_link_added(Node& group, const std::string& name) {
  if (!tracks_link_order(group)) return false;
  json& list = group.hdf5[kOrderKey];
  if (!list.is_array()) list = json::array();
  for (const auto& v : list)
    if (v.is_string() && v.get<std::string>() == name) return false;
  list.push_back(name);
  return true;
}

bool note_link_removed(Node& group, const std::string& name) {
  if (!group.hdf5.is_object()) return false;
  auto it = group.hdf5.find(kOrderKey);
  if (it == group.hdf5.end() || !it->is_array()) return false;
  const size_t before = it->size();
  json kept = json::array();
  for (const auto& v : *it)
    if (!(v.is_string() && v.get<std::string>() == name)) kept.push_back(v);
  *it = std::move(kept);
  return it->size() != before;
}

std::vector<std::string> in_creation_order(const Node& group, const std::vector<std::string>& names) {
  std::set<std::string> present(names.begin(), names.end());
  std::vector<std::string> out;
  std::set<std::string> listed;
  for (const auto& n : recorded(group))
    if (present.count(n) && listed.insert(n).second) out.push_back(n);
  std::vector<std::string> rest;
  for (const auto& n : present)
    if (!listed.count(n)) rest.push_back(n);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

long long creation_index(const Node& group, const std::string& name) {
  const auto r = recorded(group);
  auto it = std::find(r.begin(), r.end(), name);
  return it == r.end() ? -1 : static_cast<long long>(it - r.begin());
}

long long max_creation_index(const Node& group) { return static_cast<long long>(recorded(group).size()); }

}  // namespace arraymorph::model
