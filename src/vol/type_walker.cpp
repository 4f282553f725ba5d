// type_walker.cpp -- see type_walker.hpp.
#include "vol/type_walker.hpp"

#include "common/hid.hpp"
#include "common/status.hpp"
#include "vol/type_map.hpp"

namespace arraymorph::vol {

std::string member_name(hid_t type, unsigned i) {
  char* n = H5Tget_member_name(type, i);
  std::string s = n ? n : "";
  if (n) H5free_memory(n);
  return s;
}

TNode analyze(hid_t type) {
  TNode t;
  const H5T_class_t cls = H5Tget_class(type);
  t.size = H5Tget_size(type);
  if (cls == H5T_NO_CLASS || t.size == 0) throw Error(invalid_argument("invalid attribute datatype"));
  auto adopt = [&t](TNode&& kid) {
    t.raw_inside = t.raw_inside || kid.raw_inside;
    t.pointers = t.pointers || kid.pointers;
    t.kids.push_back(std::move(kid));
  };
  switch (cls) {
    case H5T_INTEGER:
      if ((t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8) && H5Tget_precision(type) == 8 * t.size &&
          H5Tget_offset(type) == 0) {
        t.k = TNode::kInt;
        t.big_endian = H5Tget_order(type) == H5T_ORDER_BE;
        t.is_signed = H5Tget_sign(type) != H5T_SGN_NONE;
      }
      break;
    case H5T_FLOAT:
      if (float_layout_is_ieee(type, t.size)) {
        t.k = TNode::kFloat;
        t.big_endian = H5Tget_order(type) == H5T_ORDER_BE;
      }
      break;
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) {
        t.k = TNode::kVlenStr;
        t.pointers = true;
      } else {
        t.k = TNode::kFixedStr;
        t.pad = H5Tget_strpad(type);
      }
      break;
    case H5T_ENUM: {
      Hid base(H5Tget_super(type));
      TNode b = analyze(base.get());
      if (b.k != TNode::kInt) break;
      bool is_bool = t.size == 1 && H5Tget_nmembers(type) == 2;
      for (unsigned i = 0; i < 2 && is_bool; ++i) {
        signed char v = -1;
        H5Tget_member_value(type, i, &v);
        const std::string n = member_name(type, i);
        is_bool = (n == "FALSE" && v == 0) || (n == "TRUE" && v == 1);
      }
      t.k = is_bool ? TNode::kBool : TNode::kEnum;
      adopt(std::move(b));
      break;
    }
    case H5T_COMPOUND: {
      const int n = H5Tget_nmembers(type);
      std::vector<TNode> members;
      for (int i = 0; i < n; ++i) {
        Hid mt(H5Tget_member_type(type, static_cast<unsigned>(i)));
        t.names.push_back(member_name(type, static_cast<unsigned>(i)));
        t.offsets.push_back(H5Tget_member_offset(type, static_cast<unsigned>(i)));
        members.push_back(analyze(mt.get()));
      }
      const bool complex = n == 2 && t.names[0] == "r" && t.names[1] == "i" && members[0].k == TNode::kFloat &&
                           members[1].k == TNode::kFloat && members[0].size == members[1].size &&
                           members[0].big_endian == members[1].big_endian && t.offsets[0] == 0 &&
                           t.offsets[1] == members[0].size && t.size == 2 * members[0].size;
      t.k = complex ? TNode::kComplex : TNode::kCompound;
      for (auto& m : members) adopt(std::move(m));
      break;
    }
    case H5T_ARRAY: {
      const int nd = H5Tget_array_ndims(type);
      t.dims.resize(static_cast<size_t>(std::max(nd, 0)));
      H5Tget_array_dims2(type, t.dims.data());
      Hid base(H5Tget_super(type));
      t.k = TNode::kArray;
      adopt(analyze(base.get()));
      break;
    }
    case H5T_VLEN: {
      Hid base(H5Tget_super(type));
      t.k = TNode::kVlenSeq;
      adopt(analyze(base.get()));
      t.pointers = true;
      break;
    }
    case H5T_REFERENCE:
      t.ref = reference_kind(type);  // new-style ones need a NewRefCodec (memory buffers only)
      t.k = TNode::kRef;
      break;
    default:  // opaque, bitfield, time
      break;
  }
  if (t.k == TNode::kRaw) t.raw_inside = true;
  return t;
}


}  // namespace arraymorph::vol
