# Install rules: the library, its headers, a relocatable CMake package
# (find_package(mmpool) -> mmpool::mmpool, and mmpool::mmpool_static next to
# a shared library) and a pkg-config file.
#
# Every rule names its component, which cmake/package.cmake turns into a
# package: "runtime" is what a program linked against libmmpool needs (the
# shared library with its versioned names, and the mmpool tool, which
# tools/ installs in the same component); "dev" is what building against
# it needs (headers, libmmpool.so, libmmpool.a, CMake and pkg-config
# files). Two more hold the bindings: "csharp" (Mmpool.Net.dll and its
# .config, when mcs is found; MMPOOL_INSTALL_CSHARP) and "python" (the
# pure-Python package; MMPOOL_INSTALL_PYTHON, off by default). `cmake
# --install` without --component installs all of them.
include(CMakePackageConfigHelpers)
include(${CMAKE_CURRENT_LIST_DIR}/static.cmake)

set(mmpool_install_targets mmpool)
if(TARGET mmpool_static)
  list(APPEND mmpool_install_targets mmpool_static)
endif()
install(TARGETS ${mmpool_install_targets} EXPORT mmpoolTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
    NAMELINK_COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(mmpool_headers include/mmpool.h)
# The C++ wrapper, when this tree has it.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include/mmpool.hpp)
  list(APPEND mmpool_headers include/mmpool.hpp)
endif()
install(FILES ${mmpool_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

set(mmpool_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mmpool)
install(EXPORT mmpoolTargets NAMESPACE mmpool:: DESTINATION ${mmpool_cmake_dir}
  COMPONENT dev)
configure_package_config_file(cmake/mmpoolConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfig.cmake
  INSTALL_DESTINATION ${mmpool_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/mmpoolConfigVersion.cmake
  DESTINATION ${mmpool_cmake_dir} COMPONENT dev)

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
  # `pkg-config --static` is for linking libmmpool.a, when it is here too.
  if(TARGET mmpool_static AND NOT WIN32)
    set(mmpool_pc_libs_private "-pthread")
  endif()
else()
  set(mmpool_pc_cflags "")
  set(mmpool_pc_libs_private "")
  if(NOT WIN32)
    set(mmpool_pc_libs_private "-pthread")
  endif()
endif()
configure_file(cmake/mmpool.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mmpool.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mmpool.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The components installed, for cmake/package.cmake: one package each.
set(mmpool_install_components runtime dev)

# C#: Mmpool.Net.dll with Mmpool.Net.dll.config beside it (Mono's dllmap
# from "mmpool" to libmmpool.so.MAJOR, so the runtime package is enough).
# An assembly is the same on every architecture, so it goes under lib/,
# not the multiarch LIBDIR: lib/cli/mmpool is where Debian's CLI policy
# puts a package's assemblies (/usr/lib/cli/<package>); the Debian package
# also registers it in Mono's GAC (cmake/package.cmake).
option(MMPOOL_INSTALL_CSHARP "Install the C# binding Mmpool.Net.dll when mcs is found" ON)
set(MMPOOL_CSHARP_INSTALL_DIR lib/cli/mmpool CACHE STRING
  "Where the C# binding Mmpool.Net.dll and its .config go, relative to the prefix")
if(MMPOOL_INSTALL_CSHARP)
  include(${PROJECT_SOURCE_DIR}/bindings/csharp/assembly.cmake)
  if(MMPOOL_CSHARP_DLL)
    install(FILES ${MMPOOL_CSHARP_DLL} ${MMPOOL_CSHARP_CONFIG}
      DESTINATION ${MMPOOL_CSHARP_INSTALL_DIR} COMPONENT csharp)
    list(APPEND mmpool_install_components csharp)
  else()
    message(STATUS "mmpool: mcs not found, the C# binding is not installed")
  endif()
endif()

# Python: the package's modules as they are (pure Python over ctypes), no
# tests and no bytecode; its _lib.py finds libmmpool.so.MAJOR through the
# system's loader. lib/python3/dist-packages is Debian's place for pure
# modules of a package under /usr; another prefix needs PYTHONPATH.
option(MMPOOL_INSTALL_PYTHON "Install the Python binding (bindings/python/mmpool)" OFF)
set(MMPOOL_PYTHON_INSTALL_DIR lib/python3/dist-packages CACHE STRING
  "Where the Python package mmpool goes, relative to the prefix")
if(MMPOOL_INSTALL_PYTHON)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/python/mmpool
    DESTINATION ${MMPOOL_PYTHON_INSTALL_DIR} COMPONENT python
    FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
  list(APPEND mmpool_install_components python)
endif()
