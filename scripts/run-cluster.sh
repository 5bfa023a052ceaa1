#!/usr/bin/env bash
# make run-cluster: the scaled-out shape on one machine, in the foreground until Ctrl-C —
#   - a PostgreSQL 15 (tests/support/postgres_server.sh, durable; it lives as long as the cluster);
#   - an external Mosquitto serving the nodes (TLS with the cluster's CA, our plugins and ACLs:
#     `rainmaker-server admin broker-config` writes its files);
#   - two rainmaker-server instances on that database and that broker (shared subscriptions split
#     the node messages between them);
#   - nginx in front, balancing requests over the instances and retrying an idempotent one on the
#     other instance when the first fails to answer.
# Environment: RAINMAKER_HTTP_PORT (the proxy, default 8080), RAINMAKER_MQTT_PORT (the broker's
# node listener, default 8883), RAINMAKER_DATA_DIR (default ./data-cluster); under it, cluster/
# holds the broker, the proxy, each instance's data directory and log, and each instance's pid in
# cluster/instance-<n>.pid. RAINMAKER_SERVER_BIN: the binary (default build/release).
# A demonstration: every run starts afresh (cluster/ is emptied: the database is a new one, so
# are the keys and the broker's state), and PostgreSQL trusts every local TCP connection.
set -euo pipefail
umask 077  # the instances' configurations hold the link's password

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$(realpath -m "${RAINMAKER_DATA_DIR:-$root/data-cluster}")"
http_port="${RAINMAKER_HTTP_PORT:-8080}"
mqtt_port="${RAINMAKER_MQTT_PORT:-8883}"
bin="${RAINMAKER_SERVER_BIN:-$root/build/release/bin/rainmaker-server}"
instances=2
cluster="$data/cluster"

for tool in mosquitto nginx psql python3 "$bin"; do
    command -v "$tool" >/dev/null || {
        echo "run-cluster: $tool is missing (make run-cluster installs and builds what it needs)" >&2
        exit 2
    }
done
[[ "$cluster" == */cluster && "$cluster" != /cluster ]] || exit 2
rm -rf "$cluster"
mkdir -p "$cluster"

note() { echo "run-cluster: $*"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {  # wait_port PORT WHAT PIDFILE: until something accepts on PORT (30 s)
    local i
    for ((i = 0; i < 300; i++)); do
        (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        if [[ -f "$3" ]] && ! kill -0 "$(cat "$3")" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "run-cluster: $2 did not start on port $1" >&2
    return 1
}

stop_pidfile() {  # stop_pidfile FILE: SIGTERM the process it names, wait up to 10 s
    local pid i
    [[ -f "$1" ]] || return 0
    pid="$(cat "$1")"
    if kill "$pid" 2>/dev/null; then
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

cleanup() {
    trap - EXIT INT TERM
    note "stopping"
    stop_pidfile "$cluster/nginx.pid"
    for ((n = 1; n <= instances; n++)); do
        stop_pidfile "$cluster/instance-$n.pid"
    done
    stop_pidfile "$cluster/broker.pid"
    bash "$root/tests/support/postgres_server.sh" stop "$cluster/postgres" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL (durable: every commit flushed) ----------------------------------------------
RAINMAKER_PG_DURABLE=1 bash "$root/tests/support/postgres_server.sh" start "$cluster/postgres"
admin_url="$(cat "$cluster/postgres/url")"
psql -q "$admin_url" -c 'CREATE DATABASE rainmaker'
db_url="${admin_url%/*}/rainmaker"
note "PostgreSQL at $db_url"

# --- the broker's files, signed by the cluster's CA ---------------------------------------------
# Instance 1's data directory makes the CA and the token-signing key; the others get copies (the
# keys are files of a data directory until they live in the database).
export RAINMAKER_DATABASE_URL="$db_url" RAINMAKER_MQTT_PORT="$mqtt_port"
"$bin" --data-dir "$cluster/instance-1" --log-level warn admin broker-config --out "$cluster/broker" >/dev/null
for ((n = 2; n <= instances; n++)); do
    mkdir -p "$cluster/instance-$n"
    chmod 700 "$cluster/instance-$n"
    for keys in keys tls; do
        rm -rf "${cluster:?}/instance-$n/$keys"
        cp -a "$cluster/instance-1/$keys" "$cluster/instance-$n/$keys"
    done
done

# --- Mosquitto ----------------------------------------------------------------------------------
link_port="$(cat "$cluster/broker/link-port")"
mosquitto -c "$cluster/broker/mosquitto.conf" >"$cluster/broker.log" 2>&1 &
echo $! >"$cluster/broker.pid"
wait_port "$link_port" mosquitto "$cluster/broker.pid"
note "Mosquitto: nodes on port $mqtt_port (TLS), the instances' listener on $link_port"

# --- the instances -------------------------------------------------------------------------------
mkdir -p "$cluster/blobs"
upstreams=""
for ((n = 1; n <= instances; n++)); do
    port="$(free_port)"
    cat >"$cluster/instance-$n.toml" <<EOF
# Written by make run-cluster.
[http]
port = $port
https_port = $(free_port)
address = "127.0.0.1"
trusted_proxies = ["127.0.0.1"]

[storage]
backend = "postgres"
url = "$db_url"
blob_dir = "$cluster/blobs"

[mqtt]
embedded = false
external_host = "127.0.0.1"
external_port = $link_port
external_user = "rainmaker-server"
external_password = "$(cat "$cluster/broker/link-password")"
EOF
    chmod 600 "$cluster/instance-$n.toml"
    RAINMAKER_HTTP_PORT="$port" "$bin" --config "$cluster/instance-$n.toml" \
        --data-dir "$cluster/instance-$n" >"$cluster/instance-$n.log" 2>&1 &
    echo $! >"$cluster/instance-$n.pid"
    wait_port "$port" "instance $n" "$cluster/instance-$n.pid"
    note "instance $n: pid $(cat "$cluster/instance-$n.pid"), http://127.0.0.1:$port, log $cluster/instance-$n.log"
    upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
done

# --- nginx --------------------------------------------------------------------------------------
mkdir -p "$cluster/nginx/temp"
# As root, nginx's workers would run as nobody, who cannot reach the temporary paths below.
run_as=""
[[ "$(id -u)" -eq 0 ]] && run_as="user root;"
cat >"$cluster/nginx/nginx.conf" <<EOF
# Written by make run-cluster.
$run_as
worker_processes 1;
pid $cluster/nginx.pid;
error_log $cluster/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $cluster/nginx/temp/body;
    proxy_temp_path $cluster/nginx/temp/proxy;
    fastcgi_temp_path $cluster/nginx/temp/fastcgi;
    uwsgi_temp_path $cluster/nginx/temp/uwsgi;
    scgi_temp_path $cluster/nginx/temp/scgi;
    upstream rainmaker {
$upstreams        keepalive 32;
    }
    server {
        listen 127.0.0.1:$http_port;
        client_max_body_size 0;
        location / {
            proxy_pass http://rainmaker;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            # An instance that fails to answer: an idempotent request (GET, PUT, DELETE...) is
            # tried on the other one; nginx never retries a POST or PATCH.
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 1s;
        }
    }
}
EOF
nginx -c "$cluster/nginx/nginx.conf" -p "$cluster/nginx" -g 'daemon off;' &
echo $! >"$cluster/nginx.pid"
wait_port "$http_port" nginx "$cluster/nginx.pid"
note "ready: the API on http://127.0.0.1:$http_port (nginx over $instances instances), devices on port $mqtt_port; Ctrl-C stops everything"
note "an account: $bin --data-dir $cluster/instance-1 admin create-user --user-name you@example.com --password ... (with RAINMAKER_DATABASE_URL=$db_url)"

# In the foreground until a signal; an instance that dies is reported (the proxy serves on).
while true; do
    for ((n = 1; n <= instances; n++)); do
        pidfile="$cluster/instance-$n.pid"
        if [[ -f "$pidfile" ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            note "instance $n exited (see $cluster/instance-$n.log)"
            rm -f "$pidfile"
        fi
    done
    sleep 1
done
