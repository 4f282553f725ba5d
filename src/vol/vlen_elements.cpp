// vlen_elements.cpp -- see vlen_elements.hpp.
#include "vol/vlen_elements.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "common/status.hpp"
#include "vol/vlen_sequences.hpp"

namespace arraymorph::vol {
namespace {

constexpr uint64_t kNullString = std::numeric_limits<uint64_t>::max();

struct TypeHolder {
  hid_t id;
  explicit TypeHolder(hid_t t) : id(t) {}
  ~TypeHolder() {
    if (id >= 0) H5Tclose(id);
  }
};

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void serialize(hid_t type, const unsigned char* p, std::string& out) {
  switch (H5Tget_class(type)) {
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) {
        const char* s = *reinterpret_cast<const char* const*>(p);
        if (!s) {
          put_u64(out, kNullString);
        } else {
          const size_t n = std::strlen(s);
          put_u64(out, n);
          out.append(s, n);
        }
        return;
      }
      break;
    case H5T_VLEN: {
      const auto* v = reinterpret_cast<const hvl_t*>(p);
      TypeHolder base(H5Tget_super(type));
      const size_t bs = H5Tget_size(base.id);
      put_u64(out, v->len);
      if (v->len && !v->p) throw Error(invalid_argument("a variable-length sequence of length " + std::to_string(v->len) + " has no data pointer"));
      for (size_t i = 0; i < v->len; ++i) serialize(base.id, static_cast<const unsigned char*>(v->p) + i * bs, out);
      return;
    }
    case H5T_COMPOUND: {
      const int n = H5Tget_nmembers(type);
      for (int i = 0; i < n; ++i) {
        TypeHolder m(H5Tget_member_type(type, static_cast<unsigned>(i)));
        serialize(m.id, p + H5Tget_member_offset(type, static_cast<unsigned>(i)), out);
      }
      return;
    }
    case H5T_ARRAY: {
      TypeHolder base(H5Tget_super(type));
      const size_t bs = H5Tget_size(base.id), n = bs ? H5Tget_size(type) / bs : 0;
      for (size_t i = 0; i < n; ++i) serialize(base.id, p + i * bs, out);
      return;
    }
    default: break;
  }
  out.append(reinterpret_cast<const char*>(p), H5Tget_size(type));
}

// Reads one serialized value of `type` from `in` (advancing it) into `p` (file layout, zeroed);
// variable-length parts are malloc'ed (released by H5Treclaim with the default property list).
struct Reader {
  const std::string& in;
  size_t pos = 0;
  const std::string& what;

  const char* take(size_t n) {
    if (in.size() - pos < n)
      throw Error(io_error("a stored element of " + what + " ends early (truncated item of " +
                           std::to_string(in.size()) + " bytes)"));
    const char* p = in.data() + pos;
    pos += n;
    return p;
  }
  uint64_t u64() {
    const auto* b = reinterpret_cast<const unsigned char*>(take(8));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
    return v;
  }
  void* alloc(uint64_t bytes) {
    if (bytes > in.size() * 64 + 4096)  // an element cannot be far larger than its stored bytes
      throw Error(io_error("a stored element of " + what + " claims " + std::to_string(bytes) + " bytes"));
    void* m = std::calloc(1, std::max<uint64_t>(bytes, 1));
    if (!m) throw std::bad_alloc();
    return m;
  }

  void read(hid_t type, unsigned char* p) {
    switch (H5Tget_class(type)) {
      case H5T_STRING:
        if (H5Tis_variable_str(type) > 0) {
          const uint64_t n = u64();
          if (n == kNullString) return;
          const char* s = take(n);
          auto* m = static_cast<char*>(alloc(n + 1));
          std::memcpy(m, s, n);
          *reinterpret_cast<char**>(p) = m;
          return;
        }
        break;
      case H5T_VLEN: {
        TypeHolder base(H5Tget_super(type));
        const size_t bs = H5Tget_size(base.id);
        const uint64_t n = u64();
        if (n == 0) return;
        if (n > in.size()) throw Error(io_error("a stored element of " + what + " claims a sequence of " + std::to_string(n) + " elements"));
        auto* m = static_cast<unsigned char*>(alloc(n * bs));
        *reinterpret_cast<hvl_t*>(p) = hvl_t{n, m};
        for (uint64_t i = 0; i < n; ++i) read(base.id, m + i * bs);
        return;
      }
      case H5T_COMPOUND: {
        const int n = H5Tget_nmembers(type);
        for (int i = 0; i < n; ++i) {
          TypeHolder m(H5Tget_member_type(type, static_cast<unsigned>(i)));
          read(m.id, p + H5Tget_member_offset(type, static_cast<unsigned>(i)));
        }
        return;
      }
      case H5T_ARRAY: {
        TypeHolder base(H5Tget_super(type));
        const size_t bs = H5Tget_size(base.id), n = bs ? H5Tget_size(type) / bs : 0;
        for (size_t i = 0; i < n; ++i) read(base.id, p + i * bs);
        return;
      }
      default: break;
    }
    const size_t n = H5Tget_size(type);
    std::memcpy(p, take(n), n);
  }
};

// Releases the variable-length parts of `count` elements of `type` at `buf` (allocated by
// H5Tconvert or Reader, both with malloc).
void reclaim(hid_t type, uint64_t count, void* buf) {
  const hsize_t dims[1] = {count};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  H5Treclaim(type, space, H5P_DEFAULT, buf);
  H5Sclose(space);
}

void convert(hid_t from, hid_t to, uint64_t count, std::vector<unsigned char>& buf, hid_t dxpl, const std::string& what) {
  std::vector<unsigned char> bkg(buf.size(), 0);
  if (H5Tconvert(from, to, count, buf.data(), bkg.data(), dxpl) < 0)
    throw Error(invalid_argument("cannot convert between the memory and file datatypes of " + what));
}

}  // namespace

bool serialized_elements(hid_t file_type) {
  const H5T_class_t cls = H5Tget_class(file_type);
  if (cls == H5T_STRING) return false;
  if (cls == H5T_VLEN) {
    TypeHolder base(H5Tget_super(file_type));
    return contains_variable_length(base.id);
  }
  return contains_variable_length(file_type);
}

std::vector<std::string> elements_to_items(hid_t file_type, hid_t mem_type, const void* elems, uint64_t count,
                                           const std::string& what) {
  const size_t fs = H5Tget_size(file_type), ms = H5Tget_size(mem_type);
  std::vector<std::string> items(count);
  if (H5Tequal(file_type, mem_type) > 0) {  // the caller's own memory: read it, free nothing
    for (uint64_t i = 0; i < count; ++i) serialize(file_type, static_cast<const unsigned char*>(elems) + i * fs, items[i]);
    return items;
  }
  std::vector<unsigned char> buf(count * std::max(fs, ms), 0);
  std::memcpy(buf.data(), elems, count * ms);
  convert(mem_type, file_type, count, buf, H5P_DEFAULT, what);
  try {
    for (uint64_t i = 0; i < count; ++i) serialize(file_type, buf.data() + i * fs, items[i]);
  } catch (...) {
    reclaim(file_type, count, buf.data());
    throw;
  }
  reclaim(file_type, count, buf.data());
  return items;
}

void items_to_elements(hid_t file_type, hid_t mem_type, const std::vector<std::string>& items, void* out,
                       hid_t dxpl, const std::string& what) {
  const size_t fs = H5Tget_size(file_type), ms = H5Tget_size(mem_type);
  const uint64_t count = items.size();
  std::vector<unsigned char> buf(count * std::max(fs, ms), 0);
  try {
    for (uint64_t i = 0; i < count; ++i) {
      if (items[i].empty()) continue;  // never written: all zero
      Reader r{items[i], 0, what};
      r.read(file_type, buf.data() + i * fs);
      if (r.pos != items[i].size())
        throw Error(io_error("a stored element of " + what + " has " + std::to_string(items[i].size() - r.pos) +
                             " bytes after its value"));
    }
  } catch (...) {
    reclaim(file_type, count, buf.data());
    throw;
  }
  if (H5Tequal(file_type, mem_type) > 0) {  // no conversion: the caller owns the malloc'ed parts now
    std::memcpy(out, buf.data(), count * ms);
    return;
  }
  // HDF5 converts the variable-length parts into memory allocated with the dxpl's manager.
  try {
    std::vector<unsigned char> conv(buf);
    convert(file_type, mem_type, count, conv, dxpl, what);
    std::memcpy(out, conv.data(), count * ms);
  } catch (...) {
    reclaim(file_type, count, buf.data());
    throw;
  }
  reclaim(file_type, count, buf.data());
}

}  // namespace arraymorph::vol
