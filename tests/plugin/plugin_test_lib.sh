# shellcheck shell=bash
# shellcheck disable=SC2317  # cleanup runs from a trap
# The helpers both black-box plugin tests (presence_plugin_test.sh, revocation_plugin_test.sh)
# need, sourced by each so that the check counting, the bounded waits, the clean-up and the
# broker start-up are written once.
#
# A test sources this file, calls setup_work_dir, copies its plugins in with install_plugin,
# records every process it starts in pids (all killed on exit), runs `check NAME COMMAND...`
# for each check, and ends with report_and_exit.
#
# The broker reads its files after dropping root privileges to the "mosquitto" user, so the
# temporary directory is 0755 and every file the broker reads is 0644, the plugins included (a
# 0700 mktemp dir fails with "Unable to open pwfile").

readonly kWaitSteps=100  # x 0.05 s = 5 s per wait

work=""         # the temporary directory: configurations, logs, plugins
pids=()         # every process started by the test: killed on exit
passed=0
failed=0
broker_pid=""   # the current mosquitto
broker_port=""  # its first port
log=""          # its log file

require_tools() {  # require_tools TOOL...: exits 2 unless every TOOL is on the PATH
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "missing tool: $tool" >&2
            exit 2
        }
    done
}

stop_pids() {  # stop_pids PID...: kills these processes and reaps them
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null
    done
}

cleanup() {
    stop_pids "${pids[@]}"
    if [[ $failed -ne 0 || -n "${RM_KEEP_TEST_DIR:-}" ]]; then
        echo "logs kept in $work"
    else
        rm -rf "$work"
    fi
}

setup_work_dir() {  # makes $work; on exit, kills every process in pids and removes $work
    work="$(mktemp -d)"
    chmod 755 "$work"
    trap cleanup EXIT
}

install_plugin() {  # install_plugin SO NAME: copies SO to $work/NAME.so, readable by the broker
    cp "$1" "$work/$2.so"
    chmod 644 "$work/$2.so"
}

check() {  # check NAME COMMAND... : runs COMMAND, records a pass or a failure
    local name="$1"
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
    fi
}

abort() {  # abort REASON: counts one failure, prints the summary, exits
    failed=$((failed + 1))
    echo "FAIL $1"
    echo "$passed passed, $failed failed"
    exit 1
}

report_and_exit() {  # prints the summary; exits non-zero if any check failed
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    exit
}

wait_until() {  # wait_until COMMAND... : polls COMMAND for at most kWaitSteps x 0.05 s
    local i
    for ((i = 0; i < kWaitSteps; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# --- broker -----------------------------------------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ports_free() {  # ports_free FIRST COUNT: nothing listens on FIRST .. FIRST+COUNT-1
    local i
    for ((i = 0; i < $2; i++)); do
        port_in_use $(($1 + i)) && return 1
    done
    return 0
}

broker_started_or_died() {  # broker_started_or_died LOG
    grep -qs "mosquitto version .* running" "$1" || ! kill -0 "$broker_pid" 2>/dev/null
}

# start_mosquitto NAME PORT_COUNT WRITE_CONFIG [ARGS...]: starts mosquitto on PORT_COUNT free
# consecutive loopback ports from PORT, with the configuration `WRITE_CONFIG PORT ARGS...`
# prints. Sets broker_pid, broker_port (PORT) and log ($work/NAME.log).
start_mosquitto() {
    local name="$1" port_count="$2" write_config="$3" candidate
    shift 3
    log="$work/$name.log"
    for _ in 1 2 3 4 5 6 7 8; do
        candidate=$((20000 + RANDOM % 40000))
        ports_free "$candidate" "$port_count" || continue
        "$write_config" "$candidate" "$@" >"$work/$name.conf"
        chmod 644 "$work/$name.conf"
        mosquitto -c "$work/$name.conf" >"$log" 2>&1 &
        broker_pid=$!
        pids+=("$broker_pid")
        wait_until broker_started_or_died "$log"
        if grep -qs "mosquitto version .* running" "$log"; then
            # shellcheck disable=SC2034  # read by the tests that source this file
            broker_port="$candidate"
            return 0
        fi
        stop_pids "$broker_pid"
        # Another process may have taken a port since the check; anything else is fatal.
        grep -qs "Address already in use" "$log" || break
    done
    echo "could not start mosquitto; last log:" >&2
    cat "$log" >&2
    return 1
}

stop_broker() {  # stops the current broker; fails unless it exits cleanly
    kill "$broker_pid" 2>/dev/null
    local i
    for ((i = 0; i < kWaitSteps; i++)); do
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$broker_pid"
}

# --- raw MQTT ---------------------------------------------------------------------------------

# For the raw MQTT 3.1.1 clients the tests write by hand: short ASCII strings only.
# shellcheck disable=SC2059  # the format string is the one byte to write
byte() { printf "\\x$(printf %02x "$1")"; }
mqtt_string() { byte $((${#1} >> 8)) && byte $((${#1} & 255)) && printf '%s' "$1"; }
