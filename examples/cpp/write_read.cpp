// write_read.cpp -- a C++ program using arraymorph with NO arraymorph-specific code.
//
// The connector is chosen the way existing HDF5 programs use it unchanged: the environment
//   HDF5_VOL_CONNECTOR=arraymorph  HDF5_PLUGIN_PATH=<plugin folder>   (not needed in conda/spack
//   prefixes, where the plugin sits in HDF5's default plugin folder)
// and the file is named by URL: file:///<dir>/example_cpp.h5. Writes a chunked 2-D float64
// dataset, reads back a strided hyperslab and checks every value. Exit status: 0 when all values
// match; 1 on a mismatch, an HDF5 error, or when the file was not opened through arraymorph
// (e.g. the environment is missing, which would silently write a native HDF5 file instead).
//
//   HDF5_VOL_CONNECTOR=arraymorph write_read_cpp <absolute store-directory>
#include <hdf5.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr hsize_t kRows = 40, kCols = 56, kChunk = 8;

double value_at(hsize_t i, hsize_t j) { return static_cast<double>(i) + static_cast<double>(j) / 100.0; }

// Owns one hid_t; closes it with the matching H5*close function. Throws on invalid ids so every
// failing call is reported by name.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t), const char* what) : id_(id), close_(close) {
    if (id < 0) throw std::runtime_error(std::string(what) + " failed");
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close_(id_); }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t status, const char* what) {
  if (status < 0) throw std::runtime_error(std::string(what) + " failed");
}

void write_file(const std::string& url) {
  std::vector<double> data(kRows * kCols);
  for (hsize_t i = 0; i < kRows; i++)
    for (hsize_t j = 0; j < kCols; j++) data[i * kCols + j] = value_at(i, j);

  const hsize_t dims[2] = {kRows, kCols}, chunk[2] = {kChunk, kChunk};
  Handle file(H5Fcreate(url.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "H5Fcreate");
  Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose, "H5Screate_simple");
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate");
  check(H5Pset_chunk(dcpl, 2, chunk), "H5Pset_chunk");
  Handle dset(H5Dcreate2(file, "field", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
              H5Dclose, "H5Dcreate2");
  check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "H5Dwrite");
}

// Rows 3, 7, ..., 39 and columns 2, 5, ..., 53: a strided selection touching every chunk.
int read_and_check(const std::string& url) {
  const hsize_t start[2] = {3, 2}, stride[2] = {4, 3}, count[2] = {10, 18};
  Handle file(H5Fopen(url.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen");

  char connector[64] = "";
  check(static_cast<herr_t>(H5VLget_connector_name(file, connector, sizeof connector)),
        "H5VLget_connector_name");
  if (std::string(connector) != "arraymorph") {
    std::fprintf(stderr, "C++: file opened by the '%s' connector, not arraymorph "
                 "(is HDF5_VOL_CONNECTOR=arraymorph set?)\n", connector);
    return 1;
  }

  Handle dset(H5Dopen2(file, "field", H5P_DEFAULT), H5Dclose, "H5Dopen2");
  Handle fspace(H5Dget_space(dset), H5Sclose, "H5Dget_space");
  check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, stride, count, nullptr),
        "H5Sselect_hyperslab");
  Handle mspace(H5Screate_simple(2, count, nullptr), H5Sclose, "H5Screate_simple");
  std::vector<double> buf(count[0] * count[1], -1.0);
  check(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf.data()), "H5Dread");

  int mismatches = 0;
  for (hsize_t a = 0; a < count[0]; a++)
    for (hsize_t b = 0; b < count[1]; b++) {
      const hsize_t i = start[0] + a * stride[0], j = start[1] + b * stride[1];
      const double got = buf[a * count[1] + b];
      if (got != value_at(i, j) && mismatches++ < 5)
        std::fprintf(stderr, "mismatch at (%llu, %llu): got %g, want %g\n",
                     static_cast<unsigned long long>(i), static_cast<unsigned long long>(j), got,
                     value_at(i, j));
    }
  if (mismatches) {
    std::fprintf(stderr, "C++: %d of %zu values differ\n", mismatches, buf.size());
    return 1;
  }
  std::printf("C++: connector=%s file=%s dataset=field %llux%llu float64 chunks %llux%llu; "
              "strided hyperslab [3:40:4, 2:56:3] %zu values OK\n",
              connector, url.c_str(), static_cast<unsigned long long>(kRows),
              static_cast<unsigned long long>(kCols), static_cast<unsigned long long>(kChunk),
              static_cast<unsigned long long>(kChunk), buf.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] != '/') {
    std::fprintf(stderr, "usage: HDF5_VOL_CONNECTOR=arraymorph %s <absolute store-directory>\n", argv[0]);
    return 2;
  }
  const std::string url = std::string("file://") + argv[1] + "/example_cpp.h5";
  try {
    write_file(url);
    return read_and_check(url);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "C++: %s for %s\n", e.what(), url.c_str());
    return 1;
  }
}
