# Release packages with CPack, from the install components of install.cmake
# (and tools/):
#
#   runtime -> Debian package "mmpool": libmmpool.so.MAJOR and its full
#              version, and the mmpool command-line tool
#   dev     -> Debian package "libmmpool-dev": headers, libmmpool.so,
#              libmmpool.a, the CMake package and mmpool.pc; depends on
#              the runtime package of exactly the same version
#
#   cpack -G DEB  (in the build directory) -> one .deb per component
#   cpack -G TGZ                           -> one .tar.gz per component
#
# The runtime package is not called libmmpool0: it also holds
# /usr/bin/mmpool, which does not change with the soname, so two runtime
# packages of different majors could not be installed side by side.
#
# Packages are meant for a release build installed into /usr:
#   cmake -S . -B b -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
# scripts/packages.sh builds them that way and checks them.

set(CPACK_PACKAGE_NAME mmpool)
set(CPACK_PACKAGE_VENDOR "mmpool")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Frame pool in a memory-mapped file for inter-process communication")
# The Maintainer field of the .deb; set it when building packages to
# publish.
set(MMPOOL_PACKAGE_MAINTAINER "mmpool maintainers <maintainers@mmpool.invalid>"
  CACHE STRING "Maintainer (name <email>) written into the packages")
set(CPACK_PACKAGE_CONTACT ${MMPOOL_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

# One package per component; only the two that exist (a tool built with no
# COMPONENT would land in "Unspecified" and is left out, not shipped by
# accident).
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_COMPONENT_RUNTIME_DISPLAY_NAME "mmpool runtime")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "Shared library and the mmpool command-line tool")
set(CPACK_COMPONENT_DEV_DISPLAY_NAME "mmpool development files")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "Headers, static library, CMake package and pkg-config file")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)

# Archives: one per component, each a tree relative to the install prefix
# (lib/..., include/..., bin/...) without a top directory, so that both
# unpack into the same directory; the CMake package and mmpool.pc find
# their prefix from where they are.
set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY OFF)
set(CPACK_ARCHIVE_RUNTIME_FILE_NAME
  mmpool-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR})
set(CPACK_ARCHIVE_DEV_FILE_NAME
  mmpool-dev-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR})

# Debian packages.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # name_version_arch.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
find_program(MMPOOL_DPKG dpkg)
mark_as_advanced(MMPOOL_DPKG)
if(MMPOOL_DPKG)
  execute_process(COMMAND ${MMPOOL_DPKG} --print-architecture
    OUTPUT_VARIABLE mmpool_deb_arch OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE mmpool_deb_arch_rc)
  if(mmpool_deb_arch_rc EQUAL 0 AND mmpool_deb_arch)
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${mmpool_deb_arch})
  endif()
endif()

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME mmpool)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmmpool-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; CPack indents these.
set(mmpool_deb_about "mmpool moves large frames (images, point clouds, tensors) \
between processes on one machine through one memory-mapped file holding N \
fixed-capacity slots, with copying and zero-copy reads and writes.")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "${mmpool_deb_about}

This package holds the shared library and the mmpool command-line tool.")
set(CPACK_DEBIAN_DEV_DESCRIPTION "${mmpool_deb_about}

This package holds the headers, the static library libmmpool.a, the CMake \
package (find_package(mmpool)) and the pkg-config file.")

# Dependencies of the runtime package come from dpkg-shlibdeps (libc, for
# the library and the tool; the tool's libmmpool is in the same package).
# CPackDeb also needs the `file` program for this.
find_program(MMPOOL_DPKG_SHLIBDEPS dpkg-shlibdeps)
mark_as_advanced(MMPOOL_DPKG_SHLIBDEPS)
if(MMPOOL_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
else()
  message(STATUS "mmpool: dpkg-shlibdeps not found, the .deb will declare no libc dependency")
endif()
# A shlibs file, so that packages built against libmmpool get the right
# dependency from their own dpkg-shlibdeps; with it CPack adds postinst and
# postrm scripts that run ldconfig.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# The dev package needs exactly this runtime: libmmpool.so points at its
# libmmpool.so.MAJOR, and the headers describe this version.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "mmpool (= ${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE})")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS OFF)

include(CPack)
