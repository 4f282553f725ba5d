// vlen_sequences.cpp -- see vlen_sequences.hpp.
#include "vol/vlen_sequences.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/status.hpp"
#include "vol/callbacks.hpp"

namespace arraymorph::vol {
namespace {

struct TypeHolder {
  hid_t id;
  explicit TypeHolder(hid_t t) : id(t) {}
  ~TypeHolder() {
    if (id >= 0) H5Tclose(id);
  }
};

// Converts `n` elements in place from `from` to `to` (buf sized for the larger of the two).
void convert_base(hid_t from, hid_t to, size_t n, unsigned char* buf, const std::string& what) {
  if (n == 0 || H5Tequal(from, to) > 0) return;
  std::vector<unsigned char> bkg(n * std::max(H5Tget_size(from), H5Tget_size(to)));
  if (H5Tconvert(from, to, n, buf, bkg.data(), H5P_DEFAULT) < 0)
    throw Error(Status(Code::kInvalidArgument, "cannot convert the sequence elements of " + what +
                                                   " between the memory and file base types"));
}

}  // namespace

bool contains_variable_length(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_VLEN: return true;
    case H5T_STRING: return H5Tis_variable_str(type) > 0;
    case H5T_ARRAY: {
      TypeHolder base(H5Tget_super(type));
      return contains_variable_length(base.id);
    }
    case H5T_COMPOUND: {
      const int n = H5Tget_nmembers(type);
      for (int i = 0; i < n; ++i) {
        TypeHolder m(H5Tget_member_type(type, static_cast<unsigned>(i)));
        if (contains_variable_length(m.id)) return true;
      }
      return false;
    }
    default: return false;
  }
}

void require_sequence_memory_type(hid_t mem_type, const std::string& what) {
  if (H5Tget_class(mem_type) != H5T_VLEN)
    throw Error(unsupported("converting the variable-length sequences of " + what + " to a non-sequence datatype"));
}

std::vector<std::string> sequences_to_items(hid_t file_type, hid_t mem_type, const void* elems, uint64_t count,
                                            const std::string& what) {
  TypeHolder fb(H5Tget_super(file_type)), mb(H5Tget_super(mem_type));
  const size_t fs = H5Tget_size(fb.id), ms = H5Tget_size(mb.id);
  const hvl_t* in = static_cast<const hvl_t*>(elems);
  std::vector<std::string> items(count);
  std::vector<unsigned char> buf;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t n = in[i].len;
    if (n == 0) continue;
    if (!in[i].p) throw Error(invalid_argument("element " + std::to_string(i) + " written to " + what +
                                               " has length " + std::to_string(n) + " but no data pointer"));
    buf.assign(n * std::max(fs, ms), 0);
    std::memcpy(buf.data(), in[i].p, n * ms);
    convert_base(mb.id, fb.id, n, buf.data(), what);
    items[i].assign(reinterpret_cast<const char*>(buf.data()), n * fs);
  }
  return items;
}

void items_to_sequences(hid_t file_type, hid_t mem_type, const std::vector<std::string>& items, void* out,
                        hid_t dxpl, const std::string& what) {
  TypeHolder fb(H5Tget_super(file_type)), mb(H5Tget_super(mem_type));
  const size_t fs = H5Tget_size(fb.id), ms = H5Tget_size(mb.id);
  H5MM_allocate_t alloc = nullptr;
  H5MM_free_t release = nullptr;
  void *alloc_info = nullptr, *free_info = nullptr;
  if (dxpl >= 0 && dxpl != H5P_DEFAULT) H5Pget_vlen_mem_manager(dxpl, &alloc, &alloc_info, &release, &free_info);
  hvl_t* o = static_cast<hvl_t*>(out);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& item = items[i];
    if (fs == 0 || item.size() % fs != 0)
      throw Error(io_error("a stored sequence of " + what + " holds " + std::to_string(item.size()) +
                           " bytes, not a whole number of " + std::to_string(fs) + "-byte elements"));
    const size_t n = item.size() / fs;
    o[i] = hvl_t{0, nullptr};
    if (n == 0) continue;
    const size_t bytes = n * std::max(fs, ms);
    auto* p = static_cast<unsigned char*>(alloc ? alloc(bytes, alloc_info) : std::malloc(bytes));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, item.data(), item.size());
    try {
      convert_base(fb.id, mb.id, n, p, what);
    } catch (...) {
      release ? release(p, free_info) : std::free(p);
      throw;
    }
    o[i] = hvl_t{n, p};
  }
}

uint64_t sequences_buf_size(hid_t file_type, hid_t mem_type, const std::vector<std::string>& items) {
  TypeHolder fb(H5Tget_super(file_type)), mb(H5Tget_super(mem_type));
  const size_t fs = H5Tget_size(fb.id), ms = H5Tget_size(mb.id);
  uint64_t total = 0;
  for (const auto& item : items) total += fs ? item.size() / fs * ms : 0;
  return total;
}

}  // namespace arraymorph::vol
