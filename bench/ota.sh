#!/usr/bin/env bash
# `bench/ota.sh`: an OTA job offered to 10,000 connected nodes in process (bench/ota_offer):
# creating a FFFF-FFFF job, pushing its otaurl to every node with no pace, and answering one
# otafetch per node, beside hand-written SQL on the same file. Writes a Markdown report to
# bench/results/ota.md.
#
# Environment (all optional):
#   BENCH_OTA_NODES=10000       connected nodes
#   BENCH_OTA_RUNS=5            runs (a fresh store each)
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1            use the binaries already in BENCH_BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-ota

nodes=${BENCH_OTA_NODES:-10000}
runs=${BENCH_OTA_RUNS:-5}
int_in BENCH_OTA_NODES "$nodes" 100 1000000
int_in BENCH_OTA_RUNS "$runs" 1 100

build ota_offer
offer_bin=$build_dir/bench/ota_offer
need_bins "run bench/ota.sh" "$offer_bin"
mkdir -p "$results_dir"
note "an OTA job offered to $nodes nodes ($runs runs)"
table=$("$offer_bin" --nodes "$nodes" --runs "$runs") || die "ota_offer failed"

report=$results_dir/ota.md
cat >"$report" <<REPORT
# OTA job offers — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $(nproc) vCPU $(cpu_model ""), $(uname -sr); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg).

$table
REPORT
cat "$report"
