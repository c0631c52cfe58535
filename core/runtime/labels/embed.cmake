# Writes OUT, a C++ source holding the ImageNet-1k class names (imagenet_classes.txt) as
# one string constant, so that the library carries them without reading files at run time.
#   cmake -DOUT=imagenetclasses.cpp -DNAMES=imagenet_classes.txt -P embed.cmake
file(READ "${NAMES}" names)
string(FIND "${names}" ")te_data\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${NAMES} contains the raw string delimiter")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated from core/runtime/labels/imagenet_classes.txt by embed.cmake; edit that file instead.\n"
  "namespace te {\n"
  "extern const char kImagenetClassesText[];\n"
  "const char kImagenetClassesText[] = R\"te_data(${names})te_data\";\n"
  "} // namespace te\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
