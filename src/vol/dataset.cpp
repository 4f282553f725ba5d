// dataset.cpp -- the dataset VOL class: create/open/close, queries, resize.
//
// A dataset is a Zarr v3 array node; its HDF5 datatype, max shape, layout and fill value travel
// in `_hdf5` (type_map.cpp). Data movement is in dataset_io.cpp.
#include <algorithm>

#include "io/chunk_cache.hpp"
#include "io/chunk_io.hpp"
#include "io/codec_pipeline.hpp"
#include "io/shard_io.hpp"
#include "io/vlen_strings.hpp"
#include "model/chunk_key.hpp"
#include "model/links.hpp"
#include "store/memory_store.hpp"
#include "vol/attribute_store.hpp"
#include "vol/callbacks.hpp"
#include "vol/external_links.hpp"
#include "vol/chunk_api.hpp"
#include "vol/committed_types.hpp"
#include "vol/connector_state.hpp"
#include "vol/object_model.hpp"
#include "vol/type_map.hpp"

namespace arraymorph::vol {
namespace {


std::string dims_str(const std::vector<uint64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

// For each element of chunk `coords`: whether its global index is outside the extent.
std::vector<bool> outside_elements(const model::ArrayMeta& meta, const std::vector<uint64_t>& coords) {
  const auto& cs = meta.chunk_shape;
  const uint64_t n = meta.chunk_elements();
  std::vector<bool> out(n, false);
  for (uint64_t e = 0; e < n; ++e) {
    uint64_t rem = e;
    for (size_t k = cs.size(); k-- > 0;) {
      if (coords[k] * cs[k] + rem % cs[k] >= meta.shape[k]) out[e] = true;
      rem /= cs[k];
    }
  }
  return out;
}

// Resets the elements of a decoded chunk that lie outside the extent to the fill value.
void reset_outside(const model::ArrayMeta& meta, const std::vector<uint64_t>& coords, Bytes& raw) {
  const std::vector<bool> out = outside_elements(meta, coords);
  for (uint64_t e = 0; e < out.size(); ++e)
    if (out[e]) io::fill_elements(meta, raw.data() + e * meta.element_size, 1);
}

// After a shrink, HDF5 forgets data outside the new extent: drop chunks that lie wholly outside,
// and reset the outside part of chunks that straddle the new boundary to the fill value. With
// shards the objects are shards (io::trim_shard cuts those that straddle).
void discard_outside(DatasetObject& d, const std::vector<uint64_t>& old_shape) {
  model::ArrayMeta& meta = *d.node->array;
  const auto& shape = meta.shape;
  const auto& cs = meta.shard ? meta.shard->shard_shape : meta.chunk_shape;  // one object each
  const size_t rank = shape.size();
  ObjectStore& store = d.store();
  const std::string prefix = d.key_prefix() + "/";
  auto keys = check(list_all(store, prefix + "c/"));
  std::vector<std::string> drop;
  for (const auto& info : keys) {
    auto parsed = model::parse_chunk_key(info.key.substr(prefix.size()), rank);
    if (!parsed) continue;  // not a chunk key of ours
    const std::vector<uint64_t>& coords = *parsed;
    bool outside = false, straddles = false;
    for (size_t k = 0; k < rank; ++k) {
      if (coords[k] * cs[k] >= shape[k]) outside = true;
      else if ((coords[k] + 1) * cs[k] > shape[k] && old_shape[k] > shape[k]) straddles = true;
    }
    if (outside) {
      drop.push_back(info.key);
      continue;
    }
    if (!straddles) continue;
    if (meta.shard) {
      check(io::trim_shard(store, info.key, meta, coords,
                           [&meta](const std::vector<uint64_t>& c, Bytes& raw) { reset_outside(meta, c, raw); }));
      continue;
    }
    auto got = check(store.get(info.key));
    if (!got) continue;
    Bytes enc;
    if (meta.variable_length()) {
      // Variable-length strings/sequences are stored with their own codec: outside items empty.
      auto items = check(io::decode_vlen_chunk(meta, std::move(*got), info.key));
      const std::vector<bool> out = outside_elements(meta, coords);
      for (uint64_t e = 0; e < out.size(); ++e)
        if (out[e]) items[e].clear();
      enc = check(io::encode_vlen_chunk(meta, items));
    } else {
      auto raw = check(io::decode_chunk(meta, std::move(*got)));
      reset_outside(meta, coords, raw);
      enc = check(io::encode_chunk(meta, std::move(raw)));
    }
    check(store.put(info.key, enc.data(), enc.size()));
  }
  check(store.delete_many(drop));
}

}  // namespace

void* dataset_create(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl, hid_t type,
                     hid_t space, hid_t dcpl, hid_t dapl, hid_t, void**) {
  Object* o = as_object(obj);
  o->file->require_writable("create a dataset");
  std::string path;
  if (name) {  // soft links in the parents are followed; the name itself must be free
    path = check(model::link_location(*o->file->tree, check(model::join_path(resolve_path(*o, loc), name))));
    if (check(model::link_info(*o->file->tree, path)).kind != model::LinkKind::kNone)
      throw Error(Status(Code::kAlreadyExists, "a link named '" + path + "' already exists"));
  }

  model::ArrayMeta meta;
  H5S_class_t sc = H5Sget_simple_extent_type(space);
  if (sc == H5S_NO_CLASS) throw Error(invalid_argument("invalid dataspace for dataset '" + path + "'"));
  if (sc == H5S_NULL) {  // h5py.Empty: no elements, no chunks (docs/format.md)
    meta.shape = {0};
    meta.null_space = true;
  }
  if (sc == H5S_SIMPLE) {
    int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(rank), maxd(rank);
    H5Sget_simple_extent_dims(space, dims.data(), maxd.data());
    meta.shape.assign(dims.begin(), dims.end());
    bool differs = false;
    std::vector<int64_t> ms(rank);
    for (int i = 0; i < rank; ++i) {
      ms[i] = maxd[i] == H5S_UNLIMITED ? -1 : static_cast<int64_t>(maxd[i]);
      differs = differs || maxd[i] != dims[i];
    }
    if (differs) meta.max_shape = ms;
  }
  describe_type(type, meta);
  apply_dcpl(dcpl, type, meta);
  if (meta.null_space) {
    if (!meta.contiguous) throw Error(invalid_argument("a dataset with a null dataspace cannot be chunked (as in HDF5)"));
    meta.chunk_shape = {1};
  }
  // Optional per-chunk checksum (Zarr v3 "crc32c", last codec), for stores that return none.
  if (o->file->config.chunk_checksum) meta.codecs.push_back({"crc32c", model::json::object()});
  // Shards (opt-in): the setting as it is now, not when the file was opened (arraymorph.shards).
  // Contiguous-layout, null and variable-length datasets keep one object per chunk.
  if (!meta.contiguous && !meta.null_space && !meta.variable_length()) {
    const Config live = check(ConnectorState::instance().effective_config());
    meta.shard = check(model::shard_layout_for(live.shard_chunks, meta.chunk_shape, meta.shape, meta.max_shape,
                                               "shard_chunks (ARRAYMORPH_SHARD_CHUNKS)"));
  }
  if (meta.contiguous && meta.max_shape)
    throw Error(invalid_argument("a dataset with a max shape different from its shape must be chunked (as in HDF5)"));

  model::Node node;
  node.kind = model::NodeKind::kArray;
  node.array = std::move(meta);
  record_attr_creation_order(dcpl, node);
  // Created with a committed datatype of this file: H5Dget_type returns that type again.
  if (const std::string ref = committed_type_ref(*o->file, type); !ref.empty())
    node.hdf5[model::kCommittedTypeRefKey] = ref;
  if (!name) {  // H5Dcreate_anon: named later by H5Olink (link.cpp)
    DatasetObject* d = make_dataset_object(*o, "", std::make_shared<model::Node>(std::move(node)), dapl);
    d->anon_store = make_memory_store(nullptr);
    return d;
  }
  check(o->file->tree->create(path, std::move(node), creates_parents(lcpl)));
  return make_dataset_object(*o, path, check(o->file->tree->get(path)), dapl);
}

void* dataset_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t dapl, hid_t, void**) {
  Object* o = as_object(obj);
  const std::string full = check(model::join_path(resolve_path(*o, loc), name ? name : "."));
  if (void* ext = open_external_as(*o, full, H5I_DATASET)) return ext;
  std::string path = check(model::resolve_object(*o->file->tree, full));
  auto node = check(o->file->tree->get(path));
  if (node->kind != model::NodeKind::kArray)
    throw Error(invalid_argument("'" + path + "' is a " +
                                 (node->kind == model::NodeKind::kGroup ? "group" : "committed datatype") +
                                 ", not a dataset"));
  check(io::check_codecs(node->array->codecs).with_context("dataset '" + path + "'"));
  return make_dataset_object(*o, path, node, dapl);
}

herr_t dataset_get(void* obj, H5VL_dataset_get_args_t* args, hid_t, void**) {
  DatasetObject* d = as_dataset(obj);
  switch (args->op_type) {
    case H5VL_DATASET_GET_DAPL:
      args->args.get_dapl.dapl_id = H5Pcopy(d->dapl.get());
      return 0;
    case H5VL_DATASET_GET_DCPL:
      args->args.get_dcpl.dcpl_id = H5Pcopy(d->dcpl.get());
      return 0;
    case H5VL_DATASET_GET_SPACE:
      refresh_space(*d);
      args->args.get_space.space_id = H5Scopy(d->space.get());
      return 0;
    case H5VL_DATASET_GET_SPACE_STATUS:
      *args->args.get_space_status.status = space_status(*d);
      return 0;
    case H5VL_DATASET_GET_STORAGE_SIZE: {
      // Bytes of the chunk objects actually stored (one LIST of the dataset's chunks).
      auto objs = check(list_all(d->store(), d->key_prefix() + "/c"));  // "c" itself for rank 0
      hsize_t total = 0;
      for (const auto& i : objs) total += i.size;
      *args->args.get_storage_size.storage_size = total;
      return 0;
    }
    case H5VL_DATASET_GET_TYPE: {
      hid_t t = H5I_INVALID_HID;
      if (auto ref = d->node->hdf5.find(model::kCommittedTypeRefKey); ref != d->node->hdf5.end() && ref->is_string())
        t = open_committed_type(*d, ref->get<std::string>());
      args->args.get_type.type_id = t >= 0 ? t : H5Tcopy(d->type.get());
      return 0;
    }
  }
  throw Error(unsupported("dataset get operation " + std::to_string(args->op_type)));
}

herr_t dataset_specific(void* obj, H5VL_dataset_specific_args_t* args, hid_t, void**) {
  DatasetObject* d = as_dataset(obj);
  switch (args->op_type) {
    case H5VL_DATASET_SET_EXTENT: {
      d->file->require_writable("resize a dataset");
      model::ArrayMeta& meta = *d->node->array;
      const size_t rank = meta.rank();
      if (meta.contiguous) throw Error(invalid_argument("only chunked datasets can be resized (as in HDF5)"));
      std::vector<uint64_t> want(args->args.set_extent.size, args->args.set_extent.size + rank);
      for (size_t i = 0; i < rank; ++i) {
        int64_t m = meta.max_shape ? (*meta.max_shape)[i] : static_cast<int64_t>(meta.shape[i]);
        if (m >= 0 && want[i] > static_cast<uint64_t>(m))
          throw Error(invalid_argument("new shape " + dims_str(want) + " of '" + d->path + "' exceeds its maxshape"));
      }
      std::vector<uint64_t> old = meta.shape;
      meta.shape = want;
      std::vector<hsize_t> dims(want.begin(), want.end());
      std::vector<hsize_t> maxd(dims);
      if (meta.max_shape)
        for (size_t i = 0; i < rank; ++i)
          maxd[i] = (*meta.max_shape)[i] < 0 ? H5S_UNLIMITED : static_cast<hsize_t>((*meta.max_shape)[i]);
      d->space.reset(H5Screate_simple(static_cast<int>(rank), dims.data(), maxd.data()));
      bool shrank = false;
      for (size_t i = 0; i < rank; ++i) shrank = shrank || want[i] < old[i];
      // Cached chunks may hold data outside the new extent (HDF5 forgets it on shrink).
      if (d->file->chunk_cache) d->file->chunk_cache->erase_prefix(d->key_prefix() + "/");
      if (shrank) discard_outside(*d, old);
      if (!d->anonymous()) {
        d->file->tree->mark_dirty(d->path);
        check(d->file->tree->flush(false));
      }
      return 0;
    }
    case H5VL_DATASET_FLUSH:
      if (d->file->writable()) check(d->file->tree->flush(false));
      return 0;
    case H5VL_DATASET_REFRESH:
      refresh_dataset(*d);
      return 0;
  }
  throw Error(unsupported("dataset specific operation " + std::to_string(args->op_type)));
}

herr_t dataset_close(void* obj, hid_t, void**) {
  DatasetObject* d = as_dataset(obj);
  auto f = d->file;
  // As in file_close: a failed flush leaves the id (and so the object) open.
  if (f->closed && f->writable() && f->tree->modified()) check(f->tree->flush(true));
  end_readahead(*d);
  delete d;
  return 0;
}

}  // namespace arraymorph::vol
