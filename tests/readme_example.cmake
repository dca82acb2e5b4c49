# Checks that the C example in README.md is examples/hello.c verbatim, so the
# code the README shows is the code CI builds and runs.
# Usage: cmake -DREADME=... -DEXAMPLE=... -P readme_example.cmake
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "```c\n" start)
if(start EQUAL -1)
  message(FATAL_ERROR "README.md has no ```c block")
endif()
math(EXPR start "${start} + 5")
string(SUBSTRING "${readme}" ${start} -1 rest)
string(FIND "${rest}" "```" stop)
string(SUBSTRING "${rest}" 0 ${stop} snippet)
if(NOT snippet STREQUAL example)
  message(FATAL_ERROR "the C example in README.md differs from examples/hello.c")
endif()
