// connector_info.cpp -- see connector_info.hpp.
#include "vol/connector_info.hpp"

#include "vol/callbacks.hpp"

namespace arraymorph::vol {

Result<std::map<std::string, std::string>> parse_settings(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string t = text;
  while (!t.empty() && t.front() == ' ') t.erase(0, 1);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t.empty()) return out;
  auto scheme = [&](const char* s) { return t.rfind(s, 0) == 0; };
  if (scheme("s3://") || scheme("az://") || scheme("file://")) {
    const size_t p = t.find("://");
    std::string rest = t.substr(p + 3);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (scheme("s3://")) {
      out["platform"] = "S3";
      out["s3.bucket"] = rest;
    } else if (scheme("az://")) {
      out["platform"] = "Azure";
      out["azure.container"] = rest;
    } else {
      out["platform"] = "Local";
      out["local.root"] = rest.empty() ? "/" : rest;
    }
    return out;
  }
  size_t i = 0;
  while (i < t.size()) {
    size_t j = t.find(';', i);
    if (j == std::string::npos) j = t.size();
    std::string kv = t.substr(i, j - i);
    i = j + 1;
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      return invalid_argument("arraymorph connector setting '" + kv + "' is not of the form key=value");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

std::map<std::string, std::string> settings_from_fapl(hid_t fapl) {
  void* info = nullptr;
  if (fapl < 0 || fapl == H5P_DEFAULT) return {};
  if (H5Pget_vol_info(fapl, &info) < 0 || !info) return {};
  std::string text = static_cast<ConnectorInfo*>(info)->settings;
  info_free(info);
  return check(parse_settings(text));
}

}  // namespace arraymorph::vol
