# Test suites that depend on a toolchain or program which may be missing
# (a C++ compiler, /usr/bin/python3 and NumPy, Mono, OpenCV, ...) are
# registered only when it is there. Each directory that leaves a suite out
# calls mmpool_suite_off(), and the end of the configure step lists them
# all, so a short test run is never a silent one.

# mmpool_suite_off(SUITE REASON): records that SUITE is not registered and
# why, and says so at once.
function(mmpool_suite_off suite reason)
  message(STATUS "mmpool: ${suite} tests off: ${reason}")
  set_property(GLOBAL APPEND PROPERTY MMPOOL_SUITES_OFF "${suite}: ${reason}")
endfunction()

# mmpool_suites_summary(): the closing list, called once at the end of the
# top-level CMakeLists.txt.
function(mmpool_suites_summary)
  if(NOT MMPOOL_BUILD_TESTS)
    message(STATUS "mmpool: tests not built (MMPOOL_BUILD_TESTS is OFF)")
    return()
  endif()
  get_property(suites_off GLOBAL PROPERTY MMPOOL_SUITES_OFF)
  if(NOT suites_off)
    message(STATUS "mmpool: every test suite is registered")
    return()
  endif()
  message(STATUS "mmpool: test suites off on this machine (scripts/setup.sh installs what they need):")
  foreach(line IN LISTS suites_off)
    message(STATUS "  ${line}")
  endforeach()
endfunction()

# The Python that tests run with: Debian's /usr/bin/python3 (the one
# python3-numpy and python3-opencv install into), or -DMMPOOL_PYTHON=...
if(NOT WIN32 AND NOT CMAKE_CROSSCOMPILING)
  find_program(MMPOOL_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH
    DOC "Python interpreter for the tests of the Python binding, the tool and the demos")
endif()

# mmpool_python_has(OUT MODULE...): OUT is TRUE when MMPOOL_PYTHON imports
# every MODULE.
function(mmpool_python_has out)
  set(${out} FALSE PARENT_SCOPE)
  if(NOT MMPOOL_PYTHON)
    return()
  endif()
  foreach(module IN LISTS ARGN)
    execute_process(COMMAND ${MMPOOL_PYTHON} -c "import ${module}"
      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(NOT rc EQUAL 0)
      return()
    endif()
  endforeach()
  set(${out} TRUE PARENT_SCOPE)
endfunction()
