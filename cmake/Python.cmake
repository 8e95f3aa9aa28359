# The Python module (src/python): pybind11 from Debian's python3-pybind11, for Debian's
# /usr/bin/python3 (the `python3` first on PATH may be another build, without Debian's packages).
# Built by default when both are found; HIVEWARDEN_PYTHON_FOUND says whether it is.
set(HIVEWARDEN_PYTHON_FOUND OFF)
if(HIVEWARDEN_PYTHON AND NOT HIVEWARDEN_FUZZ AND NOT HIVEWARDEN_TSAN)
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python the module is built for")
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
  if(Python3_FOUND)
    set(PYBIND11_FINDPYTHON ON)  # pybind11 takes the Python3 found above
    find_package(pybind11 CONFIG QUIET)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(HIVEWARDEN_PYTHON_FOUND ON)
    # The layers are linked into a shared object. -fno-semantic-interposition keeps calls within a
    # library as direct (and inlinable) as without -fPIC, so the engine's speed does not change.
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
    add_compile_options(-fno-semantic-interposition)
    message(STATUS "hivewarden: Python module for ${Python3_EXECUTABLE} (${Python3_VERSION}), pybind11 ${pybind11_VERSION}")
  else()
    message(STATUS "hivewarden: no Python module (needs python3-dev and python3-pybind11: scripts/install-deps.sh)")
  endif()
endif()
