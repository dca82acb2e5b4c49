# Mmpool.Net.dll, the C# binding as an assembly, built with Mono's mcs when
# it is found. Included by cmake/install.cmake (which installs it) and by
# CMakeLists.txt here (which tests it); the first include defines it:
#
#   target mmpool_csharp_assembly    builds the two files below
#   MMPOOL_CSHARP_DLL                ${PROJECT_BINARY_DIR}/bindings/csharp/Mmpool.Net.dll
#   MMPOOL_CSHARP_CONFIG             Mmpool.Net.dll.config beside it, Mono's
#                                    dllmap from "mmpool" to libmmpool.so.MAJOR
#   MMPOOL_MCS, mmpool_mcs_flags     the compiler and its flags, for programs
#
# Both stay unset when mcs is not there. The assembly has a strong name
# (Mmpool.snk) so that the Debian package can register it in Mono's GAC,
# where programs find it without MONO_PATH; its version follows the
# soname (AssemblyInfo.cs.in).
include_guard(GLOBAL)

find_program(MMPOOL_MCS NAMES mcs)
mark_as_advanced(MMPOOL_MCS)
if(NOT MMPOOL_MCS)
  return()
endif()

set(mmpool_mcs_flags -nologo -unsafe -optimize+)
if(MMPOOL_WERROR)
  list(APPEND mmpool_mcs_flags -warnaserror+)
endif()

# In the binary directory of bindings/csharp, where the tests are built:
# Mono looks for an assembly beside the program.
set(mmpool_cs_dir ${PROJECT_BINARY_DIR}/bindings/csharp)
set(MMPOOL_CSHARP_DLL ${mmpool_cs_dir}/Mmpool.Net.dll)
set(MMPOOL_CSHARP_CONFIG ${mmpool_cs_dir}/Mmpool.Net.dll.config)
configure_file(${CMAKE_CURRENT_LIST_DIR}/AssemblyInfo.cs.in ${mmpool_cs_dir}/AssemblyInfo.cs @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/Mmpool.Net.dll.config.in ${MMPOOL_CSHARP_CONFIG} @ONLY)
add_custom_command(OUTPUT ${MMPOOL_CSHARP_DLL}
  COMMAND ${MMPOOL_MCS} ${mmpool_mcs_flags} -target:library
          -keyfile:${CMAKE_CURRENT_LIST_DIR}/Mmpool.snk -out:${MMPOOL_CSHARP_DLL}
          ${CMAKE_CURRENT_LIST_DIR}/Mmpool.cs ${mmpool_cs_dir}/AssemblyInfo.cs
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/Mmpool.cs ${CMAKE_CURRENT_LIST_DIR}/Mmpool.snk
          ${mmpool_cs_dir}/AssemblyInfo.cs
  COMMENT "Building the C# binding Mmpool.Net.dll with mcs")
add_custom_target(mmpool_csharp_assembly ALL DEPENDS ${MMPOOL_CSHARP_DLL} ${MMPOOL_CSHARP_CONFIG})
