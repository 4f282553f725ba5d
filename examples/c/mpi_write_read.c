/* mpi_write_read.c -- parallel HDF5 (MPI-IO driver + collective transfers) through arraymorph.
 *
 * The usual parallel HDF5 program: every rank opens the file with H5Pset_fapl_mpio, makes the same
 * metadata calls (create the file, a dataset, an attribute), then writes its interleaved rows
 * (rank r writes rows r, r+size, ...: every chunk is shared by all ranks) and reads an overlapping
 * window with H5Pset_dxpl_mpio(H5FD_MPIO_COLLECTIVE). arraymorph makes each metadata change once
 * (rank 0), PUTs each chunk once (assembled by its owner rank) and fetches each chunk once.
 * Rank 0 then re-opens the file on its own and checks every value.
 *
 *   mpiexec -n 4 mpi_write_read <store-directory>   (the file is <store-directory>/example_mpi.h5)
 *
 * Exit status 0 when every rank's values match, 1 otherwise. Needs HDF5 built with parallel
 * support (H5_HAVE_PARALLEL).
 */
#include <stdio.h>
#include <stdlib.h>

#include <arraymorph/arraymorph.h>
#include <hdf5.h>
#include <mpi.h>

#ifndef H5_HAVE_PARALLEL
int main(void) {
  fprintf(stderr, "mpi_write_read.c: this HDF5 was built without parallel support (H5_HAVE_PARALLEL)\n");
  return 77;
}
#else

enum { ROWS_PER_RANK = 6, COLS = 10, CHUNK_ROWS = 4 };

static double value_at(hsize_t i, hsize_t j) { return (double)(i * 100 + j); }

#define CHECK(call)                                                                       \
  do {                                                                                    \
    if ((call) < 0) {                                                                     \
      fprintf(stderr, "mpi_write_read.c: rank %d: %s failed (line %d)\n", rank, #call, __LINE__); \
      return 1;                                                                           \
    }                                                                                     \
  } while (0)

static int rank, size;

static int write_collectively(const char *url) {
  const hsize_t rows = (hsize_t)size * ROWS_PER_RANK;
  hsize_t dims[2] = {rows, COLS}, chunk[2] = {CHUNK_ROWS, COLS};
  hid_t fapl, file, space, dcpl, dset, aspace, attr, dxpl, mspace;
  CHECK(fapl = H5Pcreate(H5P_FILE_ACCESS));
  CHECK(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL));
  CHECK(H5Pset_fapl_arraymorph(fapl, url));
  CHECK(file = H5Fcreate("example_mpi.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  CHECK(space = H5Screate_simple(2, dims, NULL));
  CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  CHECK(H5Pset_chunk(dcpl, 2, chunk));
  CHECK(dset = H5Dcreate2(file, "field", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  int ranks = size;
  CHECK(aspace = H5Screate(H5S_SCALAR));
  CHECK(attr = H5Acreate2(dset, "ranks", H5T_NATIVE_INT, aspace, H5P_DEFAULT, H5P_DEFAULT));
  CHECK(H5Awrite(attr, H5T_NATIVE_INT, &ranks));

  /* Rows rank, rank + size, ... (ROWS_PER_RANK of them). */
  double mine[ROWS_PER_RANK][COLS];
  for (hsize_t k = 0; k < ROWS_PER_RANK; k++)
    for (hsize_t j = 0; j < COLS; j++) mine[k][j] = value_at((hsize_t)rank + k * (hsize_t)size, j);
  hsize_t start[2] = {(hsize_t)rank, 0}, stride[2] = {(hsize_t)size, 1}, count[2] = {ROWS_PER_RANK, COLS};
  CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, stride, count, NULL));
  CHECK(mspace = H5Screate_simple(2, count, NULL));
  CHECK(dxpl = H5Pcreate(H5P_DATASET_XFER));
  CHECK(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  CHECK(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, space, dxpl, mine));

  /* An overlapping window: rows [rank*3, rank*3 + 8), collectively. */
  double window[8][COLS];
  hsize_t wstart[2] = {(hsize_t)rank * 3, 0}, wcount[2] = {8, COLS};
  hid_t wspace, wmem;
  CHECK(wspace = H5Dget_space(dset));
  CHECK(H5Sselect_hyperslab(wspace, H5S_SELECT_SET, wstart, NULL, wcount, NULL));
  CHECK(wmem = H5Screate_simple(2, wcount, NULL));
  CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, wmem, wspace, dxpl, window));
  int bad = 0;
  for (hsize_t i = 0; i < 8; i++)
    for (hsize_t j = 0; j < COLS; j++)
      if (window[i][j] != value_at(wstart[0] + i, j)) bad++;
  if (bad) fprintf(stderr, "mpi_write_read.c: rank %d: %d wrong values in its window\n", rank, bad);

  CHECK(H5Sclose(wmem));
  CHECK(H5Sclose(wspace));
  CHECK(H5Pclose(dxpl));
  CHECK(H5Sclose(mspace));
  CHECK(H5Aclose(attr));
  CHECK(H5Sclose(aspace));
  CHECK(H5Dclose(dset));
  CHECK(H5Pclose(dcpl));
  CHECK(H5Sclose(space));
  CHECK(H5Fclose(file));
  CHECK(H5Pclose(fapl));
  return bad ? 1 : 0;
}

/* Rank 0 alone, serial access: every value and the attribute. */
static int check_serially(const char *url) {
  const hsize_t rows = (hsize_t)size * ROWS_PER_RANK;
  hid_t fapl, file, dset, attr;
  CHECK(fapl = H5Pcreate(H5P_FILE_ACCESS));
  CHECK(H5Pset_fapl_arraymorph(fapl, url));
  CHECK(file = H5Fopen("example_mpi.h5", H5F_ACC_RDONLY, fapl));
  CHECK(dset = H5Dopen2(file, "field", H5P_DEFAULT));
  double *all = malloc(sizeof(double) * rows * COLS);
  if (!all) return 1;
  CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all));
  int bad = 0, ranks = 0;
  for (hsize_t i = 0; i < rows; i++)
    for (hsize_t j = 0; j < COLS; j++)
      if (all[i * COLS + j] != value_at(i, j)) bad++;
  free(all);
  CHECK(attr = H5Aopen(dset, "ranks", H5P_DEFAULT));
  CHECK(H5Aread(attr, H5T_NATIVE_INT, &ranks));
  if (ranks != size) bad++;
  CHECK(H5Aclose(attr));
  CHECK(H5Dclose(dset));
  CHECK(H5Fclose(file));
  CHECK(H5Pclose(fapl));
  printf("MPI C: %d ranks, dataset field %llux%d float64 in %dx%d chunks, collective write + read, "
         "%s\n", size, (unsigned long long)rows, COLS, CHUNK_ROWS, COLS, bad ? "WRONG VALUES" : "all values OK");
  return bad ? 1 : 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 2) {
    if (rank == 0) fprintf(stderr, "usage: mpiexec -n N %s <store-directory>\n", argv[0]);
    MPI_Finalize();
    return 2;
  }
  char url[4096];
  snprintf(url, sizeof url, "file://%s", argv[1]);
  int failed = write_collectively(url);
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (!any && rank == 0) any = check_serially(url);
  MPI_Bcast(&any, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return any ? 1 : 0;
}

#endif /* H5_HAVE_PARALLEL */
