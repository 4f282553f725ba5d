// callbacks.hpp -- the C++ implementations behind the H5VL_class_t table (connector.cpp).
//
// One group per VOL class, each defined in its own file (file.cpp, group.cpp, dataset.cpp,
// dataset_io.cpp, attribute.cpp, datatype.cpp, link.cpp, object_callbacks.cpp, introspect.cpp). They throw
// arraymorph::Error on failure; the table wraps each in Guarded<> (trampoline.hpp).
#pragma once

#include <H5VLconnector.h>
#include <hdf5.h>

namespace arraymorph::vol {

extern const H5VL_class_t kConnectorClass;

// file.cpp
void* file_create(const char* name, unsigned flags, hid_t fcpl, hid_t fapl, hid_t dxpl, void** req);
void* file_open(const char* name, unsigned flags, hid_t fapl, hid_t dxpl, void** req);
herr_t file_get(void* obj, H5VL_file_get_args_t* args, hid_t dxpl, void** req);
herr_t file_specific(void* obj, H5VL_file_specific_args_t* args, hid_t dxpl, void** req);
herr_t file_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t file_close(void* obj, hid_t dxpl, void** req);

// group.cpp
void* group_create(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl, hid_t gcpl,
                   hid_t gapl, hid_t dxpl, void** req);
void* group_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t gapl, hid_t dxpl, void** req);
herr_t group_get(void* obj, H5VL_group_get_args_t* args, hid_t dxpl, void** req);
herr_t group_specific(void* obj, H5VL_group_specific_args_t* args, hid_t dxpl, void** req);
herr_t group_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t group_close(void* obj, hid_t dxpl, void** req);

// dataset.cpp / dataset_io.cpp
void* dataset_create(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl, hid_t type,
                     hid_t space, hid_t dcpl, hid_t dapl, hid_t dxpl, void** req);
void* dataset_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t dapl, hid_t dxpl, void** req);
herr_t dataset_read(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[], hid_t file_space[],
                    hid_t dxpl, void* buf[], void** req);
herr_t dataset_write(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[], hid_t file_space[],
                     hid_t dxpl, const void* buf[], void** req);
herr_t dataset_get(void* obj, H5VL_dataset_get_args_t* args, hid_t dxpl, void** req);
herr_t dataset_specific(void* obj, H5VL_dataset_specific_args_t* args, hid_t dxpl, void** req);
herr_t dataset_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t dataset_close(void* obj, hid_t dxpl, void** req);

// attribute.cpp
void* attr_create(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type, hid_t space,
                  hid_t acpl, hid_t aapl, hid_t dxpl, void** req);
void* attr_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t aapl, hid_t dxpl, void** req);
herr_t attr_read(void* attr, hid_t mem_type, void* buf, hid_t dxpl, void** req);
herr_t attr_write(void* attr, hid_t mem_type, const void* buf, hid_t dxpl, void** req);
herr_t attr_get(void* obj, H5VL_attr_get_args_t* args, hid_t dxpl, void** req);
herr_t attr_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_attr_specific_args_t* args, hid_t dxpl,
                     void** req);
herr_t attr_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t attr_close(void* attr, hid_t dxpl, void** req);

// datatype.cpp
void* datatype_commit(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type, hid_t lcpl,
                      hid_t tcpl, hid_t tapl, hid_t dxpl, void** req);
void* datatype_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t tapl, hid_t dxpl, void** req);
herr_t datatype_get(void* obj, H5VL_datatype_get_args_t* args, hid_t dxpl, void** req);
herr_t datatype_specific(void* obj, H5VL_datatype_specific_args_t* args, hid_t dxpl, void** req);
herr_t datatype_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t datatype_close(void* dt, hid_t dxpl, void** req);

// link.cpp
herr_t link_create(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* loc, hid_t lcpl,
                   hid_t lapl, hid_t dxpl, void** req);
herr_t link_copy(void* src, const H5VL_loc_params_t* loc1, void* dst, const H5VL_loc_params_t* loc2, hid_t lcpl,
                 hid_t lapl, hid_t dxpl, void** req);
herr_t link_move(void* src, const H5VL_loc_params_t* loc1, void* dst, const H5VL_loc_params_t* loc2, hid_t lcpl,
                 hid_t lapl, hid_t dxpl, void** req);
herr_t link_get(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args, hid_t dxpl, void** req);
herr_t link_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_link_specific_args_t* args, hid_t dxpl,
                     void** req);
herr_t link_optional(void* obj, const H5VL_loc_params_t* loc, H5VL_optional_args_t* args, hid_t dxpl, void** req);

// object_callbacks.cpp
void* object_open(void* obj, const H5VL_loc_params_t* loc, H5I_type_t* opened_type, hid_t dxpl, void** req);
herr_t object_copy(void* src, const H5VL_loc_params_t* loc1, const char* src_name, void* dst,
                   const H5VL_loc_params_t* loc2, const char* dst_name, hid_t ocpypl, hid_t lcpl, hid_t dxpl,
                   void** req);
herr_t object_get(void* obj, const H5VL_loc_params_t* loc, H5VL_object_get_args_t* args, hid_t dxpl, void** req);
herr_t object_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_object_specific_args_t* args, hid_t dxpl,
                       void** req);
herr_t object_optional(void* obj, const H5VL_loc_params_t* loc, H5VL_optional_args_t* args, hid_t dxpl, void** req);

// introspect.cpp
herr_t introspect_get_conn_cls(void* obj, H5VL_get_conn_lvl_t lvl, const H5VL_class_t** conn_cls);
herr_t introspect_get_cap_flags(const void* info, uint64_t* cap_flags);
herr_t introspect_opt_query(void* obj, H5VL_subclass_t cls, int opt_type, uint64_t* flags);

// token support (object_callbacks.cpp)
herr_t token_cmp(void* obj, const H5O_token_t* t1, const H5O_token_t* t2, int* cmp);

// connector.cpp: info (the settings string given to H5Pset_fapl_arraymorph)
void* info_copy(const void* info);
herr_t info_cmp(int* cmp, const void* info1, const void* info2);
herr_t info_free(void* info);
herr_t info_to_str(const void* info, char** str);
herr_t info_from_str(const char* str, void** info);

}  // namespace arraymorph::vol
