# install_plugin_link.cmake -- arraymorph_install_plugin_link(<target> <plugin_dir>)
#
# Puts the VOL plugin into an HDF5 plugin folder as a *relative symlink* to the library in
# CMAKE_INSTALL_LIBDIR, not as a second copy. Why a link: a program that links libarraymorph
# (for H5Pset_fapl_arraymorph) and also lets HDF5 load the plugin from that folder must end up
# with ONE connector instance. The dynamic loader de-duplicates by inode, so two paths to the
# same file give one instance; two copies would give two (separate configuration, statistics and
# caches). Relative, so conda/spack relocation keeps it valid.
#
# The loader expands $ORIGIN to the folder of the path it opened (the link's folder), so the
# library also gets an RPATH entry from the plugin folder back to CMAKE_INSTALL_LIBDIR; loaded
# through lib/ the "$ORIGIN" entry serves the same purpose.
include_guard(GLOBAL)

function(arraymorph_install_plugin_link target plugin_dir)
  if(IS_ABSOLUTE "${plugin_dir}")
    set(_abs_plugin "${plugin_dir}")
  else()
    set(_abs_plugin "${CMAKE_INSTALL_PREFIX}/${plugin_dir}")
  endif()
  # Paths relative to each other are the same before and after relocation.
  file(RELATIVE_PATH _to_lib "${_abs_plugin}" "${CMAKE_INSTALL_FULL_LIBDIR}")
  string(REGEX REPLACE "/$" "" _to_lib "${_to_lib}")
  if(_to_lib STREQUAL "")
    set(_to_lib ".")
  endif()
  set_property(TARGET ${target} APPEND PROPERTY INSTALL_RPATH "$ORIGIN" "$ORIGIN/${_to_lib}")

  if(IS_ABSOLUTE "${plugin_dir}")
    set(_dest "\$ENV{DESTDIR}${plugin_dir}")
  else()
    # Evaluated at install time: honours `cmake --install --prefix` and DESTDIR.
    set(_dest "\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${plugin_dir}")
  endif()
  install(CODE "
    set(_dir \"${_dest}\")
    set(_link \"\${_dir}/$<TARGET_LINKER_FILE_NAME:${target}>\")
    file(MAKE_DIRECTORY \"\${_dir}\")
    file(REMOVE \"\${_link}\")
    message(STATUS \"Installing: \${_link} -> ${_to_lib}/$<TARGET_FILE_NAME:${target}>\")
    file(CREATE_LINK \"${_to_lib}/$<TARGET_FILE_NAME:${target}>\" \"\${_link}\" SYMBOLIC)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_link}\")
  ")
endfunction()
