#!/usr/bin/env bash
# Secure boot signing rate (#10): `openssl speed rsa3072 ecdsap256` (the machine's raw signing
# rate, one process), then bench/signing.cpp (signature sectors made by the server's code over a
# 4 KiB and a 2 MiB image, beside raw EVP_PKEY_sign in the same process). Builds the release
# preset's `signing` first. Prints the machine, the date and the load alongside.
#
#   bench/signing.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
cmake --preset release >/dev/null
cmake --build build/release -j2 --target signing >/dev/null
echo "## machine"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(openssl version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## openssl speed -elapsed rsa3072 ecdsap256 (one process, wall clock)"
openssl speed -elapsed -seconds "$seconds" rsa3072 ecdsap256 2>/dev/null | grep -E '^ *(sign|rsa|[0-9]+ bits ecdsa)|^ *256 bits' || true
echo
echo "## signing --seconds $seconds"
build/release/bench/signing --seconds "$seconds"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
