# The static twin of a shared libmmpool: libmmpool.a from the same sources
# with the same definitions and flags, so that one build (and one
# development package) offers both. Users link it as mmpool::mmpool_static;
# mmpool::mmpool stays the shared library. Included by install.cmake after
# the mmpool target is complete; a static build (BUILD_SHARED_LIBS OFF) is
# already libmmpool.a and needs no twin.
option(MMPOOL_INSTALL_STATIC "With a shared libmmpool, also build and install libmmpool.a" ON)
if(NOT BUILD_SHARED_LIBS OR NOT MMPOOL_INSTALL_STATIC)
  return()
endif()

add_library(mmpool_static STATIC ${mmpool_sources})
add_library(mmpool::mmpool_static ALIAS mmpool_static)

# MSVC names the shared library's import library mmpool.lib too.
if(MSVC)
  set(mmpool_static_name mmpool_static)
else()
  set(mmpool_static_name mmpool)
endif()
# Everything but MMPOOL_SHARED, which would make a Windows user import the
# functions from a DLL.
target_include_directories(mmpool_static PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_definitions(mmpool_static PRIVATE MMPOOL_BUILDING
  $<$<BOOL:${WIN32}>:_WIN32_WINNT=0x0A00>)
set_target_properties(mmpool_static PROPERTIES
  OUTPUT_NAME ${mmpool_static_name}
  EXPORT_NAME mmpool_static
  C_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)
get_target_property(mmpool_static_options mmpool COMPILE_OPTIONS)
if(mmpool_static_options)
  target_compile_options(mmpool_static PRIVATE ${mmpool_static_options})
endif()
# The thread library by its flags, not as Threads::Threads: an imported
# target in the export would make a shared build's mmpoolConfig.cmake need
# find_dependency(Threads), which it only does for static builds. With
# glibc 2.34 and later the flags are empty (threads live in libc).
if(NOT WIN32)
  target_link_libraries(mmpool_static PRIVATE ${CMAKE_THREAD_LIBS_INIT})
endif()
