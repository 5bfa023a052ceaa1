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

nodes=${BENCH_CMD_NODES:-10}
rate=${BENCH_CMD_RATE:-200}
duration=${BENCH_CMD_DURATION:-10}
workers=${BENCH_CMD_WORKERS:-8}
build_dir=${BENCH_BUILD_DIR:-build/release}
results_dir=bench/results
user_name=bench-commands@example.com
password=Bench12345
target_p50_ms=5

die() {
    echo "bench-commands: $*" >&2
    exit 1
}
note() {
    echo "bench-commands: $*" >&2
}
int_in() {  # int_in NAME VALUE MIN MAX
    if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
        die "$1 must be an integer in [$3, $4], got '$2'"
    fi
}
int_in BENCH_CMD_NODES "$nodes" 1 256
int_in BENCH_CMD_RATE "$rate" 1 5000
int_in BENCH_CMD_DURATION "$duration" 1 120
int_in BENCH_CMD_WORKERS "$workers" 1 64
for tool in curl awk sed sqlite3 mosquitto; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make deps installs it)"
done

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true  # the server stops its mosquitto
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    if [[ ! -f $build_dir/CMakeCache.txt && $build_dir == build/release ]]; then
        cmake --preset release
    fi
    cmake --build "$build_dir" --target rainmaker-server rainmaker_presence rainmaker_revocation cmd_latency
fi
server_bin=$build_dir/bin/rainmaker-server
latency_bin=$build_dir/bench/cmd_latency
for bin in "$server_bin" "$latency_bin"; do
    [[ -x $bin ]] || die "$bin not found (cmake --preset release, then run this again)"
done

# wait_for LOG PID NAME REGEX: the first capture of sed REGEX in LOG (10 s at most).
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
field() {  # field LINE KEY
    sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"
}

# --- set-up: user, node certificates, server, token, mappings ---------------------------------
mkdir -p "$results_dir/raw"
data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir"
created=$("$server_bin" admin create-user --data-dir "$data_dir" --user-name "$user_name" \
    --password "$password" 2>"$work/admin.log") || { cat "$work/admin.log" >&2; die "admin create-user failed"; }
user_id=$(sed -n 's/^created user .* (\([^)]*\)).*/\1/p' <<<"$created")
[[ -n $user_id ]] || die "admin create-user printed no user id: $created"
"$server_bin" admin issue-node-certs --data-dir "$data_dir" --count "$nodes" --out "$nodes_dir" \
    >"$work/node-ids" 2>"$work/admin.log" || { cat "$work/admin.log" >&2; die "admin issue-node-certs failed"; }
mapfile -t node_ids < <(LC_ALL=C sort "$work/node-ids")

# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
"$server_bin" --http-port 0 --mqtt-port 0 --mqtt-address 127.0.0.1 --data-dir "$data_dir" \
    ${BENCH_SERVER_ARGS:-} >"$work/server.log" 2>&1 &
server_pid=$!
http_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
    '.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*')
mqtt_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
    '.*devices connect to mqtts://[^:]*:\([0-9][0-9]*\).*')
base=http://127.0.0.1:$http_port
ca=$data_dir/tls/ca.pem
conf=$data_dir/broker/mosquitto.conf
link_port=$(awk '$1 == "listener" { if (++n == 2) print $2 }' "$conf")
[[ -n $link_port ]] || die "no link listener in $conf"

login=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -d "{\"user_name\":\"$user_name\",\"password\":\"$password\"}" "$base/v1/login2") ||
    die "login request failed"
token=$(printf '%s' "$login" | sed -n 's/.*"accesstoken" *: *"\([^"]*\)".*/\1/p')
[[ -n $token ]] || die "login answered without an accesstoken: $login"

# Map the nodes to the user straight in the store (WAL: the server keeps running).
values=""
created_at=$(date +%s)
for id in "${node_ids[@]}"; do
    values+="('$user_id','$id','primary','[]','{}','','',$created_at),"
done
sqlite3 -cmd ".timeout 5000" "$data_dir/rainmaker.db" \
    "INSERT INTO user_nodes(user_id,node_id,role,tags,metadata,group_id,admin_access,created_at) VALUES ${values%,};" ||
    die "mapping the nodes failed"

# --- the two runs -----------------------------------------------------------------------------
args=(--nodes-dir "$nodes_dir" --nodes "$nodes" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port"
    --ca "$ca" --rate "$rate" --duration "$duration" --warmup 1 --workers "$workers")
note "raw: $nodes nodes, $rate requests/s, ${duration}s"
"$latency_bin" --raw --link-port "$link_port" --link-password-file "$data_dir/broker/link-password" \
    "${args[@]}" >"$work/raw.out" 2>"$work/raw.log" || true
note "rest: $workers workers"
"$latency_bin" --api "$base" --token "$token" "${args[@]}" >"$work/rest.out" 2>"$work/rest.log" || true
cat "$work/raw.out" "$work/raw.log" >"$results_dir/raw/commands-raw.txt"
cat "$work/rest.out" "$work/rest.log" >"$results_dir/raw/commands-rest.txt"
raw=$(grep '^result ' "$work/raw.out" || true)
rest=$(grep '^result ' "$work/rest.out" || true)
[[ -n $raw ]] || { cat "$work/raw.log" >&2; die "cmd_latency --raw failed"; }
[[ -n $rest ]] || { cat "$work/rest.log" >&2; die "cmd_latency (REST) failed"; }
metrics=$(curl -sS --max-time 5 "$base/metrics" | grep '^rainmaker_commands_' || true)

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
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
