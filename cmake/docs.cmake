# The API reference: a `docs` target that runs Doxygen over the public
# headers (docs/Doxyfile.in) into <build dir>/docs/html. It exists only
# when Doxygen is found; nothing else depends on it, and the default build
# does not run it.
#
#   cmake --build <build dir> --target docs
#
# Doxygen prints a warning for every public item without a comment;
# -DMMPOOL_DOCS_WERROR=ON makes those warnings fail the target.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "mmpool: Doxygen not found, no docs target")
  return()
endif()
option(MMPOOL_DOCS_WERROR "Fail the docs target on Doxygen warnings" OFF)

set(mmpool_docs_dir ${PROJECT_BINARY_DIR}/docs)
set(mmpool_docs_headers ${PROJECT_SOURCE_DIR}/include/mmpool.h)
if(EXISTS ${PROJECT_SOURCE_DIR}/include/mmpool.hpp)
  list(APPEND mmpool_docs_headers ${PROJECT_SOURCE_DIR}/include/mmpool.hpp)
endif()
string(REPLACE ";" " " mmpool_docs_inputs "${mmpool_docs_headers}")
if(MMPOOL_DOCS_WERROR)
  set(mmpool_docs_werror FAIL_ON_WARNINGS)
else()
  set(mmpool_docs_werror NO)
endif()
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${mmpool_docs_dir}/Doxyfile @ONLY)

add_custom_target(docs
  COMMAND Doxygen::doxygen ${mmpool_docs_dir}/Doxyfile
  WORKING_DIRECTORY ${mmpool_docs_dir}
  DEPENDS ${mmpool_docs_headers} ${PROJECT_SOURCE_DIR}/docs/Doxyfile.in
  COMMENT "API reference (Doxygen) in ${mmpool_docs_dir}/html"
  VERBATIM)
