#!/usr/bin/env bash
# shellcheck disable=SC2317  # stop_server and cleanup run from traps
# CTest entry for the SDK compatibility tests: runs the official npm SDK
# (@espressif/rainmaker-base-sdk, pinned in package.json) against a freshly started server.
#
#   run.sh SERVER_BINARY [TEST_FILES...]
#
# Installs tests/sdk/node_modules (install.sh) when it is missing or older than
# package-lock.json, starts SERVER_BINARY on a free port with a throw-away data dir, runs every
# test file (default: tests/sdk/*.test.mjs) with node, stops the server, and exits non-zero if
# any test file failed or the server died. Works from any working directory.
# The tests get RM_BASE_URL, RM_MAILBOX, RM_MQTT_PORT, RM_CA_FILE (the broker's CA), RM_SIM (the
# rainmaker-sim next to SERVER_BINARY), RM_SERVER and RM_DATA_DIR (for `admin` commands) and
# RM_WORK_DIR (a scratch directory removed at the end).
# RM_SDK_TEST_TIMEOUT (seconds, default 300) bounds each test file.
set -euo pipefail

readonly kStartupTimeoutSeconds=20
readonly kStopGraceSeconds=5

usage() {
    echo "usage: $0 SERVER_BINARY [TEST_FILES...]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server_bin="$1"
shift
if [[ "$server_bin" != */* ]]; then
    server_bin="$(command -v -- "$server_bin" || true)"
fi
if [[ -z "$server_bin" || ! -x "$server_bin" || -d "$server_bin" ]]; then
    echo "run.sh: server binary '${server_bin:-$1}' is not an executable file" >&2
    exit 2
fi
server_bin="$(cd "$(dirname "$server_bin")" && pwd)/$(basename "$server_bin")"

# Test files: given ones are resolved against the caller's working directory.
test_files=()
if [[ $# -gt 0 ]]; then
    for file in "$@"; do
        if [[ ! -f "$file" ]]; then
            echo "run.sh: test file '$file' not found" >&2
            exit 2
        fi
        test_files+=("$(cd "$(dirname "$file")" && pwd)/$(basename "$file")")
    done
else
    shopt -s nullglob
    test_files=("$script_dir"/*.test.mjs)
    shopt -u nullglob
    if [[ ${#test_files[@]} -eq 0 ]]; then
        echo "run.sh: no *.test.mjs files in $script_dir" >&2
        exit 2
    fi
fi

# --- dependencies ------------------------------------------------------------------------------
bash "$script_dir/install.sh"

# --- server ------------------------------------------------------------------------------------
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/rainmaker-sdk-test.XXXXXX")"
data_dir="$work_dir/data"
server_out="$work_dir/server.stdout"
server_err="$work_dir/server.stderr"
mkdir -p "$data_dir"
server_pid=""
test_pid=""

show_server_output() {
    echo "---- server stdout (last 50 lines) ----" >&2
    tail -n 50 "$server_out" >&2 2>/dev/null || true
    echo "---- server stderr (last 50 lines) ----" >&2
    tail -n 50 "$server_err" >&2 2>/dev/null || true
    echo "----" >&2
}

stop_server() {
    [[ -n "$server_pid" ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$server_pid" 2>/dev/null && ((waited < kStopGraceSeconds * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "run.sh: server did not stop within ${kStopGraceSeconds}s of SIGTERM; sending SIGKILL" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$test_pid" ]]; then
        kill -TERM "$test_pid" 2>/dev/null || true
        wait "$test_pid" 2>/dev/null || true
    fi
    stop_server
    rm -rf "$work_dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The server flushes its "listening" line itself (no stdbuf: its LD_PRELOAD breaks ASan builds).
# The device listener (embedded MQTT broker) also takes any free port, on loopback only.
"$server_bin" --http-port 0 --https-port 0 --data-dir "$data_dir" --password-cost min \
    --mqtt-port 0 --mqtt-address 127.0.0.1 \
    >"$server_out" 2>"$server_err" </dev/null &
server_pid=$!

now_ms() {
    local micros="${EPOCHREALTIME//[.,]/}"
    echo $((micros / 1000))
}

# Two start-up lines: "rainmaker-server listening on http://ADDR:PORT" and
# "rainmaker-server devices connect to mqtts://HOST:PORT (CA /path/ca.pem)".
readonly kMqttLinePattern='rainmaker-server devices connect to mqtts://[^[:space:]]*:([0-9]+) \(CA (.*)\)$'
base_url=""
mqtt_port=""
ca_file=""
deadline_ms=$(($(now_ms) + kStartupTimeoutSeconds * 1000))
while [[ -z "$base_url" || -z "$mqtt_port" ]]; do
    if [[ -z "$base_url" ]]; then
        base_url="$(grep -m 1 -o 'rainmaker-server listening on http://[^[:space:]]*' "$server_out" || true)"
        base_url="${base_url#rainmaker-server listening on }"
        base_url="${base_url%/}"
    fi
    if [[ -z "$mqtt_port" ]]; then
        mqtt_line="$(grep -m 1 -E "$kMqttLinePattern" "$server_out" || true)"
        if [[ "$mqtt_line" =~ $kMqttLinePattern ]]; then
            mqtt_port="${BASH_REMATCH[1]}"
            ca_file="${BASH_REMATCH[2]}"
        fi
    fi
    [[ -n "$base_url" && -n "$mqtt_port" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        server_status=0
        wait "$server_pid" || server_status=$?
        server_pid=""
        echo "run.sh: server exited with status $server_status before it was listening" >&2
        show_server_output
        exit 1
    fi
    if (($(now_ms) >= deadline_ms)); then
        echo "run.sh: no 'rainmaker-server listening on http://...' and" \
            "'rainmaker-server devices connect to mqtts://...' lines within ${kStartupTimeoutSeconds}s" >&2
        show_server_output
        exit 1
    fi
    sleep 0.1
done
echo "run.sh: server pid $server_pid at $base_url, devices on port $mqtt_port, data dir $data_dir"

# --- tests -------------------------------------------------------------------------------------
export RM_BASE_URL="$base_url"
export RM_MAILBOX="$data_dir/mailbox"
export RM_MQTT_PORT="$mqtt_port"
export RM_CA_FILE="$ca_file"
# The device simulator is built next to the server; tests that need it report its absence.
RM_SIM="$(dirname "$server_bin")/rainmaker-sim"
export RM_SIM
# The server and its data directory, for `admin` commands (tests that need an admin).
export RM_SERVER="$server_bin"
export RM_DATA_DIR="$data_dir"
export RM_WORK_DIR="$work_dir/scratch"
mkdir -p "$RM_WORK_DIR"
timeout_seconds="${RM_SDK_TEST_TIMEOUT:-300}"

failed_files=()
for file in "${test_files[@]}"; do
    echo "==== $(basename "$file")"
    status=0
    # In the background and waited for, so a signal to this script is handled at once.
    (cd "$script_dir" && exec timeout --kill-after=10 "$timeout_seconds" node "$file") &
    test_pid=$!
    wait "$test_pid" || status=$?
    test_pid=""
    if [[ $status -ne 0 ]]; then
        [[ $status -eq 124 ]] && echo "run.sh: $(basename "$file") timed out after ${timeout_seconds}s" >&2
        failed_files+=("$(basename "$file") (exit $status)")
    fi
done

overall=0
if ! kill -0 "$server_pid" 2>/dev/null; then
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
    echo "run.sh: the server exited during the tests (status $server_status)" >&2
    overall=1
fi
if [[ ${#failed_files[@]} -gt 0 ]]; then
    echo "run.sh: failed: ${failed_files[*]}" >&2
    overall=1
fi
if [[ $overall -ne 0 ]]; then
    show_server_output
fi
exit "$overall"
