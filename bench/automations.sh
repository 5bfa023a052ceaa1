#!/usr/bin/env bash
# `make bench-automations`: a node's params/local -> an automation's action on another node's
# params/remote, at a fixed rate with many automations stored, beside a raw Mosquitto baseline
# in the same run (the same reports relayed to the same nodes by a plain client on the link
# listener: two broker hops, no server). Writes bench/results/automations.md. See
# bench/automation_latency.cpp for how it measures.
#
# Environment (all optional):
#   BENCH_AUTO_PAIRS=10          trigger/action node pairs (two automations each)
#   BENCH_AUTO_RATE=1000         params/local reports per second (all trigger nodes together)
#   BENCH_AUTO_DURATION=10       seconds measured per mode (after a 1 s warm-up)
#   BENCH_AUTO_STORED=10000      automations stored in all (the pairs' and the filler)
#   BENCH_AUTO_PER_TRIGGER=8     filler automations on each trigger node (never holding)
#   BENCH_AUTO_FILLER_NODES=1000 other nodes the rest of the filler watches
#   BENCH_SERVER_ARGS=           extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1             use the binaries already in BENCH_BUILD_DIR
#   BENCH_STRICT=1               exit 1 when the goal is missed (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-automations

pairs=${BENCH_AUTO_PAIRS:-10}
rate=${BENCH_AUTO_RATE:-1000}
duration=${BENCH_AUTO_DURATION:-10}
stored=${BENCH_AUTO_STORED:-10000}
per_trigger=${BENCH_AUTO_PER_TRIGGER:-8}
filler_nodes=${BENCH_AUTO_FILLER_NODES:-1000}
user_name=bench-automations@example.com
password=Bench12345
target_p50_ms=5  # issue 8

int_in BENCH_AUTO_PAIRS "$pairs" 1 128
int_in BENCH_AUTO_RATE "$rate" 1 20000
int_in BENCH_AUTO_DURATION "$duration" 1 120
int_in BENCH_AUTO_STORED "$stored" $((2 * pairs)) 200000
int_in BENCH_AUTO_PER_TRIGGER "$per_trigger" 0 1000
int_in BENCH_AUTO_FILLER_NODES "$filler_nodes" 1 20000
need_tools curl awk sed sqlite3 mosquitto

build rainmaker-server rainmaker_presence rainmaker_revocation automation_latency
server_bin=$build_dir/bin/rainmaker-server
bench_bin=$build_dir/bench/automation_latency
need_bins "run make bench-automations, or cmake --preset release first" "$server_bin" "$bench_bin"

# --- set-up: user, node certificates, server, token, mappings ---------------------------------
mkdir -p "$results_dir/raw"
data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir/all" "$nodes_dir/pairs"

create_user "$data_dir" "$user_name" "$password"

cert_count=$((2 * pairs + filler_nodes))
note "issuing $cert_count node certificates"
issue_certs "$data_dir" "$cert_count" "$nodes_dir/all"
for ((i = 0; i < 2 * pairs; i++)); do
    ln -s "../all/${node_ids[i]}" "$nodes_dir/pairs/${node_ids[i]}"
done
printf '%s\n' "${node_ids[@]:$((2 * pairs))}" >"$work/filler-nodes"

cat >"$work/server.toml" <<EOF
[automations]
max_per_user = $((stored + 10))
# Each pair's two automations run rate / pairs times a second, and the filler may put more
# than 100 on one trigger node: the loop and per-node limits would cut the measurement short.
max_runs_per_minute = 0
max_per_node_per_user = 0
EOF
# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
start_server mqtt --config "$work/server.toml" ${BENCH_SERVER_ARGS:-}
link_listener
login "$user_name" "$password"

# Every node mapped to the user straight in the store (WAL: the server keeps running).
map_nodes "${node_ids[@]}"

common=(--nodes-dir "$nodes_dir/pairs" --pairs "$pairs" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port"
    --ca "$ca" --rate "$rate" --duration "$duration" --warmup 1)

# --- the raw relay first (no automation exists yet), then the automations ---------------------
note "raw: relay on the link listener, $pairs pairs, $rate reports/s, ${duration}s"
bg_wait "$bench_bin" --raw --link-port "$link_port" --link-password-file "$link_password_file" \
    "${common[@]}" >"$work/raw.out" 2>"$work/raw.log" || true
note "automations: $stored stored, $pairs pairs, $rate reports/s, ${duration}s"
bg_wait "$bench_bin" --api "$base" --token "$token" --filler $((stored - 2 * pairs)) \
    --filler-per-trigger "$per_trigger" --filler-nodes-file "$work/filler-nodes" \
    "${common[@]}" >"$work/auto.out" 2>"$work/auto.log" || true
cat "$work/raw.out" "$work/raw.log" >"$results_dir/raw/automations-raw.txt"
cat "$work/auto.out" "$work/auto.log" >"$results_dir/raw/automations-auto.txt"
raw=$(grep '^result ' "$work/raw.out" || true)
auto=$(grep '^result ' "$work/auto.out" || true)
[[ -n $raw ]] || { cat "$work/raw.log" >&2; note "the raw run failed"; }
[[ -n $auto ]] || { cat "$work/auto.log" >&2; note "the automation run failed"; }
metrics=$(metric_lines rainmaker_automation_)
stored_rows=$(sqlite3 -cmd ".timeout 5000" "$data_dir/rainmaker.db" "SELECT COUNT(*) FROM automations;")

# --- report -----------------------------------------------------------------------------------
row() {  # row LABEL RESULT
    if [[ -z $2 ]]; then
        echo "| $1 | (failed) | | | | | | |"
        return
    fi
    echo "| $1 | $(field "$2" sent) | $(field "$2" received) | $(field "$2" lost) | $(field "$2" p50_ms) | $(field "$2" p90_ms) | $(field "$2" p99_ms) | $(field "$2" max_ms) |"
}
p50=$(field "$auto" p50_ms)
verdict="not measured"
if [[ -n $p50 ]]; then
    verdict=$(awk -v p="$p50" -v t="$target_p50_ms" 'BEGIN { print (p < t) ? "met" : "missed" }')
fi
cpu=$(cpu_model "")
report=$results_dir/automations.md
{
    echo "### Automations: params/local -> action on another node ($(date -u +%Y-%m-%d))"
    echo
    echo "$(nproc) CPUs ($cpu), $(uname -sr); build \`$build_dir\`. $pairs node pairs over TLS on loopback,"
    echo "$rate params/local reports per second for ${duration}s after a 1 s warm-up; $stored_rows automations"
    echo "stored ($per_trigger never-holding ones on each trigger node, the rest on $filler_nodes other nodes)."
    echo "Latency from each report's scheduled send to the action's arrival on the other node."
    echo
    echo "| mode | reports | actions received | lost | p50 ms | p90 ms | p99 ms | max ms |"
    echo "|---|---|---|---|---|---|---|---|"
    row "raw relay (Mosquitto, no server)" "$raw"
    row "rainmaker-server automations" "$auto"
    echo
    echo "Goal: p50 < ${target_p50_ms} ms with automations: **$verdict**."
    echo
    echo '```'
    echo "$metrics"
    echo '```'
} >"$report"
cat "$report"
if [[ ${BENCH_STRICT:-0} == 1 && $verdict != met ]]; then
    exit 1
fi
