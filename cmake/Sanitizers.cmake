# ASan + UBSan for the `asan` preset: every target in the tree is instrumented.
option(RAINMAKER_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
# ThreadSanitizer: its own tree (make test-tsan), for the tests of what runs on several threads.
option(RAINMAKER_TSAN "Build with ThreadSanitizer" OFF)
if(RAINMAKER_TSAN)
  if(RAINMAKER_SANITIZE)
    message(FATAL_ERROR "RAINMAKER_TSAN and RAINMAKER_SANITIZE cannot share a tree")
  endif()
  # -Wno-tsan: GCC warns of the fences inside Boost.Asio, which TSan does not model.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
endif()
if(RAINMAKER_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
