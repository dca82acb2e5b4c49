# Runs one receiver of examples/xlang against frame_writer on a fresh pool:
#   cmake -DWRITER=exe -DRECEIVER="cmd;args" -DPATH=copy|loan -DLIBDIR=dir -P run_receiver.cmake
# Both start together (each creates the pool if missing); the test passes
# when both exit 0 and the receiver saw the end frame. The receiver's
# output, with its timings, is printed.
cmake_minimum_required(VERSION 3.16)

string(RANDOM LENGTH 10 ALPHABET abcdefghijklmnopqrstuvwxyz0123456789 rand)
set(pool mmpool-xlang-test-${rand})
set(ENV{LD_LIBRARY_PATH} "${LIBDIR}:$ENV{LD_LIBRARY_PATH}") # mono finds libmmpool.so here
set(loan_arg "")
if(PATH STREQUAL "loan")
  set(loan_arg --loan)
endif()

# A pipeline runs both at once; the writer's empty output is the
# receiver's input, which it ignores.
execute_process(
  COMMAND ${WRITER} --pool ${pool} --frames 45 --fps 30 ${loan_arg}
  COMMAND ${RECEIVER} --pool ${pool} --seconds 20 ${loan_arg}
  RESULTS_VARIABLE codes OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(EXISTS /dev/shm/${pool})
  file(REMOVE /dev/shm/${pool})
endif()
message("${out}${err}")
if(NOT codes STREQUAL "0;0")
  message(FATAL_ERROR "writer and receiver exited with ${codes}, expected 0;0")
endif()
if(NOT out MATCHES "end frame yes")
  message(FATAL_ERROR "the receiver did not report the end frame")
endif()
