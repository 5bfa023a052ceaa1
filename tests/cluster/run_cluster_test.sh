#!/usr/bin/env bash
# Black-box test of `make run-cluster` (scripts/run-cluster.sh) with this build tree's binaries:
# PostgreSQL, an external Mosquitto, two instances, nginx in front. Checks that
#   - an account made on the command line signs in through the proxy;
#   - a session ended on one instance is refused by the other at once;
#   - node messages (a fleet of simulated nodes, basic-ingest topics, TLS with the cluster's CA)
#     are each taken by exactly one instance, both instances taking some;
#   - an instance killed with -9 while GETs go through the proxy costs no request an error
#     (nginx tries the other instance), and resumes its broker session when restarted.
#
#   run_cluster_test.sh SERVER_BIN SIM_BIN
# Prints one line per check and "N passed, M failed"; exits non-zero if any check failed. Every
# process started here is stopped on exit.
set -uo pipefail

[[ $# -eq 2 && -x "$1" && -x "$2" ]] || {
    echo "usage: $0 SERVER_BIN SIM_BIN" >&2
    exit 2
}
bin="$1"
sim="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/rainmaker-cluster-test.XXXXXX)"
cluster="$work/cluster"
passed=0
failed=0
cluster_pid=""

check() {  # check NAME COMMAND...
    local name="$1"
    shift
    if "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

finish() {
    if [[ -n "$cluster_pid" ]]; then
        kill -TERM "$cluster_pid" 2>/dev/null
        wait "$cluster_pid" 2>/dev/null
    fi
    if ((failed > 0)); then
        for log in "$work/cluster.log" "$cluster"/instance-*.log "$cluster/broker.log"; do
            [[ -f "$log" ]] && { echo "--- $log (tail)"; tail -n 30 "$log"; }
        done
    fi
    rm -rf "$work"
    echo "$passed passed, $failed failed"
    ((failed == 0))
}
trap 'finish; exit $?' EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

json() {  # json KEY: the string or number KEY of the JSON object on stdin
    python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1" 2>/dev/null
}

metric() {  # metric PORT NAME: the value of a counter on an instance's /metrics
    curl -s -m 10 "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}

status() {  # status PORT PATH TOKEN: the HTTP status of a GET
    curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: $3" "http://127.0.0.1:$1$2"
}

proxy="$(free_port)"
mqtt="$(free_port)"
RAINMAKER_SERVER_BIN="$bin" RAINMAKER_DATA_DIR="$work" RAINMAKER_HTTP_PORT="$proxy" \
    RAINMAKER_MQTT_PORT="$mqtt" bash "$root/scripts/run-cluster.sh" >"$work/cluster.log" 2>&1 &
cluster_pid=$!
for ((i = 0; i < 1200; i++)); do
    grep -q "run-cluster: ready" "$work/cluster.log" && break
    kill -0 "$cluster_pid" 2>/dev/null || break
    sleep 0.1
done
check "the cluster starts" grep -q "run-cluster: ready" "$work/cluster.log"
grep -q "run-cluster: ready" "$work/cluster.log" || exit 1
for n in 1 2; do
    port[n]="$(awk -F' = ' '$1 == "port" { print $2; exit }' "$cluster/instance-$n.toml")"
done
db_url="$(awk -F'"' '$1 == "url = " { print $2 }' "$cluster/instance-1.toml")"
check "each instance's pid is in cluster/instance-<n>.pid" \
    bash -c "kill -0 \$(cat '$cluster/instance-1.pid') && kill -0 \$(cat '$cluster/instance-2.pid')"

# --- an account, through the proxy -------------------------------------------------------------
RAINMAKER_DATABASE_URL="$db_url" "$bin" --data-dir "$work/admin" --password-cost min \
    admin create-user --user-name alice@example.com --password 'Cluster1pass' --superadmin >/dev/null
login() {
    curl -s -m 10 -X POST -H 'Content-Type: application/json' \
        -d '{"user_name":"alice@example.com","password":"Cluster1pass"}' \
        "http://127.0.0.1:$proxy/v1/login2" | json accesstoken
}
token="$(login)"
check "a user made on the command line signs in through the proxy" test -n "$token"
check "both instances accept the session" \
    test "$(status "${port[1]}" /v1/user2 "$token")/$(status "${port[2]}" /v1/user2 "$token")" == 200/200

# --- a session ended on one instance is refused by the other at once ---------------------------
# Instance 2 has the session cached (it served it) when instance 1 ends it.
ended="$(login)"
check "instance 2 serves the session" test "$(status "${port[2]}" /v1/user2 "$ended")" == 200
curl -s -m 10 -o /dev/null -X POST -H "Authorization: $ended" "http://127.0.0.1:${port[1]}/v1/logout2"
check "a session ended on instance 1 is refused by instance 2 at once" \
    test "$(status "${port[2]}" /v1/user2 "$ended")" == 401

# --- node messages: each taken by one instance ------------------------------------------------
RAINMAKER_DATABASE_URL="$db_url" "$bin" --data-dir "$cluster/instance-1" \
    admin issue-node-certs --count 20 --out "$work/nodes" >/dev/null
"$sim" fleet --nodes-dir "$work/nodes" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt" \
    --ca "$cluster/instance-1/tls/ca.pem" --rate 600 --duration 3 --connect-rate 200 --settle 20 \
    --seed 1 >"$work/fleet.log" 2>&1
acked="$(sed -n 's/^summary .* acked=\([0-9]*\) .*/\1/p' "$work/fleet.log")"
published="$(sed -n 's/^summary .* published=\([0-9]*\) .*/\1/p' "$work/fleet.log")"
check "the fleet's messages were acknowledged by the broker" test "${acked:-0}" -gt 1000
taken() { echo $(($(metric "${port[1]}" rainmaker_mqtt_node_messages_total) + $(metric "${port[2]}" rainmaker_mqtt_node_messages_total))); }
for ((i = 0; i < 100; i++)); do
    [[ "$(taken)" -ge "${acked:-0}" ]] && break
    sleep 0.1
done
sleep 0.5
# Each at most once: between what the broker acknowledged (the fleet may stop before it counted
# the last acknowledgements) and what the fleet published.
check "each node message taken by one instance ($(taken); acked ${acked:-0}, published ${published:-0})" \
    test "$(taken)" -ge "${acked:-0}" -a "$(taken)" -le "${published:-0}"
check "both instances took some" \
    test "$(metric "${port[1]}" rainmaker_mqtt_node_messages_total)" -gt 0 -a \
    "$(metric "${port[2]}" rainmaker_mqtt_node_messages_total)" -gt 0

# --- failover: instance 1 killed under GETs through the proxy ---------------------------------
: >"$work/codes"
(
    end=$((SECONDS + 4))
    while ((SECONDS < end)); do
        status "$proxy" /v1/user2 "$token" >>"$work/codes"
        echo >>"$work/codes"
    done
) &
load=$!
sleep 1
kill -KILL "$(cat "$cluster/instance-1.pid")"
wait "$load"
total="$(grep -c . "$work/codes")"
errors="$(grep -vc '^200$' "$work/codes")"
echo "     failover: $total GETs through the proxy, $errors not 200"
check "an instance killed under load costs no GET an error" test "$errors" -eq 0 -a "$total" -gt 20
check "the proxy serves on with one instance" test "$(status "$proxy" /v1/user2 "$token")" == 200

# --- the killed instance restarted: its broker session was kept ---------------------------------
: >"$cluster/instance-1.log"
RAINMAKER_HTTP_PORT="${port[1]}" "$bin" --config "$cluster/instance-1.toml" \
    --data-dir "$cluster/instance-1" >>"$cluster/instance-1.log" 2>&1 &
echo $! >"$cluster/instance-1.pid"
for ((i = 0; i < 300; i++)); do
    [[ "$(status "${port[1]}" /v1/user2 "$token")" == 200 ]] && break
    sleep 0.1
done
wait_log_up() {  # the link's ingest session came up, and the broker still held it
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'MQTT ingest connection up' "$cluster/instance-1.log" && break
        sleep 0.1
    done
    grep -q 'MQTT ingest connection up' "$cluster/instance-1.log" &&
        ! grep -q 'holds no session' "$cluster/instance-1.log"
}
check "the restarted instance serves again" test "$(status "${port[1]}" /v1/user2 "$token")" == 200
check "the restarted instance resumed its broker session" \
    wait_log_up
