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

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
warmup=${BENCH_WARMUP:-2s}
bare_threads=${BENCH_BARE_THREADS:-2}
build_dir=${BENCH_BUILD_DIR:-build/release}
results_dir=bench/results
user_name=bench@example.com
password=Bench12345

# Targets from the issue.
target_ratio_pct=70
target_p99_ms=5
target_idle_rss_mib=30

die() {
    echo "bench: $*" >&2
    exit 1
}

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
for tool in wrk curl awk sed; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make deps installs it)"
done

# --- cleanup: kill exactly what this script started -----------------------------------------
work=$(mktemp -d)
pids=()     # the two servers
wrk_pid=""  # the wrk run in progress, if any
cleanup() {
    local pid
    for pid in $wrk_pid "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ------------------------------------------------------------------------------------
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    # Run directly (not through `make bench`) on a fresh clone: configure the release tree once.
    if [[ ! -f $build_dir/CMakeCache.txt && $build_dir == build/release ]]; then
        cmake --preset release
    fi
    cmake --build "$build_dir" --target bare_beast_server rainmaker-server
fi
bare_bin=$build_dir/bench/bare_beast_server
server_bin=$build_dir/bin/rainmaker-server
[[ -x $bare_bin ]] || die "$bare_bin not found (run make bench, or cmake --preset release first)"
[[ -x $server_bin ]] || die "$server_bin not found"

# --- helpers ----------------------------------------------------------------------------------

# wait_for_port LOG PID NAME: prints the port from "... listening on http://127.0.0.1:PORT".
wait_for_port() {
    local log=$1 pid=$2 name=$3 port="" i
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n1)
        [[ -n $port ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start-up"; }
        sleep 0.1
    done
    [[ -n $port ]] || { cat "$log" >&2; die "$name did not print its port within 10 s"; }
    echo "$port"
}

# rss_mib PID: resident set size in MiB, one decimal. FIELD defaults to VmRSS (VmHWM = peak).
rss_mib() {
    awk -v field="${2:-VmRSS}:" '$1 == field { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# check_ok NAME URL [CURL ARGS...]: one request before measuring, so wrk never benchmarks an
# error page by accident.
check_ok() {
    local name=$1 url=$2 code
    shift 2
    code=$(curl -sS --max-time 5 -o "$work/check.body" -w '%{http_code}' "$@" "$url") ||
        die "$name: request to $url failed"
    [[ $code == 200 ]] || { cat "$work/check.body" >&2; echo >&2; die "$name: $url answered $code"; }
}

# wrk_wait ARGS...: wrk in the background and waited for, so Ctrl-C or a TERM runs the trap
# at once instead of after the run.
wrk_wait() {
    wrk "$@" &
    wrk_pid=$!
    wait "$wrk_pid"
    wrk_pid=""
}

# run_wrk NAME URL [WRK ARGS...]: warm-up, then the measured run into $work/NAME.wrk.
run_wrk() {
    local name=$1 url=$2
    shift 2
    if ((warmup_s > 0)); then
        wrk_wait -t1 -c"$connections" -d"$warmup" "$@" "$url" >/dev/null
    fi
    echo "bench: $name: wrk -t1 -c$connections -d$duration --latency $url" >&2
    wrk_wait -t1 -c"$connections" -d"$duration" --latency "$@" "$url" >"$work/$name.wrk"
    cp "$work/$name.wrk" "$results_dir/raw/$name.wrk"
}

# parse_wrk FILE: prints "REQ_PER_SEC P50_MS P99_MS NON_2XX SOCKET_ERRORS".
# wrk prints latencies with a unit (us, ms, s, m, h); everything is converted to ms.
parse_wrk() {
    awk '
        function ms(v,   n, u) {
            n = v + 0
            u = v
            sub(/^[0-9.]+/, "", u)
            if (u == "us") return n / 1000
            if (u == "ms") return n
            if (u == "s") return n * 1000
            if (u == "m") return n * 60000
            if (u == "h") return n * 3600000
            return -1
        }
        /^Requests\/sec:/ { rps = $2 }
        /Latency Distribution/ { in_dist = 1; next }
        in_dist && $1 == "50%" { p50 = ms($2) }
        in_dist && $1 == "99%" { p99 = ms($2); in_dist = 0 }
        /^ *Non-2xx or 3xx responses:/ { non2xx = $NF }
        /^ *Socket errors:/ {
            # Socket errors: connect 0, read 0, write 0, timeout 0
            for (i = 3; i <= NF; i += 2) { v = $(i + 1); sub(/,/, "", v); errors += v }
        }
        END {
            if (rps == "" || p50 == "" || p99 == "") exit 1
            printf "%s %.3f %.3f %d %d\n", rps, p50, p99, non2xx + 0, errors + 0
        }
    ' "$1"
}

# --- ceiling: bare Beast server ---------------------------------------------------------------
mkdir -p "$results_dir/raw"

"$bare_bin" --threads "$bare_threads" 0 >"$work/bare.log" 2>&1 &
pids+=($!)
bare_pid=$!
bare_port=$(wait_for_port "$work/bare.log" "$bare_pid" bare_beast_server)
bare_url=http://127.0.0.1:$bare_port/apiversions
check_ok bare "$bare_url"
bare_idle_rss=$(rss_mib "$bare_pid")
run_wrk bare "$bare_url"

# --- rainmaker-server -------------------------------------------------------------------------
data_dir=$work/data
mkdir -p "$data_dir"
# The user must exist before the server opens the database.
"$server_bin" admin create-user --data-dir "$data_dir" --user-name "$user_name" \
    --password "$password" >"$work/admin.log" 2>&1 ||
    { cat "$work/admin.log" >&2; die "admin create-user failed"; }

# shellcheck disable=SC2086  # BENCH_SERVER_ARGS is split on purpose
"$server_bin" --http-port 0 --data-dir "$data_dir" ${BENCH_SERVER_ARGS:-} >"$work/server.log" 2>&1 &
pids+=($!)
server_pid=$!
server_port=$(wait_for_port "$work/server.log" "$server_pid" rainmaker-server)
base=http://127.0.0.1:$server_port
sleep 1  # let start-up allocations settle before calling it idle
server_idle_rss=$(rss_mib "$server_pid")

login=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -d "{\"user_name\":\"$user_name\",\"password\":\"$password\"}" "$base/v1/login2") ||
    die "login request failed"
token=$(printf '%s' "$login" | sed -n 's/.*"accesstoken" *: *"\([^"]*\)".*/\1/p')
[[ -n $token ]] || die "login answered without an accesstoken: $login"

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
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
verdict() { if "$@"; then echo "met"; else echo "**missed**"; fi; }
# The ratio is judged on the unrounded req/s, not on the rounded percentage shown.
ratio_ok() {
    awk -v a="$user2_rps" -v b="$bare_rps" -v t="$target_ratio_pct" 'BEGIN { exit !(100 * a >= t * b) }'
}
ratio_verdict=$(verdict ratio_ok)
p99_verdict=$(verdict below "$user2_p99" "$target_p99_ms")
rss_verdict=$(verdict below "$server_idle_rss" "$target_idle_rss_mib")

warmup_text="each run after a ${warmup} warm-up"
((warmup_s > 0)) || warmup_text="no warm-up"
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[[ -n $cpu_model ]] || cpu_model=$(uname -m)
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
echo "bench: wrote $results_dir/latest.md (raw wrk output in $results_dir/raw/)" >&2

if ((${#failed_runs[@]} > 0)); then
    printf 'bench: errors during %s\n' "${failed_runs[@]}" >&2
fi
if [[ "$ratio_verdict $p99_verdict $rss_verdict" == *missed* || ${#failed_runs[@]} -gt 0 ]]; then
    echo "bench: a goal was missed or a run had errors (see the tables above)" >&2
    [[ ${BENCH_STRICT:-0} != 1 ]] || exit 1
fi
