// attribute_store.cpp -- see attribute_store.hpp.
#include "vol/attribute_store.hpp"

#include <algorithm>

#include "common/status.hpp"
#include "vol/type_map.hpp"
#include "vol/type_walker.hpp"

namespace arraymorph::vol {
namespace {

constexpr const char* kMetaKey = "attributes";
constexpr const char* kOrderKey = "attribute_order";

const char* encoding_name(ValueEncoding e) {
  switch (e) {
    case ValueEncoding::kRaw: return "base64";
    case ValueEncoding::kStringsBase64: return "base64-strings";
    default: return "json";
  }
}

ValueEncoding encoding_from(const std::string& s) {
  if (s == "base64") return ValueEncoding::kRaw;
  if (s == "base64-strings") return ValueEncoding::kStringsBase64;
  if (s.empty() || s == "json") return ValueEncoding::kJson;
  throw Error(io_error("unknown attribute encoding '" + s + "'"));
}


json& meta_of(model::Node& node) {
  if (!node.hdf5.is_object()) node.hdf5 = json::object();
  return node.hdf5;
}


}  // namespace

bool has_attribute(const model::Node& node, const std::string& name) {
  return node.attributes.is_object() && node.attributes.contains(name);
}

AttrRecord load_attribute(const model::Node& node, const std::string& name) {
  if (!has_attribute(node, name)) throw Error(not_found("attribute '" + name + "' does not exist"));
  const json& value = node.attributes[name];
  AttrRecord rec;
  const json* meta = nullptr;
  if (node.hdf5.is_object() && node.hdf5.contains(kMetaKey) && node.hdf5[kMetaKey].is_object()) {
    auto it = node.hdf5[kMetaKey].find(name);
    if (it != node.hdf5[kMetaKey].end() && it->is_object()) meta = &*it;
  }
  if (meta) {
    // The _hdf5 entry may be stale (a Zarr tool rewrote the value): use it only if the value fits.
    try {
      auto bytes = model::base64_decode(meta->value("datatype", ""));
      if (!bytes.ok() || bytes.value().empty()) throw Error(io_error("bad datatype"));
      Hid type(decode_type(bytes.value()));
      if (type.get() < 0) throw Error(io_error("bad datatype"));
      AttrShape shape;
      const json& sh = meta->contains("shape") ? (*meta)["shape"] : json::array();
      if (sh.is_null()) shape.null = true;
      else shape.dims = sh.get<std::vector<hsize_t>>();
      Hid space(make_space(shape));
      const ValueEncoding enc = encoding_from(meta->value("encoding", ""));
      validate(value, enc, type.get(), space.get());
      rec.type = std::move(type);
      rec.space = std::move(space);
      rec.value = value;
      rec.encoding = enc;
      return rec;
    } catch (const Error& e) {
      if (e.status().code() == Code::kUnsupported) throw;
    } catch (const json::exception&) {
    }
    H5Eclear2(H5E_DEFAULT);
  }
  Natural nat = natural_of(value);
  rec.type = std::move(nat.type);
  rec.space = std::move(nat.space);
  rec.value = std::move(nat.value);
  return rec;
}

void store_attribute(model::Node& node, const std::string& name, hid_t type, hid_t space, const EncodedValue& v,
                     const std::string& committed_ref) {
  if (!node.attributes.is_object()) node.attributes = json::object();
  node.attributes[name] = v.value;
  json& h = meta_of(node);
  bool need_meta = v.encoding != ValueEncoding::kJson || !committed_ref.empty();
  if (!need_meta) {
    Natural nat = natural_of(v.value);
    // H5Tequal ignores some details (the character set of variable-length strings): compare the
    // encoded descriptions as well.
    need_meta = nat.text || H5Tequal(nat.type.get(), type) <= 0 || encode_type(nat.type.get()) != encode_type(type) ||
                !same_shape(nat.space.get(), space);
  }
  if (need_meta) {
    const AttrShape shape = shape_of(space);
    json m = {{"datatype", encode_type(type)}, {"shape", shape.null ? json(nullptr) : json(shape.dims)}};
    if (v.encoding != ValueEncoding::kJson) m["encoding"] = encoding_name(v.encoding);
    if (!committed_ref.empty()) m[model::kCommittedTypeRefKey] = committed_ref;
    if (!h.contains(kMetaKey) || !h[kMetaKey].is_object()) h[kMetaKey] = json::object();
    h[kMetaKey][name] = std::move(m);
  } else if (h.contains(kMetaKey) && h[kMetaKey].is_object()) {
    h[kMetaKey].erase(name);
    if (h[kMetaKey].empty()) h.erase(kMetaKey);
  }
  if (!h.contains(kOrderKey) || !h[kOrderKey].is_array()) h[kOrderKey] = json::array();
  bool listed = false;
  for (const auto& n : h[kOrderKey]) listed = listed || (n.is_string() && n.get<std::string>() == name);
  if (!listed) h[kOrderKey].push_back(name);
}

std::string attribute_committed_type(const model::Node& node, const std::string& name) {
  if (!node.hdf5.is_object() || !node.hdf5.contains(kMetaKey) || !node.hdf5[kMetaKey].is_object()) return "";
  auto it = node.hdf5[kMetaKey].find(name);
  if (it == node.hdf5[kMetaKey].end() || !it->is_object()) return "";
  auto ref = it->find(model::kCommittedTypeRefKey);
  return ref != it->end() && ref->is_string() ? ref->get<std::string>() : "";
}

void erase_attribute(model::Node& node, const std::string& name) {
  if (node.attributes.is_object()) node.attributes.erase(name);
  json& h = meta_of(node);
  if (h.contains(kMetaKey) && h[kMetaKey].is_object()) {
    h[kMetaKey].erase(name);
    if (h[kMetaKey].empty()) h.erase(kMetaKey);
  }
  if (h.contains(kOrderKey) && h[kOrderKey].is_array()) {
    json kept = json::array();
    for (const auto& n : h[kOrderKey])
      if (!(n.is_string() && n.get<std::string>() == name)) kept.push_back(n);
    h[kOrderKey] = std::move(kept);
  }
}

void rename_attribute(model::Node& node, const std::string& from, const std::string& to) {
  if (!node.attributes.is_object()) node.attributes = json::object();
  json value = node.attributes[from];
  node.attributes.erase(from);
  node.attributes[to] = std::move(value);
  json& h = meta_of(node);
  if (h.contains(kMetaKey) && h[kMetaKey].is_object() && h[kMetaKey].contains(from)) {
    json m = h[kMetaKey][from];
    h[kMetaKey].erase(from);
    h[kMetaKey][to] = std::move(m);
  }
  if (h.contains(kOrderKey) && h[kOrderKey].is_array())
    for (auto& n : h[kOrderKey])
      if (n.is_string() && n.get<std::string>() == from) n = to;
}

std::vector<std::string> attribute_names(const model::Node& node, H5_index_t index, H5_iter_order_t order) {
  std::vector<std::string> names;
  if (!node.attributes.is_object()) return names;
  if (index == H5_INDEX_CRT_ORDER) {
    // Recorded creation order first; attributes written by other tools follow in name order.
    if (node.hdf5.is_object() && node.hdf5.contains(kOrderKey) && node.hdf5[kOrderKey].is_array())
      for (const auto& n : node.hdf5[kOrderKey])
        if (n.is_string() && node.attributes.contains(n.get<std::string>()) &&
            std::find(names.begin(), names.end(), n.get<std::string>()) == names.end())
          names.push_back(n.get<std::string>());
    for (auto it = node.attributes.begin(); it != node.attributes.end(); ++it)
      if (std::find(names.begin(), names.end(), it.key()) == names.end()) names.push_back(it.key());
  } else if (index == H5_INDEX_NAME) {
    for (auto it = node.attributes.begin(); it != node.attributes.end(); ++it) names.push_back(it.key());
    std::sort(names.begin(), names.end());  // byte order, as HDF5's name index
  } else {
    throw Error(invalid_argument("unknown attribute index type"));
  }
  if (order == H5_ITER_DEC) std::reverse(names.begin(), names.end());
  return names;
}

uint32_t attribute_creation_index(const model::Node& node, const std::string& name) {
  const auto names = attribute_names(node, H5_INDEX_CRT_ORDER, H5_ITER_INC);
  auto it = std::find(names.begin(), names.end(), name);
  return static_cast<uint32_t>(it - names.begin());
}

void record_attr_creation_order(hid_t ocpl, model::Node& node) {
  unsigned flags = 0;
  if (ocpl < 0 || ocpl == H5P_DEFAULT || H5Pget_attr_creation_order(ocpl, &flags) < 0) flags = 0;
  json& h = meta_of(node);
  if (flags) h["attr_creation_order"] = flags;
  else h.erase("attr_creation_order");
}

void apply_attr_creation_order(const model::Node& node, hid_t ocpl) {
  unsigned flags = 0;
  if (node.hdf5.is_object() && node.hdf5.contains("attr_creation_order") && node.hdf5["attr_creation_order"].is_number_unsigned())
    flags = node.hdf5["attr_creation_order"].get<unsigned>() & (H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  if (flags && ocpl >= 0) H5Pset_attr_creation_order(ocpl, flags);
}


}  // namespace arraymorph::vol
