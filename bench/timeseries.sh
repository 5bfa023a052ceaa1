#!/usr/bin/env bash
# `make bench-timeseries`: time series, each figure beside a raw baseline in the same run:
#   a. in process (bench/timeseries_query): a year of 1-minute points written through the store
#      and compacted, beside raw SQLite inserts of one row per point; bytes on disk per point;
#      avg by hour over 31 days and by day over 365 days, beside one hand-written SQL aggregate;
#   b. ingest from a TLS fleet (rainmaker-sim fleet --sensor): every sample of every node is a
#      params/local report, a tsdata record and a simple_tsdata record (two points, as stock
#      firmware sends them: one record a message); points stored per second, counted through
#      GET /metrics, and loss: messages the broker acknowledged that the server never received,
#      records it dropped.
# Writes a Markdown report to bench/results/timeseries.md.
#
# Environment (all optional):
#   BENCH_TS_QUERY_RUNS=30            timed runs of each query
#   BENCH_TS_NODES=1000               nodes of the fleet
#   BENCH_TS_RATES="5 10 25"          samples per second per node, one run each
#   BENCH_TS_DURATION=20              seconds of sampling per run, once every node is ready
#   BENCH_SERVER_ARGS=                extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1                  use the binaries already in BENCH_BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

query_runs=${BENCH_TS_QUERY_RUNS:-30}
nodes=${BENCH_TS_NODES:-1000}
rates=${BENCH_TS_RATES:-5 10 25}
duration=${BENCH_TS_DURATION:-20}
build_dir=${BENCH_BUILD_DIR:-build/release}
results_dir=bench/results

die() {
    echo "bench-timeseries: $*" >&2
    exit 1
}
note() {
    echo "bench-timeseries: $*" >&2
}
int_in() {  # int_in NAME VALUE MIN MAX
    if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
        die "$1 must be an integer in [$3, $4], got '$2'"
    fi
}
int_in BENCH_TS_QUERY_RUNS "$query_runs" 1 1000
int_in BENCH_TS_NODES "$nodes" 1 20000
int_in BENCH_TS_DURATION "$duration" 1 300
read -r -a rate_list <<<"$rates"
((${#rate_list[@]} >= 1 && ${#rate_list[@]} <= 5)) || die "BENCH_TS_RATES: 1 to 5 rates"
for r in "${rate_list[@]}"; do
    int_in BENCH_TS_RATES "$r" 1 1000
done
for tool in curl awk sed; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make deps installs it)"
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
server_pid=""
fleet_pid=""
cleanup() {
    [[ -n $fleet_pid ]] && kill "$fleet_pid" 2>/dev/null
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null  # the server stops its mosquitto
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    if [[ ! -f $build_dir/CMakeCache.txt && $build_dir == build/release ]]; then
        cmake --preset release
    fi
    cmake --build "$build_dir" --target rainmaker-server rainmaker-sim rainmaker_presence \
        rainmaker_revocation timeseries_query
fi
server_bin=$build_dir/bin/rainmaker-server
sim_bin=$build_dir/bin/rainmaker-sim
query_bin=$build_dir/bench/timeseries_query
for bin in "$server_bin" "$sim_bin" "$query_bin"; do
    [[ -x $bin ]] || die "$bin not found (run make bench-timeseries)"
done
mkdir -p "$results_dir/raw"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"${2:-%.0f}\", $1 }"; }
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"; }

# --- a. storage and queries in process ---------------------------------------------------------
note "storage and queries in process ($query_runs runs each)"
query_table=$("$query_bin" --runs "$query_runs") || die "timeseries_query failed"

# --- b. ingest from a fleet --------------------------------------------------------------------
data_dir=$work/data
mkdir -p "$data_dir" "$work/nodes"
note "issuing $nodes node certificates"
"$server_bin" admin issue-node-certs --data-dir "$data_dir" --count "$nodes" --out "$work/nodes" \
    >/dev/null 2>"$work/admin.log" || { cat "$work/admin.log" >&2; die "issue-node-certs failed"; }
# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
"$server_bin" --http-port 0 --mqtt-port 0 --mqtt-address 127.0.0.1 --data-dir "$data_dir" \
    ${BENCH_SERVER_ARGS:-} >"$work/server.log" 2>&1 &
server_pid=$!
for ((i = 0; i < 100; i++)); do
    http_port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$work/server.log")
    mqtt_port=$(sed -n 's|.*devices connect to mqtts://[^:]*:\([0-9]*\).*|\1|p' "$work/server.log")
    [[ -n $http_port && -n $mqtt_port ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server exited"; }
    sleep 0.1
done
[[ -n $http_port && -n $mqtt_port ]] || die "the server did not start within 10 s"
base=http://127.0.0.1:$http_port

# counters: "RECEIVED STORED DROPPED" from GET /metrics.
counters() {
    curl -sS --max-time 5 "$base/metrics" | awk '
        $1 == "rainmaker_mqtt_received_total" { r = $2 }
        $1 == "rainmaker_timeseries_records_stored_total" { s = $2 }
        $1 == "rainmaker_timeseries_records_dropped_total" { d = $2 }
        END { if (r == "") exit 1; printf "%d %d %d\n", r, s, d }'
}

rows=""
best=0
loss_total=0
for rate in "${rate_list[@]}"; do
    name=rate-$rate
    note "fleet of $nodes nodes, $rate samples/s each (2 points a sample), ${duration}s"
    read -r r0 s0 d0 <<<"$(counters)"
    "$sim_bin" fleet --nodes-dir "$work/nodes" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" \
        --ca "$data_dir/tls/ca.pem" --sensor --tsdata-rate "$rate" --rate 0 \
        --duration "$duration" --connect-rate 500 --settle 30 --stats-interval 5 \
        >"$work/$name.fleet" 2>&1 &
    fleet_pid=$!
    # Points stored per second while the fleet runs, one sample a second.
    : >"$work/$name.samples"
    while kill -0 "$fleet_pid" 2>/dev/null; do
        echo "$(now) $(counters)" >>"$work/$name.samples"
        sleep 1
    done
    wait "$fleet_pid" || true
    fleet_pid=""
    # Drain: until the counters stand still for 2 s (60 s at most).
    last="" still=0
    for ((i = 0; i < 120; i++)); do
        c=$(counters)
        echo "$(now) $c" >>"$work/$name.samples"
        if [[ $c == "$last" ]]; then
            ((++still >= 4)) && break
        else
            still=0
            last=$c
        fi
        sleep 0.5
    done
    read -r r1 s1 d1 <<<"$(counters)"
    summary=$(grep '^summary ' "$work/$name.fleet" | tail -1)
    [[ -n $summary ]] || { tail -20 "$work/$name.fleet" >&2; die "the fleet printed no summary"; }
    cp "$work/$name.fleet" "$results_dir/raw/timeseries-$name.fleet.txt"
    acked=$(field "$summary" acked)
    ready=$(field "$summary" ready)
    received=$((r1 - r0))
    stored=$((s1 - s0))
    dropped=$((d1 - d0))
    # The server receives every acknowledged message plus a connected and a disconnected
    # presence event per node.
    lost=$((acked + 2 * nodes - received))
    ((lost < 0)) && lost=0
    # Sustained: the best 5-second window of points stored per second.
    sustained=$(awk '{ t[NR] = $1; s[NR] = $3 }
        END { best = 0; for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
                if (t[j] - t[i] >= 5) { r = (s[j] - s[i]) / (t[j] - t[i]); if (r > best) best = r; break }
              printf "%.0f", best }' "$work/$name.samples")
    rows+="| $rate | $((2 * rate * nodes)) | $ready | $acked | $received | $stored | $dropped | $lost | $sustained |"$'\n'
    loss_total=$((loss_total + lost + dropped))
    if ((lost == 0 && dropped == 0 && sustained > best)); then
        best=$sustained
    fi
done

machine="$(nproc) vCPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
report=$results_dir/timeseries.md
cat >"$report" <<EOF
# Time series — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $machine, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg).

## a. Store and queries in process (\`bench/timeseries_query --runs $query_runs\`)

$query_table

## b. Ingest from $nodes TLS nodes (\`rainmaker-sim fleet --sensor\`, ${duration} s of samples a run)

Each sample: \`params/local\`, \`tsdata\` (one record), \`simple_tsdata\` (one record) at QoS 1.
*lost* = messages the broker acknowledged that the server did not receive; *dropped* = records
the server refused; *stored/s* = best 5-second window of records stored.

| samples/s per node | points/s asked | nodes ready | acked msgs | server received | records stored | dropped | lost | stored/s |
|---|---|---|---|---|---|---|---|---|
${rows%$'\n'}

Best zero-loss rate: **$best points/s** (goal 50,000); lost or dropped in all runs: $loss_total.
EOF
cat "$report"
