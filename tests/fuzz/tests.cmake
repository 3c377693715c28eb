# Fuzz targets; each corpus replays as an ordinary ctest test.
option(UDAX_BUILD_FUZZERS "Build libFuzzer targets (clang only)" OFF)

set(UDAX_FUZZ_SOURCES_bb_parse ${PROJECT_SOURCE_DIR}/lib/badblocks.c)

foreach(target bb_parse)
  add_executable(fuzz-replay-${target} fuzz/replay.c fuzz/${target}.c)
  target_compile_definitions(fuzz-replay-${target} PRIVATE _GNU_SOURCE)
  target_link_libraries(fuzz-replay-${target} PRIVATE udax_static)
  add_test(NAME fuzz/${target}
    COMMAND fuzz-replay-${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${target})
  set_tests_properties(fuzz/${target} PROPERTIES LABELS fuzz TIMEOUT 300)

  if(UDAX_BUILD_FUZZERS AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    # The library sources are compiled in rather than linked from
    # udax_static so that libFuzzer sees their coverage.
    add_executable(fuzz-${target} fuzz/${target}.c ${UDAX_FUZZ_SOURCES_${target}})
    target_compile_definitions(fuzz-${target} PRIVATE _GNU_SOURCE)
    target_include_directories(fuzz-${target} PRIVATE
      ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/lib)
    target_compile_options(fuzz-${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz-${target} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz-${target} PRIVATE Threads::Threads)
  endif()
endforeach()
