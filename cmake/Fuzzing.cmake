# libFuzzer for the `fuzz` preset (clang only): the project libraries get coverage
# instrumentation plus ASan and UBSan; each target under fuzz/ links libFuzzer's main.
option(RAINMAKER_FUZZ "Build the libFuzzer targets of fuzz/ (clang) instead of the server" OFF)
if(RAINMAKER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RAINMAKER_FUZZ needs clang and clang++ (libFuzzer): use the fuzz preset")
  endif()
  if(RAINMAKER_SANITIZE)
    message(FATAL_ERROR "RAINMAKER_FUZZ brings its own sanitizers: leave RAINMAKER_SANITIZE off")
  endif()
  # A UBSan report must stop the run, or libFuzzer would not save the input as a crash.
  add_compile_options(
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
  set(RAINMAKER_FUZZ_LINK_OPTIONS -fsanitize=fuzzer,address,undefined)
endif()
