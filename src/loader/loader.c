/* loader.c -- libarraymorph.so of the wheel: the HDF5 plugin that picks the implementation built
 * for the HDF5 already in the process (docs/design.md, "One wheel, two HDF5 series").
 *
 * Why: the h5py wheels from PyPI bundle their own libhdf5 under a hashed soname
 * (libhdf5-<hash>.so.310.x for 1.14, .so.320 for 2.0), loaded RTLD_LOCAL as a dependency of h5py's
 * extension modules. A plugin linked to "libhdf5.so.N" would load a second HDF5 (which breaks every
 * property list), and one plugin binary cannot serve both series. So this file has NO libhdf5
 * dependency. When HDF5 (or arraymorph's Python package) first calls it, it
 *   1. finds the libhdf5 in the process: the library that called H5PLget_plugin_type, else the
 *      only object in the process that defines H5get_libversion (two different ones: error);
 *   2. promotes it to global scope (dlopen RTLD_NOLOAD|RTLD_GLOBAL), so the implementation's
 *      undefined H5* symbols bind to it;
 *   3. asks its version and dlopens impl/libarraymorph_h5_<series>.so next to this file, built for
 *      that series with its libhdf5 DT_NEEDED removed, with RTLD_NOW so a missing symbol fails here;
 *   4. forwards H5PLget_plugin_type/H5PLget_plugin_info to it.
 * The implementations sit in a subfolder because HDF5 dlopens every lib*.so* of a plugin folder.
 *
 * Failure is never silent: the reason is kept (arraymorph_loader_error), printed once to stderr
 * when HDF5 is the caller, and the plugin reports an error type so HDF5 cannot register a
 * connector named arraymorph -- with HDF5_VOL_CONNECTOR=arraymorph, HDF5 2.x then fails to
 * initialise instead of writing native files; HDF5 1.x would fall back to native files, so there
 * the process stops instead (select_for_hdf5).
 *
 * Thread-safety: every entry point serialises on one mutex; the selection happens once per process
 * and is final (success or failure).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOADER_API __attribute__((visibility("default")))

/* H5PL_TYPE_ERROR in every HDF5 series; the loader includes no HDF5 header. */
#define PLUGIN_TYPE_ERROR (-1)

typedef int (*get_type_fn)(void);
typedef const void *(*get_info_fn)(void);
typedef int (*libversion_fn)(unsigned *, unsigned *, unsigned *);

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_done;                 /* selection attempted (its result is final) */
static get_type_fn g_get_type;     /* the implementation's entry points, on success */
static get_info_fn g_get_info;
static char g_series[8];           /* "1_14" or "2" */
static char g_hdf5_path[PATH_MAX]; /* the libhdf5 the implementation binds to */
static char g_impl_path[PATH_MAX];
static char g_error[4096];
static int g_reported;

static void set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
}

/* realpath() of the object that defines H5get_libversion as seen from `name` (dlsym searches the
 * object and its dependencies, so h5py's modules and libhdf5_hl lead to libhdf5 itself). */
static int libhdf5_behind(const char *name, char *out) {
  void *h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
  if (h == NULL) return 0;
  void *sym = dlsym(h, "H5get_libversion");
  Dl_info di;
  int ok = sym != NULL && dladdr(sym, &di) != 0 && di.dli_fname != NULL &&
           realpath(di.dli_fname, out) != NULL;
  dlclose(h);
  return ok;
}

struct names {
  char **v;
  size_t n, cap;
};

static int collect_name(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct names *names = data;
  if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0') return 0;
  if (names->n == names->cap) {
    size_t cap = names->cap ? names->cap * 2 : 64;
    char **v = realloc(names->v, cap * sizeof *v);
    if (v == NULL) return 1;
    names->v = v;
    names->cap = cap;
  }
  names->v[names->n] = strdup(info->dlpi_name);
  if (names->v[names->n] != NULL) names->n++;
  return 0;
}

/* The one libhdf5 in the process into `out`; 0 on success, else g_error says why. Names are
 * collected first and dlopen'ed after dl_iterate_phdr returns (it holds the loader's lock). */
static int find_only_libhdf5(char *out) {
  struct names names = {0};
  dl_iterate_phdr(collect_name, &names);
  char first[PATH_MAX] = "", path[PATH_MAX];
  int rc = 0;
  for (size_t i = 0; i < names.n; i++) {
    if (rc == 0 && libhdf5_behind(names.v[i], path)) {
      if (first[0] == '\0') {
        memcpy(first, path, sizeof first);
      } else if (strcmp(first, path) != 0) {
        set_error("two different libhdf5 libraries are loaded in this process (%s and %s); "
                  "arraymorph can use only one: import only one HDF5 build (e.g. one h5py)",
                  first, path);
        rc = -1;
      }
    }
    free(names.v[i]);
  }
  free(names.v);
  if (rc == 0 && first[0] == '\0') {
    set_error("no libhdf5 is loaded in this process; import h5py (or link a program to libhdf5) "
              "before arraymorph is used");
    rc = -1;
  }
  if (rc == 0) memcpy(out, first, PATH_MAX);
  return rc;
}

/* Folder holding this loader, from the address of one of its functions. */
static int own_dir(char *out) {
  Dl_info di;
  if (dladdr((void *)&own_dir, &di) == 0 || di.dli_fname == NULL ||
      realpath(di.dli_fname, out) == NULL) {
    set_error("arraymorph's loader cannot locate its own file");
    return -1;
  }
  char *slash = strrchr(out, '/');
  if (slash != NULL) *slash = '\0';
  return 0;
}

static int select_locked(const void *caller) {
  if (g_done) return g_get_info != NULL ? 0 : -1;
  g_done = 1;

  char hdf5[PATH_MAX] = "";
  Dl_info di;
  if (caller != NULL && dladdr(caller, &di) != 0 && di.dli_fname != NULL &&
      libhdf5_behind(di.dli_fname, hdf5)) {
    /* HDF5 itself is asking: bind to the very library that is loading the plugin. */
  } else if (find_only_libhdf5(hdf5) != 0) {
    return -1;
  }
  void *h5 = dlopen(hdf5, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  if (h5 == NULL) {
    set_error("cannot make %s visible to arraymorph: %s", hdf5, dlerror());
    return -1;
  }
  libversion_fn libversion = (libversion_fn)dlsym(h5, "H5get_libversion");
  unsigned maj = 0, min = 0, rel = 0;
  if (libversion == NULL || libversion(&maj, &min, &rel) < 0) {
    set_error("H5get_libversion failed in %s", hdf5);
    return -1;
  }
  if (maj == 1 && min == 14) {
    snprintf(g_series, sizeof g_series, "1_14");
  } else if (maj == 2) {
    snprintf(g_series, sizeof g_series, "2");
  } else {
    set_error("HDF5 %u.%u.%u (%s) is not supported: this arraymorph build serves HDF5 1.14.x and "
              "2.x", maj, min, rel, hdf5);
    return -1;
  }
  char dir[PATH_MAX];
  if (own_dir(dir) != 0) return -1;
  struct stat st;
  if (snprintf(g_impl_path, sizeof g_impl_path, "%s/impl/libarraymorph_h5_%s.so", dir, g_series) >=
          (int)sizeof g_impl_path ||
      stat(g_impl_path, &st) != 0) {
    set_error("this arraymorph installation has no implementation for HDF5 %u.%u.%u (%s): "
              "%s is missing", maj, min, rel, hdf5, g_impl_path);
    return -1;
  }
  void *impl = dlopen(g_impl_path, RTLD_NOW | RTLD_LOCAL);
  if (impl == NULL) {
    set_error("cannot load arraymorph's implementation for HDF5 %u.%u.%u (%s): %s", maj, min, rel,
              hdf5, dlerror());
    return -1;
  }
  get_type_fn get_type = (get_type_fn)dlsym(impl, "H5PLget_plugin_type");
  get_info_fn get_info = (get_info_fn)dlsym(impl, "H5PLget_plugin_info");
  if (get_type == NULL || get_info == NULL) {
    set_error("%s lacks the HDF5 plugin entry points", g_impl_path);
    return -1;
  }
  memcpy(g_hdf5_path, hdf5, sizeof g_hdf5_path);
  g_get_type = get_type;
  g_get_info = get_info;
  return 0;
}

/* Does HDF5_VOL_CONNECTOR ask for arraymorph ("arraymorph" or "arraymorph <info>")? */
static int env_asks_for_arraymorph(void) {
  const char *v = getenv("HDF5_VOL_CONNECTOR");
  if (v == NULL) return 0;
  v += strspn(v, " \t");
  return strncmp(v, "arraymorph", 10) == 0 && (v[10] == '\0' || strchr(" \t\n\r", v[10]) != NULL);
}

/* Major version of the libhdf5 that called (0 if unknown). */
static unsigned caller_hdf5_major(const void *caller) {
  char path[PATH_MAX];
  Dl_info di;
  if (caller == NULL || dladdr(caller, &di) == 0 || di.dli_fname == NULL ||
      !libhdf5_behind(di.dli_fname, path))
    return 0;
  void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
  if (h == NULL) return 0;
  libversion_fn libversion = (libversion_fn)dlsym(h, "H5get_libversion");
  unsigned maj = 0, min = 0, rel = 0;
  if (libversion == NULL || libversion(&maj, &min, &rel) < 0) maj = 0;
  dlclose(h);
  return maj;
}

/* Called by HDF5: a failure is reported once on stderr (HDF5's own error only says that the
 * plugin could not be used).
 *
 * HDF5 1.x cannot be made to fail here: H5_init_library marks the library initialised before it
 * reads HDF5_VOL_CONNECTOR, so when the named connector does not register, the first API call
 * fails and every later one runs on the native connector -- data the user meant for arraymorph
 * silently written as native files (docs/compatibility.md, section 0). So when HDF5 1.x loads this
 * plugin for HDF5_VOL_CONNECTOR=arraymorph and the implementation cannot be used, the process
 * stops (exit status 1, after the reason) instead. HDF5 2.x fails its initialisation itself. */
static int select_for_hdf5(const void *caller) {
  int rc = select_locked(caller);
  if (rc != 0 && !g_reported) {
    g_reported = 1;
    fprintf(stderr, "arraymorph: %s\n", g_error);
    if (env_asks_for_arraymorph() && caller_hdf5_major(caller) == 1) {
      fprintf(stderr, "arraymorph: HDF5_VOL_CONNECTOR=arraymorph but the connector cannot be "
                      "loaded, and HDF5 1.x would fall back to writing native files: stopping "
                      "the process (exit status 1)\n");
      fflush(NULL);
      _exit(1);
    }
  }
  return rc;
}

LOADER_API int H5PLget_plugin_type(void) {
  const void *caller = __builtin_extract_return_addr(__builtin_return_address(0));
  pthread_mutex_lock(&g_lock);
  int type = select_for_hdf5(caller) == 0 ? g_get_type() : PLUGIN_TYPE_ERROR;
  pthread_mutex_unlock(&g_lock);
  return type;
}

LOADER_API const void *H5PLget_plugin_info(void) {
  const void *caller = __builtin_extract_return_addr(__builtin_return_address(0));
  pthread_mutex_lock(&g_lock);
  const void *info = select_for_hdf5(caller) == 0 ? g_get_info() : NULL;
  pthread_mutex_unlock(&g_lock);
  return info;
}

/* For arraymorph's Python package: selects (if not done yet) and returns the series ("1_14" or
 * "2") whose _core module matches the loaded implementation, or NULL (see
 * arraymorph_loader_error). */
LOADER_API const char *arraymorph_loader_select(void) {
  pthread_mutex_lock(&g_lock);
  const char *series = select_locked(NULL) == 0 ? g_series : NULL;
  pthread_mutex_unlock(&g_lock);
  return series;
}

/* Why the selection failed ("" if it did not). */
LOADER_API const char *arraymorph_loader_error(void) { return g_error; }

/* The libhdf5 and implementation files in use ("" before a successful selection). */
LOADER_API const char *arraymorph_loader_hdf5_path(void) { return g_hdf5_path; }
LOADER_API const char *arraymorph_loader_impl_path(void) { return g_impl_path; }
