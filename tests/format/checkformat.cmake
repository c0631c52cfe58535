# Fails when a C++ file is not laid out as .clang-format says (clang-format --dry-run
# --Werror), naming the files.
#   cmake -DROOT=<tree> -DCLANG_FORMAT=<program> [-DONLY=<folder>] -P checkformat.cmake
# Without ONLY it checks core/, widgets/, app/ and tests/, except tests/format/caught/
# (a file laid out wrongly on purpose, which the twin test checks on its own) and
# tests/layers/violations/ (the layering test's own deliberate mistakes, whose include
# order its expected output spells).
if(NOT ROOT OR NOT CLANG_FORMAT)
  message(FATAL_ERROR "usage: cmake -DROOT=<tree> -DCLANG_FORMAT=<program> [-DONLY=<folder>] -P checkformat.cmake")
endif()

if(ONLY)
  file(GLOB_RECURSE sources ${ROOT}/${ONLY}/*.h ${ROOT}/${ONLY}/*.cpp)
else()
  file(GLOB_RECURSE sources ${ROOT}/core/*.h ${ROOT}/core/*.cpp ${ROOT}/widgets/*.h ${ROOT}/widgets/*.cpp
       ${ROOT}/app/*.h ${ROOT}/app/*.cpp ${ROOT}/tests/*.h ${ROOT}/tests/*.cpp)
  list(FILTER sources EXCLUDE REGEX "/tests/(format/caught|layers/violations)/")
endif()
list(LENGTH sources count)
if(count EQUAL 0)
  message(FATAL_ERROR "no C++ files found under ${ROOT}")
endif()

set(badly "")
foreach(src IN LISTS sources)
  execute_process(COMMAND ${CLANG_FORMAT} --style=file --dry-run --Werror ${src}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    file(RELATIVE_PATH rel ${ROOT} ${src})
    list(APPEND badly ${rel})
  endif()
endforeach()
if(badly)
  list(JOIN badly "\n  " text)
  message(FATAL_ERROR "not laid out as .clang-format says (run clang-format -i on them):\n  ${text}")
endif()
message(STATUS "${count} files laid out as .clang-format says")
