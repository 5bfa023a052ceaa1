# ASan + UBSan for the `asan` preset: every target in the tree is instrumented.
option(RAINMAKER_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(RAINMAKER_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
