#!/usr/bin/env bash
# NOC issuing rate (#9): `openssl speed ecdsap256` in one process and in one per core (the raw
# signing rate of this machine's OpenSSL), then bench/noc_issuing.cpp (the certificate work,
# device NOCs through FabricService over SQLite, user NOCs in batches, and raw signing and
# verifying in the same process, on one thread and on THREADS threads). Builds the release
# preset's noc_issuing first. Prints the machine, the date and the load alongside.
#
#   bench/noc.sh [COUNT] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
threads=${2:-$(nproc)}
cmake --preset release >/dev/null
cmake --build build/release -j2 --target noc_issuing >/dev/null
echo "## machine"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(openssl version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## openssl speed ecdsap256 (one process; per CPU-second, its default)"
openssl speed -seconds 3 ecdsap256 2>/dev/null | tail -2
echo "(wall clock:)"
openssl speed -elapsed -seconds 3 ecdsap256 2>/dev/null | tail -1
echo
echo "## openssl speed -elapsed -multi $threads ecdsap256 (wall clock, one process per thread)"
openssl speed -elapsed -multi "$threads" -seconds 3 ecdsap256 2>/dev/null | tail -2
echo
echo "## noc_issuing --count $count --threads $threads"
build/release/bench/noc_issuing --count "$count" --threads "$threads"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
