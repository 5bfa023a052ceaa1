#!/usr/bin/env bash
# `make bench-postgres`: the REST bench (bench/run.sh) and the devices bench (bench/devices.sh:
# params latency, ingest, connections) with the stores on PostgreSQL beside SQLite, in one run on
# one machine. PostgreSQL is a throwaway server as durable as a deployment's (every commit
# flushed: tests/support/postgres_server.sh with RAINMAKER_PG_DURABLE=1), a fresh database per
# bench. Reports: bench/results/postgres-<sqlite|postgres>-<run|devices>.md. Environment: as
# run.sh and devices.sh (BENCH_NO_BUILD=1 uses the binaries already built); BENCH_PG_BENCHES
# ("run devices") and BENCH_PG_ENGINES ("sqlite postgres") choose what runs.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir=$(mktemp -d /tmp/rm-bench-pg.XXXXXX)
trap 'bash tests/support/postgres_server.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
RAINMAKER_PG_DURABLE=1 bash tests/support/postgres_server.sh start "$pg_dir" >/dev/null
server_url=$(cat "$pg_dir/url")

# fresh: an empty database rm_bench on the server; prints its URL.
fresh() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$server_url" \
        -c "DROP DATABASE IF EXISTS rm_bench WITH (FORCE)" -c "CREATE DATABASE rm_bench" >/dev/null
    echo "${server_url%/*}/rm_bench"
}

mkdir -p bench/results
for bench in ${BENCH_PG_BENCHES:-run devices}; do
    report=bench/results/latest.md
    [[ $bench == devices ]] && report=bench/results/devices.md
    for engine in ${BENCH_PG_ENGINES:-sqlite postgres}; do
        echo "== bench/$bench.sh, stores on $engine" >&2
        if [[ $engine == postgres ]]; then
            RAINMAKER_DATABASE_URL=$(fresh) bash "bench/$bench.sh"
        else
            env -u RAINMAKER_DATABASE_URL bash "bench/$bench.sh"
        fi
        cp "$report" "bench/results/postgres-$engine-$bench.md"
    done
done
echo "wrote bench/results/postgres-{sqlite,postgres}-{run,devices}.md" >&2
