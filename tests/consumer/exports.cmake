# exports_only_mmpool: the shared library exports exactly the functions that
# include/mmpool.h declares (so no internal mmp__ symbol leaks and no
# MMPOOL_API is forgotten), and its SONAME is libmmpool.so.MAJOR.
#   cmake -DLIBRARY= -DHEADER= -DSHARED= -DFORMAT= -DNM= -DREADELF= -DMAJOR=
#         -P exports.cmake
cmake_minimum_required(VERSION 3.16)

if(NOT SHARED)
  message("SKIPPED: static build, the library exports nothing")
  return()
endif()
if(NOT FORMAT STREQUAL "ELF")
  message("SKIPPED: the export check reads ELF libraries only")
  return()
endif()
if(NOT NM OR NOT EXISTS "${NM}")
  message("SKIPPED: nm was not found")
  return()
endif()

# What the header promises: every function it declares, MMPOOL_API or not
# (a declaration that forgot it must show up as not exported). Comments and
# preprocessor lines go first; they mention names too.
file(READ ${HEADER} header)
string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" header "${header}")
string(REGEX REPLACE "#[^\n]*" "" header "${header}")
string(REGEX MATCHALL "mmpool_[A-Za-z0-9_]*[ \t\n]*\\(" decls "${header}")
set(declared "")
foreach(decl IN LISTS decls)
  string(REGEX REPLACE "[ \t\n]*\\($" "" name "${decl}")
  list(APPEND declared ${name})
endforeach()
list(SORT declared)
if(NOT declared)
  message(FATAL_ERROR "found no function declared in ${HEADER}")
endif()

# What the library exports: dynamic symbols it defines, POSIX format
# ("name type value size"), so the name is the first word of each line.
execute_process(COMMAND ${NM} -D --defined-only -P ${LIBRARY}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only -P ${LIBRARY} failed (${rc}):\n${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(exported "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ @]+)")
    set(name ${CMAKE_MATCH_1})
    # Markers that older GNU ld adds to every shared library; not ours.
    if(NOT name MATCHES "^(_init|_fini|_edata|_end|__bss_start)$")
      list(APPEND exported ${name})
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES exported)
list(SORT exported)

set(extra "")
foreach(name IN LISTS exported)
  if(NOT name IN_LIST declared)
    list(APPEND extra ${name})
  endif()
endforeach()
set(missing "")
foreach(name IN LISTS declared)
  if(NOT name IN_LIST exported)
    list(APPEND missing ${name})
  endif()
endforeach()
if(extra OR missing)
  foreach(list extra missing)
    if(NOT ${list})
      set(${list} "(none)")
    endif()
    string(REPLACE ";" " " ${list} "${${list}}")
  endforeach()
  message(FATAL_ERROR "${LIBRARY} does not export exactly the API of mmpool.h\n"
    "  exported but not declared: ${extra}\n"
    "  declared but not exported: ${missing}")
endif()
list(LENGTH exported count)
message(STATUS "exports: the ${count} functions of mmpool.h and nothing else")

if(NOT READELF OR NOT EXISTS "${READELF}")
  message(STATUS "readelf was not found, SONAME not checked")
  return()
endif()
execute_process(COMMAND ${READELF} -d ${LIBRARY}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${READELF} -d ${LIBRARY} failed (${rc}):\n${err}")
endif()
set(want libmmpool.so.${MAJOR})
if(NOT out MATCHES "\\(SONAME\\)[^\n]*\\[([^]\n]*)\\]")
  message(FATAL_ERROR "${LIBRARY} has no SONAME, expected ${want}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL want)
  message(FATAL_ERROR "${LIBRARY} has SONAME ${CMAKE_MATCH_1}, expected ${want}")
endif()
message(STATUS "SONAME: ${want}")
