#!/usr/bin/env bash
# `make bench-webhooks`: webhook delivery (issue #12) on loopback, each figure beside its
# baseline in the same run:
#   a. the outbox's cost on device ingest: a fleet of TLS nodes publishing params/local at a
#      fixed rate into one server, in rounds of three runs: without an integration; with an
#      enabled integration taking rmaker.event.node_params_changed of every node while the
#      receiver is held (SIGSTOP: the events are written, planned until the integration holds
#      max_waiting_per_destination deliveries (the rest wait in the log), nothing is posted); and
#      with it live (posting while the nodes publish). Persisted msgs/s and the server's
#      CPU-seconds per 10,000 messages;
#   b. delivery to a local receiver (bench/webhook_receiver: signatures, duplicates, per-node
#      order): the held run's backlog released at once (the dispatcher alone), the live runs,
#      and a steady run at a lower rate; zero loss checked (receiver's distinct events = planned
#      deliveries = params reports persisted); beside it the raw baseline
#      (bench/webhook_post_baseline: libcurl posts of the same size and headers, max_in_flight
#      threads, to the same receiver).
# Writes a Markdown report to bench/results/webhooks.md and the samples to
# bench/results/raw/webhooks-*. See bench/README.md.
#
# Environment (all optional):
#   BENCH_WH_NODES=1000            nodes of the fleet
#   BENCH_WH_INGEST_RATE=10000     params/local per second in the rounds
#   BENCH_WH_INGEST_DURATION=15    seconds of load per run
#   BENCH_WH_ROUNDS=2              rounds of (without, held, live)
#   BENCH_WH_STEADY_RATE=6000      params/local per second of the steady delivery run (0 skips)
#   BENCH_WH_STEADY_DURATION=15    seconds of load of that run
#   BENCH_WH_IN_FLIGHT=8           max_in_flight of the deliveries (and the baseline's threads)
#   BENCH_WH_RECEIVER_THREADS=1    io threads of the receiver
#   BENCH_WH_BASELINE_DURATION=10  seconds of the raw baseline
#   BENCH_WH_DRAIN_TIMEOUT=120     seconds a run's deliveries may take after its load
#   BENCH_SERVER_ARGS=             extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1               use the binaries already in BENCH_BUILD_DIR
#   BENCH_STRICT=1                 exit 1 when a goal is missed (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-webhooks

nodes=${BENCH_WH_NODES:-1000}
ingest_rate=${BENCH_WH_INGEST_RATE:-10000}
ingest_duration=${BENCH_WH_INGEST_DURATION:-15}
rounds=${BENCH_WH_ROUNDS:-2}
steady_rate=${BENCH_WH_STEADY_RATE:-6000}
steady_duration=${BENCH_WH_STEADY_DURATION:-15}
in_flight=${BENCH_WH_IN_FLIGHT:-8}
receiver_threads=${BENCH_WH_RECEIVER_THREADS:-1}
baseline_duration=${BENCH_WH_BASELINE_DURATION:-10}
drain_timeout=${BENCH_WH_DRAIN_TIMEOUT:-120}
connect_rate=500
admin=ops@example.com
password=Bench12345
secret=bench-webhook-secret-0001
event=rmaker.event.node_params_changed

# Targets from the issue.
target_delivered_per_s=5000
target_cost_pct=10

int_in BENCH_WH_NODES "$nodes" 1 5000
int_in BENCH_WH_INGEST_RATE "$ingest_rate" 1 50000
int_in BENCH_WH_INGEST_DURATION "$ingest_duration" 1 40
int_in BENCH_WH_ROUNDS "$rounds" 1 3
int_in BENCH_WH_STEADY_RATE "$steady_rate" 0 50000
int_in BENCH_WH_STEADY_DURATION "$steady_duration" 1 60
int_in BENCH_WH_IN_FLIGHT "$in_flight" 1 64
int_in BENCH_WH_RECEIVER_THREADS "$receiver_threads" 1 16
int_in BENCH_WH_BASELINE_DURATION "$baseline_duration" 1 60
int_in BENCH_WH_DRAIN_TIMEOUT "$drain_timeout" 5 600
need_tools curl awk sed sqlite3 mosquitto python3

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

build rainmaker-server rainmaker-sim rainmaker_presence rainmaker_revocation webhook_receiver \
    webhook_post_baseline
server_bin=$build_dir/bin/rainmaker-server
sim_bin=$build_dir/bin/rainmaker-sim
receiver_bin=$build_dir/bench/webhook_receiver
baseline_bin=$build_dir/bench/webhook_post_baseline
need_bins "run make bench-webhooks, or cmake --preset release first" \
    "$server_bin" "$sim_bin" "$receiver_bin" "$baseline_bin"
clk_tck=$(getconf CLK_TCK)

# --- helpers ----------------------------------------------------------------------------------

# cpu_ticks PID: user + system time of the process in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the command name, which may hold spaces).
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0
}

# thread_ticks PID NAME: user + system time, in clock ticks, of the process's threads named NAME
# (the server names its ingest thread rm-ingest, the planner rm-plan, the workers rm-deliver).
thread_ticks() {
    local task comm total=0 ticks
    for task in /proc/"$1"/task/*; do
        read -r comm <"$task/comm" 2>/dev/null || continue
        [[ $comm == "$2" ]] || continue
        ticks=$(sed 's/^.*) //' "$task/stat" 2>/dev/null | awk '{ print $12 + $13 }') || continue
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}

# metrics: "RECEIVED INGESTED MALFORMED DROPPED PLANNED DELIVERED FAILED DEAD WAITING"
# ($dp: the deliveries' metric prefix).
metrics() {
    metric_values rainmaker_mqtt_received_total rainmaker_mqtt_ingested_total \
        rainmaker_mqtt_malformed_total rainmaker_mqtt_duplicates_total "${dp}_planned_total" \
        "${dp}_delivered_total" "${dp}_failed_attempts_total" "${dp}_dead_total" "${dp}_waiting"
}

# json FILE EXPR: EXPR of the JSON in FILE, v being the document (python3: no jq on a bare
# Debian); "" when a key is missing.
json() {
    python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
try: print(eval(sys.argv[2], {"v": v}))
except (KeyError, TypeError): print("")' "$@"
}

# receiver_stats FILE: the receiver's counters (GET /stats) into FILE.
receiver_stats() {
    curl -sS --max-time 5 -o "$1" "$receiver_url/stats" || die "GET $receiver_url/stats failed"
}

# admin_call METHOD PATH [BODY]: an admin request; dies unless it answers 200.
admin_call() {
    local code
    code=$(curl -sS --max-time 30 -o "$work/admin-call.json" -w '%{http_code}' -X "$1" \
        -H "Authorization: $token" -H 'Content-Type: application/json' ${3:+-d "$3"} "$base$2") ||
        die "$1 $2 failed"
    [[ $code == 200 ]] || { cat "$work/admin-call.json" >&2; echo >&2; die "$1 $2 answered $code"; }
}

# add_webhook NAME: an enabled integration taking node_params_changed of every node.
add_webhook() {
    admin_call POST /v1/admin/webhook_user_node_integration \
        "{\"webhook_name\":\"$1\",\"enabled\":true,\"events\":[{\"event_name\":\"$event\"}],\"url\":\"$receiver_url/hook\",\"secret\":\"$secret\"}"
}

# params_events: the newest event id of the log. The runs write no events but the nodes'
# node_params_changed (one per params report persisted while an integration takes them,
# written in the report's transaction), so the difference of two readings counts them. Ids
# grow and are not reused (the log keeps its newest row); the rows themselves may be gone, as
# planned node events are deleted since dbf9a9c.
params_events() {
    sqlite3 -cmd ".timeout 5000" "$data_dir/rainmaker.db" "SELECT COALESCE(MAX(id), 0) FROM events"
}

# sample PHASE: appends "T RECEIVED INGESTED MALFORMED DROPPED PLANNED DELIVERED FAILED DEAD
# WAITING SERVER_TICKS RECEIVER_TICKS PHASE INGEST_TICKS" to $samples (INGEST_TICKS: the
# server's ingest thread); sets m to the metrics. Phases: 0 connecting, 1 load, 2 after the
# load (ingest draining, planner catching up), 3 delivering.
sample() {
    m=$(metrics) || m="- - - - - - - - -"
    echo "$(now) $m $(cpu_ticks "$server_pid") $(cpu_ticks "$receiver_pid") $1 $(thread_ticks "$server_pid" rm-ingest)" >>"$samples"
}

# run_fleet NAME RATE DURATION: a fleet run sampled every 0.5 s into $work/NAME.samples until the
# fleet exits and the ingest counters stand still. Sets samples, t_exit and t_drained.
run_fleet() {
    local name=$1 rate=$2 duration=$3 pid loading=0 t m last="" still=0 i received ingested
    : >"$work/$name.fleet"  # before the fleet opens it: the loop below reads it at once
    "$sim_bin" fleet --nodes-dir "$nodes_dir" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" --ca "$ca" \
        --rate "$rate" --duration "$duration" --connect-rate "$connect_rate" --settle 30 \
        --stats-interval 5 --seed 1 >"$work/$name.fleet" 2>&1 &
    pid=$!
    track "$pid"
    samples=$work/$name.samples
    : >"$samples"
    while kill -0 "$pid" 2>/dev/null; do
        if ((loading == 0)) && grep -q '^load start' "$work/$name.fleet"; then
            loading=1
        fi
        sample "$loading"
        sleep 0.5
    done
    wait "$pid" || true  # exits 1 when not every node got ready: the summary says how many
    forget "$pid"
    t_exit=$(now)
    t_drained=""
    # The ingest queue empties after the load: received and ingested stand still for 1 s.
    for ((i = 0; i < 120; i++)); do
        t=$(now)
        sample 2
        read -r received ingested _ <<<"$m"
        if [[ "$received $ingested" == "$last" ]]; then
            ((++still >= 2)) && break
        else
            still=0
            last="$received $ingested"
            t_drained=$t
        fi
        sleep 0.5
    done
    [[ -n $t_drained ]] || t_drained=$t_exit
    cp "$work/$name.fleet" "$results_dir/raw/webhooks-$name.fleet.txt"
}

# wait_planned: samples (phase 2) until the planner has caught up (planned stood still for 1 s).
wait_planned() {
    local m last="" still=0 i planned
    for ((i = 0; i < 240; i++)); do
        sample 2
        read -r _ _ _ _ planned _ <<<"$m"
        if [[ $planned == "$last" ]]; then
            ((++still >= 2)) && return
        else
            still=0
            last=$planned
        fi
        sleep 0.5
    done
}

# wait_delivered: samples (phase 3) until every planned delivery was delivered or is dead
# (nothing waiting, planned standing still), BENCH_WH_DRAIN_TIMEOUT at most. Sets t_delivered
# to the first sample that saw the final delivered count, "" when the timeout hit.
wait_delivered() {
    local m last="" still=0 planned waiting="" t_end
    t_end=$(calc "$(now) + $drain_timeout" %.3f)
    while below "$(now)" "$t_end"; do
        sample 3
        read -r _ _ _ _ planned _ _ _ waiting <<<"$m"
        if [[ $waiting == 0 && $planned == "$last" ]]; then
            ((++still >= 2)) && break
        else
            still=0
            last=$planned
        fi
        sleep 0.5
    done
    t_delivered=""
    if [[ $waiting == 0 ]]; then
        t_delivered=$(awk '$2 != "-" { n++; t[n] = $1; d[n] = $7 }
            END { for (k = n; k > 1 && d[k - 1] == d[n]; k--) {} print t[k] }' "$samples")
    fi
}

# window FILE FROM_PHASE TO_T: "SECONDS INGESTED_DELTA SERVER_CPU_S RECEIVER_CPU_S PLANNED_DELTA
# DELIVERED_DELTA INGEST_THREAD_CPU_S" between the first sample of phase >= FROM_PHASE and the
# last sample at or before TO_T.
window() {
    awk -v from="$2" -v to="$3" -v tck="$clk_tck" '
        $2 == "-" { next }
        $13 >= from && a == "" { a = $1; ia = $3; ca = $11; ra = $12; pa = $6; da = $7; ta = $14 }
        a != "" && $1 <= to + 0.0001 { b = $1; ib = $3; cb = $11; rb = $12; pb = $6; db = $7; tb = $14 }
        END {
            if (a == "" || b == "" || b <= a) { print "0 0 0 0 0 0 0"; exit }
            printf "%.2f %d %.2f %.2f %d %d %.2f\n", b - a, ib - ia, (cb - ca) / tck, (rb - ra) / tck, pb - pa, db - da, (tb - ta) / tck
        }' "$1"
}

# delivery_rates FILE: "DURING_LOAD AFTER_LOAD" delivered/s from the samples: while the fleet
# loads (phase 1, from the sample before the first delivery to the last sample of the load), and
# in phase 3 (from the sample before it to the last delivery); "-" when there is no such span.
delivery_rates() {
    awk '
        $2 == "-" { next }
        {
            if ($13 == 1) {
                if (ls == "" && pd != "" && $7 > pd) { ls = pt; lds = pd }
                if (ls != "") { le = $1; lde = $7 }
            }
            if ($13 == 3) {
                if (ts == "") { ts = pt; tds = pd }
                if ($7 > pd) { te = $1; tde = $7 }
            }
            pt = $1
            pd = $7
        }
        END {
            a = (ls != "" && le > ls) ? sprintf("%.0f", (lde - lds) / (le - ls)) : "-"
            b = (ts != "" && te > ts) ? sprintf("%.0f", (tde - tds) / (te - ts)) : "-"
            print a, b
        }' "$1"
}

# at_most A B: A <= B (false when A is empty).
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a <= b) }'; }

# mean LIST: the mean of space-separated numbers ("-" entries skipped), or "-".
mean() {
    awk '{ for (i = 1; i <= NF; i++) if ($i != "-") { s += $i; n++ } }
        END { if (n) printf "%.3f", s / n; else print "-" }' <<<"$1"
}

# pct A B: 100 * (A - B) / B with one decimal, or "-".
pct() {
    if [[ $1 == - || $2 == - || -z $1 || -z $2 ]]; then
        echo "-"
    else
        calc "100 * ($1 - $2) / $2" %.1f
    fi
}

# --- set-up: admin, node certificates, receiver, server, token --------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$results_dir/raw"
data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir"
"$server_bin" admin create-user --data-dir "$data_dir" --user-name "$admin" --password "$password" \
    --admin >/dev/null 2>"$work/admin.log" || { cat "$work/admin.log" >&2; die "admin create-user failed"; }
note "issuing $nodes node certificates"
issue_certs "$data_dir" "$nodes" "$nodes_dir"

"$receiver_bin" --secret "$secret" --threads "$receiver_threads" 0 >"$work/receiver.out" 2>&1 &
receiver_pid=$!
track "$receiver_pid"
receiver_port=$(wait_for "$work/receiver.out" "$receiver_pid" webhook_receiver \
    '.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*')
receiver_url=http://127.0.0.1:$receiver_port
receiver_held=0
# A held receiver is resumed whatever happens, so that the clean-up's TERM reaches it.
trap '[[ $receiver_held == 0 ]] || kill -CONT "$receiver_pid" 2>/dev/null; bench_cleanup' EXIT

# The delivery settings moved from [webhooks] to [delivery] when push joined webhooks (b9fdd35);
# both are written (a server ignores the keys it does not read). timeout_seconds at its most:
# a held receiver leaves max_in_flight posts waiting for it through a whole run.
cat >"$work/config.toml" <<EOF
[webhooks]
allow_private = true
timeout_seconds = 60
max_in_flight = $in_flight
max_attempts = 12
backoff_base_ms = 1000
backoff_cap_seconds = 60

[delivery]
max_in_flight = $in_flight
max_attempts = 12
backoff_base_ms = 1000
backoff_cap_seconds = 60
EOF
# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
start_server mqtt --config "$work/config.toml" ${BENCH_SERVER_ARGS:-}
ca=$data_dir/tls/ca.pem
login "$admin" "$password"
dp=rainmaker_deliveries
metric_values "${dp}_planned_total" >/dev/null 2>&1 || dp=rainmaker_webhook
metric_values "${dp}_planned_total" >/dev/null || die "no ${dp}_planned_total in GET /metrics"

# --- the runs ---------------------------------------------------------------------------------
ingest_rows=""
delivery_rows=""
# mode → CPU-s per 10,000 msgs (the server's; its ingest thread's) / persisted msgs/s, per round
declare -A cost_of=() ingest_cost_of=() rate_of=()
loss_total=0  # MQTT messages lost or malformed, and events never delivered, over all runs
dup_total=0
order_total=0
bad_sig_total=0
held_rates=""
held_cpu=""
live_rates=""
live_all_in=""

# checkpoint: where the counters stand before a run (p0 d0 f0 dead0 e0 bad_sig0 r0 i0 m0).
checkpoint() {
    read -r r0 i0 m0 _ p0 d0 f0 dead0 _ <<<"$(metrics)"
    [[ -n ${dead0:-} ]] || die "GET /metrics failed"
    e0=$(params_events)
    receiver_stats "$work/before.json"
    bad_sig0=$(json "$work/before.json" "v['bad_signatures']")
}

# fleet_figures NAME: from the fleet's summary and the counters since the checkpoint, sets
# ready, load_rate, received, ingested, lost (MQTT) and adds the loss to loss_total.
fleet_figures() {
    local summary acked connects r1 i1 m1 malformed
    summary=$(grep '^summary ' "$work/$1.fleet" || true)
    [[ -n $summary ]] || { tail -20 "$work/$1.fleet" >&2; die "the fleet printed no summary"; }
    acked=$(field "$summary" acked)
    ready=$(field "$summary" ready)
    load_rate=$(field "$summary" load_rate)
    connects=$(($(field "$summary" connect_attempts) - $(field "$summary" connect_failures)))
    read -r r1 i1 m1 _ <<<"$(metrics)"
    # As in bench/devices.sh: the server must receive every message the broker acknowledged
    # plus a connected and a disconnected presence event per connection.
    received=$((r1 - r0))
    ingested=$((i1 - i0))
    malformed=$((m1 - m0))
    lost=$((acked + 2 * connects - received))
    ((lost > 0)) || lost=0
    loss_total=$((loss_total + lost + malformed))
}

# hook_figures NAME HOOK: the integration's figures since the checkpoint, from /metrics, the event
# log and the receiver: sets events, planned, delivered, failed, dead, got, dups, disorder,
# bad_sig, hook_lost, first_s, last_s and adds to the totals.
hook_figures() {
    local stats=$work/$1.stats.json p1 d1 f1 dd1
    receiver_stats "$stats"
    cp "$stats" "$results_dir/raw/webhooks-$1.stats.json"
    read -r _ _ _ _ p1 d1 f1 dd1 _ <<<"$(metrics)"
    events=$(($(params_events) - e0))
    planned=$((p1 - p0))
    delivered=$((d1 - d0))
    failed=$((f1 - f0))
    dead=$((dd1 - dead0))
    got=$(json "$stats" "v['webhooks']['$2']['distinct']")
    dups=$(json "$stats" "v['webhooks']['$2']['duplicates']")
    disorder=$(json "$stats" "v['webhooks']['$2']['out_of_order']")
    first_s=$(json "$stats" "v['webhooks']['$2']['first_post_s']")
    last_s=$(json "$stats" "v['webhooks']['$2']['last_post_s']")
    bad_sig=$(($(json "$stats" "v['bad_signatures']") - bad_sig0))
    got=${got:-0} dups=${dups:-0} disorder=${disorder:-0}
    # Lost: events the receiver never got, or never planned, whichever is more; dead too.
    hook_lost=$((events - got))
    ((events - planned <= hook_lost)) || hook_lost=$((events - planned))
    ((hook_lost >= 0)) || hook_lost=0
    hook_lost=$((hook_lost + dead))
    loss_total=$((loss_total + hook_lost))
    dup_total=$((dup_total + dups))
    order_total=$((order_total + disorder))
    bad_sig_total=$((bad_sig_total + bad_sig))
}

# delivery_row LABEL SPAN RATE CPU_PER_10K RECEIVER_CPU_PER_10K: a row of the delivery table.
delivery_row() {
    local lost_text=$hook_lost
    ((hook_lost == 0)) || lost_text="**$hook_lost** (dead $dead)"
    delivery_rows+="| $1 | $events | $planned | $delivered | $got | $lost_text | $dups | $disorder | $bad_sig | $failed | $2 | **$3** | $4 | $5 |"$'\n'
}

for ((round = 1; round <= rounds; round++)); do
    for mode in without held live; do
        name=$mode-$round
        hook=""
        checkpoint
        if [[ $mode != without ]]; then
            hook=$mode-$round
            add_webhook "$hook"
        fi
        if [[ $mode == held ]]; then
            kill -STOP "$receiver_pid"
            receiver_held=1
        fi
        note "round $round: $nodes nodes at $ingest_rate params/local per second for ${ingest_duration}s, integration: $mode"
        run_fleet "$name" "$ingest_rate" "$ingest_duration"
        fleet_figures "$name"
        read -r secs ing cpu _ _ _ icpu <<<"$(window "$samples" 1 "$t_drained")"
        persisted=$(calc "$ing / ($secs > 0 ? $secs : 1)")
        per10k=$(calc "$cpu * 10000 / ($ing > 0 ? $ing : 1)" %.3f)
        iper10k=$(calc "$icpu * 10000 / ($ing > 0 ? $ing : 1)" %.3f)
        cost_of[$mode]+="$per10k "
        ingest_cost_of[$mode]+="$iper10k "
        rate_of[$mode]+="$persisted "
        loss_text=$lost
        ((lost == 0)) || loss_text="**$lost**"
        ingest_rows+="| $round | $mode | $ready | $load_rate | $received | $ingested | $loss_text | $persisted | $secs | $cpu | **$per10k** | $icpu | **$iper10k** |"$'\n'

        if [[ $mode == held ]]; then
            # The backlog, released at once: the dispatcher alone (with the receiver).
            wait_planned
            t_release=$(now)
            kill -CONT "$receiver_pid"
            receiver_held=0
            wait_delivered
            hook_figures "$name" "$hook"
            span=$(calc "${last_s:-0} - ${first_s:-0}" %.1f)
            rate=$(calc "$got / ($span > 0 ? $span : 1)")
            read -r _ _ dcpu rcpu _ dn _ <<<"$(window "$samples" 3 "${t_delivered:-$(now)}")"
            # CPU from the first sample after the release (taken at once) to the last delivery.
            dcpu_10k=$(calc "$dcpu * 10000 / ($dn > 0 ? $dn : 1)" %.3f)
            rcpu_10k=$(calc "$rcpu * 10000 / ($dn > 0 ? $dn : 1)" %.3f)
            [[ -n $t_delivered ]] || span="**not all within ${drain_timeout} s**"
            held_rates+="$rate "
            held_cpu+="$dcpu_10k "
            delivery_row "held backlog released, round $round" "$span" "$rate" "$dcpu_10k" "$rcpu_10k"
            note "round $round: released $planned deliveries $(calc "$(now) - $t_release" %.1f) s ago: $rate events/s"
        elif [[ $mode == live ]]; then
            wait_delivered
            hook_figures "$name" "$hook"
            read -r during after <<<"$(delivery_rates "$samples")"
            # From the load's first sample to the last delivery (the nodes' boot reports were
            # delivered before the load, while the fleet connected: they are left out).
            read -r span ing_all cpu_all _ _ dn _ <<<"$(window "$samples" 1 "${t_delivered:-$(now)}")"
            rate=$(calc "$dn / ($span > 0 ? $span : 1)")
            all_in="-"
            if [[ -n $t_delivered ]]; then
                all_in=$(calc "$cpu_all * 10000 / ($ing_all > 0 ? $ing_all : 1)" %.3f)
            else
                span="**not all within ${drain_timeout} s**"
            fi
            live_rates+="$rate "
            live_all_in+="$all_in "
            delivery_row "live, round $round (while ingesting; during / after the load: $during / $after per s)" \
                "$span" "$rate" "-" "-"
        fi
        cp "$samples" "$results_dir/raw/webhooks-$name.samples.txt"
        [[ -z $hook ]] || admin_call DELETE "/v1/admin/webhook_user_node_integration?webhook_name=$hook"
    done
done

# --- the steady run: a rate the fleet offers while deliveries follow --------------------------
steady_text="Not run (BENCH_WH_STEADY_RATE=0)."
steady_measured="-"
if ((steady_rate > 0)); then
    name=steady
    hook=steady
    checkpoint
    add_webhook "$hook"
    note "steady: $nodes nodes at $steady_rate params/local per second for ${steady_duration}s, integration: live"
    run_fleet "$name" "$steady_rate" "$steady_duration"
    fleet_figures "$name"
    wait_delivered
    hook_figures "$name" "$hook"
    # Steady state: the middle of the load (its first and last 3 s left out), delivered/s and
    # ingested/s over the same samples, and the most deliveries waiting at a sample of it.
    read -r steady_measured steady_ingest max_waiting < <(awk '
        $2 == "-" || $13 != 1 { next }
        { n++; t[n] = $1; d[n] = $7; i[n] = $3; w[n] = $10 }
        END {
            for (k = 1; k <= n && t[k] < t[1] + 3; k++) {}
            for (j = n; j >= 1 && t[j] > t[n] - 3; j--) {}
            if (j <= k) { print "- - -"; exit }
            for (x = k; x <= j; x++) if (w[x] > mw) mw = w[x]
            printf "%.0f %.0f %d\n", (d[j] - d[k]) / (t[j] - t[k]), (i[j] - i[k]) / (t[j] - t[k]), mw
        }' "$samples")
    done_text="**not all within ${drain_timeout} s**"
    if [[ -n $t_delivered ]]; then
        done_text="$(calc "$t_delivered - $t_exit" %.1f) s"
        below "$t_delivered" "$t_exit" && done_text="0 s"
    fi
    delivery_row "steady at ${load_rate}/s offered (middle of the load)" "-" "$steady_measured" "-" "-"
    steady_text="Steady run: the fleet offered ${load_rate} msgs/s for ${steady_duration} s (MQTT lost: ${lost}); over the middle of the load (first and last 3 s left out) the server ingested ${steady_ingest} msgs/s and delivered **${steady_measured} events/s**, with at most ${max_waiting} deliveries waiting at a sample; the last delivery came ${done_text} after the fleet stopped."
    cp "$samples" "$results_dir/raw/webhooks-$name.samples.txt"
    admin_call DELETE "/v1/admin/webhook_user_node_integration?webhook_name=$hook"
fi

# --- the raw baseline: libcurl posts of the same size to the same receiver --------------------
receiver_stats "$work/before-baseline.json"
body_bytes=$(json "$work/before-baseline.json" "round(v['body_bytes'] / max(v['posts'], 1))")
note "baseline: webhook_post_baseline, $in_flight threads, ${baseline_duration}s, bodies of $body_bytes bytes"
r_ticks0=$(cpu_ticks "$receiver_pid")
bg_wait "$baseline_bin" --url "$receiver_url/hook" --secret "$secret" --threads "$in_flight" \
    --duration "$baseline_duration" --body-bytes "$body_bytes" >"$work/baseline.out" 2>"$work/baseline.log" || true
r_ticks1=$(cpu_ticks "$receiver_pid")
baseline=$(grep '^result ' "$work/baseline.out" || true)
[[ -n $baseline ]] || { cat "$work/baseline.log" >&2; die "webhook_post_baseline failed"; }
receiver_stats "$work/after-baseline.json"
cp "$work/after-baseline.json" "$results_dir/raw/webhooks-receiver.stats.json"
baseline_rate=$(field "$baseline" posts_per_s)
baseline_posts=$(field "$baseline" posts)
baseline_errors=$(field "$baseline" errors)
baseline_cpu_10k=$(calc "$(field "$baseline" cpu_s) * 10000 / ($baseline_posts > 0 ? $baseline_posts : 1)" %.3f)
baseline_rcpu_10k=$(calc "($r_ticks1 - $r_ticks0) / $clk_tck * 10000 / ($baseline_posts > 0 ? $baseline_posts : 1)" %.3f)
baseline_checks=$(json "$work/after-baseline.json" \
    "'%d distinct, %d duplicates, %d out of order, %d bad signatures' % (v['webhooks']['post-baseline']['distinct'], v['webhooks']['post-baseline']['duplicates'], v['webhooks']['post-baseline']['out_of_order'], v['bad_signatures'] - $(json "$work/before-baseline.json" "v['bad_signatures']"))")
# The same with half the threads: since 9acd8b3 one destination takes at most half the workers
# (the bench has one integration at a time).
half_threads=$((in_flight / 2))
half_rate="-"
half_text=""
if ((half_threads >= 1)); then
    note "baseline: webhook_post_baseline, $half_threads threads, ${baseline_duration}s"
    bg_wait "$baseline_bin" --url "$receiver_url/hook" --secret "$secret" --threads "$half_threads" \
        --duration "$baseline_duration" --body-bytes "$body_bytes" --webhook-name post-baseline-half \
        >"$work/baseline-half.out" 2>"$work/baseline-half.log" || true
    half=$(grep '^result ' "$work/baseline-half.out" || true)
    [[ -n $half ]] || { cat "$work/baseline-half.log" >&2; die "webhook_post_baseline (half) failed"; }
    half_rate=$(field "$half" posts_per_s)
    half_text=" With ${half_threads} threads (the most one destination gets from servers where a destination takes at most half of max_in_flight): **${half_rate} posts/s**, $(field "$half" errors) errors."
fi
server_rss=$(rss_mib "$server_pid")
server_hwm=$(rss_mib "$server_pid" VmHWM)

# --- report -----------------------------------------------------------------------------------
cost_without=$(mean "${cost_of[without]}")
cost_held=$(mean "${cost_of[held]}")
cost_live=$(mean "${cost_of[live]}")
pct_held=$(pct "$cost_held" "$cost_without")
pct_live=$(pct "$cost_live" "$cost_without")
icost_without=$(mean "${ingest_cost_of[without]}")
icost_held=$(mean "${ingest_cost_of[held]}")
icost_live=$(mean "${ingest_cost_of[live]}")
ipct_held=$(pct "$icost_held" "$icost_without")
ipct_live=$(pct "$icost_live" "$icost_without")
all_in=$(mean "$live_all_in")
pct_all_in=$(pct "$all_in" "$cost_without")
rate_without=$(calc "$(mean "${rate_of[without]}")")
rate_held=$(calc "$(mean "${rate_of[held]}")")
rate_live=$(calc "$(mean "${rate_of[live]}")")
held_rate=$(calc "$(mean "$held_rates")")
live_rate=$(calc "$(mean "$live_rates")")
held_ratio=$(calc "100 * $held_rate / $baseline_rate" %.0f)
held_ratio_half="-"
[[ $half_rate == - ]] || held_ratio_half=$(calc "100 * $held_rate / $half_rate" %.0f)
live_ratio=$(calc "100 * $live_rate / $baseline_rate" %.0f)
steady_ratio="-"
[[ $steady_measured == - ]] || steady_ratio=$(calc "100 * $steady_measured / $baseline_rate" %.0f)
held_cpu_mean=$(mean "$held_cpu")
delivery_verdict=$(verdict at_least "$held_rate" "$target_delivered_per_s")
live_verdict=$(verdict at_least "$live_rate" "$target_delivered_per_s")
loss_verdict=$(verdict test "$loss_total" -eq 0 -a "$dup_total" -eq 0 -a "$order_total" -eq 0 -a "$bad_sig_total" -eq 0)
cost_verdict=$(verdict at_most "$pct_live" "$target_cost_pct")
held_verdict=$(verdict at_most "$pct_held" "$target_cost_pct")

cpu_model=$(cpu_model "$(uname -m)")
report=$(
    cat <<EOF
# rainmaker-server webhook benchmark

$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs · ${cpu_model} · Linux $(uname -r) · $(curl --version | awk 'NR == 1 { print $1, $2 }') · $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo) · load average before: ${load_before}

Everything on 127.0.0.1 and on the same CPUs: one rainmaker-server (max_in_flight ${in_flight}, metrics \`${dp}_*\`)${BENCH_SERVER_ARGS:+ (extra arguments \`${BENCH_SERVER_ARGS}\`)} with its embedded mosquitto, a \`rainmaker-sim fleet\` of ${nodes} TLS nodes publishing \`params/local\` (QoS 1, basic-ingest topics, random nodes), and \`webhook_receiver\` (${receiver_threads} io thread, keep-alive, HMAC checked on every post). Each run *held* or *live* adds its own integration taking \`${event}\` of every node and deletes it afterwards.

## a. The outbox's cost on device ingest

${rounds} round(s) of the same fleet at ${ingest_rate} msgs/s for ${ingest_duration} s against the same server: *without* an integration; *held*: with one, the receiver stopped (SIGSTOP) so that events are written to the log in the reports' transactions and planned into deliveries until the integration holds \`max_waiting_per_destination\` of them (servers since aa836fc; the rest wait in the log), but nothing is posted (the ${in_flight} workers each wait on one post); *live*: with one, posting while the nodes publish. *persisted msgs/s* and *CPU-s* run from the first sample under load until the ingest counters stand still; *CPU-s* is the server's user + system time from \`/proc/PID/stat\` (mosquitto, the fleet and the receiver are other processes). At a fixed offered rate the persisted rate follows the offer; the CPU per message is the cost.

*ingest thread*: the CPU of the server's thread that applies device messages to the store (\`rm-ingest\`, from \`/proc/PID/task/*/stat\`), whose transactions write the events. It is not the measure of the outbox's cost: while the planner and the workers hold the write lock the ingest commits larger batches, and they take their share of SQLite's WAL checkpoints, so the ingest thread can spend *less* per message with an integration; the server's CPU counts everything.

| round | integration | nodes ready | offered/s | received | ingested | lost | persisted msgs/s | window (s) | server CPU-s | server CPU-s per 10,000 msgs | ingest thread CPU-s | ingest thread CPU-s per 10,000 msgs |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${ingest_rows%$'\n'}

| mean over the rounds | ingest thread CPU-s per 10,000 msgs | vs without | server CPU-s per 10,000 msgs | vs without | persisted msgs/s |
|---|---:|---:|---:|---:|---:|
| without | ${icost_without} | | ${cost_without} | | ${rate_without} |
| held: events written, planned up to the limit, not posted | ${icost_held} | **${ipct_held} %** | ${cost_held} | **${pct_held} %** | ${rate_held} |
| live: the same and posting in the same window | ${icost_live} | **${ipct_live} %** | ${cost_live} | **${pct_live} %** | ${rate_live} |
| live, all in: from the load's start to the last delivery | | | ${all_in} | ${pct_all_in} % | |

## b. Delivery

*events* = events written to the event log in the run (the difference of its newest ids: one \`${event}\` per params report persisted), *planned* and *delivered* from \`/metrics\`, *received* = distinct (webhook_name, event_id) at the receiver; *lost* = events the receiver never got or that were never planned, plus dead deliveries. *span* and *events/s*: for a held backlog, received / (last post − first post) at the receiver; for a live run, delivered from the load's first sample to the last delivery (the nodes' boot reports, delivered while the fleet connected, left out), over that time. *server CPU-s per 10,000* (held runs): the server's CPU from the release to the last delivery, per 10,000 delivered; the receiver's likewise.

| run | events | planned | delivered | received | lost | duplicates | out of order | bad signatures | failed attempts | span (s) | events/s | server CPU-s per 10,000 | receiver CPU-s per 10,000 |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${delivery_rows%$'\n'}
| **raw baseline**: \`webhook_post_baseline\`, ${in_flight} threads, $(field "$baseline" body_bytes)-byte bodies, ${baseline_duration} s | | | ${baseline_posts} | | ${baseline_errors} errors | | | | | $(field "$baseline" seconds) | **${baseline_rate}** | ${baseline_cpu_10k} (the baseline process) | ${baseline_rcpu_10k} |

${steady_text}

The baseline posts bodies of the size the server posted (mean of the receiver's), with the same headers and an HMAC-SHA256 per post, on one kept-alive libcurl handle per thread, with no store behind it; the receiver counted ${baseline_checks}.${half_text}

| delivery ÷ raw baseline (${baseline_rate} posts/s) | events/s | ratio |
|---|---:|---:|
| held backlog released (the dispatcher alone), mean | ${held_rate} | **${held_ratio} %** (${held_ratio_half} % of the ${half_threads}-thread baseline) |
| live, while the fleet publishes ${ingest_rate} msgs/s, mean | ${live_rate} | ${live_ratio} % |
| steady, middle of the load | ${steady_measured} | ${steady_ratio} % |

Server CPU per delivery (held backlog): ${held_cpu_mean} CPU-s per 10,000 events, beside ${baseline_cpu_10k} CPU-s per 10,000 posts for the baseline process. Server RSS at the end: ${server_rss} MiB (peak ${server_hwm} MiB, the Argon2id login included).

## Goals (from the issue)

| goal | target | result |
|---|---|---|
| webhook delivery to a local receiver (held backlog: the dispatcher alone) | >= ${target_delivered_per_s} events/s | ${held_rate} events/s ${delivery_verdict} |
| the same while the fleet publishes ${ingest_rate} msgs/s on the same cores (live) | >= ${target_delivered_per_s} events/s | ${live_rate} events/s ${live_verdict} |
| zero loss (MQTT and webhook), no duplicate, in order per node, every signature good | 0 | ${loss_total} lost, ${dup_total} duplicates, ${order_total} out of order, ${bad_sig_total} bad signatures ${loss_verdict} |
| ingest cost with an enabled integration (live: the server's CPU per message, posting included) | <= ${target_cost_pct} % | ${pct_live} % ${cost_verdict} |
| the outbox alone (held: events written and planned up to the limit, the server's CPU per message) | <= ${target_cost_pct} % | ${pct_held} % ${held_verdict} |
EOF
)

printf '%s\n' "$report" | tee "$results_dir/webhooks.md"
echo >&2
note "wrote $results_dir/webhooks.md (fleet logs, samples and receiver counters in $results_dir/raw/webhooks-*)"
if [[ "$delivery_verdict $live_verdict $loss_verdict $cost_verdict $held_verdict" == *missed* ]]; then
    note "a goal was missed (see the tables above)"
    [[ ${BENCH_STRICT:-0} != 1 ]] || exit 1
fi
