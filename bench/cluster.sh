#!/usr/bin/env bash
# `make bench-cluster`: the scaled-out shape of `make run-cluster` (PostgreSQL, an external
# Mosquitto, two instances, nginx) measured on this machine —
#   a. CPU-seconds per 10,000 authenticated GETs (`GET /v1/user2`, wrk through nginx), with two
#      instances behind nginx and with one (the other killed in c): on 2 cores scale-out shows
#      as a flat cost per request, not as throughput;
#   b. CPU-seconds per 10,000 device messages (a rainmaker-sim fleet, params/local at QoS 1) with
#      two instances and with one;
#   c. failover: wrk through nginx while one instance is killed with -9: requests that failed.
# CPU is the instances' own (utime + stime from /proc), not the broker's, nginx's or
# PostgreSQL's. Report: bench/results/cluster.md. Environment: BENCH_NO_BUILD=1 uses the binaries
# built; BENCH_CLUSTER_SECONDS (10) the length of each wrk and fleet run; BENCH_CLUSTER_RATE
# (3000) the fleet's messages a second.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-cluster

seconds=${BENCH_CLUSTER_SECONDS:-10}
rate=${BENCH_CLUSTER_RATE:-3000}
int_in BENCH_CLUSTER_SECONDS "$seconds" 3 120
int_in BENCH_CLUSTER_RATE "$rate" 100 50000
need_tools wrk curl nginx mosquitto psql python3
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || build rainmaker-server rainmaker_presence rainmaker_revocation rainmaker-sim
server_bin=$build_dir/bin/rainmaker-server
sim_bin=$build_dir/bin/rainmaker-sim
need_bins "run make bench-cluster, or cmake --preset release first" "$server_bin" "$sim_bin"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

proxy=$(free_port)
mqtt=$(free_port)
cluster=$work/cluster
RAINMAKER_SERVER_BIN=$(realpath "$server_bin") RAINMAKER_DATA_DIR=$work RAINMAKER_HTTP_PORT=$proxy \
    RAINMAKER_MQTT_PORT=$mqtt bash scripts/run-cluster.sh >"$work/cluster.log" 2>&1 &
cluster_pid=$!
track "$cluster_pid"
for ((i = 0; i < 600; i++)); do
    grep -q "run-cluster: ready" "$work/cluster.log" && break
    kill -0 "$cluster_pid" 2>/dev/null || break
    sleep 0.1
done
grep -q "run-cluster: ready" "$work/cluster.log" || { cat "$work/cluster.log" >&2; die "the cluster did not start"; }
db_url=$(awk -F'"' '$1 == "url = " { print $2 }' "$cluster/instance-1.toml")
for n in 1 2; do
    port[n]=$(awk -F' = ' '$1 == "port" { print $2; exit }' "$cluster/instance-$n.toml")
done
base=http://127.0.0.1:$proxy

RAINMAKER_DATABASE_URL=$db_url "$server_bin" --data-dir "$work/admin" --password-cost min \
    admin create-user --user-name bench@example.com --password 'Bench1pass' >/dev/null
login bench@example.com Bench1pass
RAINMAKER_DATABASE_URL=$db_url "$server_bin" --data-dir "$cluster/instance-1" \
    admin issue-node-certs --count 200 --out "$work/nodes" >/dev/null

cpu_s() {  # cpu_s PID...: the processes' utime + stime, in seconds
    local total=0 pid ticks
    for pid in "$@"; do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + ticks))
    done
    calc "$total / $(getconf CLK_TCK)" "%.3f"
}

instance_pids() {  # the pids of the instances running
    local n
    for n in 1 2; do
        [[ -f "$cluster/instance-$n.pid" ]] && kill -0 "$(cat "$cluster/instance-$n.pid")" 2>/dev/null &&
            cat "$cluster/instance-$n.pid"
    done
}

node_messages() {  # the instances' node messages, summed
    local total=0 n v
    for n in 1 2; do
        v=$(curl -s -m 5 "http://127.0.0.1:${port[n]}/metrics" |
            awk '$1 == "rainmaker_mqtt_node_messages_total" { print $2 }')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# rest LABEL: wrk through nginx; prints "LABEL RPS CPU_PER_10K".
rest() {
    local pids before after rps
    mapfile -t pids < <(instance_pids)
    before=$(cpu_s "${pids[@]}")
    wrk_wait -t1 -c8 -d"${seconds}s" --latency -H "Authorization: $token" "$base/v1/user2" >"$work/wrk-$1.txt"
    after=$(cpu_s "${pids[@]}")
    read -r rps _ _ non2xx errors < <(parse_wrk "$work/wrk-$1.txt")
    total=$(calc "$rps * $seconds")
    echo "$1 $rps $(calc "($after - $before) / $total * 10000" "%.2f") $non2xx $errors"
}

# ingest LABEL: the fleet at $rate msgs/s; prints "LABEL MESSAGES CPU_PER_10K".
ingest() {
    local pids before after start taken
    mapfile -t pids < <(instance_pids)
    start=$(node_messages)
    before=$(cpu_s "${pids[@]}")
    bg_wait "$sim_bin" fleet --nodes-dir "$work/nodes" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt" \
        --ca "$cluster/instance-1/tls/ca.pem" --rate "$rate" --duration "$seconds" \
        --connect-rate 200 --settle 30 --seed 1 >"$work/fleet-$1.txt" 2>&1
    for ((i = 0; i < 100; i++)); do  # the queues drain
        taken=$(node_messages)
        sleep 0.2
        [[ "$(node_messages)" == "$taken" ]] && break
    done
    after=$(cpu_s "${pids[@]}")
    taken=$((taken - start))
    echo "$1 $taken $(calc "($after - $before) / $taken * 10000" "%.2f")"
}

note "a. REST, two instances"
read -r _ rps2 cpu_rest2 _ _ < <(rest rest-two)
note "b. ingest, two instances"
read -r _ msgs2 cpu_ingest2 < <(ingest ingest-two)

note "c. failover: instance 1 killed -9 under wrk through nginx"
wrk -t1 -c8 -d"${seconds}s" --latency -H "Authorization: $token" "$base/v1/user2" >"$work/wrk-failover.txt" &
wrk_pid=$!
track "$wrk_pid"
sleep $((seconds / 3))
kill -KILL "$(cat "$cluster/instance-1.pid")"
wait "$wrk_pid" || true
forget "$wrk_pid"
read -r rps_failover _ _ non2xx_failover errors_failover < <(parse_wrk "$work/wrk-failover.txt")

note "a. REST, one instance"
read -r _ rps1 cpu_rest1 _ _ < <(rest rest-one)
note "b. ingest, one instance"
read -r _ msgs1 cpu_ingest1 < <(ingest ingest-one)

mkdir -p "$results_dir"
{
    echo "# bench-cluster — $(date -u '+%Y-%m-%d %H:%M UTC'), $(cpu_model), $(nproc) cores"
    echo
    echo "| figure | two instances | one instance |"
    echo "|---|---:|---:|"
    echo "| \`GET /v1/user2\` through nginx, req/s | $rps2 | $rps1 |"
    echo "| instances' CPU-seconds per 10,000 GETs | $cpu_rest2 | $cpu_rest1 |"
    echo "| device messages taken ($rate/s offered for ${seconds} s) | $msgs2 | $msgs1 |"
    echo "| instances' CPU-seconds per 10,000 device messages | $cpu_ingest2 | $cpu_ingest1 |"
    echo
    echo "Failover: instance 1 killed with -9 a third into a ${seconds} s wrk run through nginx:"
    echo "$rps_failover req/s, $non2xx_failover non-2xx answers, $errors_failover socket errors."
    echo
    echo "One instance = instance 1 killed (above). The broker goes on handing the dead instance its"
    echo "share of the device messages (kept in its session for its return): the one instance takes"
    echo "the other share, so it carries the same message rate as each of the two; its CPU per"
    echo "message is computed on what it took."
} | tee "$results_dir/cluster.md"
