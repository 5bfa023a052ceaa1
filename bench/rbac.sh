#!/usr/bin/env bash
# `bash bench/rbac.sh`: what RBAC costs an admin request. The same GET, in the same run, by
#   a. an admin without roles (unrestricted: the route guard finds no role and stops), and
#   b. an admin holding one role of 10 policies, the allowing statement in the last one (the
#      guard evaluates every policy),
# interleaved (a, b, a, b, a, b) so that both see the same machine. The target: (b) costs at
# most 10 % more than (a), in requests per second and in p50. The request is
# GET /v1/admin/role?role_name=RM_DEFAULT_READ_ONLY (authenticated, one store read, JSON).
# Writes a Markdown report to bench/results/rbac.md. See bench/README.md.
#
# Environment (all optional):
#   BENCH_DURATION=10s           wrk duration per measured run
#   BENCH_CONNECTIONS=16         wrk keep-alive connections
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1             use the binary already in BENCH_BUILD_DIR
#   BENCH_STRICT=1               exit 1 when the target is missed (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-rbac

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-16}
password=Bench12345
rounds=3
target_pct=10

if ! [[ $duration =~ ^([1-9][0-9]?)s$ ]] || ((BASH_REMATCH[1] > 60)); then
    die "BENCH_DURATION must be between 1s and 60s, got '$duration'"
fi
[[ $connections =~ ^[1-9][0-9]{0,2}$ ]] || die "BENCH_CONNECTIONS must be between 1 and 999"
need_tools wrk curl awk sed

build rainmaker-server
server_bin=$build_dir/bin/rainmaker-server
need_bins "run cmake --preset release first" "$server_bin"
data_dir=$work/data

for who in root free bound; do
    flag=--admin
    [[ $who == root ]] && flag=--superadmin
    "$server_bin" admin create-user --data-dir "$data_dir" --user-name "$who@example.com" \
        --password "$password" "$flag" >/dev/null 2>"$work/admin.log" ||
        { cat "$work/admin.log" >&2; die "admin create-user failed"; }
done
start_server none

# post PATH BODY: as the superadmin; dies unless 200.
post() {
    local code
    code=$(curl -sS --max-time 10 -o "$work/post.body" -w '%{http_code}' -X "${3:-POST}" \
        -H "Authorization: $root_token" -H 'Content-Type: application/json' -d "$2" "$base$1") ||
        die "request to $1 failed"
    [[ $code == 200 ]] || { cat "$work/post.body" >&2; die "$1 answered $code"; }
}

login root@example.com "$password"
root_token=$token
policies=""
for i in $(seq 1 10); do
    # Nine policies on other admin paths (each with a node filter), the tenth allowing GETs.
    resource="/admin/otaimage$i/*"
    actions='["api:Get","api:Put"]'
    ((i == 10)) && { resource="/admin/*"; actions='["api:Get"]'; }
    post /v1/admin/policy "{\"policy_name\":\"bench_p$i\",\"policy_json\":{\"version\":\"1.0.0\",
        \"filters\":[{\"type\":\"nodes\",\"rules\":{\"tags\":[\"site:s$i\"],\"type\":[\"t$i\"]}}],
        \"statement\":[{\"Effect\":\"Allow\",\"Action\":$actions,
        \"Resource\":[\"/admin/nodes$i\",\"/admin/node_group$i\",\"$resource\"]}]}}"
    policies+="${policies:+,}\"bench_p$i\""
done
post /v1/admin/role "{\"role_name\":\"bench_role\",\"policies\":[$policies],\"role_level\":5}"
post "/v1/admin/user_role?user_name=bound@example.com&operation=add" '{"roles":["bench_role"]}' PUT

url="$base/v1/admin/role?role_name=RM_DEFAULT_READ_ONLY"
login free@example.com "$password"
free_token=$token
login bound@example.com "$password"
bound_token=$token
check_ok free "$url" -H "Authorization: $free_token"
check_ok bound "$url" -H "Authorization: $bound_token"

# run NAME TOKEN ROUND: 2 s warm-up, then the measured run into $work/NAME-ROUND.wrk.
run() {
    wrk_wait -t1 -c"$connections" -d2s -H "Authorization: $2" "$url" >/dev/null
    note "$1 round $3: wrk -t1 -c$connections -d$duration --latency"
    wrk_wait -t1 -c"$connections" -d"$duration" --latency -H "Authorization: $2" "$url" >"$work/$1-$3.wrk"
    cp "$work/$1-$3.wrk" "$results_dir/raw/rbac-$1-$3.wrk"
}
mkdir -p "$results_dir/raw"
for round in $(seq 1 $rounds); do
    run free "$free_token" "$round"
    run bound "$bound_token" "$round"
done

# median NAME COLUMN: the median over the rounds of a parse_wrk column (1 rps, 2 p50, 3 p99).
median() {
    local round
    for round in $(seq 1 $rounds); do
        parse_wrk "$work/$1-$round.wrk" | awk -v c="$2" '{ print $c }'
    done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
errors=0
for f in "$work"/*.wrk; do
    read -r _ _ _ non2xx errs < <(parse_wrk "$f")
    errors=$((errors + non2xx + errs))
done
free_rps=$(median free 1)
bound_rps=$(median bound 1)
free_p50=$(median free 2)
bound_p50=$(median bound 2)
free_p99=$(median free 3)
bound_p99=$(median bound 3)
rps_cost=$(calc "($free_rps / $bound_rps - 1) * 100" "%.1f")
p50_cost=$(calc "($bound_p50 / $free_p50 - 1) * 100" "%.1f")
met=$(verdict below "$(calc "($rps_cost > $p50_cost ? $rps_cost : $p50_cost)" "%.3f")" "$target_pct.0001")

cpu_model=$(cpu_model "$(uname -m)")
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')
report=$(
    cat <<EOF
# rainmaker-server: the cost of RBAC on an admin request

$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs · ${cpu_model} · Linux $(uname -r) · ${wrk_version}

\`GET /v1/admin/role?role_name=RM_DEFAULT_READ_ONLY\`, wrk on loopback, keep-alive:
\`wrk -t1 -c${connections} -d${duration} --latency\` after a 2 s warm-up; $rounds interleaved rounds, medians.

| caller | req/s | p50 ms | p99 ms |
|---|---|---|---|
| admin without roles (baseline) | $free_rps | $free_p50 | $free_p99 |
| admin with 1 role of 10 policies (allowed by the 10th) | $bound_rps | $bound_p50 | $bound_p99 |

Cost of the roles: **${rps_cost} %** fewer requests per second, **${p50_cost} %** higher p50
(target ≤ ${target_pct} %: $met). Non-2xx answers and socket errors over all runs: $errors.
EOF
)
printf '%s\n' "$report" | tee "$results_dir/rbac.md"
note "wrote $results_dir/rbac.md (raw wrk output in $results_dir/raw/rbac-*.wrk)"
if [[ ${BENCH_STRICT:-0} == 1 ]] && { [[ $met != met ]] || ((errors > 0)); }; then
    exit 1
fi
