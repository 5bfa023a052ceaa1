#!/usr/bin/env bash
# `make bench-devices`: the device side of rainmaker-server on loopback, each figure beside a raw
# Mosquitto baseline on the same broker in the same run:
#   a. latency of REST `PUT params` -> node `params/remote` (params_latency), and the same
#      publish made directly on the broker (params_latency --raw);
#   b. ingest of node `params/local` into the store (rainmaker-sim fleet), counted through
#      GET /metrics, beside a mosquitto_sub counting the same messages;
#   c. RSS of rainmaker-server and of mosquitto with many TLS nodes connected.
# Writes a Markdown report to bench/results/devices.md. See bench/README.md.
#
# Environment (all optional):
#   BENCH_DEV_LATENCY_NODES=10        nodes params_latency plays
#   BENCH_DEV_LATENCY_RATE=1000       sets per second (all nodes together)
#   BENCH_DEV_LATENCY_DURATION=10     seconds measured, per mode (after a 1 s warm-up)
#   BENCH_DEV_HTTP_CONNECTIONS=8      keep-alive connections the REST mode spreads the sets over
#   BENCH_DEV_INGEST_NODES=1000       nodes of the ingest fleet
#   BENCH_DEV_INGEST_RATES="10000 20000 30000"   params/local per second, one run each
#   BENCH_DEV_INGEST_DURATION=15      seconds of load per ingest run
#   BENCH_DEV_NODES=10000             nodes connected for the memory figures
#   BENCH_DEV_CONNECT_RATE=500        TLS connects per second the fleets start
#   BENCH_DEV_HOLD=10                 seconds the nodes stay connected once all are
#   BENCH_SERVER_ARGS=                extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1                  use the binaries already in BENCH_BUILD_DIR
#   BENCH_STRICT=1                    exit 1 when a target is missed (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-devices

latency_nodes=${BENCH_DEV_LATENCY_NODES:-10}
latency_rate=${BENCH_DEV_LATENCY_RATE:-1000}
latency_duration=${BENCH_DEV_LATENCY_DURATION:-10}
http_connections=${BENCH_DEV_HTTP_CONNECTIONS:-8}
ingest_nodes=${BENCH_DEV_INGEST_NODES:-1000}
ingest_rates=${BENCH_DEV_INGEST_RATES:-10000 20000 30000}
ingest_duration=${BENCH_DEV_INGEST_DURATION:-15}
conn_nodes=${BENCH_DEV_NODES:-10000}
connect_rate=${BENCH_DEV_CONNECT_RATE:-500}
hold=${BENCH_DEV_HOLD:-10}
user_name=bench-devices@example.com
password=Bench12345

# Targets from the issue.
target_p50_ms=2
target_p99_ms=10
target_ingest_per_s=20000
target_nodes=10000
target_server_rss_mib=200

int_in BENCH_DEV_LATENCY_NODES "$latency_nodes" 1 256
int_in BENCH_DEV_LATENCY_RATE "$latency_rate" 1 20000
int_in BENCH_DEV_LATENCY_DURATION "$latency_duration" 1 120
int_in BENCH_DEV_HTTP_CONNECTIONS "$http_connections" 1 256
int_in BENCH_DEV_INGEST_NODES "$ingest_nodes" 1 20000
int_in BENCH_DEV_INGEST_DURATION "$ingest_duration" 1 120
int_in BENCH_DEV_NODES "$conn_nodes" 0 50000
int_in BENCH_DEV_CONNECT_RATE "$connect_rate" 10 5000
int_in BENCH_DEV_HOLD "$hold" 1 120
read -r -a ingest_rate_list <<<"$ingest_rates"
check_rates BENCH_DEV_INGEST_RATES 1 200000 "${ingest_rate_list[@]}"
need_tools curl awk sed sqlite3 mosquitto mosquitto_sub

# Each TLS node is one descriptor in the fleet and one in mosquitto, which inherits the
# server's limit: raise the soft limit as far as the hard one allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
conn_note=""
if [[ $fd_limit != unlimited ]] && ((conn_nodes + 512 > fd_limit)); then
    conn_note="capped at $((fd_limit - 512)) nodes by \`ulimit -n\` $fd_limit (asked for $conn_nodes)"
    note "$conn_note"
    conn_nodes=$((fd_limit - 512))
fi

build rainmaker-server rainmaker-sim rainmaker_presence rainmaker_revocation params_latency
server_bin=$build_dir/bin/rainmaker-server
sim_bin=$build_dir/bin/rainmaker-sim
latency_bin=$build_dir/bench/params_latency
need_bins "run make bench-devices, or cmake --preset release first" "$server_bin" "$sim_bin" "$latency_bin"

# --- helpers ----------------------------------------------------------------------------------

# metrics: "RECEIVED INGESTED MALFORMED" from the server's GET /metrics.
metrics() {
    metric_values rainmaker_mqtt_received_total rainmaker_mqtt_ingested_total rainmaker_mqtt_malformed_total
}

# --- set-up: user, node certificates, server, token, mappings ---------------------------------
mkdir -p "$results_dir/raw"
data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir/all" "$nodes_dir/latency" "$nodes_dir/ingest"

create_user "$data_dir" "$user_name" "$password"

cert_count=$conn_nodes
((ingest_nodes > cert_count)) && cert_count=$ingest_nodes
((latency_nodes > cert_count)) && cert_count=$latency_nodes
note "issuing $cert_count node certificates"
t=$(now)
issue_certs "$data_dir" "$cert_count" "$nodes_dir/all"
issue_s=$(calc "$(now) - $t" %.1f)
# Subsets by name (C order, as params_latency sorts them).
for ((i = 0; i < latency_nodes; i++)); do
    ln -s "../all/${node_ids[i]}" "$nodes_dir/latency/${node_ids[i]}"
done
for ((i = 0; i < ingest_nodes; i++)); do
    ln -s "../all/${node_ids[i]}" "$nodes_dir/ingest/${node_ids[i]}"
done

# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
start_server mqtt ${BENCH_SERVER_ARGS:-}
link_listener
broker_pid=$(find_broker_pid)
[[ -n $broker_pid ]] || die "no mosquitto process with $conf"
sleep 1  # let start-up allocations settle before calling it idle
server_idle_rss=$(rss_mib "$server_pid")
broker_idle_rss=$(rss_mib "$broker_pid")

login "$user_name" "$password"

# Map the latency nodes to the user straight in the store (WAL: the server keeps running).
map_nodes "${node_ids[@]:0:latency_nodes}"

# --- a. latency: REST PUT params -> params/remote, and the raw publish baseline ---------------
latency_args=(--nodes-dir "$nodes_dir/latency" --nodes "$latency_nodes" --mqtt-host 127.0.0.1
    --mqtt-port "$mqtt_port" --ca "$ca" --rate "$latency_rate" --duration "$latency_duration" --warmup 1)
note "latency: params_latency --raw, $latency_nodes nodes, $latency_rate sets/s, ${latency_duration}s"
bg_wait "$latency_bin" --raw --link-port "$link_port" --link-password-file "$link_password_file" \
    "${latency_args[@]}" >"$work/latency-raw.out" 2>"$work/latency-raw.log" || true
note "latency: params_latency (REST), $http_connections connections"
bg_wait "$latency_bin" --api "$base" --token "$token" --connections "$http_connections" \
    "${latency_args[@]}" >"$work/latency-rest.out" 2>"$work/latency-rest.log" || true
cat "$work/latency-raw.out" "$work/latency-raw.log" >"$results_dir/raw/devices-latency-raw.txt"
cat "$work/latency-rest.out" "$work/latency-rest.log" >"$results_dir/raw/devices-latency-rest.txt"
latency_raw=$(grep '^result ' "$work/latency-raw.out" || true)
latency_rest=$(grep '^result ' "$work/latency-rest.out" || true)
[[ -n $latency_raw ]] || { cat "$work/latency-raw.log" >&2; note "params_latency --raw failed"; }
[[ -n $latency_rest ]] || { cat "$work/latency-rest.log" >&2; note "params_latency (REST) failed"; }

# --- b. ingest: fleet params/local -> store ---------------------------------------------------

# run_fleet NAME NODES_DIR RATE DURATION: runs a fleet in the background, sampling the server's
# metrics (and RSS) every 0.25 s into $work/NAME.samples as "T RECEIVED INGESTED MALFORMED
# SERVER_RSS BROKER_RSS LOADING", until the fleet exits and the server's counters stand still.
# Sets t_load (first sample that saw "load start"), t_exit, t_drained.
run_fleet() {
    local name=$1 dir=$2 rate=$3 duration=$4 pid loading=0 t m last="" still=0 i
    "$sim_bin" fleet --nodes-dir "$dir" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" --ca "$ca" \
        --rate "$rate" --duration "$duration" --connect-rate "$connect_rate" --settle 30 \
        --stats-interval 5 --seed 1 >"$work/$name.fleet" 2>&1 &
    pid=$!
    track "$pid"
    : >"$work/$name.samples"
    t_load="" t_exit="" t_drained=""
    while kill -0 "$pid" 2>/dev/null; do
        t=$(now)
        m=$(metrics) || m="- - -"
        if ((loading == 0)) && grep -q '^load start' "$work/$name.fleet"; then
            loading=1
            t_load=$t
        fi
        echo "$t $m $(rss_mib "$server_pid") $(rss_mib "$broker_pid") $loading" >>"$work/$name.samples"
        sleep 0.25
    done
    wait "$pid" || true  # exits 1 when not every node got ready: the summary says how many
    forget "$pid"
    t_exit=$(now)
    # Drain: the server's queue empties after the load; stop when received and ingested stood
    # still for 1 s (30 s at most).
    for ((i = 0; i < 120; i++)); do
        t=$(now)
        m=$(metrics) || m="- - -"
        echo "$t $m $(rss_mib "$server_pid") $(rss_mib "$broker_pid") 2" >>"$work/$name.samples"
        if [[ $m == "$last" ]]; then
            ((++still >= 4)) && break
        else
            still=0
            last=$m
            t_drained=$t
        fi
        sleep 0.25
    done
    [[ -n $t_drained ]] || t_drained=$t_exit
    cp "$work/$name.fleet" "$results_dir/raw/devices-$name.fleet.txt"
}

# stand_still FILE: waits until FILE stops growing for 1 s (30 s at most).
stand_still() {
    local size="" last=-1 i
    for ((i = 0; i < 120; i++)); do
        size=$(wc -c <"$1")
        [[ $size == "$last" ]] && return 0
        last=$size
        sleep 1
    done
}

ingest_rows=""
best_persisted=0
best_zero_loss=0
ingest_loss_total=0
for rate in "${ingest_rate_list[@]}"; do
    # Each rate twice: the server alone, then the same load with a raw subscriber beside it.
    for with_sub in 0 1; do
        name=ingest-$rate
        what="ingest: fleet of $ingest_nodes nodes at $rate params/local per second, ${ingest_duration}s"
        if [[ $with_sub == 1 ]]; then
            name+=-sub
            what+=", with mosquitto_sub"
        fi
        note "$what"
        sub_pid=""
        if [[ $with_sub == 1 ]]; then
            # The baseline: a plain QoS 1 subscriber on the link listener counting the load's
            # messages, printing the time of each.
            # shellcheck disable=SC2016  # '$aws' is a topic, not a variable
            mosquitto_sub -h 127.0.0.1 -p "$link_port" -u rainmaker-server -P "$(cat "$link_password_file")" \
                -i "bench-devices-sub" -q 1 -t '$aws/rules/+/node/+/params/local' -t 'node/+/params/local' \
                -F '%U' >"$work/$name.sub" 2>"$work/$name.sub.log" &
            sub_pid=$!
            track "$sub_pid"
            sleep 0.5
        fi
        read -r r0 i0 m0 < <(metrics) || die "GET /metrics failed"
        run_fleet "$name" "$nodes_dir/ingest" "$rate" "$ingest_duration"
        read -r r1 i1 m1 < <(metrics) || die "GET /metrics failed"
        if [[ -n $sub_pid ]]; then
            stand_still "$work/$name.sub"  # the subscriber may lag behind the server
            kill -INT "$sub_pid" 2>/dev/null || true
            wait "$sub_pid" 2>/dev/null || true
            forget "$sub_pid"
        fi

        summary=$(grep '^summary ' "$work/$name.fleet" || true)
        [[ -n $summary ]] || { tail -20 "$work/$name.fleet" >&2; die "the ingest fleet printed no summary"; }
        published=$(field "$summary" published)
        acked=$(field "$summary" acked)
        load_published=$(field "$summary" load_published)
        load_rate=$(field "$summary" load_rate)
        connects=$(($(field "$summary" connect_attempts) - $(field "$summary" connect_failures)))
        # The server's link gets every message the broker acknowledged to the fleet (config,
        # init params, otafetch and the load) plus a connected and a disconnected presence event
        # per connection. Publishes still unacknowledged when the fleet stops may never have
        # left the node (libmosquitto keeps all but 20 in flight in its own queue, and drops
        # them at disconnect): they are not counted as lost.
        expected=$((acked + 2 * connects))
        received=$((r1 - r0))
        ingested=$((i1 - i0))
        malformed=$((m1 - m0))
        lost=$((expected - received))
        ((lost > 0)) || lost=0
        # Persisted rate: ingested from the first sample under load to the moment the counters
        # stood still after the load, i.e. the load plus the drain of whatever queued up.
        read -r persisted_rate peak_rate drain_s < <(awk -v te="$t_exit" -v td="$t_drained" '
            $2 == "-" { next }
            $7 >= 1 && a == "" { a = $1; ia = $3 }
            $1 <= td + 0.0001 { b = $1; ib = $3 }
            { if (pt != "" && $1 - pt > 0) { r = ($3 - pi) / ($1 - pt); if ($7 == 1 && r > peak) peak = r }
              pt = $1; pi = $3 }
            END {
                rate = (a != "" && b > a) ? (ib - ia) / (b - a) : 0
                d = td - te; if (d < 0) d = 0
                printf "%.0f %.0f %.1f\n", rate, peak, d
            }' "$work/$name.samples")
        cp "$work/$name.samples" "$results_dir/raw/devices-$name.samples.txt"

        sub_text="-"
        sub_rate_text="-"
        if [[ $with_sub == 1 ]]; then
            # The raw subscriber gets only the load: everything acknowledged minus the three boot
            # publishes (config, init params, otafetch) per node, all acknowledged long before.
            read -r sub_count sub_rate_text < <(awk '
                NF { n++; if (first == "") first = $1; last = $1 }
                END { printf "%d %.0f\n", n, (n > 1 && last > first) ? (n - 1) / (last - first) : 0 }' "$work/$name.sub")
            sub_lost=$((acked - (published - load_published) - sub_count))
            ((sub_lost > 0)) || sub_lost=0
            sub_text=$sub_count
            ((sub_lost == 0)) || sub_text+=" (**$sub_lost lost**)"
        fi

        loss_text="$lost"
        ((lost == 0)) || loss_text="**$lost** ($(calc "100 * $lost / $expected" %.1f)%)"
        label="server"
        [[ $with_sub == 0 ]] || label="server + mosquitto_sub"
        ingest_rows+="| $rate | $label | $load_rate | $load_published | $acked | $received | $ingested | $malformed | $loss_text | $persisted_rate | $peak_rate | $drain_s | $sub_text | $sub_rate_text |"$'\n'
        ingest_loss_total=$((ingest_loss_total + lost + malformed))
        if [[ $with_sub == 0 ]]; then
            ((persisted_rate <= best_persisted)) || best_persisted=$persisted_rate
            if ((lost == 0 && malformed == 0 && persisted_rate > best_zero_loss)); then
                best_zero_loss=$persisted_rate
            fi
        fi
    done
done

# --- c. connections: many TLS nodes held, RSS of the server and of mosquitto ------------------
conn_rows=""
conn_ready=0
server_conn_rss="-"
if ((conn_nodes > 0)); then
    sleep 1
    server_before_rss=$(rss_mib "$server_pid")
    broker_before_rss=$(rss_mib "$broker_pid")
    note "connections: fleet of $conn_nodes nodes, $connect_rate connects/s, held ${hold}s"
    t_start=$(now)
    run_fleet connect "$nodes_dir/all" 0 "$hold"
    summary=$(grep '^summary ' "$work/connect.fleet" || true)
    [[ -n $summary ]] || { tail -20 "$work/connect.fleet" >&2; die "the connection fleet printed no summary"; }
    conn_ready=$(field "$summary" ready)
    conn_failures=$(field "$summary" connect_failures)
    connect_s=$(calc "${t_load:-$t_exit} - $t_start" %.1f)
    # The highest RSS seen while every node was connected (samples flagged "loading"); VmHWM
    # is the peak over the process's whole life.
    read -r server_conn_rss broker_conn_rss < <(awk '
        $7 == 1 && $5 != "-" { if ($5 > s) s = $5; if ($6 > b) b = $6 }
        END { printf "%.1f %.1f\n", s, b }' "$work/connect.samples")
    server_hwm=$(rss_mib "$server_pid" VmHWM)
    broker_hwm=$(rss_mib "$broker_pid" VmHWM)
    sleep 2
    server_after_rss=$(rss_mib "$server_pid")
    broker_after_rss=$(rss_mib "$broker_pid")
    per_node_kib=$(calc "($broker_conn_rss - $broker_before_rss) * 1024 / ($conn_ready > 0 ? $conn_ready : 1)" %.1f)
    cp "$work/connect.samples" "$results_dir/raw/devices-connect.samples.txt"
    conn_rows=$(
        cat <<EOF
| | rainmaker-server | mosquitto |
|---|---:|---:|
| idle after start | ${server_idle_rss} | ${broker_idle_rss} |
| before the connections (after the runs above) | ${server_before_rss} | ${broker_before_rss} |
| **with ${conn_ready} nodes connected** (highest sample) | **${server_conn_rss}** | **${broker_conn_rss}** |
| peak over the whole run (VmHWM) | ${server_hwm} | ${broker_hwm} |
| 2 s after the nodes left | ${server_after_rss} | ${broker_after_rss} |

${conn_ready} of ${conn_nodes} nodes ready (connected, subscribed, config and init params acknowledged) after ${connect_s} s at up to ${connect_rate} connects/s; ${conn_failures} failed connects. Mosquitto: ${per_node_kib} KiB per connected node.${conn_note:+ Note: ${conn_note}.}
EOF
    )
fi

# --- report -----------------------------------------------------------------------------------
latency_row() {  # latency_row LABEL RESULT_LINE
    local r=$2
    if [[ -z $r ]]; then
        echo "| $1 | failed, see bench/results/raw/ | | | | | | | |"
        return
    fi
    echo "| $1 | $(field "$r" sent) | $(field "$r" received) | $(field "$r" lost) | $(field "$r" errors) | $(field "$r" p50_ms) | $(field "$r" p90_ms) | $(field "$r" p99_ms) | $(field "$r" max_ms) |"
}

rest_p50=$(field "$latency_rest" p50_ms)
rest_p99=$(field "$latency_rest" p99_ms)
rest_lost=$(field "$latency_rest" lost)
p50_verdict=$(verdict below "$rest_p50" "$target_p50_ms")
p99_verdict=$(verdict below "$rest_p99" "$target_p99_ms")
ingest_verdict=$(verdict at_least "$best_zero_loss" "$target_ingest_per_s")
loss_verdict=$(verdict test "$ingest_loss_total" -eq 0 -a "${rest_lost:-1}" -eq 0)
nodes_verdict=$(verdict at_least "$conn_ready" "$target_nodes")
rss_verdict=$(verdict below "$server_conn_rss" "$target_server_rss_mib")
if ((conn_nodes == 0)); then
    nodes_verdict="not run"
    rss_verdict="not run"
fi

cpu_model=$(cpu_model "$(uname -m)")
mosquitto_version=$( (mosquitto -h 2>&1 || true) | awk 'NR == 1 { print $3 }')

report=$(
    cat <<EOF
# rainmaker-server device benchmark

$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs · ${cpu_model} · Linux $(uname -r) · mosquitto ${mosquitto_version} · $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)

Everything on 127.0.0.1, one rainmaker-server with its embedded mosquitto${BENCH_SERVER_ARGS:+ (extra arguments \`${BENCH_SERVER_ARGS}\`)}; the load generators share the CPUs with it. ${cert_count} node certificates issued in ${issue_s} s.

## a. Param change latency: REST \`PUT params\` -> node \`params/remote\`

${latency_nodes} TLS nodes, ${latency_rate} sets/s in total (open loop: each set is timed from its scheduled send, so queueing counts), ${latency_duration} s after a 1 s warm-up. REST: ${http_connections} keep-alive HTTP connections. Latencies in ms.

| path | sets | received | lost | errors | p50 | p90 | p99 | max |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(latency_row "broker baseline: libmosquitto publish on the link listener -> node" "$latency_raw")
$(latency_row "rainmaker: \`PUT /v1/user/nodes/params\` -> node" "$latency_rest")

REST answer time (scheduled send -> 200): p50 $(field "$latency_rest" http_p50_ms) ms, p99 $(field "$latency_rest" http_p99_ms) ms.

## b. Ingest: node \`params/local\` -> store

\`rainmaker-sim fleet\`, ${ingest_nodes} TLS nodes, QoS 1 on the basic-ingest topics, ${ingest_duration} s of load per run; each rate runs twice, the second time with a \`mosquitto_sub\` (QoS 1, on the link listener, counting the load's messages) beside the server: the broker's own delivery ceiling. *offered/s* is what the fleet really published; *acked (all)* counts the broker's PUBACKs for everything it sent, boot messages included. The server's counters come from \`GET /metrics\`: it must receive every acknowledged message plus a connected and a disconnected presence event per node, and *lost* is the shortfall. *persisted msgs/s* runs from the start of the load until the counters stand still again.

| asked/s | subscribers | offered/s | load msgs | acked (all) | server received | ingested | malformed | lost | persisted msgs/s | peak 1 s | drain after load (s) | raw sub got | raw sub msgs/s |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${ingest_rows%$'\n'}

## c. Memory with ${conn_nodes} TLS nodes connected (VmRSS, MiB)

${conn_rows:-Not run (BENCH_DEV_NODES=0).}

## Goals (from the issue)

| goal | target | result |
|---|---|---|
| REST -> node latency p50 at ${latency_rate} sets/s | < ${target_p50_ms} ms | ${rest_p50:-?} ms ${p50_verdict} |
| REST -> node latency p99 | < ${target_p99_ms} ms | ${rest_p99:-?} ms ${p99_verdict} |
| persisted params/local, with zero loss | >= ${target_ingest_per_s} msgs/s | ${best_zero_loss} msgs/s without loss (best with loss: ${best_persisted}) ${ingest_verdict} |
| zero loss (latency and ingest runs) | 0 | $((ingest_loss_total + ${rest_lost:-0})) lost or malformed ${loss_verdict} |
| TLS nodes connected | ${target_nodes} | ${conn_ready} ${nodes_verdict} |
| rainmaker-server RSS with them | < ${target_server_rss_mib} MiB | ${server_conn_rss} MiB ${rss_verdict} |
EOF
)

printf '%s\n' "$report" | tee "$results_dir/devices.md"
echo >&2
note "wrote $results_dir/devices.md (fleet logs and samples in $results_dir/raw/devices-*)"
if [[ "$p50_verdict $p99_verdict $ingest_verdict $loss_verdict $nodes_verdict $rss_verdict" == *missed* ]]; then
    note "a goal was missed (see the tables above)"
    [[ ${BENCH_STRICT:-0} != 1 ]] || exit 1
fi
