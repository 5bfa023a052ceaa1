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
#   BENCH_TS_RATES="10 20 25"         samples per second per node, one run each
#   BENCH_TS_DURATION=20              seconds of sampling per run, once every node is ready
#   BENCH_SERVER_ARGS=                extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1                  use the binaries already in BENCH_BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-timeseries

query_runs=${BENCH_TS_QUERY_RUNS:-30}
nodes=${BENCH_TS_NODES:-1000}
rates=${BENCH_TS_RATES:-10 20 25}
duration=${BENCH_TS_DURATION:-20}

int_in BENCH_TS_QUERY_RUNS "$query_runs" 1 1000
int_in BENCH_TS_NODES "$nodes" 1 20000
int_in BENCH_TS_DURATION "$duration" 1 300
read -r -a rate_list <<<"$rates"
check_rates BENCH_TS_RATES 1 1000 "${rate_list[@]}"
need_tools curl awk sed
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

build rainmaker-server rainmaker-sim rainmaker_presence rainmaker_revocation timeseries_query
server_bin=$build_dir/bin/rainmaker-server
sim_bin=$build_dir/bin/rainmaker-sim
query_bin=$build_dir/bench/timeseries_query
need_bins "run make bench-timeseries" "$server_bin" "$sim_bin" "$query_bin"
mkdir -p "$results_dir/raw"

# --- a. storage and queries in process ---------------------------------------------------------
note "storage and queries in process ($query_runs runs each)"
query_table=$("$query_bin" --runs "$query_runs") || die "timeseries_query failed"

# --- b. ingest from a fleet --------------------------------------------------------------------
data_dir=$work/data
mkdir -p "$data_dir" "$work/nodes"
note "issuing $nodes node certificates"
issue_certs "$data_dir" "$nodes" "$work/nodes"
# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
start_server mqtt ${BENCH_SERVER_ARGS:-}

# counters: "RECEIVED STORED DROPPED QUEUE_DROPPED INGESTED" from GET /metrics.
counters() {
    metric_values rainmaker_mqtt_received_total rainmaker_timeseries_records_stored_total \
        rainmaker_timeseries_records_dropped_total rainmaker_mqtt_duplicates_total rainmaker_mqtt_ingested_total
}

rows=""
best=0
loss_total=0
for rate in "${rate_list[@]}"; do
    name=rate-$rate
    note "fleet of $nodes nodes, $rate samples/s each (2 points a sample), ${duration}s"
    read -r r0 s0 d0 q0 _ <<<"$(counters)"
    "$sim_bin" fleet --nodes-dir "$work/nodes" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" \
        --ca "$data_dir/tls/ca.pem" --sensor --tsdata-rate "$rate" --rate 0 \
        --duration "$duration" --connect-rate 500 --settle 30 --stats-interval 5 \
        >"$work/$name.fleet" 2>&1 &
    fleet_pid=$!
    track "$fleet_pid"
    # Points stored per second while the fleet runs, one sample a second.
    : >"$work/$name.samples"
    while kill -0 "$fleet_pid" 2>/dev/null; do
        echo "$(now) $(counters)" >>"$work/$name.samples"
        sleep 1
    done
    wait "$fleet_pid" || true
    forget "$fleet_pid"
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
    read -r r1 s1 d1 q1 _ <<<"$(counters)"
    curl -sS --max-time 5 "$base/metrics" >"$results_dir/raw/timeseries-$name.metrics.txt" || true
    summary=$(grep '^summary ' "$work/$name.fleet" | tail -1)
    [[ -n $summary ]] || { tail -20 "$work/$name.fleet" >&2; die "the fleet printed no summary"; }
    cp "$work/$name.fleet" "$results_dir/raw/timeseries-$name.fleet.txt"
    acked=$(field "$summary" acked)
    ready=$(field "$summary" ready)
    received=$((r1 - r0))
    stored=$((s1 - s0))
    dropped=$((d1 - d0))
    # The server receives every acknowledged message plus a connected and a disconnected
    # presence event per node, and must not drop any for a full ingest queue.
    lost=$((acked + 2 * nodes - received))
    ((lost < 0)) && lost=0
    lost=$((lost + q1 - q0))
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

machine="$(nproc) vCPU $(cpu_model ""), $(uname -sr)"
report=$results_dir/timeseries.md
cat >"$report" <<EOF
# Time series — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $machine, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg).

## a. Store and queries in process (\`bench/timeseries_query --runs $query_runs\`)

$query_table

## b. Ingest from $nodes TLS nodes (\`rainmaker-sim fleet --sensor\`, ${duration} s of samples a run)

Each sample: \`params/local\`, \`tsdata\` (one record), \`simple_tsdata\` (one record) at QoS 1.
*lost* = messages the broker acknowledged that the server did not receive or dropped for a full
ingest queue; *dropped* = records the server refused; *stored/s* = best 5-second window of
records stored.

| samples/s per node | points/s asked | nodes ready | acked msgs | server received | records stored | dropped | lost | stored/s |
|---|---|---|---|---|---|---|---|---|
${rows%$'\n'}

Best zero-loss rate: **$best points/s** (goal 50,000); lost or dropped in all runs: $loss_total.
EOF
cat "$report"
