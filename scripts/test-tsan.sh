#!/usr/bin/env bash
# `make test-tsan`: the tests of what runs on several threads, built with ThreadSanitizer (the
# `tsan` preset, its own tree), on SQLite and again on PostgreSQL (a throwaway server, as in
# `make test`). A data race or a lock-order inversion fails it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Suites whose code runs on more than one thread: the scheduler and two instances racing, the
# revocation listener, ingest and the broker link's threads (its ingest connection too), the
# delivery pipeline's planner and workers, transactions from several threads.
suites="SchedulerTest.*:TokenServiceTest.*:NodeIngestTest.*:BrokerLinkTest.*:EmqxPresenceLinkTest.*"
suites+=":IngestConnectionTest.*:LinkTest.*"
suites+=":WebhookServiceTest.*:PushChannelTest.*:SqliteStoreTest.*:SqliteDatabase.*"

[[ -f build/tsan/build.ninja ]] || cmake --preset tsan
cmake --build build/tsan -j "${JOBS:-$(nproc)}" --target unit_tests

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
echo "== ThreadSanitizer, SQLite" >&2
build/tsan/tests/unit_tests --gtest_brief=1 --gtest_filter="$suites"

pg_dir=build/tsan/postgres-test
trap 'bash tests/support/postgres_server.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
bash tests/support/postgres_server.sh start "$pg_dir" >/dev/null
echo "== ThreadSanitizer, PostgreSQL" >&2
RAINMAKER_TEST_BACKEND=postgres RAINMAKER_TEST_POSTGRES_URL="$(cat "$pg_dir/url")" \
    build/tsan/tests/unit_tests --gtest_brief=1 --gtest_filter="$suites"
