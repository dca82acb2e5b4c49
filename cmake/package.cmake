# Release packages with CPack, from the install components of install.cmake
# (and tools/):
#
#   runtime -> Debian package "mmpool": libmmpool.so.MAJOR and its full
#              version, and the mmpool command-line tool
#   dev     -> Debian package "libmmpool-dev": headers, libmmpool.so,
#              libmmpool.a, the CMake package and mmpool.pc; depends on
#              the runtime package of exactly the same version
#   csharp  -> Debian package "libmmpool-cil" (when mcs was found):
#              Mmpool.Net.dll and its .config in /usr/lib/cli/mmpool,
#              registered in Mono's GAC; depends on the runtime package of
#              the same version and on Mono's runtime
#   python  -> Debian package "python3-mmpool" (MMPOOL_INSTALL_PYTHON):
#              the Python package in /usr/lib/python3/dist-packages;
#              depends on python3 and the runtime package of the same
#              version
#   gstreamer -> Debian package "gstreamer1.0-mmpool" (when gst/ builds
#              the plugin): libgstmmpool.so in GStreamer's plugin
#              directory; depends on the runtime package of the same
#              version and on GStreamer's libraries
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

# One package per component; only those install.cmake made (a tool built
# with no COMPONENT would land in "Unspecified" and is left out, not
# shipped by accident).
set(CPACK_COMPONENTS_ALL ${mmpool_install_components})
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_COMPONENT_RUNTIME_DISPLAY_NAME "mmpool runtime")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "Shared library and the mmpool command-line tool")
set(CPACK_COMPONENT_DEV_DISPLAY_NAME "mmpool development files")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "Headers, static library, CMake package and pkg-config file")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_COMPONENT_CSHARP_DISPLAY_NAME "mmpool C# binding")
set(CPACK_COMPONENT_CSHARP_DESCRIPTION "Mmpool.Net.dll for Mono and .NET")
set(CPACK_COMPONENT_CSHARP_DEPENDS runtime)
set(CPACK_COMPONENT_PYTHON_DISPLAY_NAME "mmpool Python binding")
set(CPACK_COMPONENT_PYTHON_DESCRIPTION "The Python package mmpool")
set(CPACK_COMPONENT_PYTHON_DEPENDS runtime)

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
# The bindings are the same on every system and architecture.
set(CPACK_ARCHIVE_CSHARP_FILE_NAME mmpool-csharp-${PROJECT_VERSION})
set(CPACK_ARCHIVE_PYTHON_FILE_NAME mmpool-python-${PROJECT_VERSION})

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
  # Without dpkg-shlibdeps, the shared libraries the tool links beyond
  # libc (tools/CMakeLists.txt) are named by hand: every one of them, or
  # the package installs a tool that does not start. Debian 12's names.
  set(mmpool_deb_depends "")
  if(MMPOOL_CLI_BRIDGE)
    list(APPEND mmpool_deb_depends "libzmq5")
  endif()
  if(MMPOOL_CLI_PNG)
    list(APPEND mmpool_deb_depends "libpng16-16")
  endif()
  list(JOIN mmpool_deb_depends ", " CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS)
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

# The bindings' packages: architecture "all", each needing the runtime
# package of exactly this version (the binding is written against this
# version's header).
set(mmpool_deb_runtime_dep "mmpool (= ${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE})")
# The prefix the .deb files install into (CPack's default for DEB).
if(CPACK_PACKAGING_INSTALL_PREFIX)
  set(mmpool_deb_prefix ${CPACK_PACKAGING_INSTALL_PREFIX})
else()
  set(mmpool_deb_prefix /usr)
endif()
# Maintainer scripts must be 0755 and the other control files 0644.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# mmpool_deb_scripts(COMPONENT POSTINST PRERM): the maintainer scripts of
# COMPONENT's .deb, from their bodies (sh, run with set -e).
function(mmpool_deb_scripts component postinst prerm)
  set(scripts "")
  foreach(script postinst prerm)
    set(out ${PROJECT_BINARY_DIR}/deb/${component}/${script})
    file(WRITE ${out} "#!/bin/sh\n# Made by cmake/package.cmake.\nset -e\n${${script}}")
    list(APPEND scripts ${out})
  endforeach()
  string(TOUPPER ${component} c)
  set(CPACK_DEBIAN_${c}_PACKAGE_CONTROL_EXTRA ${scripts} PARENT_SCOPE)
endfunction()

# C#: the assembly is registered in Mono's GAC at install and removed from
# it before removal, as Debian's CLI packages do, with gacutil (mono-gac):
# programs built with -r:/usr/lib/cli/mmpool/Mmpool.Net.dll then find it
# without MONO_PATH and without a copy beside them. gacutil copies the
# .config along, and gacutil -u removes the directory it made.
# libmono-corlib4.5-cil: mscorlib, the only assembly Mmpool.Net.dll
# references, and what gacutil itself runs on.
if("csharp" IN_LIST CPACK_COMPONENTS_ALL)
  set(CPACK_DEBIAN_CSHARP_PACKAGE_NAME libmmpool-cil)
  set(CPACK_DEBIAN_CSHARP_PACKAGE_SECTION cli-mono)
  set(CPACK_DEBIAN_CSHARP_PACKAGE_ARCHITECTURE all)
  set(CPACK_DEBIAN_CSHARP_PACKAGE_DEPENDS
    "${mmpool_deb_runtime_dep}, mono-runtime, mono-gac, libmono-corlib4.5-cil")
  set(CPACK_DEBIAN_CSHARP_DESCRIPTION "${mmpool_deb_about}

This package holds the C# binding Mmpool.Net.dll for Mono, in \
${mmpool_deb_prefix}/${MMPOOL_CSHARP_INSTALL_DIR} and registered in Mono's global assembly \
cache: build with mcs -r:${mmpool_deb_prefix}/${MMPOOL_CSHARP_INSTALL_DIR}/Mmpool.Net.dll \
and run with mono.")
  mmpool_deb_scripts(csharp "\
case \"$1\" in
configure | abort-upgrade | abort-remove | abort-deconfigure)
  # gacutil wants the assembly's directory as the current one.
  cd ${mmpool_deb_prefix}/${MMPOOL_CSHARP_INSTALL_DIR}
  gacutil -i Mmpool.Net.dll >/dev/null
  ;;
esac
" "\
case \"$1\" in
remove | upgrade | deconfigure | failed-upgrade)
  if ! gacutil -u Mmpool.Net >/dev/null; then
    echo \"libmmpool-cil: gacutil -u Mmpool.Net failed\" >&2
  fi
  ;;
esac
")
endif()

# Python: bytecode is compiled at install and removed before removal with
# Debian's py3compile and py3clean (python3-minimal), as the scripts that
# dh_python3 writes do, so the package neither ships .pyc files nor leaves
# any behind.
if("python" IN_LIST CPACK_COMPONENTS_ALL)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-mmpool)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_ARCHITECTURE all)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "python3, ${mmpool_deb_runtime_dep}")
  set(CPACK_DEBIAN_PYTHON_DESCRIPTION "${mmpool_deb_about}

This package holds the Python binding, the package mmpool (ctypes, no \
compiled code), in ${mmpool_deb_prefix}/${MMPOOL_PYTHON_INSTALL_DIR}.")
  mmpool_deb_scripts(python "\
if [ \"$1\" = configure ] && command -v py3compile >/dev/null; then
  py3compile -p python3-mmpool
fi
" "\
if command -v py3clean >/dev/null; then
  py3clean -p python3-mmpool
else
  rm -rf ${mmpool_deb_prefix}/${MMPOOL_PYTHON_INSTALL_DIR}/mmpool/__pycache__
fi
")
endif()

# GStreamer: the plugin libgstmmpool.so (gst/), when it is built, in
# GStreamer's plugin directory; Debian package "gstreamer1.0-mmpool", as
# Debian names GStreamer plugin packages, needing the runtime package of
# exactly this version and GStreamer's libraries of at least the version
# it was built against (a plugin loads into a core of the same major and
# the same or a newer minor).
if(TARGET gstmmpool)
  list(APPEND CPACK_COMPONENTS_ALL gstreamer)
  set(CPACK_COMPONENT_GSTREAMER_DISPLAY_NAME "mmpool GStreamer plugin")
  set(CPACK_COMPONENT_GSTREAMER_DESCRIPTION "The GStreamer elements mmpoolsink and mmpoolsrc")
  set(CPACK_COMPONENT_GSTREAMER_DEPENDS runtime)
  set(CPACK_ARCHIVE_GSTREAMER_FILE_NAME
    gstreamer1.0-mmpool-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR})
  set(CPACK_DEBIAN_GSTREAMER_PACKAGE_NAME gstreamer1.0-mmpool)
  set(CPACK_DEBIAN_GSTREAMER_PACKAGE_SECTION video)
  # GStreamer's core loads no plugin built for a newer minor than its own,
  # which the libraries' symbol versions do not tell: written here.
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" mmpool_gst_min "${MMPOOL_GST_VERSION}")
  set(mmpool_gst_core_dep "libgstreamer1.0-0 (>= ${mmpool_gst_min})")
  if(MMPOOL_DPKG_SHLIBDEPS)
    # The other libraries' packages and versions from what the plugin
    # links (dpkg-shlibdeps), so the list follows the code. libmmpool is in
    # no installed package: dpkg-shlibdeps finds it in the build tree and
    # leaves it to the exact dependency written here.
    set(CPACK_DEBIAN_GSTREAMER_PACKAGE_SHLIBDEPS ON)
    get_target_property(mmpool_lib_dir mmpool BINARY_DIR)
    list(APPEND CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${mmpool_lib_dir})
    set(CPACK_DEBIAN_GSTREAMER_PACKAGE_DEPENDS "${mmpool_deb_runtime_dep}, ${mmpool_gst_core_dep}")
  else()
    set(CPACK_DEBIAN_GSTREAMER_PACKAGE_DEPENDS "${mmpool_deb_runtime_dep}, ${mmpool_gst_core_dep}, \
libgstreamer-plugins-base1.0-0 (>= ${mmpool_gst_min}), libglib2.0-0, libc6")
  endif()
  set(CPACK_DEBIAN_GSTREAMER_DESCRIPTION "${mmpool_deb_about}

This package holds the GStreamer plugin mmpool: the elements mmpoolsink \
(a pipeline writes its frames into a pool, in place) and mmpoolsrc (a live \
source of a pool's frames, zero-copy).")
endif()

include(CPack)
