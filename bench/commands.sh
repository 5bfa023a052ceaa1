#!/usr/bin/env bash
# `make bench-commands`: the command-response round trip on loopback, beside a raw Mosquitto
# baseline on the same broker in the same run (cmd_latency):
#   rest: POST /v1/user/nodes/cmd -> to-node -> the node answers on from-node -> the answer is
#         readable through GET /v1/user/nodes/cmd?request_id= ("success");
#   raw:  the same TLV published on to-node by a client on the server's link listener, timed
#         until the node's answer comes back on from-node (the two broker hops alone).
# Writes a Markdown report to bench/results/commands.md.
#
# Environment (all optional):
#   BENCH_CMD_NODES=10          nodes cmd_latency plays (each answers at once)
#   BENCH_CMD_RATE=200          requests per second (all nodes together)
#   BENCH_CMD_DURATION=10       seconds measured per mode (after a 1 s warm-up)
#   BENCH_CMD_WORKERS=8         REST workers (one keep-alive connection each)
#   BENCH_SERVER_ARGS=          extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1            use the binaries already in BENCH_BUILD_DIR
#   BENCH_STRICT=1              exit 1 when the goal (p50 < 5 ms) is missed
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-commands

nodes=${BENCH_CMD_NODES:-10}
rate=${BENCH_CMD_RATE:-200}
duration=${BENCH_CMD_DURATION:-10}
workers=${BENCH_CMD_WORKERS:-8}
user_name=bench-commands@example.com
password=Bench12345
target_p50_ms=5

int_in BENCH_CMD_NODES "$nodes" 1 256
int_in BENCH_CMD_RATE "$rate" 1 5000
int_in BENCH_CMD_DURATION "$duration" 1 120
int_in BENCH_CMD_WORKERS "$workers" 1 64
need_tools curl awk sed sqlite3 mosquitto

build rainmaker-server rainmaker_presence rainmaker_revocation cmd_latency
server_bin=$build_dir/bin/rainmaker-server
latency_bin=$build_dir/bench/cmd_latency
need_bins "cmake --preset release, then run this again" "$server_bin" "$latency_bin"

# --- set-up: user, node certificates, server, token, mappings ---------------------------------
mkdir -p "$results_dir/raw"
data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir"
create_user "$data_dir" "$user_name" "$password"
issue_certs "$data_dir" "$nodes" "$nodes_dir"

# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
start_server mqtt ${BENCH_SERVER_ARGS:-}
link_listener
login "$user_name" "$password"

# Map the nodes to the user straight in the store (WAL: the server keeps running).
map_nodes "${node_ids[@]}"

# --- the two runs -----------------------------------------------------------------------------
args=(--nodes-dir "$nodes_dir" --nodes "$nodes" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port"
    --ca "$ca" --rate "$rate" --duration "$duration" --warmup 1 --workers "$workers")
note "raw: $nodes nodes, $rate requests/s, ${duration}s"
bg_wait "$latency_bin" --raw --link-port "$link_port" --link-password-file "$link_password_file" \
    "${args[@]}" >"$work/raw.out" 2>"$work/raw.log" || true
note "rest: $workers workers"
bg_wait "$latency_bin" --api "$base" --token "$token" "${args[@]}" >"$work/rest.out" 2>"$work/rest.log" || true
cat "$work/raw.out" "$work/raw.log" >"$results_dir/raw/commands-raw.txt"
cat "$work/rest.out" "$work/rest.log" >"$results_dir/raw/commands-rest.txt"
raw=$(grep '^result ' "$work/raw.out" || true)
rest=$(grep '^result ' "$work/rest.out" || true)
[[ -n $raw ]] || { cat "$work/raw.log" >&2; die "cmd_latency --raw failed"; }
[[ -n $rest ]] || { cat "$work/rest.log" >&2; die "cmd_latency (REST) failed"; }
metrics=$(metric_lines rainmaker_commands_)

cpu=$(cpu_model "")
row() {  # row NAME RESULT
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(field "$2" achieved)" \
        "$(field "$2" measured)" "$(field "$2" missing)" "$(field "$2" p50_ms)" \
        "$(field "$2" p90_ms)" "$(field "$2" p99_ms)" "$(field "$2" max_ms)"
}
p50=$(field "$rest" p50_ms)
verdict=$(awk -v p="$p50" -v t="$target_p50_ms" 'BEGIN { print (p < t) ? "met" : "MISSED" }')
{
    echo "## Command round trip ($(date -u +%Y-%m-%d), $(nproc) cores, ${cpu:-unknown CPU})"
    echo
    echo "\`bench/commands.sh\`, build \`$build_dir\`: $nodes TLS nodes answering at once, $rate requests/s"
    echo "open-loop for ${duration} s after a 1 s warm-up, latency from each request's due time."
    echo "*rest*: POST /v1/user/nodes/cmd → to-node → from-node → GET ?request_id= shows \"success\""
    echo "($workers workers, one keep-alive connection each). *raw*: the same TLV published on"
    echo "to-node by a client of the server's link listener until the answer is back on from-node."
    echo
    echo "| mode | achieved req/s | measured | missing | p50 ms | p90 ms | p99 ms | max ms |"
    echo "|---|---|---|---|---|---|---|---|"
    row raw "$raw"
    row rest "$rest"
    echo
    echo "Goal: rest p50 < ${target_p50_ms} ms — $verdict. Server counters after both runs:"
    echo
    echo '```'
    echo "$metrics"
    echo '```'
} | tee "$results_dir/commands.md"
if [[ ${BENCH_STRICT:-0} == 1 && $verdict != met ]]; then
    exit 1
fi
