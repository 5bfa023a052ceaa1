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

pairs=${BENCH_AUTO_PAIRS:-10}
rate=${BENCH_AUTO_RATE:-1000}
duration=${BENCH_AUTO_DURATION:-10}
stored=${BENCH_AUTO_STORED:-10000}
per_trigger=${BENCH_AUTO_PER_TRIGGER:-8}
filler_nodes=${BENCH_AUTO_FILLER_NODES:-1000}
build_dir=${BENCH_BUILD_DIR:-build/release}
results_dir=bench/results
user_name=bench-automations@example.com
password=Bench12345
target_p50_ms=5  # issue 8

die() {
    echo "bench-automations: $*" >&2
    exit 1
}
note() {
    echo "bench-automations: $*" >&2
}
int_in() {  # int_in NAME VALUE MIN MAX
    if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
        die "$1 must be an integer in [$3, $4], got '$2'"
    fi
}
int_in BENCH_AUTO_PAIRS "$pairs" 1 128
int_in BENCH_AUTO_RATE "$rate" 1 20000
int_in BENCH_AUTO_DURATION "$duration" 1 120
int_in BENCH_AUTO_STORED "$stored" $((2 * pairs)) 200000
int_in BENCH_AUTO_PER_TRIGGER "$per_trigger" 0 1000
int_in BENCH_AUTO_FILLER_NODES "$filler_nodes" 1 20000
for tool in curl awk sed sqlite3 mosquitto; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make deps installs it)"
done

# --- cleanup: kill exactly what this script started -----------------------------------------
work=$(mktemp -d)
server_pid=""
child_pid=""
cleanup() {
    [[ -z $child_pid ]] || kill "$child_pid" 2>/dev/null || true
    [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true  # it stops its mosquitto
    for pid in $child_pid $server_pid; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bg_wait CMD...: runs CMD in the background and waits, so a signal runs the trap at once.
bg_wait() {
    local status=0
    "$@" &
    child_pid=$!
    wait "$child_pid" || status=$?
    child_pid=""
    return "$status"
}

# --- build ------------------------------------------------------------------------------------
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    if [[ ! -f $build_dir/CMakeCache.txt && $build_dir == build/release ]]; then
        cmake --preset release
    fi
    cmake --build "$build_dir" --target rainmaker-server rainmaker_presence rainmaker_revocation automation_latency
fi
server_bin=$build_dir/bin/rainmaker-server
bench_bin=$build_dir/bench/automation_latency
for bin in "$server_bin" "$bench_bin"; do
    [[ -x $bin ]] || die "$bin not found (run make bench-automations, or cmake --preset release first)"
done

# field LINE KEY: the value of KEY=value in a `key=value ...` line.
field() {
    sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"
}

# wait_for LOG PID NAME REGEX: prints the first capture of sed REGEX in LOG (10 s at most).
wait_for() {
    local log=$1 pid=$2 name=$3 regex=$4 value="" i
    for ((i = 0; i < 100; i++)); do
        value=$(sed -n "s|$regex|\1|p" "$log" | head -n1)
        [[ -n $value ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start-up"; }
        sleep 0.1
    done
    [[ -n $value ]] || { cat "$log" >&2; die "$name did not print what we wait for within 10 s"; }
    echo "$value"
}

# --- set-up: user, node certificates, server, token, mappings ---------------------------------
mkdir -p "$results_dir/raw"
data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir/all" "$nodes_dir/pairs"

created=$("$server_bin" admin create-user --data-dir "$data_dir" --user-name "$user_name" \
    --password "$password" 2>"$work/admin.log") || { cat "$work/admin.log" >&2; die "admin create-user failed"; }
user_id=$(sed -n 's/^created user .* (\([^)]*\)).*/\1/p' <<<"$created")
[[ -n $user_id ]] || die "admin create-user printed no user id: $created"

cert_count=$((2 * pairs + filler_nodes))
note "issuing $cert_count node certificates"
"$server_bin" admin issue-node-certs --data-dir "$data_dir" --count "$cert_count" --out "$nodes_dir/all" \
    >"$work/node-ids" 2>"$work/admin.log" || { cat "$work/admin.log" >&2; die "admin issue-node-certs failed"; }
mapfile -t node_ids < <(LC_ALL=C sort "$work/node-ids")
((${#node_ids[@]} == cert_count)) || die "issue-node-certs printed ${#node_ids[@]} ids, $cert_count expected"
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
"$server_bin" --config "$work/server.toml" --http-port 0 --mqtt-port 0 --mqtt-address 127.0.0.1 \
    --data-dir "$data_dir" ${BENCH_SERVER_ARGS:-} >"$work/server.log" 2>&1 &
server_pid=$!
http_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
    '.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*')
mqtt_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
    '.*devices connect to mqtts://[^:]*:\([0-9][0-9]*\).*')
base=http://127.0.0.1:$http_port
ca=$data_dir/tls/ca.pem
conf=$data_dir/broker/mosquitto.conf
link_password_file=$data_dir/broker/link-password
link_port=$(awk '$1 == "listener" { if (++n == 2) print $2 }' "$conf")
[[ -n $link_port ]] || die "no link listener in $conf"

login=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -d "{\"user_name\":\"$user_name\",\"password\":\"$password\"}" "$base/v1/login2") ||
    die "login request failed"
token=$(printf '%s' "$login" | sed -n 's/.*"accesstoken" *: *"\([^"]*\)".*/\1/p')
[[ -n $token ]] || die "login answered without an accesstoken: $login"

# Every node mapped to the user straight in the store (WAL: the server keeps running).
created_at=$(date +%s)
{
    echo "BEGIN;"
    for id in "${node_ids[@]}"; do
        echo "INSERT INTO user_nodes(user_id,node_id,role,tags,metadata,group_id,admin_access,created_at) VALUES ('$user_id','$id','primary','[]','{}','','',$created_at);"
    done
    echo "COMMIT;"
} | sqlite3 -cmd ".timeout 5000" "$data_dir/rainmaker.db" || die "mapping the nodes failed"

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
metrics=$(curl -sS --max-time 5 "$base/metrics" | grep '^rainmaker_automation_' || true)
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
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
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
