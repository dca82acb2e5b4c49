# Driver of the consumer tests registered in CMakeLists.txt here, run as
#   cmake -DSTEP=<install|find_package|pkg_config|static|cpp_find_package> -D... -P run.cmake
# install:      installs MMPOOL_BUILD_DIR into WORK_DIR/prefix, checks the tree
# find_package: builds and runs find_package/ against that prefix
# pkg_config:   builds and runs pkg_config/main.c with pkg-config flags from a
#               copy of the prefix, then again after moving the copy
# static:       builds and installs a static libmmpool, then both consumers
# cpp_find_package: builds and runs cpp_find_package/ (mmpool.hpp) against
#               the prefix, with CXX_COMPILER and CXX_FLAGS
# csharp:       installs the runtime and csharp components into a prefix of
#               its own, builds csharp/App.cs with MCS against its assembly
#               and runs it with MONO, finding the assembly through
#               MONO_PATH and the library through LD_LIBRARY_PATH
# Any failure ends in message(FATAL_ERROR) with the command and its output.
cmake_minimum_required(VERSION 3.16)

set(prefix ${WORK_DIR}/prefix) # made by STEP install, only read by the others

# run(WHAT COMMAND cmd...): runs cmd; on failure stops the test.
function(run what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "COMMAND")
  execute_process(COMMAND ${arg_COMMAND} WORKING_DIRECTORY ${WORK_DIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${arg_COMMAND}")
    message(FATAL_ERROR "${what} failed (${rc}):\n  ${cmd}\n${out}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

# Options that make an outside build use what this build used.
set(gen_args -G ${GENERATOR} "-DCMAKE_C_COMPILER=${C_COMPILER}")
if(GENERATOR_PLATFORM)
  list(APPEND gen_args -A ${GENERATOR_PLATFORM})
endif()
if(GENERATOR_TOOLSET)
  list(APPEND gen_args -T ${GENERATOR_TOOLSET})
endif()
if(MAKE_PROGRAM)
  list(APPEND gen_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(C_FLAGS)
  list(APPEND gen_args "-DCMAKE_C_FLAGS=${C_FLAGS}")
endif()
if(EXE_LINKER_FLAGS)
  list(APPEND gen_args "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
endif()
set(config_args "")
if(CONFIG)
  list(APPEND gen_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
  set(config_args --config ${CONFIG})
endif()

# A pool name no other run uses; MMPOOL_EXCL in the programs turns a clash
# into an error instead of two runs sharing a pool.
function(unique_pool_name out tag)
  string(TIMESTAMP now "%s")
  string(RANDOM LENGTH 8 ALPHABET abcdefghijklmnopqrstuvwxyz0123456789 rand)
  set(${out} mmpool-consumer-${tag}-${now}-${rand} PARENT_SCOPE)
endfunction()

# run_consumer(WHAT EXE TAG): runs EXE on a fresh pool; removes the pool file
# should the program die before it unlinks it.
function(run_consumer what exe tag)
  unique_pool_name(pool ${tag})
  execute_process(COMMAND ${exe} ${pool} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(EXISTS /dev/shm/${pool})
    file(REMOVE /dev/shm/${pool})
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n  ${exe} ${pool}\n${out}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

# check_install_tree(PREFIX): what a user finds after installing.
function(check_install_tree dir)
  foreach(f
      ${INCLUDEDIR}/mmpool.h
      ${LIBDIR}/cmake/mmpool/mmpoolConfig.cmake
      ${LIBDIR}/cmake/mmpool/mmpoolConfigVersion.cmake
      ${LIBDIR}/cmake/mmpool/mmpoolTargets.cmake
      ${LIBDIR}/pkgconfig/mmpool.pc)
    if(NOT EXISTS ${dir}/${f})
      message(FATAL_ERROR "install tree ${dir}: ${f} is missing")
    endif()
  endforeach()
  file(GLOB libs ${dir}/${LIBDIR}/*mmpool*)
  if(NOT libs)
    message(FATAL_ERROR "install tree ${dir}: no library in ${LIBDIR}")
  endif()
  # Nothing else: no internal header, test or example may ship. The
  # bindings, when this build installs them: the C# assembly with its
  # .config, the Python package's modules.
  file(GLOB_RECURSE all LIST_DIRECTORIES false RELATIVE ${dir} ${dir}/*)
  foreach(f IN LISTS all)
    if(NOT f MATCHES "^(${INCLUDEDIR}/mmpool\\.(h|hpp)|bin/mmpool(\\.exe)?|${LIBDIR}/.*|bin/[^/]*\\.dll)$"
        AND NOT (CSHARP_DIR AND f MATCHES "^${CSHARP_DIR}/Mmpool\\.Net\\.dll(\\.config)?$")
        AND NOT (PYTHON_DIR AND f MATCHES "^${PYTHON_DIR}/mmpool/[A-Za-z0-9_]+\\.py$"))
      message(FATAL_ERROR "install tree ${dir}: unexpected file ${f}")
    endif()
  endforeach()
  message(STATUS "install tree ${dir}: ok")
endfunction()

# built_program(OUT DIR NAME): the program NAME built into DIR; multi-config
# generators put it in a per-config directory, Windows adds .exe.
function(built_program out dir name)
  foreach(exe ${dir}/${name} ${dir}/${name}.exe ${dir}/${CONFIG}/${name} ${dir}/${CONFIG}/${name}.exe)
    if(EXISTS ${exe} AND NOT IS_DIRECTORY ${exe})
      set(${out} ${exe} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "no program ${name} in ${dir}")
endfunction()

# consume_find_package(PREFIX TAG TYPE): configures, builds and runs
# find_package/ against PREFIX; TYPE is the library type it must import.
function(consume_find_package dir tag type)
  set(bin ${WORK_DIR}/${tag}-find_package)
  file(REMOVE_RECURSE ${bin})
  run("configure the find_package consumer (${tag})"
    COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR}/find_package -B ${bin} ${gen_args}
      -DCMAKE_PREFIX_PATH=${dir}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${bin}/out
      -DEXPECT_PREFIX=${dir}
      -DEXPECT_VERSION=${VERSION}
      -DEXPECT_TYPE=${type})
  run("build the find_package consumer (${tag})"
    COMMAND ${CMAKE_COMMAND} --build ${bin} ${config_args})
  built_program(exe ${bin}/out app)
  run_consumer("run the find_package consumer (${tag})" ${exe} ${tag}-fp)
endfunction()

# consume_cpp(PREFIX): configures, builds and runs cpp_find_package/ (the
# C++ header through find_package) against PREFIX.
function(consume_cpp dir)
  set(bin ${WORK_DIR}/cpp-find_package)
  file(REMOVE_RECURSE ${bin})
  run("configure the C++ find_package consumer"
    COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR}/cpp_find_package -B ${bin} ${gen_args}
      "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      -DCMAKE_PREFIX_PATH=${dir}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${bin}/out
      -DEXPECT_PREFIX=${dir})
  run("build the C++ find_package consumer" COMMAND ${CMAKE_COMMAND} --build ${bin} ${config_args})
  built_program(exe ${bin}/out app_cpp)
  run_consumer("run the C++ find_package consumer" ${exe} cpp)
endfunction()

# consume_csharp(): the runtime and csharp components in a prefix of their
# own, so that no libmmpool.so is there: loading the library must go
# through the dllmap of Mmpool.Net.dll.config to libmmpool.so.MAJOR.
function(consume_csharp)
  set(dir ${WORK_DIR}/csharp-prefix)
  set(bin ${WORK_DIR}/csharp-app)
  file(REMOVE_RECURSE ${dir} ${bin})
  file(MAKE_DIRECTORY ${bin})
  foreach(component runtime csharp)
    run("install the ${component} component into ${dir}"
      COMMAND ${CMAKE_COMMAND} --install ${MMPOOL_BUILD_DIR} --prefix ${dir}
        --component ${component} ${config_args})
  endforeach()
  set(assembly_dir ${dir}/${CSHARP_DIR})
  foreach(f Mmpool.Net.dll Mmpool.Net.dll.config)
    if(NOT EXISTS ${assembly_dir}/${f})
      message(FATAL_ERROR "the csharp component did not install ${CSHARP_DIR}/${f}")
    endif()
  endforeach()
  file(GLOB libs ${dir}/${LIBDIR}/libmmpool.so.*)
  if(NOT libs OR EXISTS ${dir}/${LIBDIR}/libmmpool.so)
    message(FATAL_ERROR "the runtime component should hold libmmpool.so.* and not libmmpool.so")
  endif()
  run("build csharp/App.cs against ${CSHARP_DIR}/Mmpool.Net.dll"
    COMMAND ${MCS} -nologo -warnaserror+ -r:${assembly_dir}/Mmpool.Net.dll -out:${bin}/App.exe
      ${CONSUMER_SOURCE_DIR}/csharp/App.cs)
  unique_pool_name(pool cs)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env MONO_PATH=${assembly_dir} LD_LIBRARY_PATH=${dir}/${LIBDIR}
      ${MONO} ${bin}/App.exe ${pool}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(EXISTS /dev/shm/${pool})
    file(REMOVE /dev/shm/${pool})
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mono App.exe failed (${rc}):\n${out}${err}")
  endif()
  get_filename_component(want_lib ${dir}/${LIBDIR} REALPATH)
  if(NOT out MATCHES "library ${want_lib}/libmmpool\\.so\\.[0-9.]+\n" OR
      NOT out MATCHES "assembly ${assembly_dir}/Mmpool\\.Net\\.dll\n" OR
      NOT out MATCHES "version ${VERSION}\n")
    message(FATAL_ERROR "App.exe did not load this version from ${dir}:\n${out}")
  endif()
  message(STATUS "run App.exe against the installed C# binding: ok\n${out}")
endfunction()

# pkg_config(OUT ARGS...): runs pkg-config ARGS mmpool, split into a list.
function(pkg_config out)
  execute_process(COMMAND ${PKG_CONFIG} ${ARGN} mmpool RESULT_VARIABLE rc
    OUTPUT_VARIABLE value ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config ${ARGN} mmpool failed (${rc}) with "
      "PKG_CONFIG_PATH=$ENV{PKG_CONFIG_PATH}:\n${err}")
  endif()
  separate_arguments(value UNIX_COMMAND "${value}")
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# same_dir(A B WHAT): A and B name the same existing directory.
function(same_dir a b what)
  get_filename_component(ra "${a}" REALPATH)
  get_filename_component(rb "${b}" REALPATH)
  if(NOT IS_DIRECTORY "${ra}" OR NOT ra STREQUAL rb)
    message(FATAL_ERROR "mmpool.pc: ${what} is ${a}, expected ${b}")
  endif()
endfunction()

# build_with_pkg_config(DIR EXE TAG PCARGS): compiles pkg_config/main.c into
# EXE with the flags of DIR's mmpool.pc alone and runs it.
function(build_with_pkg_config dir exe tag pcargs)
  set(pcdir ${dir}/${LIBDIR}/pkgconfig)
  # PKG_CONFIG_LIBDIR too, so that no other mmpool.pc can answer.
  set(ENV{PKG_CONFIG_PATH} ${pcdir})
  set(ENV{PKG_CONFIG_LIBDIR} ${pcdir})
  pkg_config(cflags --cflags)
  pkg_config(libs --libs ${pcargs})
  pkg_config(pc_libdir --variable=libdir)
  pkg_config(pc_includedir --variable=includedir)
  same_dir("${pc_libdir}" ${dir}/${LIBDIR} libdir)
  same_dir("${pc_includedir}" ${dir}/${INCLUDEDIR} includedir)

  separate_arguments(c_flags UNIX_COMMAND "${C_FLAGS}")
  separate_arguments(ld_flags UNIX_COMMAND "${EXE_LINKER_FLAGS}")
  if(C_COMPILER_ID MATCHES "GNU|Clang")
    # The installed header must build cleanly in a strict user's build.
    list(APPEND c_flags -std=c11 -Wall -Wextra -Wpedantic -Werror)
  endif()
  run("build the pkg-config consumer (${tag})"
    COMMAND ${C_COMPILER} ${c_flags} ${cflags} ${CONSUMER_SOURCE_DIR}/pkg_config/main.c
      -o ${exe} ${ld_flags} ${libs} -Wl,-rpath,${pc_libdir})
  run_consumer("run the pkg-config consumer (${tag})" ${exe} ${tag}-pc)
endfunction()

# consume_pkg_config(PREFIX TAG PCARGS): builds against a copy of PREFIX, then
# moves the copy and builds again: the .pc finds its prefix from ${pcfiledir},
# so the moved tree must still work and the old place must not be needed.
function(consume_pkg_config dir tag pcargs)
  # Only a test that is about pkg-config alone reports itself skipped.
  if(STEP STREQUAL "pkg_config")
    set(skip "SKIPPED:")
  else()
    set(skip "pkg-config part not checked:")
  endif()
  if(CMAKE_HOST_WIN32 OR C_COMPILER_ID STREQUAL "MSVC")
    message("${skip} the pkg-config consumer needs a Unix cc command line")
    return()
  endif()
  if(NOT PKG_CONFIG)
    message("${skip} neither pkgconf nor pkg-config was found")
    return()
  endif()
  set(root ${WORK_DIR}/${tag}-pkg_config)
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root})
  file(COPY ${dir}/ DESTINATION ${root}/here)
  build_with_pkg_config(${root}/here ${root}/app-here ${tag}-here "${pcargs}")
  file(RENAME ${root}/here ${root}/moved)
  build_with_pkg_config(${root}/moved ${root}/app-moved ${tag}-moved "${pcargs}")
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${prefix})
  run("install into ${prefix}"
    COMMAND ${CMAKE_COMMAND} --install ${MMPOOL_BUILD_DIR} --prefix ${prefix} ${config_args})
  check_install_tree(${prefix})
elseif(STEP STREQUAL "find_package")
  if(SHARED)
    consume_find_package(${prefix} shared SHARED_LIBRARY)
  else()
    consume_find_package(${prefix} static STATIC_LIBRARY)
  endif()
elseif(STEP STREQUAL "pkg_config")
  if(SHARED)
    consume_pkg_config(${prefix} shared "")
  else()
    consume_pkg_config(${prefix} static --static)
  endif()
elseif(STEP STREQUAL "static")
  # The library alone: no tests (no cmocka needed), no examples.
  set(bin ${WORK_DIR}/static-build)
  set(static_prefix ${WORK_DIR}/static-prefix)
  file(REMOVE_RECURSE ${bin} ${static_prefix})
  run("configure a static libmmpool"
    COMMAND ${CMAKE_COMMAND} -S ${MMPOOL_SOURCE_DIR} -B ${bin} ${gen_args}
      -DBUILD_SHARED_LIBS=OFF -DMMPOOL_INSTALL=ON -DMMPOOL_BUILD_TESTS=OFF
      -DMMPOOL_BUILD_EXAMPLES=OFF -DMMPOOL_WERROR=${WERROR}
      -DCMAKE_INSTALL_LIBDIR=${LIBDIR} -DCMAKE_INSTALL_INCLUDEDIR=${INCLUDEDIR})
  run("build the static libmmpool" COMMAND ${CMAKE_COMMAND} --build ${bin} ${config_args})
  run("install the static libmmpool into ${static_prefix}"
    COMMAND ${CMAKE_COMMAND} --install ${bin} --prefix ${static_prefix} ${config_args})
  check_install_tree(${static_prefix})
  consume_find_package(${static_prefix} static STATIC_LIBRARY)
  consume_pkg_config(${static_prefix} static --static)
elseif(STEP STREQUAL "cpp_find_package")
  consume_cpp(${prefix})
elseif(STEP STREQUAL "csharp")
  consume_csharp()
else()
  message(FATAL_ERROR "run.cmake: unknown STEP '${STEP}'")
endif()
