# Runs one cookbook snippet and fails unless it exits 0 and prints exactly
# the output the cookbook shows for it.
# Usage: cmake -DPROGRAM=exe [-DSCRIPT=file.py] -DEXPECTED=NAME.out -P run_snippet.cmake
execute_process(COMMAND ${PROGRAM} ${SCRIPT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
file(READ ${EXPECTED} want)
# message() without a mode prints the text as it is (the others reflow it).
message("-- the snippet printed:\n${out}-- on stderr:\n${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the snippet failed: ${rc}")
endif()
if(NOT out STREQUAL want)
  message("-- the cookbook says it prints:\n${want}")
  message(FATAL_ERROR "the output differs from the cookbook's")
endif()
