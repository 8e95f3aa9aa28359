# The Windows build of the core's own tests (src/win/cross/core_tests), built with the cross build:
# its own CMake project, since it needs mingw-w64's posix thread model where the driver and the
# service use the default one. `make windows` runs it under wine64
# (scripts/run-windows-core-tests.sh build-win/core-tests/hivewarden_core_tests.exe).
include(ExternalProject)
get_filename_component(HIVEWARDEN_CORE_TESTS_ROOT ${CMAKE_CURRENT_LIST_DIR}/../../.. ABSOLUTE)
set(hivewarden_core_tests_args
  -DCMAKE_TOOLCHAIN_FILE=${HIVEWARDEN_CORE_TESTS_ROOT}/cmake/mingw-w64-x86_64-posix.cmake
  -DCMAKE_BUILD_TYPE=Release)
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(APPEND hivewarden_core_tests_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
ExternalProject_Add(hivewarden_core_tests_windows
  SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR}/core_tests
  BINARY_DIR ${CMAKE_BINARY_DIR}/core-tests
  CMAKE_ARGS ${hivewarden_core_tests_args}
  BUILD_ALWAYS TRUE
  INSTALL_COMMAND "")
