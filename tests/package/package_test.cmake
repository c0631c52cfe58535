# cmake -P script run by CTest (see CMakeLists.txt here for the variables it gets).
# Builds the Debian package with CPack from the finished build, unpacks it with dpkg -x and
# checks what a user would get: Depends, every file where desktops and man look for it, the
# unpacked CLI finding its runtime library and reading a fixture, valid AppStream metadata.
# Each check reports with SEND_ERROR and the rest still run, so one run lists every problem.
cmake_minimum_required(VERSION 3.22)

# ------------------------------------------------------------------ build and unpack
file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH})
execute_process(COMMAND ${CPACK} -G DEB --config ${CPACK_CONFIG} -B ${SCRATCH}/out
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cpack failed (${rc}):\n${log}")
endif()
file(GLOB debs ${SCRATCH}/out/*.deb)
list(LENGTH debs count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "expected one .deb in ${SCRATCH}/out, found ${count}: ${debs}")
endif()
set(root ${SCRATCH}/root)
execute_process(COMMAND dpkg -x ${debs} ${root} RESULT_VARIABLE rc ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dpkg -x ${debs} failed: ${log}")
endif()
message(STATUS "package ${debs}, unpacked into ${root}")

# ------------------------------------------------------------------ control fields
execute_process(COMMAND dpkg-deb -f ${debs} Version OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT version STREQUAL VERSION)
  message(SEND_ERROR "package version is '${version}', the project's is '${VERSION}'")
endif()
execute_process(COMMAND dpkg-deb -f ${debs} Depends OUTPUT_VARIABLE depends
                OUTPUT_STRIP_TRAILING_WHITESPACE)
message(STATUS "Depends: ${depends}")
# "libc6 (>= 2.34), zlib1g (>= 1:1.1.4)" -> the list of package names
string(REGEX REPLACE " *\\([^)]*\\)" "" names "${depends}")
string(REPLACE ", " ";" names "${names}")
set(expected libc6 libstdc++6 zlib1g libpng16-16 libjpeg62-turbo)
if(WITH_GUI)
  list(APPEND expected libqt6core6 libqt6gui6 libqt6widgets6 libqcustomplot2.1-qt6)
endif()
if(TORCH_PACKAGE)
  list(APPEND expected ${TORCH_PACKAGE})
endif()
foreach(name IN LISTS expected)
  if(NOT name IN_LIST names)
    message(SEND_ERROR "Depends lacks ${name}: ${depends}")
  endif()
endforeach()

# ------------------------------------------------------------------ files
set(metainfo usr/share/metainfo/io.github.torch_explorer.TorchExplorer.metainfo.xml)
set(manpage usr/share/man/man1/torch-explorer-cli.1.gz)
set(files
    usr/bin/torch-explorer-cli
    usr/share/applications/torch-explorer.desktop
    usr/share/icons/hicolor/scalable/apps/torch-explorer.svg
    usr/share/mime/packages/torch-explorer-mime.xml
    ${metainfo}
    ${manpage}
    usr/share/doc/torch-explorer/copyright)
if(WITH_GUI)
  list(APPEND files usr/bin/torch-explorer)
endif()
foreach(f IN LISTS files)
  if(NOT EXISTS ${root}/${f})
    message(SEND_ERROR "the package has no /${f}")
  endif()
endforeach()
if(WITH_RUNTIME)
  # lib/torch-explorer or lib/<triplet>/torch-explorer, as GNUInstallDirs chose
  file(GLOB_RECURSE runtime ${root}/usr/lib/*/libtorchexplorer_runtime.so)
  if(NOT runtime)
    message(SEND_ERROR "the package has no libtorchexplorer_runtime.so under /usr/lib")
  endif()
endif()

# ------------------------------------------------------------------ the unpacked CLI
# It must find the runtime library it was packaged with, not one named by the environment.
unset(ENV{TORCH_EXPLORER_RUNTIME})
set(cli ${root}/usr/bin/torch-explorer-cli)
string(REPLACE "." "\\." version_re "${VERSION}")
execute_process(COMMAND ${cli} --version RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^torch-explorer-cli ${version_re}\n")
  message(SEND_ERROR "torch-explorer-cli --version: exit ${rc}, printed:\n${out}${err}")
elseif(WITH_RUNTIME AND NOT out MATCHES "\nruntime: libtorch [0-9]")
  message(SEND_ERROR "the unpacked CLI does not load its runtime library:\n${out}")
endif()

file(READ ${FIXTURES}/expected.json expected_json)
string(JSON want_format GET "${expected_json}" files state_dict.pt format)
string(JSON want_count LENGTH "${expected_json}" files state_dict.pt tensors)
string(JSON want_key GET "${expected_json}" files state_dict.pt tensors 0 key)
string(JSON want_shape GET "${expected_json}" files state_dict.pt tensors 0 shape)
execute_process(COMMAND ${cli} inspect --json ${FIXTURES}/state_dict.pt
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(SEND_ERROR "torch-explorer-cli inspect --json state_dict.pt: exit ${rc}: ${err}")
else()
  string(JSON format ERROR_VARIABLE json_error GET "${out}" format)
  if(json_error)
    message(SEND_ERROR "inspect --json printed no JSON document (${json_error}):\n${out}")
  else()
    string(JSON count LENGTH "${out}" tensors)
    string(JSON key GET "${out}" tensors 0 key)
    string(JSON shape GET "${out}" tensors 0 shape)
    string(JSON same_shape EQUAL "${shape}" "${want_shape}")
    if(NOT format STREQUAL want_format OR NOT count EQUAL want_count OR NOT key STREQUAL want_key
       OR NOT same_shape)
      message(SEND_ERROR "inspect state_dict.pt: format ${format}, ${count} tensors, first ${key} ${shape}; "
                         "expected.json says ${want_format}, ${want_count}, ${want_key} ${want_shape}")
    endif()
  endif()
endif()

# ------------------------------------------------------------------ metadata and manual
find_program(APPSTREAMCLI appstreamcli)
if(APPSTREAMCLI)
  # The file on its own, then the unpacked tree, which also checks that the desktop entry
  # the metadata launches is there. Warnings count as failures; pedantic notes do not.
  foreach(check "validate;--no-net;${root}/${metainfo}" "validate-tree;--no-net;${root}")
    execute_process(COMMAND ${APPSTREAMCLI} ${check} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0 OR out MATCHES "(^|\n) *[EW]: ")
      list(JOIN check " " shown)
      message(SEND_ERROR "appstreamcli ${shown}: exit ${rc}\n${out}")
    endif()
  endforeach()
else()
  message(STATUS "SKIPPED: appstreamcli not found (Debian package appstream); AppStream metadata not validated")
endif()

find_program(MAN man)
if(MAN)
  set(ENV{MANWIDTH} 80)
  execute_process(COMMAND ${MAN} --warnings -l ${root}/${manpage}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR err OR NOT out MATCHES "EXIT STATUS")
    message(SEND_ERROR "man -l /${manpage}: exit ${rc}\n${err}")
  endif()
else()
  message(STATUS "SKIPPED: man not found (Debian package man-db); the manual page was not rendered")
endif()
