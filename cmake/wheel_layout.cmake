# wheel_layout.cmake -- install layout of one HDF5 series' parts of the wheel (included by
# python/CMakeLists.txt when ARRAYMORPH_WHEEL_SERIES is set; scripts/build_wheel.sh merges the
# installs of both series):
#   arraymorph/lib/libarraymorph.so                 the loader, the ONLY file HDF5 scans there
#   arraymorph/lib/impl/libarraymorph_h5_<S>.so     the connector built for series S
#   arraymorph/_h5_<S>/_core.<abi>.so               bindings for series S; DT_NEEDED the line above
# The loader dlopens the implementation by path and _core names it by soname, so the dynamic
# linker maps it once: Python and HDF5 share one connector instance.
set(_series_dir "${ARRAYMORPH_PYTHON_INSTALL_DIR}/_h5_${ARRAYMORPH_WHEEL_SERIES}")
set_target_properties(_core PROPERTIES INSTALL_RPATH "$ORIGIN/../lib/impl")
install(TARGETS _core LIBRARY DESTINATION "${_series_dir}")
install(TARGETS arraymorph LIBRARY DESTINATION "${ARRAYMORPH_PYTHON_INSTALL_DIR}/lib/impl")
install(TARGETS arraymorph_loader LIBRARY DESTINATION "${ARRAYMORPH_PYTHON_INSTALL_DIR}/lib")
