#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through check, wait_until and the exit trap
# shellcheck disable=SC2016  # '$aws/...' is a literal MQTT topic
# Black-box test of the rainmaker_presence Mosquitto plugin: starts the installed mosquitto with
# the plugin on a free loopback port, drives it with mosquitto_pub/mosquitto_sub and a raw MQTT
# client (bash /dev/tcp), and checks the presence events, the ACLs and the options.
#
#   presence_plugin_test.sh PLUGIN_SO
#
# Prints one line per check and "N passed, M failed"; exits non-zero if any check failed.
# Every wait is bounded; every process started here is killed on exit. The helpers shared with
# revocation_plugin_test.sh (checks, waits, clean-up, broker start) are in plugin_test_lib.sh.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=plugin_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/plugin_test_lib.sh"

readonly kPrefix='$aws/events/presence/'

[[ $# -eq 1 && -f "$1" ]] || {
    echo "usage: $0 PLUGIN_SO" >&2
    exit 2
}
require_tools mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd timeout od
setup_work_dir
install_plugin "$1" rainmaker_presence

subscriber_pids=()
port=""

# --- broker -----------------------------------------------------------------------------------

mosquitto_passwd -c -b "$work/passwd" server server-pw >/dev/null
mosquitto_passwd -b "$work/passwd" n1 n1-pw >/dev/null
mosquitto_passwd -b "$work/passwd" watch watch-pw >/dev/null
cat >"$work/acl" <<'EOF'
# The server reads presence events and writes commands; n1 is a node; watch observes node/#.
user server
topic read $aws/events/#
topic read test/presence/#
topic write node/+/params/remote

user n1
topic readwrite node/n1/#
topic write $aws/rules/+/node/n1/#

user watch
topic read node/#
EOF
chmod 644 "$work/passwd" "$work/acl"

# start_broker NAME EXTRA_CONFIG: starts mosquitto on a free port; sets broker_pid and port.
start_broker() {
    start_mosquitto "$1" 1 broker_config "$2" && port="$broker_port"
}

broker_config() {  # broker_config PORT EXTRA_CONFIG
    cat <<EOF
listener $1 127.0.0.1
allow_anonymous false
password_file $work/passwd
persistence false
log_dest stderr
log_type all
connection_messages true
plugin $work/rainmaker_presence.so
$2
EOF
}

stop_subscribers() {  # stops the subscribers of start_subscribers
    stop_pids "${subscriber_pids[@]}"
    subscriber_pids=()
}

# --- clients ----------------------------------------------------------------------------------

pub() {  # pub USER CLIENT_ID TOPIC MESSAGE
    timeout 5 mosquitto_pub -p "$port" -u "$1" -P "$1-pw" -i "$2" -t "$3" -m "$4" -q 1
}

# Raw MQTT 3.1.1 client over bash /dev/tcp, for clients mosquitto_pub/sub cannot imitate: one
# that connects and does nothing, one that drops the TCP connection so its will is published.
# Short ASCII strings only (one-byte remaining lengths); byte and mqtt_string are in the lib.
raw_fd=""

raw_connect() {  # raw_connect CLIENT_ID USER [WILL_TOPIC WILL_MESSAGE]; true once CONNACK is 0
    local id="$1" user="$2" will_topic="${3:-}" will_message="${4:-}" pass="$2-pw"
    local flags=$((0x80 | 0x40 | 0x02)) length=$((10 + 2 + ${#1} + 2 + ${#2} + 2 + ${#pass}))
    if [[ -n "$will_topic" ]]; then
        flags=$((flags | 0x04))
        length=$((length + 2 + ${#will_topic} + 2 + ${#will_message}))
    fi
    exec {raw_fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
    {
        printf '\x10' && byte "$length"
        printf '\x00\x04MQTT\x04' && byte "$flags" && printf '\x00\x3c'
        mqtt_string "$id"
        if [[ -n "$will_topic" ]]; then
            mqtt_string "$will_topic" && mqtt_string "$will_message"
        fi
        mqtt_string "$user" && mqtt_string "$pass"
    } >&"$raw_fd"
    local connack
    connack="$(timeout 5 head -c 4 <&"$raw_fd" | od -An -tx1 | tr -d ' \n')"
    [[ "$connack" == 20020000 ]]
}

raw_publish() {  # raw_publish TOPIC MESSAGE (QoS 0)
    {
        printf '\x30' && byte $((2 + ${#1} + ${#2}))
        mqtt_string "$1" && printf '%s' "$2"
    } >&"$raw_fd"
}

raw_disconnect() { printf '\xe0\x00' >&"$raw_fd"; }
raw_close() { exec {raw_fd}>&-; }

# --- events -----------------------------------------------------------------------------------

events="$work/events.log"  # one event per line: topic TAB payload
watched="$work/watch.log"  # what user watch receives on node/#: topic SPACE payload

start_subscribers() {  # start_subscribers PREFIX: server on PREFIX#, watch on node/#
    : >"$events"
    : >"$watched"
    mosquitto_sub -p "$port" -u server -P server-pw -q 1 -t "$1#" -F '%t	%p' >>"$events" &
    subscriber_pids=("$!")
    mosquitto_sub -p "$port" -u watch -P watch-pw -i watcher -q 1 -t 'node/#' -v >>"$watched" &
    subscriber_pids+=("$!")
    pids+=("${subscriber_pids[@]}")
}

# events_for KIND SUFFIX: payloads of KIND (connected|disconnected) events whose topic ends
# in SUFFIX, in arrival order.
events_for() {
    local topic line
    topic="${event_prefix}$1/$2"
    while IFS= read -r line; do
        [[ "${line%%	*}" == "$topic" ]] && printf '%s\n' "${line#*	}"
    done <"$events"
}
count_events() { events_for "$1" "$2" | grep -c . ; }
has_events() { [[ "$(count_events "$1" "$2")" -ge "$3" ]]; }

# Every payload must have exactly this shape (the order of the keys is fixed by the plugin).
readonly kEventRe='^\{"clientId":"(([^"\\]|\\.)*)","timestamp":([0-9]{13}),"eventType":"(connected|disconnected)","sessionIdentifier":"([0-9]+-[0-9]+)","principalIdentifier":"(([^"\\]|\\.)*)","versionNumber":([0-9]+),"ipAddress":"([^"\\]*)"\}$'
field() {  # field PAYLOAD NAME
    [[ "$1" =~ $kEventRe ]] || return 1
    case "$2" in
        clientId) echo "${BASH_REMATCH[1]}" ;;
        timestamp) echo "${BASH_REMATCH[3]}" ;;
        eventType) echo "${BASH_REMATCH[4]}" ;;
        sessionIdentifier) echo "${BASH_REMATCH[5]}" ;;
        principalIdentifier) echo "${BASH_REMATCH[6]}" ;;
        versionNumber) echo "${BASH_REMATCH[8]}" ;;
        ipAddress) echo "${BASH_REMATCH[9]}" ;;
    esac
}

all_events_well_formed() {
    local line
    while IFS= read -r line; do
        [[ "${line%%	*}" == "${event_prefix}run" ]] && continue  # the run's start, not an event
        [[ "${line#*	}" =~ $kEventRe ]] || {
            echo "  malformed: $line"
            return 1
        }
        if command -v jq >/dev/null; then
            jq -e . >/dev/null 2>&1 <<<"${line#*	}" || {
                echo "  jq rejects: $line"
                return 1
            }
        fi
    done <"$events"
}

# Events are queued by one broker thread and delivered in order to the QoS 1 subscriber, so
# once a later client's disconnected event has arrived, every earlier event has arrived too.
sync_count=0
sync_events() {
    sync_count=$((sync_count + 1))
    pub n1 "sync-$sync_count" node/n1/sync x >/dev/null || return 1
    wait_until has_events disconnected "sync-$sync_count" 1
}

# expect_session SUFFIX INDEX: the INDEX-th (1-based) connected and disconnected events of
# SUFFIX belong to the same connection; prints its versionNumber.
expect_session() {
    local connected disconnected
    connected="$(events_for connected "$1" | sed -n "$2p")"
    disconnected="$(events_for disconnected "$1" | sed -n "$2p")"
    [[ -n "$connected" && -n "$disconnected" ]] || return 1
    [[ "$(field "$connected" eventType)" == connected ]] || return 1
    [[ "$(field "$disconnected" eventType)" == disconnected ]] || return 1
    [[ "$(field "$connected" versionNumber)" == "$(field "$disconnected" versionNumber)" ]] || return 1
    [[ "$(field "$connected" sessionIdentifier)" == "$(field "$disconnected" sessionIdentifier)" ]] || return 1
    (($(field "$disconnected" timestamp) >= $(field "$connected" timestamp))) || return 1
    field "$connected" versionNumber
}

# ============================================================================================
# Broker 1: the production shape (password file, acl_file, plugin ignoring the server).

event_prefix="$kPrefix"
start_broker main "acl_file $work/acl
plugin_opt_ignore_username server
plugin_opt_rewrite_basic_ingest true" || abort "broker 1 starts"
start_subscribers "$kPrefix"
check "broker loads the plugin" grep -q "rainmaker_presence: publishing presence under" "$work/main.log"
# The subscribers may not be subscribed yet: repeat the sync client until its events arrive.
ready=1
for _ in 1 2 3 4 5; do sync_events && ready=0 && break; done
check "presence subscriber receives events" test "$ready" -eq 0

# One connection: one connected + one disconnected event with the same versionNumber.
pub n1 n1 node/n1/params/local '{}'
sync_events
check "n1: exactly one connected and one disconnected event" \
    test "$(count_events connected n1)/$(count_events disconnected n1)" == 1/1
v1="$(expect_session n1 1)"
check "n1: both events carry the same versionNumber and sessionIdentifier" test -n "$v1"
first="$(events_for connected n1 | head -1)"
check "n1: event fields" test "$(field "$first" clientId)|$(field "$first" principalIdentifier)|$(field "$first" ipAddress)" == "n1|n1|127.0.0.1"
now_ms=$(($(date +%s) * 1000))
ts="$(field "$first" timestamp)"
check "n1: timestamp is unix milliseconds" test $((now_ms - ts)) -lt 60000 -a $((ts - now_ms)) -lt 60000
echo "  example: $first"

# A second connection of the same client id: a higher versionNumber, a new session.
pub n1 n1 node/n1/params/local '{}'
sync_events
v2="$(expect_session n1 2)"
check "n1 reconnect: versionNumber increments ($v1 -> $v2)" test -n "$v2" -a "${v2:-0}" -eq $((v1 + 1))
check "n1 reconnect: new sessionIdentifier" test "$(field "$(events_for connected n1 | sed -n 1p)" sessionIdentifier)" != "$(field "$(events_for connected n1 | sed -n 2p)" sessionIdentifier)"

# A client that connects, idles and disconnects never acts: no event.
raw_connect idle1 n1
connack=$?
sleep 0.3
raw_disconnect
raw_close
sync_events
check "idle client: connected (CONNACK 0)" test "$connack" -eq 0
check "idle client: no events" test "$(count_events connected idle1)/$(count_events disconnected idle1)" == 0/0

# The same, dropping the TCP connection: the broker publishes the will, after an ACL check made
# after MOSQ_EVT_DISCONNECT; that check must not be reported as a new connection.
raw_connect will1 n1 node/n1/will gone
sleep 0.3
raw_close
check "dropped client: its will is published" wait_until grep -qx "node/n1/will gone" "$watched"
sync_events
check "dropped client without any action: no events" test "$(count_events connected will1)/$(count_events disconnected will1)" == 0/0

# A client that publishes, then drops: connected + disconnected, and no event for its will.
raw_connect will2 n1 node/n1/will gone2
raw_publish node/n1/params/local '{}'
sleep 0.3
raw_close
wait_until grep -qx "node/n1/will gone2" "$watched"
sync_events
check "dropped client after a publish: one session, will not reported" \
    test "$(count_events connected will2)/$(count_events disconnected will2)" == 1/1
check "dropped client after a publish: versions match" test -n "$(expect_session will2 1)"

# An MQTT 5 will with a will delay is ACL-checked a second after the disconnect, on the same
# context: still no new connection.
mosquitto_sub -p "$port" -u n1 -P n1-pw -i wd1 -V mqttv5 -D will will-delay-interval 1 \
    -D connect session-expiry-interval 5 --will-topic node/n1/will --will-payload delayed \
    -t node/n1/wd >/dev/null &
wd_pid=$!
pids+=("$wd_pid")
wait_until has_events connected wd1 1
kill -9 "$wd_pid"
wait "$wd_pid" 2>/dev/null
check "delayed will: published" wait_until grep -qx "node/n1/will delayed" "$watched"
sync_events
check "delayed will: one session, will not reported" \
    test "$(count_events connected wd1)/$(count_events disconnected wd1)" == 1/1

# A QoS 2 publish is a first action like any other.
timeout 5 mosquitto_pub -p "$port" -u n1 -P n1-pw -i qos2 -t node/n1/q2 -m x -q 2
sync_events
check "QoS 2 publisher: one session" test -n "$(expect_session qos2 1)"

# A client whose only action is a publish the ACL denies is not reported (documented limit).
pub n1 deny1 node/n2/denied x
sync_events
check "denied-only publisher: no events" \
    test "$(count_events connected deny1)/$(count_events disconnected deny1)" == 0/0

# SUBSCRIBE counts, even for a topic the client may not read.
timeout 5 mosquitto_sub -p "$port" -u n1 -P n1-pw -i sub1 -t 'node/n2/#' -E >/dev/null
sync_events
check "subscribe-only client: one session" test -n "$(expect_session sub1 1)"

# An offline persistent session: messages queued for it are READ-checked against its context;
# that must not report it as connected. Its next connection is a new session.
timeout 5 mosquitto_sub -p "$port" -u n1 -P n1-pw -i pers1 -c -q 1 -t node/n1/persist -E >/dev/null
pub n1 pers-pub node/n1/persist queued-while-offline
sync_events
check "offline persistent session: not reported by queued deliveries" \
    test "$(count_events connected pers1)/$(count_events disconnected pers1)" == 1/1
timeout 5 mosquitto_sub -p "$port" -u n1 -P n1-pw -i pers1 -c -q 1 -t node/n1/persist -C 1 >/dev/null
sync_events
check "offline persistent session: reconnect is a new session" \
    test -n "$(expect_session pers1 2)" -a "$(count_events connected pers1)" -eq 2

# Session takeover: a second connection with the same client id ends the first one. Mosquitto
# 2.0.11 ends the old session while handling the new CONNECT, so the order is c1 d1 c2 d2; the
# versionNumber lets a consumer order them whatever the arrival order.
raw_connect tk1 n1
raw_publish node/n1/params/local '{}'
wait_until has_events connected tk1 1
pub n1 tk1 node/n1/params/local '{}'
sync_events
raw_close
tk_first="$(expect_session tk1 1)"
tk_second="$(expect_session tk1 2)"
check "takeover: two sessions, each ended with its own versionNumber" \
    test -n "$tk_first" -a -n "$tk_second" -a "${tk_second:-0}" -gt "${tk_first:-0}"
check "takeover: no third session" test "$(count_events connected tk1)" -eq 2

# The plugin always defers, so the acl_file still decides.
pub n1 acl1 node/n2/x denied
pub n1 acl1 node/n1/x allowed
check "acl: allowed publish is delivered" wait_until grep -qx "node/n1/x allowed" "$watched"
check "acl: n1 cannot publish to node/n2/x" bash -c "! grep -q '^node/n2/x' '$watched'"
check "acl: broker logs the denial" grep -q "Denied PUBLISH from acl1 .*'node/n2/x'" "$work/main.log"
pub n1 forger "${kPrefix}connected/n2" '{"clientId":"n2"}'
sync_events
check "acl: a node cannot forge presence events" test "$(count_events connected n2)" -eq 0

# The ignored username (the server's own link) produces no events.
pub server srv1 node/n1/params/remote '{}'
sync_events
check "ignored username: no events" test "$(count_events connected srv1)/$(count_events disconnected srv1)" == 0/0
check "ignored username: its own subscriber is not reported either" \
    bash -c "! grep -q '\"principalIdentifier\":\"server\"' '$events'"

# Odd client ids: JSON-escaped in the payload; '/', '+', '#' become '_' in the topic.
odd_id='we"ird\id/+#é'
pub n1 "$odd_id" node/n1/params/local '{}'
sync_events
odd_connected="$(events_for connected 'we"ird\id___é' | head -1)"
check "odd client id: topic level sanitised" test -n "$odd_connected"
check "odd client id: JSON-escaped in payload" \
    test "$(field "$odd_connected" clientId)" == 'we\"ird\\id/+#é'
check "odd client id: one session" test -n "$(expect_session 'we"ird\id___é' 1)"

# The broker keeps both behaviours after a configuration reload (SIGHUP).
kill -HUP "$broker_pid"
wait_until grep -q "Reloading config" "$work/main.log"
pub n1 reload1 node/n1/params/local '{}'
pub n1 reload1 node/n2/y denied-after-reload
sync_events
check "after reload: events still published" test -n "$(expect_session reload1 1)"
check "after reload: acl_file still enforced" bash -c "! grep -q '^node/n2/y' '$watched'"

check "every event is well-formed JSON of the documented shape" all_events_well_formed

# The broker's run: its start, retained at <prefix>run, is the time sessionIdentifiers start with.
run_line="$(grep -m1 "^${kPrefix}run	" "$events" || true)"
run_ms="$(sed -n 's/^.*{"runStartedAt":\([0-9]*\)}$/\1/p' <<<"$run_line")"
check "run: the broker's start is retained at ${kPrefix}run" test -n "$run_ms"
check "run: sessionIdentifiers start with it" \
    test "$(field "$(events_for connected n1 | head -1)" sessionIdentifier | cut -d- -f1)" == "$run_ms"
late_run="$(timeout 5 mosquitto_sub -p "$port" -u server -P server-pw -t "${kPrefix}run" -C 1 -W 4 || true)"
check "run: a later subscriber gets it too (retained)" test "$late_run" == "{\"runStartedAt\":$run_ms}"

# rewrite_basic_ingest: a node's basic-ingest publish goes on in the plain spelling, after the
# ACL check of the spelling it was sent in.
pub n1 rw1 '$aws/rules/esp_set_params/node/n1/params/local' rewritten
pub n1 rw1 '$aws/rules/esp_set_params/node/n2/params/local' denied-basic-ingest
pub n1 rw1 '$aws/rules//node/n1/params/local' no-rule
check "basic ingest: passed on as node/n1/params/local" \
    wait_until grep -qx "node/n1/params/local rewritten" "$watched"
check "basic ingest: another node's topic is still denied" \
    bash -c "! grep -q 'denied-basic-ingest' '$watched'"
check "basic ingest: an empty rule name is not rewritten" bash -c "! grep -q 'no-rule' '$watched'"
stop_subscribers
check "broker 1 exits cleanly" stop_broker

# ============================================================================================
# Broker 2: plugin_opt_topic_prefix.

event_prefix="test/presence/"
start_broker prefix "acl_file $work/acl
plugin_opt_topic_prefix test/presence/" || abort "broker 2 starts"
start_subscribers "test/presence/"
ready=1
for _ in 1 2 3 4 5; do sync_events && ready=0 && break; done
check "topic_prefix: events published under test/presence/" test "$ready" -eq 0
pub n1 n1 node/n1/params/local '{}'
sync_events
check "topic_prefix: n1 session" test -n "$(expect_session n1 1)"
check "topic_prefix: nothing under the default prefix" bash -c "! grep -q '^\\\$aws/' '$events'"
stop_subscribers
check "broker 2 exits cleanly" stop_broker

# ============================================================================================
# Broker 3: no acl_file. Every ACL check reaches the plugin, which defers; with no other
# plugin the broker must deny, i.e. deferring grants nothing.

start_broker defer "" || abort "broker 3 starts"
pub n1 n1 node/n1/x nobody-may-read-this
suback="$(timeout 5 mosquitto_sub -p "$port" -u n1 -P n1-pw -i n1 -t node/n1/x -E 2>&1)"
check "defer only: the plugin saw the checks" grep -q "rainmaker_presence: .*connected/n1 " "$work/defer.log"
check "defer only: the publish is denied" grep -q "Denied PUBLISH from n1 .*'node/n1/x'" "$work/defer.log"
check "defer only: the subscription is denied" grep -q "All subscription requests were denied" <<<"$suback"
check "broker 3 exits cleanly" stop_broker

report_and_exit
