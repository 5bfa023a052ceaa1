#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through check, wait_until and the exit trap
# Black-box test of the rainmaker_revocation Mosquitto plugin: makes a CA, a server certificate
# and node certificates with openssl, starts the installed mosquitto with a TLS node listener
# (client certificates, use_identity_as_username, use_username_as_clientid, crlfile, acl_file,
# rainmaker_revocation then rainmaker_presence) and a password listener for the server, and checks
# that revoking a serial in a rewritten CRL plus SIGHUP closes that node's live connection at once
# while the other nodes stay connected.
#
#   revocation_plugin_test.sh REVOCATION_SO PRESENCE_SO
#
# Prints one line per check and "N passed, M failed"; exits non-zero if any check failed.
# Every wait is bounded; every process started here is killed on exit. The helpers shared with
# presence_plugin_test.sh (checks, waits, clean-up, broker start) are in plugin_test_lib.sh.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=plugin_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/plugin_test_lib.sh"

readonly kKickSteps=20   # x 0.05 s = the 1 s a revoked live connection has to be closed in
readonly kSerialA=F1E2D3C4B5A697  # high bit set: its DER INTEGER carries a 00 pad byte
readonly kSerialA2=0A02
readonly kSerialB=0102030405

[[ $# -eq 2 && -f "$1" && -f "$2" ]] || {
    echo "usage: $0 REVOCATION_SO PRESENCE_SO" >&2
    exit 2
}
require_tools mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd openssl timeout
setup_work_dir
install_plugin "$1" rainmaker_revocation
install_plugin "$2" rainmaker_presence

node_port=""
server_port=""

# --- certificates ------------------------------------------------------------------------------

make_ca() {  # make_ca DIR CN: a CA with an `openssl ca` database for making CRLs
    local dir="$1"
    mkdir -p "$dir"
    cat >"$dir/ca.cnf" <<EOF
[ca]
default_ca = rm_ca
[rm_ca]
database = $dir/index.txt
crlnumber = $dir/crlnumber
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 30
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
subjectAltName = DNS:localhost, IP:127.0.0.1
[v3_client]
extendedKeyUsage = clientAuth
EOF
    : >"$dir/index.txt"
    echo 1000 >"$dir/crlnumber"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=$2" \
        -config "$dir/ca.cnf" -extensions v3_ca 2>/dev/null
}

issue() {  # issue CA_DIR NAME CN SERIAL_HEX EXTENSIONS: writes $work/NAME.{pem,key}
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$work/$2.key" -out "$work/$2.csr" -subj "/CN=$3" 2>/dev/null &&
        openssl x509 -req -in "$work/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
            -set_serial "0x$4" -days 2 -out "$work/$2.pem" \
            -extfile "$1/ca.cnf" -extensions "$5" 2>/dev/null
}

# write_crl CA_DIR TARGET SERIAL_HEX...: a CRL of CA_DIR revoking these serials, installed at
# TARGET with a rename, as the server must do, so that the broker never reads half a file.
write_crl() {
    local dir="$1" target="$2" serial
    shift 2
    : >"$dir/index.txt"
    for serial in "$@"; do
        printf 'R\t301231235959Z\t250101000000Z\t%s\tunknown\t/CN=revoked\n' "$serial" >>"$dir/index.txt"
    done
    openssl ca -gencrl -config "$dir/ca.cnf" -out "$target.tmp" 2>/dev/null || return 1
    chmod 644 "$target.tmp"
    mv -f "$target.tmp" "$target"
}

make_ca "$work/ca" rainmaker-test-ca || abort "make the CA"
make_ca "$work/other-ca" some-other-ca || abort "make the second CA"
issue "$work/ca" server localhost 01 v3_server || abort "issue the server certificate"
issue "$work/ca" a node-a "$kSerialA" v3_client || abort "issue node-a's certificate"
issue "$work/ca" a2 node-a "$kSerialA2" v3_client || abort "issue node-a's second certificate"
issue "$work/ca" b node-b "$kSerialB" v3_client || abort "issue node-b's certificate"
check "openssl: node-a's serial is $kSerialA" \
    test "$(openssl x509 -in "$work/a.pem" -noout -serial)" == "serial=$kSerialA"
chmod 644 "$work"/*.pem "$work"/*.key "$work/ca/ca.pem"

# The server's own link: a password listener, like rainmaker-server's internal one.
mosquitto_passwd -c -b "$work/passwd" server server-pw >/dev/null
cat >"$work/internal.acl" <<'EOF'
user server
topic readwrite #
topic readwrite $aws/#
EOF
cat >"$work/nodes.acl" <<'EOF'
pattern readwrite node/%u/#
EOF
chmod 644 "$work/passwd" "$work/internal.acl" "$work/nodes.acl"

# --- broker -----------------------------------------------------------------------------------

# start_broker NAME NODE_LISTENER_EXTRA: starts mosquitto on two free ports with the node
# listener (TLS, then NODE_LISTENER_EXTRA: crlfile and the plugins) and the server's listener.
# Sets broker_pid, node_port, server_port and log.
start_broker() {
    start_mosquitto "$1" 2 broker_config "$2" || return 1
    node_port="$broker_port"
    server_port=$((broker_port + 1))
}

broker_config() {  # broker_config NODE_PORT NODE_LISTENER_EXTRA; the server's port follows
    cat <<EOF
per_listener_settings true
persistence false
log_dest stderr
log_type all
connection_messages true

listener $1 127.0.0.1
cafile $work/ca/ca.pem
certfile $work/server.pem
keyfile $work/server.key
require_certificate true
use_identity_as_username true
use_username_as_clientid true
allow_anonymous false
acl_file $work/nodes.acl
$2

listener $(($1 + 1)) 127.0.0.1
allow_anonymous false
password_file $work/passwd
acl_file $work/internal.acl
EOF
}

# reload_broker: sends SIGHUP and waits until the plugin has handled the reload (the broker logs
# "Reloading config." before its plugins see the event).
reload_broker() {
    local before
    before="$(grep -c "rainmaker_revocation: reload" "$log")"
    kill -HUP "$broker_pid"
    wait_until bash -c "test \$(grep -c 'rainmaker_revocation: reload' '$log') -gt $before"
}

# --- clients ----------------------------------------------------------------------------------

node_args() {  # node_args CERT_NAME: TLS options of a node client
    echo --cafile "$work/ca/ca.pem" --cert "$work/$1.pem" --key "$work/$1.key"
}

# start_node CERT_NAME CN [ARGS...]: a long-running node subscriber on node/CN/#, writing what it
# receives to $work/CERT_NAME.out and its errors to .err; sets node_pid.
node_pid=""
start_node() {
    local name="$1" cn="$2"
    shift 2
    # shellcheck disable=SC2046  # node_args is a list of words
    mosquitto_sub -p "$node_port" $(node_args "$name") -q 1 -t "node/$cn/#" -v "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    node_pid=$!
    pids+=("$node_pid")
}

# try_node CERT_NAME CN [ARGS...]: one short subscription attempt; prints what it received.
try_node() {
    local name="$1" cn="$2"
    shift 2
    # shellcheck disable=SC2046
    timeout 5 mosquitto_sub -p "$node_port" $(node_args "$name") -q 1 -t "node/$cn/#" -v \
        -C 1 -W 2 "$@" 2>/dev/null
}

server_pub() {  # server_pub TOPIC MESSAGE: publishes through the server's password listener
    timeout 5 mosquitto_pub -p "$server_port" -u server -P server-pw -t "$1" -m "$2" -q 1
}

received() { grep -qx "$2" "$work/$1.out"; }  # received CERT_NAME "TOPIC MESSAGE"

# The presence plugin logs every event it publishes (log_type all), so the broker log is the
# record of what it reported, whatever the ACLs of a subscriber.
presence_count() {  # presence_count connected|disconnected CN
    grep -c "rainmaker_presence: \\\$aws/events/presence/$1/$2 " "$log"
}
kick_count() { grep -c "rainmaker_revocation: disconnecting $1: certificate serial $2 is revoked" "$log"; }
logged() { grep -q "$1" "$log"; }
logged_times() { [[ "$(grep -c "$1" "$log")" -ge "$2" ]]; }
count_in_log() { grep -c "$1" "$log"; }
# For wait_until, which must re-run the count at each poll:
presence_is() { [[ "$(presence_count "$1" "$2")" -eq "$3" ]]; }  # presence_is KIND CN N
log_count_above() { [[ "$(count_in_log "$1")" -gt "$2" ]]; }     # log_count_above PATTERN N

# roundtrip CERT_NAME CN TAG: the node subscribes, the server publishes TAG, the node gets it.
roundtrip() {
    local name="$1" cn="$2" tag="$3" pid before rc
    before="$(count_in_log "Sending SUBACK to $cn")"
    start_node "$name" "$cn"
    pid="$node_pid"
    wait_until log_count_above "Sending SUBACK to $cn" "$before"
    server_pub "node/$cn/m" "$tag"
    wait_until received "$name" "node/$cn/m $tag"
    rc=$?
    stop_pids "$pid"
    return "$rc"
}

# Raw MQTT over `openssl s_client`, for a client that connects with a will, never acts and never
# reconnects (mosquitto_pub and mosquitto_sub would). Short ASCII strings only; byte and
# mqtt_string are in the lib.
mqtt_connect_with_will() {  # mqtt_connect_with_will WILL_TOPIC WILL_MESSAGE (MQTT 3.1.1)
    byte 0x10 && byte $((10 + 2 + 4 + 2 + ${#1} + 2 + ${#2}))
    printf '\x00\x04MQTT\x04\x06\x00\x3c'  # will flag + clean session, keepalive 60 s
    mqtt_string idle && mqtt_string "$1" && mqtt_string "$2"
}

# ============================================================================================
# Broker 1: the production shape. The listener's crlfile and the plugin read the same CRL.

crl="$work/crl.pem"
write_crl "$work/ca" "$crl" || abort "write an empty CRL"
start_broker main "crlfile $crl
plugin $work/rainmaker_revocation.so
plugin_opt_crl_file $crl
plugin_opt_ca_file $work/ca/ca.pem
plugin $work/rainmaker_presence.so
plugin_opt_ignore_username server" || abort "broker 1 starts"
check "plugin loads: empty CRL, signature checked" \
    logged "rainmaker_revocation: 0 revoked serial(s) from $crl, signature checked"

# Both nodes connect, subscribe and receive; the presence plugin reports both.
start_node a node-a
pid_a="$node_pid"
start_node b node-b -V mqttv5
pid_b="$node_pid"
check "node-a reported connected" wait_until presence_is connected node-a 1
check "node-b reported connected" wait_until presence_is connected node-b 1
server_pub node/node-a/m before-a
server_pub node/node-b/m before-b
check "node-a receives" wait_until received a "node/node-a/m before-a"
check "node-b receives" wait_until received b "node/node-b/m before-b"

# Revoke node-a's serial: its live connection is closed within a second of the SIGHUP.
write_crl "$work/ca" "$crl" "$kSerialA" || abort "write a CRL revoking node-a"
start_ns="$(date +%s%N)"
kill -HUP "$broker_pid"
closed=1
for ((i = 0; i < kKickSteps; i++)); do
    if [[ "$(presence_count disconnected node-a)" -ge 1 ]]; then
        closed=0
        break
    fi
    sleep 0.05
done
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
check "revoked: node-a's live connection closed within 1 s of SIGHUP (${elapsed_ms} ms)" \
    test "$closed" -eq 0
check "revoked: plugin re-read the CRL on reload" \
    wait_until logged "rainmaker_revocation: reloaded $crl: 1 revoked serial(s)"
check "revoked: plugin kicked node-a, naming its serial" test "$(kick_count node-a "$kSerialA")" -eq 1
check "revoked: the broker closed it as an administrative action" \
    logged "Client node-a been disconnected by administrative action"
check "revoked: node-a's client saw the connection drop" \
    wait_until grep -q "connection was lost" "$work/a.err"
stop_pids "$pid_a"

# node-b stays connected across the SIGHUP and keeps working.
server_pub node/node-b/m after-revocation
check "node-b receives after the SIGHUP" wait_until received b "node/node-b/m after-revocation"
check "node-b's subscriber is still running" kill -0 "$pid_b"
check "node-b: one connection, never disconnected" \
    test "$(presence_count connected node-b)/$(presence_count disconnected node-b)" == 1/0

# node-a cannot come back: the broker itself now refuses the certificate at the TLS handshake.
out="$(try_node a node-a)"
server_pub node/node-a/m after-revocation
check "node-a reconnecting: refused, receives nothing" test -z "$out"
check "node-a reconnecting: the TLS handshake fails" logged "certificate verify failed"
check "node-a reconnecting: never reported connected again" test "$(presence_count connected node-a)" -eq 1

# A CRL file the plugin cannot read at reload: it keeps its previous list. (Mosquitto 2.0.11 then
# runs without any CRL until the next good reload: the plugin is what keeps node-a out.)
printf 'not a CRL\n' >"$crl.tmp"
chmod 644 "$crl.tmp"
mv -f "$crl.tmp" "$crl"
check "bad CRL: reload happens" reload_broker
check "bad CRL: plugin keeps the previous list" \
    logged "rainmaker_revocation: reload: not a PEM CRL file: .*; keeping the previous 1 revoked serial(s)"
out="$(try_node a node-a)"
server_pub node/node-a/m after-bad-crl
check "bad CRL: node-a still receives nothing" test -z "$out"
check "bad CRL: node-a never reported connected" test "$(presence_count connected node-a)" -eq 1
server_pub node/node-b/m after-bad-crl
check "bad CRL: node-b still connected and receiving" \
    wait_until received b "node/node-b/m after-bad-crl"

# The serial is taken off the CRL: node-a may connect again.
write_crl "$work/ca" "$crl" || abort "write an empty CRL again"
check "unrevoked: reload happens" reload_broker
check "unrevoked: plugin list is empty again" logged_times "reloaded $crl: 0 revoked serial(s)" 1
start_node a node-a
pid_a="$node_pid"
check "unrevoked: node-a reported connected" wait_until presence_is connected node-a 2
server_pub node/node-a/m unrevoked
check "unrevoked: node-a receives" wait_until received a "node/node-a/m unrevoked"
stop_pids "$pid_a" "$pid_b"
check "broker 1 exits cleanly" stop_broker

# ============================================================================================
# Broker 2: no crlfile on the listener, so a revoked certificate passes the TLS handshake and only
# the plugin stands in its way: its ACL checks, in front of the presence plugin's.

crl2="$work/crl2.pem"
write_crl "$work/ca" "$crl2" "$kSerialA" || abort "write a CRL revoking node-a"
start_broker plugin-only "plugin $work/rainmaker_revocation.so
plugin_opt_crl_file $crl2
plugin $work/rainmaker_presence.so
plugin_opt_ignore_username server" || abort "broker 2 starts"
check "plugin only: 1 revoked serial at start" \
    logged "rainmaker_revocation: 1 revoked serial(s) from $crl2"
start_node b node-b
pid_b="$node_pid"
check "plugin only: node-b reported connected" \
    wait_until presence_is connected node-b 1

# SUBSCRIBE: denied, and the client is disconnected at once, before the presence plugin sees it.
out="$(try_node a node-a)"
check "plugin only: node-a's subscriber receives nothing" test -z "$out"
check "plugin only: node-a connected at the TLS level" logged "New client connected from .* as node-a "
check "plugin only: node-a kicked at its SUBSCRIBE" \
    wait_until logged "rainmaker_revocation: disconnecting node-a: certificate serial $kSerialA"
check "plugin only: node-a never reported connected" test "$(presence_count connected node-a)" -eq 0

# PUBLISH: denied; READ and WRITE checks never kick (see rainmaker_revocation.c), so the client
# stays until it acts otherwise, but nothing it sends gets through.
mosquitto_sub -p "$server_port" -u server -P server-pw -t 'node/node-a/#' -v >"$work/server.out" &
pid_server=$!
pids+=("$pid_server")
wait_until logged_times "Sending SUBACK to auto-" 1
# shellcheck disable=SC2046
timeout 5 mosquitto_pub -p "$node_port" $(node_args a) -t node/node-a/p -m forged -q 1
server_pub node/node-a/p from-server
check "plugin only: the server's own message arrives" \
    wait_until grep -qx "node/node-a/p from-server" "$work/server.out"
check "plugin only: node-a's publish is denied" \
    bash -c "! grep -q forged '$work/server.out'"
check "plugin only: the denial is logged once" \
    logged "rainmaker_revocation: denying every request of node-a: certificate serial $kSerialA"
check "plugin only: publishing never reports node-a connected" \
    test "$(presence_count connected node-a)" -eq 0

# MQTT 5 with a persistent session and several filters in one SUBSCRIBE: kicked, broker fine.
before="$(kick_count node-a "$kSerialA")"
out="$(try_node a node-a -V mqttv5 -i node-a -c -x 60 -t node/node-a/x -t node/node-a/y)"
check "plugin only: MQTT 5 persistent session kicked too" \
    test -z "$out" -a "$(kick_count node-a "$kSerialA")" -gt "$before"
# The broker goes on with the rest of that SUBSCRIBE packet after the kick, without the TLS
# session: those filters must be denied too, and the presence plugin must not see them.
check "plugin only: no filter of the kicked SUBSCRIBE granted" \
    bash -c "! grep -q 'node-a [0-9] node/node-a/' '$log'"
check "plugin only: the kicked session never reported connected" \
    test "$(presence_count connected node-a)" -eq 0

# A revoked connection that never acts, with a will, is taken over by node-a's new certificate:
# the broker checks the old connection's will (a WRITE check, its certificate still there) while
# it handles the new CONNECT. The plugin must deny the will there, and must not kick.
mkfifo "$work/idle.in"
before="$(count_in_log "New client connected from .* as node-a ")"
openssl s_client -quiet -connect "127.0.0.1:$node_port" -CAfile "$work/ca/ca.pem" \
    -cert "$work/a.pem" -key "$work/a.key" <"$work/idle.in" >"$work/idle.out" 2>"$work/idle.err" &
pid_idle=$!
pids+=("$pid_idle")
exec {idle_fd}>"$work/idle.in"
mqtt_connect_with_will node/node-a/will revoked-will >&"$idle_fd"
check "takeover: the revoked idle client is connected" \
    wait_until log_count_above "New client connected from .* as node-a " "$before"
start_node a2 node-a
pid_a2="$node_pid"
check "takeover: the old connection is closed" \
    wait_until logged "Client node-a already connected, closing old connection"
check "takeover: node-a with its new certificate reported connected" \
    wait_until presence_is connected node-a 1
server_pub node/node-a/m new-cert
check "takeover: node-a with its new certificate receives" \
    wait_until received a2 "node/node-a/m new-cert"
check "takeover: the revoked connection's will is not published" \
    bash -c "! grep -q revoked-will '$work/server.out'"
check "takeover: broker still running" kill -0 "$broker_pid"
exec {idle_fd}>&-
stop_pids "$pid_a2" "$pid_idle"

# A missing CRL file at reload: the plugin keeps its list.
rm -f "$crl2"
check "missing CRL: reload happens" reload_broker
check "missing CRL: plugin keeps the previous list" \
    logged "rainmaker_revocation: reload: cannot open $crl2: No such file or directory; keeping the previous 1 revoked serial(s)"
out="$(try_node a node-a)"
check "missing CRL: node-a still refused" test -z "$out"
server_pub node/node-b/m end
check "node-b still receiving" wait_until received b "node/node-b/m end"
stop_pids "$pid_b" "$pid_server"
check "broker 2 exits cleanly" stop_broker

# ============================================================================================
# Broker 3: plugin_opt_ca_file. The plugin rejects a CRL that the CA did not sign, at reload
# (previous list kept) and at start (the broker does not start).

crl3="$work/crl3.pem"
write_crl "$work/ca" "$crl3" "$kSerialA" || abort "write a CRL revoking node-a"
start_broker ca-check "plugin $work/rainmaker_revocation.so
plugin_opt_crl_file $crl3
plugin_opt_ca_file $work/ca/ca.pem" || abort "broker 3 starts"
write_crl "$work/other-ca" "$crl3" "$kSerialB" || abort "write another CA's CRL revoking node-b"
check "ca_file: reload happens" reload_broker
check "ca_file: another CA's CRL rejected, previous list kept" \
    logged "rainmaker_revocation: reload: a CRL in the file was not issued by the CA of plugin_opt_ca_file; keeping the previous 1 revoked serial(s)"
check "ca_file: node-b, revoked only by the rejected CRL, still works" roundtrip b node-b ca-check
check "broker 3 exits cleanly" stop_broker

start_broker bad-start "plugin $work/rainmaker_revocation.so
plugin_opt_crl_file $crl3
plugin_opt_ca_file $work/ca/ca.pem" 2>/dev/null
check "ca_file: another CA's CRL at start stops the broker" \
    logged "rainmaker_revocation: a CRL in the file was not issued by the CA of plugin_opt_ca_file"
check "ca_file: ... and the broker is not running" bash -c "! kill -0 $broker_pid 2>/dev/null"

# ============================================================================================
# Broker 4: no CRL file at start is an empty list.

missing="$work/no-such-crl.pem"
start_broker missing-start "plugin $work/rainmaker_revocation.so
plugin_opt_crl_file $missing" || abort "broker 4 starts"
check "missing CRL at start: an empty list" \
    logged "rainmaker_revocation: cannot open $missing: No such file or directory; no serial revoked yet"
check "missing CRL at start: node-b works" roundtrip b node-b no-crl
check "broker 4 exits cleanly" stop_broker

report_and_exit
