// chunk_key.cpp -- see chunk_key.hpp.
#include "model/chunk_key.hpp"

namespace arraymorph::model {

std::string chunk_key(const std::vector<uint64_t>& coords) {
  std::string key = "c";
  for (auto c : coords) {
    key += '/';
    key += std::to_string(c);
  }
  return key;
}

std::optional<std::vector<uint64_t>> parse_chunk_key(const std::string& key, size_t rank) {
  if (key.empty() || key[0] != 'c') return std::nullopt;
  std::vector<uint64_t> coords;
  size_t i = 1;
  while (i < key.size()) {
    if (key[i] != '/') return std::nullopt;
    size_t j = key.find('/', i + 1);
    if (j == std::string::npos) j = key.size();
    if (j == i + 1 || j - i - 1 > 20) return std::nullopt;
    uint64_t v = 0;
    for (size_t k = i + 1; k < j; ++k) {
      if (key[k] < '0' || key[k] > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(key[k] - '0');
    }
    coords.push_back(v);
    i = j;
  }
  if (coords.size() != rank) return std::nullopt;
  return coords;
}

std::string node_prefix(const std::string& file_key, const std::string& path) {
  if (path.empty() || path == "/") return file_key;
  std::string p = path[0] == '/' ? path.substr(1) : path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (file_key.empty()) return p;
  return file_key + "/" + p;
}

}  // namespace arraymorph::model
