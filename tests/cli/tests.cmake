# CLI tests: `set -eu` bash scripts on emulated images, jq-checked; and the
# corpora of the CLI's fuzz targets, replayed.  Included by
# tests/CMakeLists.txt when the CLI is built.
find_program(UDAX_BASH bash REQUIRED)

set(UDAX_CLI_TESTS
  commands
  exit-codes
  usage
  read-write
  rescue-matrix
  rescue-map
  rescue-resume
  rescue-ddrescue
  help
  install
  completion
  safety
  import
  symlink-map
  crash-points
  notpoison
  inject-clear-batch
  inject-status
)
foreach(t ${UDAX_CLI_TESTS})
  add_test(NAME cli/${t}
    COMMAND ${UDAX_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/${t}.sh
            $<TARGET_FILE:udax-cli> ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  set_tests_properties(cli/${t} PROPERTIES LABELS cli TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
# The kill test wants a quiet machine: do not run it beside the others.
set_tests_properties(cli/rescue-resume PROPERTIES RUN_SERIAL ON)
# An installed sanitized libudax needs programs built with the same compiler
# and sanitizer runtime: the install test builds its external programs so.
set(_san "")
if(UDAX_SANITIZE)
  set(_san "-fsanitize=${UDAX_SANITIZE}")
endif()
set_tests_properties(cli/install PROPERTIES ENVIRONMENT
  "UDAX_TEST_CC=${CMAKE_C_COMPILER};UDAX_TEST_SANITIZE=${_san}")
# inject-status builds a preload that hides the media from udax.
set_tests_properties(cli/inject-status PROPERTIES ENVIRONMENT
  "UDAX_TEST_CC=${CMAKE_C_COMPILER}")

# Fuzz targets of the CLI's parsers, linked with the real CLI objects
# (everything but main.c).  tests/fuzz/replay.c feeds them their corpus.
foreach(t cli-size cli-mapfile cli-args cli-import)
  add_executable(fuzz-replay-${t} fuzz/replay.c fuzz/${t}.c)
  target_link_libraries(fuzz-replay-${t} PRIVATE udax_cli_obj)
  add_test(NAME fuzz/${t}
    COMMAND fuzz-replay-${t} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t})
  set_tests_properties(fuzz/${t} PROPERTIES LABELS "cli;fuzz" TIMEOUT 300)

  if(UDAX_BUILD_FUZZERS AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz-${t} fuzz/${t}.c)
    target_compile_options(fuzz-${t} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz-${t} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz-${t} PRIVATE udax_cli_obj)
  endif()
endforeach()
