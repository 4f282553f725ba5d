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

std::string node_prefix(const std::string& file_key, const std::string& path) {
  if (path.empty() || path == "/") return file_key;
  std::string p = path[0] == '/' ? path.substr(1) : path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (file_key.empty()) return p;
  return file_key + "/" + p;
}

}  // namespace arraymorph::model
