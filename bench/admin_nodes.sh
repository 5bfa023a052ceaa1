#!/usr/bin/env bash
# `bench/admin_nodes.sh`: GET /admin/nodes searches over 1,000,000 nodes in process
# (bench/admin_nodes_query): type + model + tags through AdminNodeService beside hand-written SQL
# on the same file, p50/p99, and EXPLAIN QUERY PLAN of each statement. Writes a Markdown report to
# bench/results/admin_nodes.md.
#
# Environment (all optional):
#   BENCH_ADMIN_NODES=1000000   nodes in the store
#   BENCH_ADMIN_RUNS=200        timed runs of each query
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1            use the binaries already in BENCH_BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-admin-nodes

nodes=${BENCH_ADMIN_NODES:-1000000}
runs=${BENCH_ADMIN_RUNS:-200}
int_in BENCH_ADMIN_NODES "$nodes" 1000 5000000
int_in BENCH_ADMIN_RUNS "$runs" 1 10000

build admin_nodes_query
query_bin=$build_dir/bench/admin_nodes_query
need_bins "run bench/admin_nodes.sh" "$query_bin"
mkdir -p "$results_dir"
note "admin node search over $nodes nodes ($runs runs each)"
table=$("$query_bin" --nodes "$nodes" --runs "$runs") || die "admin_nodes_query failed"

report=$results_dir/admin_nodes.md
cat >"$report" <<REPORT
# Admin node search — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $(nproc) vCPU $(cpu_model ""), $(uname -sr); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg).

$table
REPORT
cat "$report"
