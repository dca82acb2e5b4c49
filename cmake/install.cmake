# Install rules: the library, its header, a relocatable CMake package
# (find_package(mmpool) -> mmpool::mmpool) and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS mmpool EXPORT mmpoolTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/mmpool.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(mmpool_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mmpool)
install(EXPORT mmpoolTargets NAMESPACE mmpool:: DESTINATION ${mmpool_cmake_dir})
configure_package_config_file(cmake/mmpoolConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfig.cmake
  INSTALL_DESTINATION ${mmpool_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfigVersion.cmake
  DESTINATION ${mmpool_cmake_dir})

# pkg-config: the prefix is found relative to the .pc file, so an install
# tree can be moved. The way up is counted on the relative LIBDIR alone, as
# `cmake --install --prefix` may put the tree anywhere. A directory given as
# an absolute path (some distributions do) does not move with the prefix and
# is written as it is.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(mmpool_pc_prefix "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH mmpool_pc_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" mmpool_pc_up "${mmpool_pc_up}")
  set(mmpool_pc_prefix "\${pcfiledir}/${mmpool_pc_up}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(mmpool_pc_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(mmpool_pc_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
if(BUILD_SHARED_LIBS)
  set(mmpool_pc_cflags "-DMMPOOL_SHARED")
  set(mmpool_pc_libs_private "")
else()
  set(mmpool_pc_cflags "")
  set(mmpool_pc_libs_private "-pthread")
endif()
configure_file(cmake/mmpool.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mmpool.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mmpool.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
