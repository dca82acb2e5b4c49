# Cross-compiling for 64-bit Windows with MinGW-w64 (Debian's -posix
# compilers, whose winpthreads the tests' threads use); programs run under
# Wine when CTest starts them. Used by the mingw preset.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(mmpool_mingw_triple x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${mmpool_mingw_triple}-gcc-posix)
set(CMAKE_CXX_COMPILER ${mmpool_mingw_triple}-g++-posix)
set(CMAKE_RC_COMPILER ${mmpool_mingw_triple}-windres)

# Libraries built for Windows live in the MinGW sysroot and in the prefix
# cmake/mingw-cmocka.sh fills (cmocka); nothing is taken from the host.
if(NOT DEFINED MMPOOL_MINGW_DEPS)
  get_filename_component(MMPOOL_MINGW_DEPS "${CMAKE_CURRENT_LIST_DIR}/../build/mingw-deps" ABSOLUTE)
endif()
set(CMAKE_FIND_ROOT_PATH /usr/${mmpool_mingw_triple} ${MMPOOL_MINGW_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The tests and examples use Windows 10 declarations too (the library sets
# _WIN32_WINNT itself, for any toolchain).
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0A00")
set(CMAKE_CXX_FLAGS_INIT "-D_WIN32_WINNT=0x0A00")

# The runtime libraries (libgcc, libstdc++, winpthreads) are linked in
# statically: a program that needs
# libgcc_s_seh-1.dll, libstdc++-6.dll or libwinpthread-1.dll from the
# compiler's directory does not start (Wine exits with 53).
set(mmpool_mingw_static "-static")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${mmpool_mingw_static}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${mmpool_mingw_static}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${mmpool_mingw_static}")

find_program(mmpool_wine NAMES wine64 wine)
if(mmpool_wine)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${mmpool_wine})
endif()
