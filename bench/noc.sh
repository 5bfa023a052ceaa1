#!/usr/bin/env bash
# NOC issuing rate (#9): `openssl speed ecdsap256` (the raw signing rate of this machine's
# OpenSSL) and bench/noc_issuing.cpp (device NOCs through FabricService over SQLite, and raw
# signing in the same process). Builds the release preset's noc_issuing first.
#
#   bench/noc.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
cmake --preset release >/dev/null
cmake --build build/release -j2 --target noc_issuing >/dev/null
echo "## openssl speed ecdsap256"
openssl speed -seconds 3 ecdsap256 2>/dev/null | tail -2
echo
echo "## noc_issuing --count $count"
build/release/bench/noc_issuing --count "$count"
