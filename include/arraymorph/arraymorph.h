/* arraymorph.h -- public C API of the arraymorph HDF5 VOL connector.
 *
 * Most programs need none of this: set HDF5_PLUGIN_PATH to the plugin folder and
 * HDF5_VOL_CONNECTOR=arraymorph, and every H5Fcreate/H5Fopen goes through arraymorph.
 * Programs that select the connector in code call H5Pset_fapl_arraymorph() on a file access
 * property list. The other functions configure the connector and read its statistics; the Python
 * package's _core module calls exactly these, so Python and HDF5 share one connector instance.
 *
 * Thread-safety: configuration and statistics functions may be called from any thread; they
 * affect files opened afterwards (configuration) or report process-wide counters (statistics).
 */
#ifndef ARRAYMORPH_ARRAYMORPH_H
#define ARRAYMORPH_ARRAYMORPH_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ARRAYMORPH_API __declspec(dllexport)
#else
#define ARRAYMORPH_API __attribute__((visibility("default")))
#endif

/* The connector's registered name and value (HDF5_VOL_CONNECTOR=arraymorph). */
#define ARRAYMORPH_CONNECTOR_NAME "arraymorph"
#define ARRAYMORPH_CONNECTOR_VALUE ((H5VL_class_value_t)4242)

/* Selects arraymorph on a file access property list. `url_or_config` may be NULL (use the
 * environment), a store URL root ("s3://bucket", "az://container", "file:///dir"), or
 * "key=value;key=value" settings as accepted by arraymorph_configure(). Returns 0 or negative
 * with an HDF5 error pushed. */
ARRAYMORPH_API herr_t H5Pset_fapl_arraymorph(hid_t fapl_id, const char *url_or_config);

/* Registers the connector (idempotent) and returns its id, or H5I_INVALID_HID on failure. The
 * caller must not close it. */
ARRAYMORPH_API hid_t arraymorph_register(void);

/* Library version string, e.g. "0.3.0". */
ARRAYMORPH_API const char *arraymorph_version(void);

/* Sets one process-wide setting for files opened afterwards, e.g. ("threads", "8"),
 * ("max_inflight", "64"), ("cache_bytes", "0"), ("platform", "S3"), ("s3.bucket", "b").
 * Returns 0, or -1 and writes a message naming the key into errbuf (if errbuf != NULL). */
ARRAYMORPH_API int arraymorph_configure(const char *key, const char *value, char *errbuf,
                                        size_t errbuf_len);

/* Drops every explicit setting made by arraymorph_configure (back to environment + defaults). */
ARRAYMORPH_API void arraymorph_reset_configuration(void);

/* Writes the statistics as JSON into buf (NUL-terminated, truncated to len) and returns the full
 * length needed, excluding the NUL. */
ARRAYMORPH_API size_t arraymorph_stats_json(char *buf, size_t len);
ARRAYMORPH_API void arraymorph_reset_stats(void);

/* h5py support. h5py is compiled against HDF5's 1.10 API, whose deprecated H5Literate1,
 * H5Ovisit1 and H5Oget_info1 refuse objects of any non-native VOL connector. The Python package
 * routes group iteration through these two calls instead (python/arraymorph/_h5py_compat.py). */

/* 1 if `id` is a file, group or dataset opened through arraymorph, 0 if not, negative on error. */
ARRAYMORPH_API int arraymorph_is_arraymorph_object(hid_t id);

/* Names of the links in the group `name` (relative to loc_id; "." for loc_id itself), in name
 * order, each terminated by '\0', written into buf (up to len bytes). Returns the number of bytes
 * needed for all names, or a negative value with an HDF5 error pushed. */
ARRAYMORPH_API ssize_t arraymorph_link_names(hid_t loc_id, const char *name, char *buf, size_t len);
/* The same in creation order when `creation_order` is non-zero and the group tracks it (h5py lists
 * such groups in creation order), else in name order. */
ARRAYMORPH_API ssize_t arraymorph_link_names_ordered(hid_t loc_id, const char *name, int creation_order, char *buf,
                                                     size_t len);

/* Kind of the link `name` (relative to loc_id; soft links in its parent components are followed):
 * 0 no such link, 1 hard link (a group, dataset or committed datatype), 2 soft link, 3 external
 * link, negative on error (HDF5 error pushed). For a soft link its target is written into buf
 * (NUL-terminated, truncated to len) and its full length (without the NUL) into *target_len (when
 * not NULL); for an external link the same with "<file>\0<object path>". (H5Lget_info1, which h5py
 * calls, refuses non-native connectors.) */
ARRAYMORPH_API int arraymorph_link_info(hid_t loc_id, const char *name, char *buf, size_t len,
                                        size_t *target_len);

/* Store utilities for tools (the `arraymorph` command): the objects of a store URL, without
 * opening it as an HDF5 file. `url` is any file name H5Fopen accepts ("s3://bucket/a.h5",
 * "az://container/a.h5", "file:///dir/a.h5", a plain name in the configured store, or a store
 * root such as "s3://bucket"), resolved with the current configuration; `key` (NULL or "" for
 * the URL's own key) is a '/'-separated key relative to it, e.g. "x/zarr.json". Each returns 0 on
 * success or -1 and a message naming the key and store in errbuf (NUL-terminated, truncated to
 * errbuf_len). Thread-safe; they block until the store answers. */

/* Called once per object; `key` is relative to "<url key>/<key>/"; return nonzero to stop the
 * listing (the function then returns 1). */
typedef int (*arraymorph_list_cb)(const char *key, uint64_t size, void *user);
/* Every object whose key starts with "<url key>/<key>/" (every object of the store for a store
 * root and empty key), in ascending key order. */
ARRAYMORPH_API int arraymorph_store_list(const char *url, const char *key, arraymorph_list_cb cb,
                                         void *user, char *errbuf, size_t errbuf_len);
/* The object "<url key>/<key>": cb receives its bytes (valid during the call); returns 1 without
 * calling cb when it does not exist. */
typedef void (*arraymorph_get_cb)(const void *data, size_t size, void *user);
ARRAYMORPH_API int arraymorph_store_get(const char *url, const char *key, arraymorph_get_cb cb,
                                        void *user, char *errbuf, size_t errbuf_len);
/* Stores `size` bytes as the object "<url key>/<key>" (replacing it). */
ARRAYMORPH_API int arraymorph_store_put(const char *url, const char *key, const void *data,
                                        size_t size, char *errbuf, size_t errbuf_len);
/* Deletes the object "<url key>/<key>" (recursive == 0) or every object below it (recursive != 0;
 * a store root is refused). *deleted (if not NULL) receives the count. Deleting a missing object
 * is not an error. */
ARRAYMORPH_API int arraymorph_store_delete(const char *url, const char *key, int recursive,
                                           uint64_t *deleted, char *errbuf, size_t errbuf_len);
/* The effective configuration (explicit settings over environment over defaults) as JSON, with
 * every secret replaced by "***" (or "" when unset); with a non-empty `url` also the location it
 * resolves to, or "error". Written like arraymorph_stats_json (returns the full length). */
ARRAYMORPH_API size_t arraymorph_config_json(const char *url, char *buf, size_t len);

/* Object and region references for h5py (docs/format.md, "Object identity and references").
 * HDF5 1.14 creates and dereferences the old-style references h5py uses (H5Rcreate, hobj_ref_t,
 * hdset_reg_ref_t) for the native connector only, inside the library. arraymorph stores an object
 * reference as the object's 8-byte id (little endian) and a region reference as that id followed by
 * a 4-byte index (little endian) into the dataset's recorded selections; the Python package makes
 * h5py's h5r functions use these calls for arraymorph objects (python/arraymorph/_h5py_refs.py).
 * Every function returns a negative value with an HDF5 error pushed on failure. */

/* The id of the object `name` (relative to loc_id, soft links followed) into *id. */
ARRAYMORPH_API int arraymorph_object_id(hid_t loc_id, const char *name, uint64_t *id);
/* The current absolute path of the object with `id` in loc_id's file, NUL-terminated into buf
 * (truncated to len); returns the path's length. Fails naming the id when no object has it. */
ARRAYMORPH_API ssize_t arraymorph_object_path(hid_t loc_id, uint64_t id, char *buf, size_t len);
/* Records the selection of space_id on the dataset `name` (relative to loc_id) and returns the
 * dataset's id and the selection's index (the file must be writable, as natively). */
ARRAYMORPH_API int arraymorph_region_create(hid_t loc_id, const char *name, hid_t space_id, uint64_t *id,
                                            uint32_t *index);
/* A new dataspace id: the dataset's extent with the recorded selection `index` selected. */
ARRAYMORPH_API hid_t arraymorph_region_space(hid_t loc_id, uint64_t id, uint32_t index);

/* Recomputes the Zarr `dimension_names` of dataset dset_id from its dimension scales and labels
 * (docs/format.md, "Dimension scales and dimension_names") and records it in its metadata. The
 * Python package calls it after each dimension-scale change made through h5py. */
ARRAYMORPH_API int arraymorph_sync_dimension_names(hid_t dset_id);

/* Which references H5Aget_type reports for the object references stored in attributes (for
 * example the dimension-scale attributes DIMENSION_LIST and REFERENCE_LIST): new_style != 0 (the
 * default) reports H5T_STD_REF (H5R_ref_t, open with H5Ropen_object), what C programs and HDF5_HL's
 * H5DS* functions use with a non-native connector; 0 reports H5T_STD_REF_OBJ (hobj_ref_t holding
 * the object's id), what h5py reads -- the Python package selects it around h5py's h5a.open and
 * h5a.create. An attribute id keeps the setting in force when it was opened or created. The stored
 * form does not change; H5Aread and H5Awrite accept both forms either way. Process-wide; returns
 * the previous setting (1 or 0). */
ARRAYMORPH_API int arraymorph_set_attribute_reference_style(int new_style);

/* H5Dwrite_chunk for many chunks at once (used by `arraymorph cp` to copy chunks undecoded).
 * Stores n whole chunks of the chunked dataset dset_id, each in HDF5's raw chunk form as
 * H5Dwrite_chunk takes it: chunk i starts at the element offsets[i*rank] .. offsets[i*rank+rank-1]
 * (rank: the dataset's), was written with filter mask filter_masks[i] (filter_masks NULL: all 0)
 * and is sizes[i] bytes at bufs[i] (borrowed for the call). Every offset is checked before
 * anything is stored (on a chunk boundary, inside the extent, no chunk twice). The chunks are
 * converted on the connector's worker pool -- stored as given when every filter was applied, a
 * gzip stream re-framed but never recompressed (arraymorph.stats()["direct_chunks"] counts how)
 * -- and PUT concurrently, at most max_inflight at once, with at most two groups of 16 MiB of
 * converted chunks in memory besides the caller's buffers. Returns 0 when every chunk is stored,
 * or -1 with an HDF5 error pushed naming the chunk; then any subset of the chunks may be stored,
 * each whole or not at all. Call from the thread that does the HDF5 I/O (h5py: holding its
 * lock). */
ARRAYMORPH_API int arraymorph_write_chunks(hid_t dset_id, size_t n, const hsize_t *offsets,
                                           const uint32_t *filter_masks, const void *const *bufs,
                                           const size_t *sizes);

/* MPI collective chunk I/O (DESIGN section 6). Between arraymorph_collective_begin and
 * arraymorph_collective_end every rank of the communicator makes the same sequence of H5Dread /
 * H5Dwrite calls (same datasets, same order, even with empty selections); each chunk is then read
 * or written once by its owner rank and the pieces are exchanged with MPI_Alltoallv. Metadata
 * changes inside the block (file create, groups, datasets, attributes, links, resize, flush) are
 * made once, by rank 0, when every rank has made the same call. A rank that
 * fails makes every rank fail instead of hanging. `comm_f` is the communicator's Fortran handle
 * (an MPI_Fint: MPI_Comm_c2f(comm), mpi4py comm.py2f()); it is duplicated. The functions return 0,
 * or -1 with a message available from arraymorph_collective_last_error. Without MPI in the build,
 * begin always fails (arraymorph_collective_available() returns 0). Not thread-safe: call from
 * the thread that does the HDF5 I/O. */
ARRAYMORPH_API int arraymorph_collective_available(void);
ARRAYMORPH_API int arraymorph_collective_begin(int comm_f);
/* Leaves the block normally; fails if another rank left with an error or at another step. */
ARRAYMORPH_API int arraymorph_collective_end(void);
/* Leaves the block because this rank failed: the other ranks' next collective step fails. */
ARRAYMORPH_API int arraymorph_collective_abort(void);
ARRAYMORPH_API int arraymorph_collective_active(void);
/* on != 0: this rank works alone for a while (its calls are independent, nothing is coordinated);
 * on == 0: back to the block. */
ARRAYMORPH_API void arraymorph_collective_suspend(int on);
/* Copies the last failure message of the functions above (NUL-terminated, truncated to len) and
 * returns its full length. */
ARRAYMORPH_API size_t arraymorph_collective_last_error(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ARRAYMORPH_ARRAYMORPH_H */
