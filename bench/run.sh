#!/usr/bin/env bash
# `make bench`: measures rainmaker-server on loopback against a bare Beast server (the ceiling)
# with wrk, and writes a Markdown report to bench/results/latest.md. See bench/README.md.
#
# Environment (all optional):
#   BENCH_DURATION=10s     wrk duration of each measured run (wrk syntax: 10s, 1m)
#   BENCH_CONNECTIONS=32   keep-alive connections wrk holds open
#   BENCH_WARMUP=2s        discarded wrk run before each measured one; 0 skips it
#   BENCH_BARE_THREADS=2   io threads of the bare server
#   BENCH_SERVER_ARGS=     extra arguments for rainmaker-server
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1       use the binaries already in BENCH_BUILD_DIR
#   BENCH_STRICT=1         exit 1 when a target is missed (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
bench_init bench

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
warmup=${BENCH_WARMUP:-2s}
bare_threads=${BENCH_BARE_THREADS:-2}
user_name=bench@example.com
password=Bench12345

# Targets from the issue.
target_ratio_pct=70
target_p99_ms=5
target_idle_rss_mib=30

# seconds DURATION: wrk's "10", "10s" or "1m" in seconds; fails on anything else.
seconds() {
    [[ $1 =~ ^([0-9]+)(s|m)?$ ]] || return 1
    if [[ ${BASH_REMATCH[2]} == m ]]; then
        echo $((10#${BASH_REMATCH[1]} * 60))
    else
        echo $((10#${BASH_REMATCH[1]}))
    fi
}

# Every run is bounded (the machine may be shared): at most 5 minutes per wrk run.
duration_s=$(seconds "$duration") || die "BENCH_DURATION must look like 10s or 1m, got '$duration'"
warmup_s=$(seconds "$warmup") || die "BENCH_WARMUP must look like 2s or 0, got '$warmup'"
((duration_s >= 1 && duration_s <= 300)) || die "BENCH_DURATION must be between 1s and 5m"
((warmup_s <= 60)) || die "BENCH_WARMUP must be at most 1m"
[[ $connections =~ ^[1-9][0-9]{0,3}$ ]] || die "BENCH_CONNECTIONS must be between 1 and 9999"
[[ $bare_threads =~ ^[1-9][0-9]*$ ]] || die "BENCH_BARE_THREADS must be a positive integer"
need_tools wrk curl awk sed

build bare_beast_server rainmaker-server
bare_bin=$build_dir/bench/bare_beast_server
server_bin=$build_dir/bin/rainmaker-server
need_bins "run make bench, or cmake --preset release first" "$bare_bin" "$server_bin"

# run_wrk NAME URL [WRK ARGS...]: warm-up, then the measured run into $work/NAME.wrk.
run_wrk() {
    local name=$1 url=$2
    shift 2
    if ((warmup_s > 0)); then
        wrk_wait -t1 -c"$connections" -d"$warmup" "$@" "$url" >/dev/null
    fi
    note "$name: wrk -t1 -c$connections -d$duration --latency $url"
    wrk_wait -t1 -c"$connections" -d"$duration" --latency "$@" "$url" >"$work/$name.wrk"
    cp "$work/$name.wrk" "$results_dir/raw/$name.wrk"
}

# --- ceiling: bare Beast server ---------------------------------------------------------------
mkdir -p "$results_dir/raw"

"$bare_bin" --threads "$bare_threads" 0 >"$work/bare.log" 2>&1 &
bare_pid=$!
track "$bare_pid"
bare_port=$(wait_for "$work/bare.log" "$bare_pid" bare_beast_server \
    '.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*')
bare_url=http://127.0.0.1:$bare_port/apiversions
check_ok bare "$bare_url"
bare_idle_rss=$(rss_mib "$bare_pid")
run_wrk bare "$bare_url"

# --- rainmaker-server -------------------------------------------------------------------------
data_dir=$work/data
mkdir -p "$data_dir"
# The user must exist before the server opens the database.
create_user "$data_dir" "$user_name" "$password"

# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
start_server http ${BENCH_SERVER_ARGS:-}
sleep 1  # let start-up allocations settle before calling it idle
server_idle_rss=$(rss_mib "$server_pid")
login "$user_name" "$password"

check_ok apiversions "$base/apiversions"
check_ok user2 "$base/v1/user2" -H "Authorization: $token"
run_wrk apiversions "$base/apiversions"
run_wrk user2 "$base/v1/user2" -H "Authorization: $token"

sleep 2  # idle again: wrk's connections are closed
server_after_rss=$(rss_mib "$server_pid")
server_peak_rss=$(rss_mib "$server_pid" VmHWM)

# --- report -----------------------------------------------------------------------------------
read -r bare_rps _ < <(parse_wrk "$work/bare.wrk") || die "could not parse $work/bare.wrk"
awk -v r="$bare_rps" 'BEGIN { exit !(r > 0) }' || die "the bare server answered nothing"

rows=""
failed_runs=()
for name in bare apiversions user2; do
    read -r rps p50 p99 non2xx errors < <(parse_wrk "$work/$name.wrk") ||
        die "could not parse $work/$name.wrk"
    ratio=$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN { printf "%.0f", 100 * a / b }')
    case $name in
        bare) label="bare Beast, ceiling (fixed JSON)" ;;
        apiversions) label="rainmaker \`GET /apiversions\`" ;;
        user2) label="rainmaker \`GET /v1/user2\` (authenticated)" ;;
    esac
    notes=""
    ((non2xx == 0)) || notes+="$non2xx non-2xx; "
    ((errors == 0)) || notes+="$errors socket errors; "
    [[ -z $notes ]] || failed_runs+=("$name: ${notes%; }")
    rows+=$(printf '| %s | %.0f | %.2f | %.2f | %s%% | %s |' \
        "$label" "$rps" "$p50" "$p99" "$ratio" "${notes%; }")$'\n'
    if [[ $name == user2 ]]; then
        user2_rps=$rps
        user2_ratio=$ratio
        user2_p99=$p99
    fi
done

# Goals from the issue; each verdict is "met" or "**missed**".
# The ratio is judged on the unrounded req/s, not on the rounded percentage shown.
ratio_ok() {
    awk -v a="$user2_rps" -v b="$bare_rps" -v t="$target_ratio_pct" 'BEGIN { exit !(100 * a >= t * b) }'
}
ratio_verdict=$(verdict ratio_ok)
p99_verdict=$(verdict below "$user2_p99" "$target_p99_ms")
rss_verdict=$(verdict below "$server_idle_rss" "$target_idle_rss_mib")

warmup_text="each run after a ${warmup} warm-up"
((warmup_s > 0)) || warmup_text="no warm-up"
cpu_model=$(cpu_model "$(uname -m)")
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')  # wrk -v exits 1

report=$(
    cat <<EOF
# rainmaker-server benchmark

$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs · ${cpu_model} · Linux $(uname -r) · ${wrk_version}

wrk on loopback, keep-alive: \`wrk -t1 -c${connections} -d${duration} --latency\`, ${warmup_text}. The bare server runs ${bare_threads} io threads; rainmaker-server runs
its defaults${BENCH_SERVER_ARGS:+ plus \`${BENCH_SERVER_ARGS}\`}. Latencies in ms.

| target | req/s | p50 | p99 | vs ceiling | notes |
|---|---:|---:|---:|---:|---|
${rows%$'\n'}

| memory (VmRSS) | MiB |
|---|---:|
| rainmaker-server idle, after start | ${server_idle_rss} |
| rainmaker-server idle, after the runs | ${server_after_rss} |
| rainmaker-server peak (VmHWM) | ${server_peak_rss} |
| bare Beast server idle | ${bare_idle_rss} |

| goal | target | result |
|---|---|---|
| authenticated reads vs ceiling | >= ${target_ratio_pct}% | ${user2_ratio}% ${ratio_verdict} |
| authenticated p99 at that load | < ${target_p99_ms} ms | $(printf "%.2f" "$user2_p99") ms ${p99_verdict} |
| idle RSS | < ${target_idle_rss_mib} MiB | ${server_idle_rss} MiB ${rss_verdict} |
EOF
)

printf '%s\n' "$report" | tee "$results_dir/latest.md"
echo >&2
note "wrote $results_dir/latest.md (raw wrk output in $results_dir/raw/)"

if ((${#failed_runs[@]} > 0)); then
    for failed in "${failed_runs[@]}"; do
        note "errors during $failed"
    done
fi
if [[ "$ratio_verdict $p99_verdict $rss_verdict" == *missed* || ${#failed_runs[@]} -gt 0 ]]; then
    note "a goal was missed or a run had errors (see the tables above)"
    [[ ${BENCH_STRICT:-0} != 1 ]] || exit 1
fi
