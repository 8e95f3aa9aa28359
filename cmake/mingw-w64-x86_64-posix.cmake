# mingw-w64 for Windows x64 with the posix thread model (std::thread, std::mutex): GCC 12's win32
# model has neither, and the core's tests start threads.
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-x86_64.cmake)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
