# shellcheck shell=bash disable=SC2034,SC2154  # sets and reads the sourcing script's variables
# What the bench/*.sh scripts share, sourced from the repository root after `set -euo pipefail`:
#   cd "$(dirname "$0")/.."
#   . bench/lib.sh
#   bench_init bench-NAME
# bench_init sets bench_name (the prefix of every message), build_dir, results_dir, work (a
# temporary directory removed on exit) and the traps that kill every process started through
# track/bg_wait/start_server. The other functions read those and, once start_server ran,
# server_bin, data_dir, server_pid, http_port, mqtt_port and base.

# bench_init NAME: the settings and the clean-up every script needs; NAME prefixes messages.
bench_init() {
    bench_name=$1
    build_dir=${BENCH_BUILD_DIR:-build/release}
    results_dir=bench/results
    work=$(mktemp -d)
    child_pids=()  # what this script started and has not waited for yet, the server included
    server_pid=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# bench_cleanup: kills exactly what this script started (the server stops its mosquitto), then
# removes $work.
bench_cleanup() {
    local pid
    for pid in "${child_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${child_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}

# die MESSAGE: prints "NAME: MESSAGE" on stderr and exits 1.
die() {
    echo "$bench_name: $*" >&2
    exit 1
}

# note MESSAGE: prints "NAME: MESSAGE" on stderr.
note() {
    echo "$bench_name: $*" >&2
}

# int_in NAME VALUE MIN MAX: dies unless VALUE is an integer in [MIN, MAX] (runs are bounded:
# the machine may be shared).
int_in() {
    if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
        die "$1 must be an integer in [$3, $4], got '$2'"
    fi
}

# check_rates NAME MIN MAX RATE...: dies unless there are 1 to 5 rates, integers in [MIN, MAX].
check_rates() {
    local name=$1 min=$2 max=$3 rate
    shift 3
    (($# >= 1 && $# <= 5)) || die "$name: 1 to 5 rates"
    for rate in "$@"; do
        int_in "$name" "$rate" "$min" "$max"
    done
}

# need_tools TOOL...: dies when one of them is not on the PATH.
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is not installed (make deps installs it)"
    done
}

# build TARGET...: builds the targets in $build_dir unless BENCH_NO_BUILD=1, configuring the
# release tree first when a fresh clone runs a script directly (not through make).
build() {
    if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
        if [[ ! -f $build_dir/CMakeCache.txt && $build_dir == build/release ]]; then
            cmake --preset release
        fi
        cmake --build "$build_dir" --target "$@"
    fi
}

# need_bins HINT BIN...: dies "BIN not found (HINT)" when one of them is not executable.
need_bins() {
    local hint=$1 bin
    shift
    for bin in "$@"; do
        [[ -x $bin ]] || die "$bin not found ($hint)"
    done
}

# track PID: remembers a background process for the clean-up.
track() {
    child_pids+=("$1")
}

# forget PID: the process was waited for; the clean-up leaves it alone.
forget() {
    local pid kept=()
    for pid in "${child_pids[@]}"; do
        [[ $pid == "$1" ]] || kept+=("$pid")
    done
    child_pids=("${kept[@]}")
}

# bg_wait CMD...: runs CMD in the background and waits for it, so Ctrl-C or TERM runs the trap
# at once; returns CMD's exit status.
bg_wait() {
    local pid status=0
    "$@" &
    pid=$!
    track "$pid"
    wait "$pid" || status=$?
    forget "$pid"
    return "$status"
}

# now: the time in seconds, with nanoseconds.
now() { date +%s.%N; }

# calc EXPR [FORMAT]: awk arithmetic, printed with FORMAT (default %.0f).
calc() { awk "BEGIN { printf \"${2:-%.0f}\", $1 }"; }

# field LINE KEY: the value of KEY=value in a `key=value ...` line.
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"; }

# below A B / at_least A B: numeric comparisons for verdict (false when A is empty).
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a < b) }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a >= b) }'; }

# verdict CMD...: "met" when CMD succeeds, else "**missed**".
verdict() { if "$@"; then echo "met"; else echo "**missed**"; fi; }

# rss_mib PID [FIELD]: resident set size in MiB, one decimal, or "-" (FIELD: VmRSS, VmHWM = peak).
rss_mib() {
    awk -v field="${2:-VmRSS}:" '$1 == field { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"
}

# cpu_model FALLBACK: the CPU's model name from /proc/cpuinfo, else FALLBACK (may be "").
cpu_model() {
    local model
    model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    echo "${model:-$1}"
}

# wait_for LOG PID NAME REGEX [SECONDS]: prints the first capture of sed REGEX in LOG, waiting
# for it SECONDS at most (default 10); dies when PID exits first.
wait_for() {
    local log=$1 pid=$2 name=$3 regex=$4 seconds=${5:-10} value="" i
    for ((i = 0; i < seconds * 10; i++)); do
        value=$(sed -n "s|$regex|\1|p" "$log" | head -n1)
        [[ -n $value ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start-up"; }
        sleep 0.1
    done
    [[ -n $value ]] || { cat "$log" >&2; die "$name did not print what we wait for within $seconds s"; }
    echo "$value"
}

# create_user DATA_DIR USER PASSWORD: a confirmed user made with `admin create-user`; sets user_id.
create_user() {
    local created
    created=$("$server_bin" admin create-user --data-dir "$1" --user-name "$2" \
        --password "$3" 2>"$work/admin.log") || { cat "$work/admin.log" >&2; die "admin create-user failed"; }
    user_id=$(sed -n 's/^created user .* (\([^)]*\)).*/\1/p' <<<"$created")
    [[ -n $user_id ]] || die "admin create-user printed no user id: $created"
}

# issue_certs DATA_DIR COUNT OUT: COUNT node certificates under OUT/<node_id>/ with `admin
# issue-node-certs`; sets node_ids, sorted by name in C order (as the bench clients sort them).
issue_certs() {
    "$server_bin" admin issue-node-certs --data-dir "$1" --count "$2" --out "$3" \
        >"$work/node-ids" 2>"$work/admin.log" || { cat "$work/admin.log" >&2; die "admin issue-node-certs failed"; }
    mapfile -t node_ids < <(LC_ALL=C sort "$work/node-ids")
    ((${#node_ids[@]} == $2)) || die "issue-node-certs printed ${#node_ids[@]} ids, $2 expected"
}

# start_server mqtt|http [ARGS...]: rainmaker-server with its data in $data_dir, HTTP on a free
# loopback port and, with mqtt, its embedded mosquitto too (http leaves the MQTT side at its
# defaults); log in $work/server.log. Waits until it printed its ports ($server_start_s seconds
# at most, default 10) and sets server_pid, http_port, https_port, base and (mqtt) mqtt_port.
start_server() {
    local mqtt=(--mqtt-port 0 --mqtt-address 127.0.0.1)
    [[ $1 == mqtt ]] || mqtt=()
    shift
    "$server_bin" --http-port 0 --https-port 0 "${mqtt[@]}" --data-dir "$data_dir" "$@" >"$work/server.log" 2>&1 &
    server_pid=$!
    track "$server_pid"
    http_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
        '.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*' "${server_start_s:-10}")
    base=http://127.0.0.1:$http_port
    https_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
        '.*listening on https://127\.0\.0\.1:\([0-9][0-9]*\).*' "${server_start_s:-10}")
    mqtt_port=""
    if ((${#mqtt[@]} > 0)); then
        mqtt_port=$(wait_for "$work/server.log" "$server_pid" rainmaker-server \
            '.*devices connect to mqtts://[^:]*:\([0-9][0-9]*\).*' "${server_start_s:-10}")
    fi
}

# find_broker_pid: the id of the mosquitto process started for $data_dir, or nothing.
find_broker_pid() {
    local conf=$data_dir/broker/mosquitto.conf p
    for p in /proc/[0-9]*; do
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$conf"; then
            echo "${p#/proc/}"
            return
        fi
    done
}

# stop_server: stops the server and waits until its mosquitto is gone, so that the next
# start_server gets its ports.
stop_server() {
    local i
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    forget "$server_pid"
    server_pid=""
    for ((i = 0; i < 100; i++)); do
        [[ -z $(find_broker_pid) ]] && return
        sleep 0.1
    done
    die "mosquitto ($data_dir/broker/mosquitto.conf) still runs 10 s after the server stopped"
}

# link_listener: sets ca, conf, link_password_file and link_port, the server's own loopback
# listener (the second of the generated mosquitto.conf, password protected).
link_listener() {
    ca=$data_dir/tls/ca.pem
    conf=$data_dir/broker/mosquitto.conf
    link_password_file=$data_dir/broker/link-password
    link_port=$(awk '$1 == "listener" { if (++n == 2) print $2 }' "$conf")
    [[ -n $link_port ]] || die "no link listener in $conf"
}

# login USER PASSWORD: POST /v1/login2; sets token (sent raw in Authorization, as the apps do).
login() {
    local out
    out=$(curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' \
        -d "{\"user_name\":\"$1\",\"password\":\"$2\"}" "$base/v1/login2") ||
        die "login request failed"
    token=$(printf '%s' "$out" | sed -n 's/.*"accesstoken" *: *"\([^"]*\)".*/\1/p')
    [[ -n $token ]] || die "login answered without an accesstoken: $out"
}

# db_sql: runs the SQL on stdin in the server's store: psql on $RAINMAKER_DATABASE_URL when the
# stores are on PostgreSQL (bench/postgres.sh), else the sqlite3 CLI on the data directory's file.
db_sql() {
    if [[ -n ${RAINMAKER_DATABASE_URL:-} ]]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$RAINMAKER_DATABASE_URL" >/dev/null
    else
        sqlite3 -cmd ".timeout 5000" "$data_dir/rainmaker.db"
    fi
}

# map_nodes ID...: maps the nodes to $user_id as primary, straight in the store (WAL: the server
# keeps running).
map_nodes() {
    local id created_at
    created_at=$(date +%s)
    {
        echo "BEGIN;"
        for id in "$@"; do
            echo "INSERT INTO user_nodes(user_id,node_id,role,tags,metadata,group_id,admin_access,created_at) VALUES ('$user_id','$id','primary','[]','{}','','',$created_at);"
        done
        echo "COMMIT;"
    } | db_sql || die "mapping the nodes failed"
}

# metric_values NAME...: the values of those GET /metrics counters as integers on one line
# (0 when absent); fails when the first is absent.
metric_values() {
    curl -sS --max-time 5 "$base/metrics" | awk -v names="$*" '
        BEGIN { n = split(names, want, " ") }
        { value[$1] = $2 }
        END {
            if (!(want[1] in value)) exit 1
            for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? " " : ""), value[want[i]]
            printf "\n"
        }'
}

# metric_lines PREFIX: the GET /metrics lines starting with PREFIX (nothing on failure).
metric_lines() {
    curl -sS --max-time 5 "$base/metrics" | grep "^$1" || true
}

# check_ok NAME URL [CURL ARGS...]: one request before measuring, so wrk never benchmarks an
# error page by accident.
check_ok() {
    local name=$1 url=$2 code
    shift 2
    code=$(curl -sS --max-time 10 -o "$work/check.body" -w '%{http_code}' "$@" "$url") ||
        die "$name: request to $url failed"
    [[ $code == 200 ]] || { cat "$work/check.body" >&2; echo >&2; die "$name: $url answered $code"; }
}

# wrk_wait ARGS...: wrk in the background and waited for, so Ctrl-C or TERM runs the trap at once.
wrk_wait() {
    bg_wait wrk "$@"
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
