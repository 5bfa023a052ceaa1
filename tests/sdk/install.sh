#!/usr/bin/env bash
# Installs the tests' Node packages (tests/sdk/node_modules, pinned by package-lock.json) with
# `npm ci` when they are missing or older than the lock file. CTest runs it once, as the fixture
# of every test that needs them (the SDK tests, the S3 tests); run.sh runs it too.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install.sh: '$tool' is not on PATH; the tests need Node.js 20 or newer" >&2
        exit 2
    fi
done
node_modules="$script_dir/node_modules"
lock_file="$script_dir/package-lock.json"
if [[ ! -d "$node_modules" || "$lock_file" -nt "$node_modules" \
      || ! -f "$node_modules/@espressif/rainmaker-base-sdk/package.json" \
      || ! -f "$node_modules/s3rver/package.json" ]]; then
    echo "install.sh: installing the tests' Node packages with npm ci in $script_dir"
    (cd "$script_dir" && npm ci --no-audit --no-fund)
    touch "$node_modules"
fi
