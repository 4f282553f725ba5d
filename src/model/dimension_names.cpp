// dimension_names.cpp -- see dimension_names.hpp.
#include "model/dimension_names.hpp"

namespace arraymorph::model {
namespace {

std::optional<uint64_t> parse_ref(const json& j) {
  if (!j.is_string()) return std::nullopt;
  const std::string s = j.get<std::string>();
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  return std::stoull(s, nullptr, 16);
}

bool is_scale(const Node& n) {
  auto it = n.attributes.find("CLASS");
  return it != n.attributes.end() && it->is_string() && it->get<std::string>() == "DIMENSION_SCALE";
}

}  // namespace

std::vector<json> dimension_names(const Node& dataset, const std::string& own_name,
                                  const std::function<std::optional<std::string>(uint64_t)>& name_of) {
  const size_t rank = dataset.array ? dataset.array->rank() : 0;
  std::vector<json> out(rank, json());
  if (!dataset.attributes.is_object()) return out;
  auto list = dataset.attributes.find("DIMENSION_LIST");
  auto labels = dataset.attributes.find("DIMENSION_LABELS");
  for (size_t i = 0; i < rank; ++i) {
    if (list != dataset.attributes.end() && list->is_array() && i < list->size() && (*list)[i].is_array() &&
        !(*list)[i].empty()) {
      if (auto id = parse_ref((*list)[i][0])) {
        if (auto name = name_of(*id)) {
          out[i] = *name;
          continue;
        }
      }
    }
    if (rank == 1 && is_scale(dataset)) {
      out[i] = own_name;
      continue;
    }
    if (labels != dataset.attributes.end() && labels->is_array() && i < labels->size() &&
        (*labels)[i].is_string() && !(*labels)[i].get<std::string>().empty())
      out[i] = (*labels)[i];
  }
  return out;
}

}  // namespace arraymorph::model
