#!/usr/bin/env bash
# Runs every libFuzzer target of build/fuzz (fuzz/): `short` for make test (seconds each, seeds
# read-only), `long` for make fuzz (FUZZ_RUNS executions each, the corpus kept in
# build/fuzz/work/ between runs). Prints executions, exec/s and time per target; exits non-zero
# when a target fails, with its crash input saved in build/fuzz/artifacts/.
#
#   scripts/fuzz.sh short|long
#   FUZZ_RUNS=10000000      executions per target in long mode
#   FUZZ_SHORT_RUNS=50000   at most this many executions per target in short mode ...
#   FUZZ_SHORT_SECONDS=10   ... and at most this long
#   FUZZ_TARGETS="csr_fuzz token_fuzz"   a subset
set -uo pipefail
cd "$(dirname "$0")/.."

mode=${1:-long}
case "$mode" in
  short | long) ;;
  *) echo "usage: $0 short|long" >&2; exit 2 ;;
esac
targets=${FUZZ_TARGETS:-http_request_fuzz json_body_fuzz mqtt_ingest_fuzz csr_fuzz token_fuzz cmd_response_fuzz open_meteo_fuzz rbac_policy_fuzz tag_expression_fuzz esp_image_fuzz ota_package_fuzz ota_status_fuzz presigned_url_fuzz passthrough_fuzz webhook_fuzz jwks_fuzz emqx_presence_fuzz mqtt_wire_fuzz}
build=build/fuzz
root=$(pwd)

# Largest input per target: a request may carry a 1 MiB body after 16 KiB of header; a CSR
# is 1-2 KB (longer ones only spend time in OpenSSL's parser, which is not instrumented); the
# others take message-sized inputs.
max_len() {
  case "$1" in
    http_request_fuzz) echo 1100000 ;;
    csr_fuzz) echo 4096 ;;
    cmd_response_fuzz) echo 80000 ;;  # from-node takes 72 KiB: the limit itself is tried
    ota_package_fuzz) echo 262144 ;;  # a package with a small firmware and its directory
    *) echo 65536 ;;
  esac
}

dict() {
  case "$1" in
    http_request_fuzz) echo "-dict=$root/fuzz/http.dict" ;;
    json_body_fuzz | mqtt_ingest_fuzz | token_fuzz | open_meteo_fuzz | rbac_policy_fuzz | ota_status_fuzz | jwks_fuzz | emqx_presence_fuzz) echo "-dict=$root/fuzz/json.dict" ;;
    esp_image_fuzz) echo "-dict=$root/fuzz/esp_image.dict" ;;
  esac
}

mkdir -p "$build/artifacts" "$build/logs"
# The targets keep their store, CA or key in a temporary directory: here, removed at the end
# even when a crash skipped the target's own cleanup.
export TMPDIR="$root/$build/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT

failed=()
printf '%-18s %12s %10s %9s %8s\n' target executions exec/s seconds corpus
for t in $targets; do
  bin="$build/bin/$t"
  if [ ! -x "$bin" ]; then
    echo "$t: $bin is missing: build the fuzz preset first (make build-fuzz)" >&2
    failed+=("$t")
    continue
  fi
  seeds="fuzz/corpus/$t"
  if [ "$mode" = long ]; then
    # New inputs go to the first directory: a copy, so the seeds in git stay as they are.
    work="$build/work/$t"
    mkdir -p "$work"
    cp -n "$seeds"/* "$work"/ 2>/dev/null || true
    # Peak RSS grows with the inputs (ASan's quarantine and allocation stacks): json_body_fuzz
    # held 1 GiB after 2.9 million executions; room above libFuzzer's default of 2 GiB.
    limits=(-runs="${FUZZ_RUNS:-10000000}" -rss_limit_mb=4096)
  else
    work=$(mktemp -d "$TMPDIR/corpus-$t-XXXXXX")
    limits=(-runs="${FUZZ_SHORT_RUNS:-50000}" -max_total_time="${FUZZ_SHORT_SECONDS:-10}")
  fi
  log="$build/logs/$t.log"
  start=$(date +%s.%N)
  # shellcheck disable=SC2046
  "$bin" "${limits[@]}" -max_len="$(max_len "$t")" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" $(dict "$t") "$work" "$seeds" >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  runs=${runs:-0}
  files=$(find "$work" -type f | wc -l)
  awk -v t="$t" -v r="$runs" -v s="$start" -v e="$end" -v c="$files" 'BEGIN {
    d = e - s; printf "%-18s %12d %10d %9.1f %8d\n", t, r, (d > 0 ? r / d : 0), d, c }'
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "---- $t failed (exit $rc); log: $log" >&2
    grep -E -B2 -A30 'ERROR|WARNING: Failed' "$log" | head -60 >&2
    grep -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to /crash input: /' >&2
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: failed: ${failed[*]} (reproduce: $build/bin/<target> <crash input>)" >&2
  exit 1
fi
