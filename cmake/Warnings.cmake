# Project-wide warnings; -Werror unless RAINMAKER_WERROR is OFF (for packagers).
option(RAINMAKER_WERROR "Treat warnings as errors" ON)
add_library(rm_warnings INTERFACE)
target_compile_options(rm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wvla
  $<$<COMPILE_LANGUAGE:CXX>:-Wold-style-cast>
  $<$<BOOL:${RAINMAKER_WERROR}>:-Werror>)
