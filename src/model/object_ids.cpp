// object_ids.cpp -- see object_ids.hpp.
#include "model/object_ids.hpp"

#include <cstdio>
#include <random>

namespace arraymorph::model {
namespace {

constexpr const char* kIdKey = "id";
constexpr const char* kRegionsKey = "regions";
constexpr uint64_t kDerivedBit = 1ull << 63;

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t random_id() {
  // One generator per thread, seeded from the OS: ids of different processes and files differ.
  thread_local std::mt19937_64 gen{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  uint64_t v = 0;
  while (v == 0) v = gen() & ~kDerivedBit;
  return v;
}

}  // namespace

std::optional<uint64_t> object_id(const Node& node) {
  if (!node.hdf5.is_object()) return std::nullopt;
  auto it = node.hdf5.find(kIdKey);
  if (it == node.hdf5.end() || !it->is_string()) return std::nullopt;
  const std::string s = it->get<std::string>();
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  const uint64_t v = std::stoull(s, nullptr, 16);
  if (v == 0) return std::nullopt;
  return v;
}

uint64_t assign_object_id(Node& node) {
  if (!node.hdf5.is_object()) node.hdf5 = json::object();
  const uint64_t v = random_id();
  node.hdf5[kIdKey] = hex16(v);
  return v;
}

void clear_object_id(Node& node) {
  if (node.hdf5.is_object()) node.hdf5.erase(kIdKey);
}

uint64_t path_derived_id(const std::string& path) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : path) h = (h ^ c) * 1099511628211ull;
  return h | kDerivedBit;
}

uint32_t region_index(Node& dataset, const std::string& encoded, bool* changed) {
  if (changed) *changed = false;
  if (!dataset.hdf5.is_object()) dataset.hdf5 = json::object();
  json& list = dataset.hdf5[kRegionsKey];
  if (!list.is_array()) list = json::array();
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i].is_string() && list[i].get<std::string>() == encoded) return static_cast<uint32_t>(i);
  list.push_back(encoded);
  if (changed) *changed = true;
  return static_cast<uint32_t>(list.size() - 1);
}

Result<std::string> region_at(const Node& dataset, uint32_t index) {
  if (dataset.hdf5.is_object()) {
    auto it = dataset.hdf5.find(kRegionsKey);
    if (it != dataset.hdf5.end() && it->is_array() && index < it->size() && (*it)[index].is_string())
      return (*it)[index].get<std::string>();
  }
  return not_found("region reference #" + std::to_string(index) + " is not recorded on its dataset");
}

}  // namespace arraymorph::model
