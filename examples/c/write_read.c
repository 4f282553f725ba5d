/* write_read.c -- a C program using arraymorph through the plain HDF5 API.
 *
 * Selects arraymorph in code with H5Pset_fapl_arraymorph(fapl, "file:///<dir>"), so it needs
 * no environment variables (the library is linked, HDF5_PLUGIN_PATH is not needed). Writes a
 * chunked 2-D int32 dataset, reads back a hyperslab that crosses chunk borders, and checks every
 * value. Exit status: 0 when all values match, 1 on a mismatch or any HDF5 error.
 *
 *   write_read <store-directory>     (the "file" becomes <store-directory>/example_c.h5/...)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arraymorph/arraymorph.h>
#include <hdf5.h>

enum { ROWS = 64, COLS = 48, CHUNK = 16 };

/* The value stored at (i, j): distinct everywhere, so a misplaced chunk cannot go unnoticed. */
static int value_at(hsize_t i, hsize_t j) { return (int)(i * 1000 + j); }

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) < 0) {                                                 \
      fprintf(stderr, "write_read.c: %s failed (line %d)\n", #call, __LINE__); \
      return 1;                                                       \
    }                                                                 \
  } while (0)

static int write_file(hid_t fapl) {
  static int data[ROWS][COLS];
  for (hsize_t i = 0; i < ROWS; i++)
    for (hsize_t j = 0; j < COLS; j++) data[i][j] = value_at(i, j);

  hsize_t dims[2] = {ROWS, COLS}, chunk[2] = {CHUNK, CHUNK};
  hid_t file, space, dcpl, dset;
  CHECK(file = H5Fcreate("example_c.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  CHECK(space = H5Screate_simple(2, dims, NULL));
  CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  CHECK(H5Pset_chunk(dcpl, 2, chunk));
  CHECK(dset = H5Dcreate2(file, "grid", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
  CHECK(H5Dclose(dset));
  CHECK(H5Pclose(dcpl));
  CHECK(H5Sclose(space));
  CHECK(H5Fclose(file));
  return 0;
}

/* Reads rows [10, 30) x cols [5, 37) -- 2 x 3 chunks, none of them whole -- and compares. */
static int read_and_check(hid_t fapl, const char *url) {
  hsize_t start[2] = {10, 5}, count[2] = {20, 32};
  int buf[20][32];
  hid_t file, dset, fspace, mspace;
  CHECK(file = H5Fopen("example_c.h5", H5F_ACC_RDONLY, fapl));

  char connector[64] = "";
  CHECK(H5VLget_connector_name(file, connector, sizeof connector));
  if (strcmp(connector, "arraymorph") != 0) {
    fprintf(stderr, "write_read.c: file opened by the '%s' connector, not arraymorph\n", connector);
    return 1;
  }

  CHECK(dset = H5Dopen2(file, "grid", H5P_DEFAULT));
  CHECK(fspace = H5Dget_space(dset));
  CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  CHECK(mspace = H5Screate_simple(2, count, NULL));
  CHECK(H5Dread(dset, H5T_NATIVE_INT, mspace, fspace, H5P_DEFAULT, buf));

  int mismatches = 0;
  for (hsize_t i = 0; i < count[0]; i++)
    for (hsize_t j = 0; j < count[1]; j++) {
      int want = value_at(start[0] + i, start[1] + j);
      if (buf[i][j] != want && mismatches++ < 5)
        fprintf(stderr, "mismatch at (%llu, %llu): got %d, want %d\n",
                (unsigned long long)(start[0] + i), (unsigned long long)(start[1] + j), buf[i][j], want);
    }
  CHECK(H5Sclose(mspace));
  CHECK(H5Sclose(fspace));
  CHECK(H5Dclose(dset));
  CHECK(H5Fclose(file));

  if (mismatches) {
    fprintf(stderr, "C: %d of %llu values differ\n", mismatches,
            (unsigned long long)(count[0] * count[1]));
    return 1;
  }
  printf("C: connector=%s store=%s file=example_c.h5 dataset=grid %dx%d int32 chunks %dx%d; "
         "hyperslab [10:30, 5:37] %llu values OK\n",
         connector, url, ROWS, COLS, CHUNK, CHUNK, (unsigned long long)(count[0] * count[1]));
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] != '/') {
    fprintf(stderr, "usage: %s <absolute store-directory>\n", argv[0]);
    return 2;
  }
  char url[4096];
  if (snprintf(url, sizeof url, "file://%s", argv[1]) >= (int)sizeof url) return 2;

  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_arraymorph(fapl, url) < 0) {
    fprintf(stderr, "C: cannot select arraymorph for %s\n", url);
    return 1;
  }
  int rc = write_file(fapl);
  if (rc == 0) rc = read_and_check(fapl, url);
  H5Pclose(fapl);
  return rc;
}
