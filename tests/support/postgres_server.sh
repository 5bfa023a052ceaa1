#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests, one per directory:
#   postgres_server.sh start DIR   starts a fresh server on a free 127.0.0.1 port and writes its
#                                  URL (postgresql://rainmaker@127.0.0.1:PORT/postgres) to DIR/url
#   postgres_server.sh stop DIR    stops it and removes DIR; succeeds when nothing runs
# CTest runs these as the "postgres" fixture (tests/CMakeLists.txt).
#
# The cluster itself (data, unix socket, log) lives in a mktemp directory under /tmp that
# DIR/datadir names, not in DIR: run as root, the server runs as the "postgres" user (initdb
# refuses root), which cannot reach a DIR under a root-only path such as /root; and a unix socket
# path must fit in 107 bytes, which a deep build tree can exceed. DIR holds only the pointer and
# the URL, both readable by all. Tests connect over TCP with trust auth, as superuser rainmaker.
set -euo pipefail

readonly kStartTries=5     # ports tried when the chosen one is taken before the server binds it
readonly kReadySeconds=30  # how long the server has to accept connections
readonly kRootPrefix=/tmp/rainmaker-pg.

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[[ $# -eq 2 && -n "$2" && "$2" != / ]] || usage
action="$1"
dir="$2"

# Debian's server binaries are not on the PATH; pg_config (libpq-dev) knows where they are.
bindir=/usr/lib/postgresql/15/bin
if [[ ! -x "$bindir/initdb" ]] && command -v pg_config >/dev/null; then
    bindir="$(pg_config --bindir)"
fi

as_server() {  # as_server COMMAND...: runs COMMAND as the server's user, from / (its cwd may be root-only)
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

stop_server() {  # stops the server DIR/datadir names, if any, and removes it and DIR
    local root=""
    [[ -f "$dir/datadir" ]] && root="$(cat "$dir/datadir")"
    # Only ever remove what start made: a damaged pointer must not name something else.
    if [[ "$root" == "$kRootPrefix"* && "$root" != *..* && -d "$root" ]]; then
        if [[ -f "$root/data/postmaster.pid" ]] \
            && as_server "$bindir/pg_ctl" status -D "$root/data" >/dev/null 2>&1; then
            # A postmaster killed outright can linger as a zombie that pg_ctl takes for running
            # and waits on: give up after a while, and kill the pid only if it is still this
            # server (a zombie's or a stranger's command line does not name this data dir).
            if ! as_server "$bindir/pg_ctl" stop -D "$root/data" -m immediate -w -t 10 \
                >/dev/null 2>&1; then
                local pid
                pid="$(head -n 1 "$root/data/postmaster.pid" 2>/dev/null || true)"
                if [[ "$pid" =~ ^[0-9]+$ ]] && grep -qF -- "$root/data" "/proc/$pid/cmdline" 2>/dev/null; then
                    as_server kill -KILL "$pid" 2>/dev/null || true
                fi
            fi
        fi
        rm -rf "$root"
    fi
    rm -rf "$dir"
}

free_port() {  # prints a loopback TCP port nothing listens on (it may be taken before the server binds it)
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    # Without python3: a random port below Linux's ephemeral range that refuses connections.
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 12000))
        if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "postgres_server.sh: found no free port" >&2
    return 1
}

fail() {  # fail MESSAGE: prints MESSAGE and the server's log, stops everything, exits 1
    echo "postgres_server.sh: $1" >&2
    if [[ -f "$root/server.log" ]]; then
        echo "--- server log ($root/server.log) ---" >&2
        cat "$root/server.log" >&2
    fi
    stop_server
    exit 1
}

start_server() {
    local tool
    for tool in initdb pg_ctl pg_isready; do
        [[ -x "$bindir/$tool" ]] || {
            echo "postgres_server.sh: $bindir/$tool is missing (install postgresql-15: scripts/install-deps.sh)" >&2
            exit 2
        }
    done
    stop_server
    mkdir -p "$dir"
    chmod 755 "$dir"
    root="$(mktemp -d "${kRootPrefix}XXXXXX")"
    # The pointer first, so that stop removes a half-started server too.
    echo "$root" >"$dir/datadir"
    chmod 644 "$dir/datadir"
    [[ "$(id -u)" -eq 0 ]] && chown postgres: "$root"

    if ! as_server "$bindir/initdb" -D "$root/data" -A trust -U rainmaker -E UTF8 --locale=C \
        --no-sync --no-instructions >"$root/initdb.log" 2>&1; then
        cat "$root/initdb.log" >&2
        fail "initdb failed"
    fi
    as_server mkdir "$root/socket"
    # Durability off: the data is thrown away, and the tests run faster without it. The
    # benchmarks ask for a server as durable as a deployment's (RAINMAKER_PG_DURABLE=1:
    # PostgreSQL's defaults, every commit flushed).
    local durability=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'
    [[ "${RAINMAKER_PG_DURABLE:-}" == 1 ]] && durability="# durable: PostgreSQL's defaults"
    cat >>"$root/data/postgresql.conf" <<EOF

# postgres_server.sh: a throwaway server for the tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$root/socket'
$durability
max_connections = 300
shared_buffers = 128MB
EOF

    local try port started=""
    for ((try = 1; try <= kStartTries; try++)); do
        port="$(free_port)"
        # Each try's log alone, so that the check below reads this try's failure.
        [[ -f "$root/server.log" ]] && : >"$root/server.log"
        if as_server "$bindir/pg_ctl" start -D "$root/data" -l "$root/server.log" -o "-p $port" \
            -w -t "$kReadySeconds" >/dev/null; then
            started=1
            break
        fi
        # Another process took the port between free_port and the server's bind: try another.
        # Any other failure is the server's, and trying again would not help.
        if ! grep -q "could not bind\|could not create any TCP/IP sockets" "$root/server.log" \
            2>/dev/null || ((try == kStartTries)); then
            break
        fi
        as_server "$bindir/pg_ctl" stop -D "$root/data" -m immediate -w >/dev/null 2>&1 || true
        echo "postgres_server.sh: port $port was taken, trying another" >&2
    done
    [[ -n "$started" ]] || fail "the server did not start"

    local deadline=$((SECONDS + kReadySeconds))
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U rainmaker -d postgres; do
        ((SECONDS < deadline)) || fail "the server did not accept connections on 127.0.0.1:$port in ${kReadySeconds} s"
        sleep 0.1
    done

    local url="postgresql://rainmaker@127.0.0.1:$port/postgres"
    # Written whole, then renamed: a reader never sees half a URL.
    echo "$url" >"$dir/url.tmp"
    chmod 644 "$dir/url.tmp"
    mv "$dir/url.tmp" "$dir/url"
    echo "$url"
}

root=""
case "$action" in
    start) start_server ;;
    stop) stop_server ;;
    *) usage ;;
esac
