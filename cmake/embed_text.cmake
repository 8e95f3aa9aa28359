# Writes OUTPUT: a C++ source defining `std::string_view NAME()` that returns the text of INPUT.
# Run at build time (cmake -P), so that edits to the input file rebuild the binary.
file(READ "${INPUT}" content)
string(FIND "${content}" ")hwembed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )hwembed\"")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/embed_text.cmake. Do not edit.\n#include <string_view>\nnamespace hivewarden::embedded {\nstd::string_view ${NAME}() {\n  static constexpr char kText[] = R\"hwembed(${content})hwembed\";\n  return {kText, sizeof(kText) - 1};\n}\n}  // namespace hivewarden::embedded\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
