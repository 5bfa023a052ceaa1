#!/usr/bin/env bash
# Fails when a C/C++ source is not clang-format clean (the check CI runs through `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format)
git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' '*.c' '*.h' | xargs -r "$cf" --dry-run -Werror
