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
# tree can be moved.
file(RELATIVE_PATH mmpool_pc_up
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" mmpool_pc_up "${mmpool_pc_up}")
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
