// file_properties.cpp -- see file_properties.hpp.
#include "vol/file_properties.hpp"

#include <algorithm>

#include "common/status.hpp"

namespace arraymorph::vol {
namespace {

constexpr const char* kFileSpaceKey = "file_space";

struct FileSpace {
  H5F_fspace_strategy_t strategy = H5F_FSPACE_STRATEGY_FSM_AGGR;  // HDF5's defaults
  hbool_t persist = false;
  hsize_t threshold = 1;
  hsize_t page_size = 4096;
};

FileSpace file_space_of(hid_t fcpl) {
  FileSpace fs;
  if (fcpl < 0 || fcpl == H5P_DEFAULT) return fs;
  H5Pget_file_space_strategy(fcpl, &fs.strategy, &fs.persist, &fs.threshold);
  H5Pget_file_space_page_size(fcpl, &fs.page_size);
  return fs;
}

}  // namespace

void require_page_buffer_allowed(hid_t fcpl, hid_t fapl) {
  size_t pbs = 0;
  unsigned min_meta = 0, min_raw = 0;
  if (fapl >= 0 && fapl != H5P_DEFAULT) H5Pget_page_buffer_size(fapl, &pbs, &min_meta, &min_raw);
  if (pbs > 0 && file_space_of(fcpl).strategy != H5F_FSPACE_STRATEGY_PAGE)
    throw Error(invalid_argument("a page buffer (H5Pset_page_buffer_size) needs the \"page\" file space strategy "
                                 "(H5Pset_file_space_strategy), as in HDF5"));
}

bool record_file_space(hid_t fcpl, model::Node& root) {
  const FileSpace fs = file_space_of(fcpl);
  const FileSpace def;
  if (fs.strategy == def.strategy && fs.persist == def.persist && fs.threshold == def.threshold &&
      fs.page_size == def.page_size)
    return false;
  root.hdf5[kFileSpaceKey] = {{"strategy", static_cast<int>(fs.strategy)},
                              {"persist", static_cast<bool>(fs.persist)},
                              {"threshold", fs.threshold},
                              {"page_size", fs.page_size}};
  return true;
}

void apply_file_space(const model::Node& root, hid_t fcpl) {
  auto it = root.hdf5.find(kFileSpaceKey);
  if (it == root.hdf5.end() || !it->is_object()) return;
  const FileSpace def;
  const auto strategy = static_cast<H5F_fspace_strategy_t>(it->value("strategy", static_cast<int>(def.strategy)));
  if (strategy < H5F_FSPACE_STRATEGY_FSM_AGGR || strategy >= H5F_FSPACE_STRATEGY_NTYPES) return;  // unknown: default
  H5E_BEGIN_TRY {
    H5Pset_file_space_strategy(fcpl, strategy, it->value("persist", false), it->value("threshold", def.threshold));
    H5Pset_file_space_page_size(fcpl, it->value("page_size", def.page_size));
  }
  H5E_END_TRY
}

void adjust_page_buffer(hid_t fcpl, hid_t fapl) {
  size_t pbs = 0;
  unsigned min_meta = 0, min_raw = 0;
  if (H5Pget_page_buffer_size(fapl, &pbs, &min_meta, &min_raw) < 0 || pbs == 0) return;
  const FileSpace fs = file_space_of(fcpl);
  size_t want = 0;
  if (fs.strategy == H5F_FSPACE_STRATEGY_PAGE && fs.page_size > 0)
    want = std::max<size_t>(pbs / fs.page_size, 1) * fs.page_size;
  H5Pset_page_buffer_size(fapl, want, want ? min_meta : 0, want ? min_raw : 0);
}

}  // namespace arraymorph::vol
