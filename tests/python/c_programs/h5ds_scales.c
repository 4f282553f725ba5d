/* h5ds_scales.c -- HDF5_HL's dimension-scale API (H5DS*) from C, as netCDF-4 and other C
 * programs call it. Used by tests/python/test_h5ds_c.py, which runs it on a native file and on
 * arraymorph files (local, S3, Azure) and compares the output and what is stored.
 *
 * usage: h5ds_scales FILE write|read|bad|refs|region
 *   write: creates FILE: scales x ("x") and y (""), v[3][4] with y on dim 0, x on dim 1 and label
 *          "rows" on dim 0, w[2][4] with x on dim 1; checks, then detaches x from v dim 1.
 *   read:  reopens FILE read-only and prints what the H5DS queries report.
 *   bad:   the calls H5DS must refuse.
 *   refs:  a new-style object reference (H5Rcreate_object) in a plain attribute, read back.
 *   region: a new-style region reference in an attribute (arraymorph refuses it, naming why;
 *          HDF5 prints the error stack); prints "region attribute: written" when it succeeds.
 * Prints one "key: value" line per fact; exits 1 at the first unexpected failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#define CHECK(expr)                                                           \
  do {                                                                        \
    if ((expr) < 0) {                                                         \
      fprintf(stderr, "line %d: %s failed\n", __LINE__, #expr);               \
      H5Eprint2(H5E_DEFAULT, stderr);                                         \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

static herr_t collect(hid_t did, unsigned dim, hid_t dsid, void *data) {
  char name[64];
  (void)did;
  (void)dim;
  if (H5Iget_name(dsid, name, sizeof name) < 0) return -1;
  strcat((char *)data, name);
  strcat((char *)data, " ");
  return 0;
}

static hid_t make(hid_t f, const char *name, int rank, const hsize_t *dims, double start) {
  double buf[16];
  hsize_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  for (hsize_t i = 0; i < n; ++i) buf[i] = start + (double)i;
  hid_t s = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5Dcreate2(f, name, H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(d);
  CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
  H5Sclose(s);
  return d;
}

static void report(const char *what, hid_t v, hid_t w, hid_t x, hid_t y) {
  char buf[256], label[32];
  printf("%s is_scale: x=%d y=%d v=%d\n", what, (int)H5DSis_scale(x), (int)H5DSis_scale(y), (int)H5DSis_scale(v));
  for (unsigned dim = 0; dim < 2; ++dim) {
    buf[0] = '\0';
    int idx = 0;
    int n = H5DSget_num_scales(v, dim);
    CHECK(n);
    if (n > 0) CHECK(H5DSiterate_scales(v, dim, &idx, collect, buf));
    ssize_t len = H5DSget_label(v, dim, label, sizeof label);
    CHECK(len);
    printf("%s v dim %u: %d scale(s) [%s] label '%s'\n", what, dim, n, buf, len > 0 ? label : "");
  }
  buf[0] = '\0';
  int idx = 0;
  CHECK(H5DSiterate_scales(w, 1, &idx, collect, buf));
  printf("%s w dim 1: [%s]\n", what, buf);
  printf("%s attached: v/y/0=%d v/x/1=%d w/x/1=%d w/x/0=%d\n", what, (int)H5DSis_attached(v, y, 0),
         (int)H5DSis_attached(v, x, 1), (int)H5DSis_attached(w, x, 1), (int)H5DSis_attached(w, x, 0));
  ssize_t n = H5DSget_scale_name(x, buf, sizeof buf);
  printf("%s scale names: x='%s'", what, n > 0 ? buf : "");
  n = H5DSget_scale_name(y, buf, sizeof buf);
  printf(" y='%s'\n", n > 0 ? buf : "");
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE write|read|bad|refs|region\n", argv[0]);
    return 2;
  }
  const char *mode = argv[2];
  hid_t f;
  if (strcmp(mode, "write") == 0) {
    CHECK(f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    hsize_t d4[1] = {4}, d3[1] = {3}, d34[2] = {3, 4}, d24[2] = {2, 4};
    hid_t x = make(f, "x", 1, d4, 0), y = make(f, "y", 1, d3, 10), v = make(f, "v", 2, d34, 0);
    hid_t w = make(f, "w", 2, d24, 100);
    CHECK(H5DSset_scale(x, "x"));
    CHECK(H5DSset_scale(y, ""));
    CHECK(H5DSattach_scale(v, y, 0));
    CHECK(H5DSattach_scale(v, x, 1));
    CHECK(H5DSattach_scale(w, x, 1));
    CHECK(H5DSset_label(v, 0, "rows"));
    report("attached", v, w, x, y);
    CHECK(H5DSdetach_scale(v, x, 1));
    report("detached", v, w, x, y);
    H5Dclose(x), H5Dclose(y), H5Dclose(v), H5Dclose(w);
  } else if (strcmp(mode, "read") == 0) {
    CHECK(f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT));
    hid_t x = H5Dopen2(f, "x", H5P_DEFAULT), y = H5Dopen2(f, "y", H5P_DEFAULT);
    hid_t v = H5Dopen2(f, "v", H5P_DEFAULT), w = H5Dopen2(f, "w", H5P_DEFAULT);
    CHECK(x);
    CHECK(y);
    CHECK(v);
    CHECK(w);
    report("reopened", v, w, x, y);
    H5Dclose(x), H5Dclose(y), H5Dclose(v), H5Dclose(w);
  } else if (strcmp(mode, "refs") == 0) {
    CHECK(f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT));
    H5R_ref_t refs[2], back[2];
    CHECK(H5Rcreate_object(f, "x", H5P_DEFAULT, &refs[0]));
    CHECK(H5Rcreate_object(f, "/", H5P_DEFAULT, &refs[1]));
    hsize_t two[1] = {2};
    hid_t s = H5Screate_simple(1, two, NULL), a;
    CHECK(a = H5Acreate2(f, "refs", H5T_STD_REF, s, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(a, H5T_STD_REF, refs));
    CHECK(H5Aclose(a));
    CHECK(a = H5Aopen(f, "refs", H5P_DEFAULT));
    hid_t t = H5Aget_type(a);
    CHECK(H5Aread(a, H5T_STD_REF, back));
    printf("refs: type is H5T_STD_REF=%d", (int)H5Tequal(t, H5T_STD_REF));
    for (int i = 0; i < 2; ++i) {
      char name[64];
      hid_t o = H5Ropen_object(&back[i], H5P_DEFAULT, H5P_DEFAULT);
      CHECK(o);
      CHECK(H5Iget_name(o, name, sizeof name));
      printf(" %s (type %d)", name, (int)H5Rget_obj_type3(&back[i], H5P_DEFAULT, &(H5O_type_t){0}));
      H5Oclose(o);
      H5Rdestroy(&refs[i]);
      H5Rdestroy(&back[i]);
    }
    printf("\n");
    H5Tclose(t), H5Aclose(a), H5Sclose(s);
  } else if (strcmp(mode, "region") == 0) {
    CHECK(f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT));
    hsize_t start[2] = {0, 0}, count[2] = {1, 2};
    hid_t v = H5Dopen2(f, "v", H5P_DEFAULT), sel = H5Dget_space(v), s = H5Screate(H5S_SCALAR), a;
    H5R_ref_t ref;
    CHECK(H5Sselect_hyperslab(sel, H5S_SELECT_SET, start, NULL, count, NULL));
    CHECK(H5Rcreate_region(f, "v", sel, H5P_DEFAULT, &ref));
    CHECK(a = H5Acreate2(f, "region", H5T_STD_REF, s, H5P_DEFAULT, H5P_DEFAULT));
    if (H5Awrite(a, H5T_STD_REF, &ref) >= 0) printf("region attribute: written\n");
    H5Rdestroy(&ref);
    H5Aclose(a), H5Sclose(s), H5Sclose(sel), H5Dclose(v);
  } else {
    CHECK(f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT));
    hid_t x = H5Dopen2(f, "x", H5P_DEFAULT), v = H5Dopen2(f, "v", H5P_DEFAULT), w = H5Dopen2(f, "w", H5P_DEFAULT);
    herr_t rc;
    H5E_BEGIN_TRY {
      printf("refused: scale with scales=%d", H5DSattach_scale(x, v, 0) < 0);   /* w has x attached */
      printf(" own scale=%d", H5DSattach_scale(v, v, 0) < 0);
      printf(" bad dim=%d", H5DSattach_scale(v, x, 5) < 0);
      printf(" detach unattached=%d", H5DSdetach_scale(v, x, 1) < 0);
      rc = H5DSset_scale(w, "w");
      printf(" set_scale on a dataset with scales=%d\n", rc < 0);
    }
    H5E_END_TRY
    H5Dclose(x), H5Dclose(v), H5Dclose(w);
  }
  CHECK(H5Fclose(f));
  return 0;
}
