#!/usr/bin/env bash
# `bash bench/groups.sh`: page latency of the node list and of one group with node details, for
# a user with 1,000 nodes in 50 groups, first in a small store (that user only), then with
# 1,000,000 nodes in the store. The target: the big store's page latency within 2x of the small
# one's (the queries use indexes and never scan the whole store).
#   a. GET /v1/user/nodes?node_details=true&num_records=25
#   b. GET /v1/user/node_group?node_details=true&group_id=<one group of 20 nodes>
#   c. GET /v1/user/node_group?num_records=25 (the user's groups and the groups shared with
#      them: two index ranges merged)
# The store is filled directly with the sqlite3 CLI (one transaction per step), after one
# start of the server has run the migrations. The script also prints EXPLAIN QUERY PLAN for the
# SQL those requests run (copied from src/storage/sqlite/sqlite_*_store.cpp).
# Writes a Markdown report to bench/results/groups.md. See bench/README.md.
#
# Environment (all optional):
#   BENCH_GROUPS_TOTAL=1000000   nodes in the store for the big run (>= 2000)
#   BENCH_DURATION=10s           wrk duration per measured run
#   BENCH_CONNECTIONS=8          wrk keep-alive connections
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1             use the binary already in BENCH_BUILD_DIR
#   BENCH_STRICT=1               exit 1 when the 2x target is missed (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-groups

total=${BENCH_GROUPS_TOTAL:-1000000}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-8}
user_name=bench@example.com
password=Bench12345
user_nodes=1000      # nodes of the measured user
groups=50            # top-level groups of that user
per_group=20         # nodes per group
per_other_user=1000  # the other nodes are mapped to other users, this many each
target_ratio=2

# Every run is bounded (the machine may be shared).
int_in BENCH_GROUPS_TOTAL "$total" 2000 5000000
if ! [[ $duration =~ ^([1-9][0-9]?)s$ ]] || ((BASH_REMATCH[1] > 60)); then
    die "BENCH_DURATION must be between 1s and 60s, got '$duration'"
fi
[[ $connections =~ ^[1-9][0-9]{0,2}$ ]] || die "BENCH_CONNECTIONS must be between 1 and 999"
need_tools wrk curl awk sed sqlite3

build rainmaker-server
server_bin=$build_dir/bin/rainmaker-server
need_bins "run cmake --preset release first" "$server_bin"

# --- helpers ----------------------------------------------------------------------------------
data_dir=$work/data
db=""  # the SQLite file, found after the first start
base=""

server_start_s=60  # start_server: the big store's first start may take a while

# sql SQL...: runs SQL on the store.
sql() {
    sqlite3 -bail "$db" "$@"
}

# run_wrk NAME URL: 2 s warm-up, then the measured run into $work/NAME.wrk.
run_wrk() {
    local name=$1 url=$2
    check_ok "$name" "$url" -H "Authorization: $token"
    wrk_wait -t1 -c"$connections" -d2s -H "Authorization: $token" "$url" >/dev/null
    note "$name: wrk -t1 -c$connections -d$duration --latency $url"
    wrk_wait -t1 -c"$connections" -d"$duration" --latency -H "Authorization: $token" "$url" >"$work/$name.wrk"
    cp "$work/$name.wrk" "$results_dir/raw/groups-$name.wrk"
}

# measure SIZE: runs (a), (b) and (c) against the running server: SIZE-list, SIZE-group,
# SIZE-groups.
measure() {
    login "$user_name" "$password"
    run_wrk "$1-list" "$base/v1/user/nodes?node_details=true&num_records=25"
    run_wrk "$1-group" "$base/v1/user/node_group?node_details=true&group_id=$group_id"
    run_wrk "$1-groups" "$base/v1/user/node_group?num_records=25"
}

store_mib() {
    du -sm "$data_dir" | awk '{ print $1 }'
}

# --- set-up: user, migrations -----------------------------------------------------------------
mkdir -p "$results_dir/raw" "$data_dir"
create_user "$data_dir" "$user_name" "$password"

start_server mqtt
stop_server
db=$data_dir/rainmaker.db  # src/app/application.cpp
[[ -f $db ]] || die "no $db after the first start"
sql "SELECT 1 FROM node_group_nodes LIMIT 1;" >/dev/null || die "$db has no node_group_nodes table"

# Node N (1-based): id n<7 digits>; nodes 1..1000 belong to the measured user.
# nodes_sql FROM TO: the INSERT of nodes FROM..TO with a small config and params.
nodes_sql() {
    cat <<SQL
WITH RECURSIVE seq(x) AS (SELECT $1 UNION ALL SELECT x + 1 FROM seq WHERE x < $2)
INSERT INTO nodes(node_id, created_at, platform, claimed_by, config, node_type, model, fw_version,
                  params, params_updated_at)
SELECT printf('n%07d', x), strftime('%s', 'now'), 'esp32', '', 
       '{"node_id":"' || printf('n%07d', x) || '","config_version":"2020-03-20","info":{"name":"Bench","fw_version":"1.0","type":"Switch","model":"bench"},"devices":[{"name":"Switch","type":"esp.device.switch","primary":"Power","params":[{"name":"Power","type":"esp.param.power","data_type":"bool","properties":["read","write"]}]}]}',
       'esp.node.switch', 'bench', '1.0',
       '{"Switch":{"Power":' || CASE x % 2 WHEN 0 THEN 'true' ELSE 'false' END || '}}',
       strftime('%s', 'now') * 1000
FROM seq;
SQL
}

note "populating: $user_nodes nodes of $user_name in $groups groups"
t0=$(date +%s.%N)
sql <<SQL
BEGIN;
$(nodes_sql 1 "$user_nodes")
INSERT INTO user_nodes(user_id, node_id, role, direct_role, created_at)
    SELECT '$user_id', node_id, 'primary', 'primary', created_at FROM nodes;
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < $groups)
INSERT INTO node_groups(group_id, owner_id, parent_id, group_name, level, created_at)
    SELECT printf('g-%s-%02d', '$user_id', x), '$user_id', NULL, printf('Group %d', x), 1,
           strftime('%s', 'now') FROM g;
INSERT INTO node_group_nodes(group_id, node_id)
    SELECT printf('g-%s-%02d', '$user_id', CAST(substr(node_id, 2) AS INTEGER) % $groups + 1), node_id
    FROM nodes;
COMMIT;
SQL
group_id=$(sql "SELECT group_id FROM node_groups WHERE owner_id = '$user_id' ORDER BY group_id LIMIT 1 OFFSET $((groups / 2));")
in_group=$(sql "SELECT COUNT(*) FROM node_group_nodes WHERE group_id = '$group_id';")
((in_group == per_group)) || die "group $group_id has $in_group nodes, expected $per_group"
small_fill_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
small_nodes=$(sql "SELECT COUNT(*) FROM nodes;")
small_mib=$(store_mib)

start_server mqtt
measure small
stop_server

# --- the big store: the other nodes, mapped to other users, 50 groups each --------------------
others=$(((total - user_nodes + per_other_user - 1) / per_other_user))
note "populating: $((total - user_nodes)) more nodes, mapped to $others other users in groups"
t0=$(date +%s.%N)
{ sql <<SQL
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE u(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM u WHERE x < $others)
INSERT INTO users(user_id, user_name, password_hash, confirmed, created_at)
    SELECT printf('other-%06d', x), printf('other-%06d@example.com', x), 'x', 1, strftime('%s', 'now')
    FROM u;
$(nodes_sql $((user_nodes + 1)) "$total")
INSERT INTO user_nodes(user_id, node_id, role, direct_role, created_at)
    SELECT printf('other-%06d', (CAST(substr(node_id, 2) AS INTEGER) - $user_nodes - 1) / $per_other_user + 1),
           node_id, 'primary', 'primary', created_at
    FROM nodes WHERE node_id > printf('n%07d', $user_nodes);
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < $groups)
INSERT INTO node_groups(group_id, owner_id, parent_id, group_name, level, created_at)
    SELECT printf('g-%s-%02d', users.user_id, g.x), users.user_id, NULL, printf('Group %d', g.x), 1,
           strftime('%s', 'now')
    FROM users, g WHERE users.user_id LIKE 'other-%';
INSERT INTO node_group_nodes(group_id, node_id)
    SELECT printf('g-%s-%02d', user_id, CAST(substr(node_id, 2) AS INTEGER) % $groups + 1), node_id
    FROM user_nodes WHERE user_id LIKE 'other-%';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
} >/dev/null
big_fill_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
big_nodes=$(sql "SELECT COUNT(*) FROM nodes;")
big_mappings=$(sql "SELECT COUNT(*) FROM user_nodes;")
big_groups=$(sql "SELECT COUNT(*) FROM node_groups;")
big_members=$(sql "SELECT COUNT(*) FROM node_group_nodes;")
big_mib=$(store_mib)

# --- query plans: the SQL of src/storage/sqlite/sqlite_{node,group}_store.cpp (no ANALYZE: the
# server runs none, so these are the plans it gets) --------------------------------------------
# shellcheck disable=SC2016  # the backquotes are Markdown
plan() {  # plan LABEL SQL: one table row "| LABEL | plan lines |"
    local lines
    lines=$(sql "EXPLAIN QUERY PLAN $2" | sed -n 's/^[|` -]*//p' | grep -v '^QUERY PLAN$' | paste -sd ';' | sed 's/;/; /g')
    printf '| %s | `%s` |\n' "$1" "$lines"
}
u="'$user_id'" n="'n0000500'" g="'$group_id'"
plans=""
plans+=$(plan "list page (ListMappings)" "SELECT * FROM user_nodes WHERE user_id = $u AND node_id >= '' ORDER BY node_id LIMIT 26")$'\n'
plans+=$(plan "list total (CountMappings)" "SELECT COUNT(*) FROM user_nodes WHERE user_id = $u")$'\n'
plans+=$(plan "one mapping" "SELECT * FROM user_nodes WHERE user_id = $u AND node_id = $n")$'\n'
plans+=$(plan "one node (details)" "SELECT * FROM nodes WHERE node_id = $n")$'\n'
plans+=$(plan "groups of a node" "SELECT * FROM node_groups WHERE owner_id = $u AND kind = 'user' AND group_id IN (SELECT group_id FROM node_group_nodes WHERE node_id = $n)")$'\n'
plans+=$(plan "shared groups giving a node" "SELECT s.group_id, s.role, g.owner_id FROM group_shares s JOIN node_group_nodes n ON n.group_id = s.group_id AND n.node_id = $n JOIN node_groups g ON g.group_id = s.group_id WHERE s.user_id = $u")$'\n'
plans+=$(plan "one group" "SELECT * FROM node_groups WHERE group_id = $g")$'\n'
plans+=$(plan "nodes of a group" "SELECT node_id FROM node_group_nodes WHERE group_id = $g ORDER BY node_id")$'\n'
plans+=$(plan "top-level groups page" "SELECT group_id FROM node_groups WHERE owner_id = $u AND kind = 'user' AND parent_id IS NULL AND group_id >= '' UNION ALL SELECT group_id FROM node_groups WHERE group_id IN (SELECT group_id FROM group_shares WHERE user_id = $u AND group_id >= '') AND owner_id <> $u AND kind = 'user' ORDER BY 1 LIMIT 26")$'\n'
plans+=$(plan "sub-groups" "SELECT * FROM node_groups WHERE parent_id = $g ORDER BY group_id")
scans=$(grep -F 'SCAN ' <<<"$plans" || true)  # SCAN, even USING INDEX, reads a whole table or index

start_server mqtt
measure big
stop_server

# --- report -----------------------------------------------------------------------------------
rows=""
missed=0
for q in list group groups; do
    read -r s_rps s_p50 s_p99 s_bad _ < <(parse_wrk "$work/small-$q.wrk") || die "could not parse small-$q.wrk"
    read -r b_rps b_p50 b_p99 b_bad _ < <(parse_wrk "$work/big-$q.wrk") || die "could not parse big-$q.wrk"
    ((s_bad + b_bad == 0)) || note "$q: non-2xx responses (small $s_bad, big $b_bad)"
    r50=$(awk -v a="$b_p50" -v b="$s_p50" 'BEGIN { printf "%.2f", a / b }')
    r99=$(awk -v a="$b_p99" -v b="$s_p99" 'BEGIN { printf "%.2f", a / b }')
    ok=$(awk -v a="$r50" -v b="$r99" -v t="$target_ratio" 'BEGIN { print (a <= t && b <= t) ? "yes" : "no" }')
    [[ $ok == yes ]] || missed=1
    case $q in
        list) label="(a) \`GET /v1/user/nodes?node_details=true&num_records=25\`" ;;
        group) label="(b) \`GET /v1/user/node_group?node_details=true&group_id=…\` ($per_group nodes)" ;;
        *) label="(c) \`GET /v1/user/node_group?num_records=25\` (own and shared groups)" ;;
    esac
    rows+=$(printf '| %s | %.0f / %.0f | %.2f / %.2f | %.2f / %.2f | %s× / %s× | %s |' \
        "$label" "$s_rps" "$b_rps" "$s_p50" "$b_p50" "$s_p99" "$b_p99" "$r50" "$r99" "$ok")$'\n'
done

cpu_model=$(cpu_model "$(uname -m)")
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')
# shellcheck disable=SC2016  # the backquotes are Markdown
report=$(
    cat <<EOF
# rainmaker-server: node list and group pages, small store vs $big_nodes nodes

$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs · ${cpu_model} · Linux $(uname -r) · ${wrk_version} · SQLite $(sqlite3 --version | awk '{ print $1 }')

The measured user has $user_nodes nodes (config and params set), in $groups top-level groups of $per_group.
wrk on loopback, keep-alive: \`wrk -t1 -c${connections} -d${duration} --latency\`, after a 2 s warm-up.
Cells read *small / big*.

| query | req/s | p50 ms | p99 ms | big/small p50 / p99 | ≤ ${target_ratio}× |
|---|---|---|---|---|---|
${rows}
| store | nodes | mappings | groups | group members | size | filled in |
|---|---|---|---|---|---|---|
| small | $small_nodes | $small_nodes | $groups | $small_nodes | ${small_mib} MiB | ${small_fill_s} s |
| big | $big_nodes | $big_mappings | $big_groups | $big_members | ${big_mib} MiB | ${big_fill_s} s |

The other nodes are mapped (primary) to $others other users, $per_other_user each, in $groups groups each.

### Query plans (big store)

| query | EXPLAIN QUERY PLAN |
|---|---|
${plans}

$([[ -z $scans ]] && echo "No full scan: every table is reached through an index or its primary key." ||
        printf 'Full scans found:\n\n```\n%s\n```\n' "$scans")
EOF
)
printf '%s\n' "$report" | tee "$results_dir/groups.md"
note "wrote $results_dir/groups.md (raw wrk output in $results_dir/raw/groups-*.wrk)"
if [[ ${BENCH_STRICT:-0} == 1 ]] && { ((missed)) || [[ -n $scans ]]; }; then
    exit 1
fi
