# Writes OUT, a C++ source that holds the scanner's policy files as string constants, so
# that the library carries its policy without reading files at run time.
#   cmake -DOUT=securitydata.cpp -DPOLICY=global_policy.txt -DSTDLIB=stdlib_modules.txt
#         -DPY2=python2_names.txt -P embed.cmake
file(READ "${POLICY}" policy)
file(READ "${STDLIB}" stdlib)
file(READ "${PY2}" py2)
foreach(text policy stdlib py2)
  string(FIND "${${text}}" ")te_data\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${text} file contains the raw string delimiter")
  endif()
endforeach()
file(WRITE "${OUT}.tmp"
  "// Generated from core/security/*.txt by embed.cmake; edit those files instead.\n"
  "namespace te {\n"
  "extern const char kGlobalPolicyText[];\n"
  "extern const char kStdlibModulesText[];\n"
  "extern const char kPython2NamesText[];\n"
  "const char kGlobalPolicyText[] = R\"te_data(${policy})te_data\";\n"
  "const char kStdlibModulesText[] = R\"te_data(${stdlib})te_data\";\n"
  "const char kPython2NamesText[] = R\"te_data(${py2})te_data\";\n"
  "} // namespace te\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
