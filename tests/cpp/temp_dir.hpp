// temp_dir.hpp -- a fresh directory per test, removed afterwards. Lives under $ARRAYMORPH_TEST_TMP
// (set by tests/cpp/CMakeLists.txt to the build tree) or the system temp directory.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace arraymorph::testing {

class TempDir {
 public:
  TempDir() {
    const char* base_env = std::getenv("ARRAYMORPH_TEST_TMP");
    std::filesystem::path base =
        base_env != nullptr && *base_env != '\0' ? base_env : std::filesystem::temp_directory_path();
    std::filesystem::create_directories(base);
    std::string tmpl = (base / "am-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed under " + base.string());
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace arraymorph::testing
