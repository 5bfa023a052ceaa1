#!/usr/bin/env bash
# `bash bench/ota_rollout.sh`: an OTA rollout over the real broker. BENCH_OTA_NODES (10,000)
# simulated TLS nodes with stock firmware's download (rainmaker-sim fleet --ota download)
# connect to the server's broker; an admin uploads an image and makes a FFFF-FFFF job; the
# server pushes otaurl at `ota.push_per_second` (BENCH_OTA_PACE); every node downloads the image
# over HTTPS, reports in-progress (start, 25/50/75/100 %, rebooting) and success. Measured: the
# time until every node was offered the job, and until every node reported success; the
# otastatus reports the nodes sent against those the server applied (zero loss), and the job's
# summary. Writes a Markdown report to bench/results/ota_rollout.md.
#
# Environment (all optional):
#   BENCH_OTA_NODES=10000          simulated nodes
#   BENCH_OTA_PACE=1000            ota.push_per_second (the default configuration has 100)
#   BENCH_OTA_CONNECT_RATE=500     TLS connects per second of the fleet
#   BENCH_OTA_TIMEOUT=600          seconds the rollout may take
#   BENCH_BUILD_DIR=build/release
#   BENCH_NO_BUILD=1               use the binaries already in BENCH_BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-ota-rollout

nodes=${BENCH_OTA_NODES:-10000}
pace=${BENCH_OTA_PACE:-1000}
connect_rate=${BENCH_OTA_CONNECT_RATE:-500}
timeout_s=${BENCH_OTA_TIMEOUT:-600}
int_in BENCH_OTA_NODES "$nodes" 1 50000
int_in BENCH_OTA_PACE "$pace" 1 1000
int_in BENCH_OTA_CONNECT_RATE "$connect_rate" 10 5000
int_in BENCH_OTA_TIMEOUT "$timeout_s" 10 3600
need_tools curl awk sed python3 mosquitto

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

build rainmaker-server rainmaker-sim rainmaker_presence rainmaker_revocation
server_bin=$build_dir/bin/rainmaker-server
sim_bin=$build_dir/bin/rainmaker-sim
need_bins "run cmake --preset release first" "$server_bin" "$sim_bin"

data_dir=$work/data
nodes_dir=$work/nodes
mkdir -p "$data_dir" "$nodes_dir" "$results_dir/raw"
admin=ops@example.com
password=Bench12345
"$server_bin" admin create-user --data-dir "$data_dir" --user-name "$admin" --password "$password" \
    --admin >/dev/null 2>"$work/admin.log" || { cat "$work/admin.log" >&2; die "admin create-user failed"; }
note "issuing $nodes node certificates"
issue_certs "$data_dir" "$nodes" "$nodes_dir"
printf '[ota]\npush_per_second = %d\n' "$pace" >"$work/config.toml"
start_server mqtt --config "$work/config.toml"
ca=$data_dir/tls/ca.pem

# JSON field of a file (python3: no jq on a bare Debian).
json() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"v": v}))' "$@"; }

note "fleet: $nodes nodes, $connect_rate connects/s"
"$sim_bin" fleet --nodes-dir "$nodes_dir" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" --ca "$ca" \
    --rate 0 --duration "$timeout_s" --connect-rate "$connect_rate" --settle 60 --stats-interval 10 \
    --ota download --ota-duration-ms 500 --otafetch-delay-ms 5000 >"$work/fleet.log" 2>&1 &
fleet_pid=$!
track "$fleet_pid"
for ((i = 0; i < 1200; i++)); do
    grep -qs '^load start' "$work/fleet.log" && break
    kill -0 "$fleet_pid" 2>/dev/null || { tail -20 "$work/fleet.log" >&2; die "the fleet ended early"; }
    sleep 0.25
done
grep -q '^load start' "$work/fleet.log" || die "the fleet never got ready"

login "$admin" "$password"
# A small ESP app image of project led_light (the simulator's), version 2.0.0.
python3 - "$work/image.json" <<'PY'
import base64, hashlib, json, struct, sys
def text(s, n): return s.encode().ljust(n, b"\0")
header = bytes([0xE9, 2, 2, 0x20]) + struct.pack("<I", 0x40081000) + bytes([0xEE] + [0] * 8 + [0x8B, 1, 0, 0, 0, 0, 1])
desc = struct.pack("<II", 0xABCD5432, 0) + bytes(8) + text("2.0.0", 32) + text("led_light", 32) + text("12:00:00", 16) \
    + text("Dec  1 2026", 16) + text("v5.1.2", 32) + bytes([7] * 32)
first = desc.ljust(256, b"\0") + bytes([0x5A] * 4096)
second = bytes([0x33] * 4096)
checksum = 0xEF
for b in first + second:
    checksum ^= b
image = header + struct.pack("<II", 0x3F400020, len(first)) + first + struct.pack("<II", 0x3FFB0000, len(second)) + second
image += bytes((15 - len(image) % 16) % 16) + bytes([checksum])
image += hashlib.sha256(image).digest()
json.dump({"image_name": "rollout 2.0.0", "base64_fwimage": base64.b64encode(image).decode()}, open(sys.argv[1], "w"))
PY
curl -sS --max-time 30 -H "Authorization: $token" -H 'Content-Type: application/json' \
    --data-binary @"$work/image.json" "$base/v1/admin/otaimage" >"$work/upload.json"
image_id=$(json "$work/upload.json" 'v["ota_image_id"]') || die "upload failed: $(cat "$work/upload.json")"
before=$(metric_values rainmaker_ota_statuses_total rainmaker_mqtt_received_total rainmaker_mqtt_ingested_total)

t0=$(now)
curl -sS --max-time 30 -H "Authorization: $token" -H 'Content-Type: application/json' \
    -d "{\"ota_job_name\":\"rollout\",\"ota_image_id\":\"$image_id\",\"groups\":[\"FFFF-FFFF\"]}" \
    "$base/v1/admin/otajob" >"$work/job.json"
job_id=$(json "$work/job.json" 'v["ota_job_id"]') || die "job failed: $(cat "$work/job.json")"
note "job $job_id for $nodes nodes at $pace otaurl/s"
t_offered="" t_done=""
: >"$work/summary.samples"
while :; do
    t=$(now)
    curl -sS --max-time 10 -H "Authorization: $token" \
        "$base/v1/admin/otajob/status/summary?ota_job_id=$job_id" >"$work/summary.json" || true
    line=$(json "$work/summary.json" '" ".join(str(v.get(k, 0)) for k in ("pending", "in_progress", "success", "failed", "rejected", "delayed", "total"))' 2>/dev/null || echo "")
    echo "$t $line" >>"$work/summary.samples"
    read -r pending in_progress success failed rejected delayed total <<<"$line" || true
    offered=$(metric_values rainmaker_ota_offered_total 2>/dev/null || echo 0)
    [[ -z $t_offered ]] && ((offered >= nodes)) && t_offered=$t
    [[ -n ${success:-} ]] && ((success + failed + rejected >= nodes)) && { t_done=$t; break; }
    at_least "$(calc "$t - $t0" %.0f)" "$timeout_s" && break
    sleep 0.5
done
# Let the counters stand still (the last reports and the nodes' otafetch after their reboot).
sleep 8
after=$(metric_values rainmaker_ota_statuses_total rainmaker_mqtt_received_total rainmaker_mqtt_ingested_total)
kill -TERM "$fleet_pid" 2>/dev/null || true
wait "$fleet_pid" 2>/dev/null || true
forget "$fleet_pid"
summary=$(grep '^summary ' "$work/fleet.log" || true)
cp "$work/fleet.log" "$results_dir/raw/ota_rollout-fleet.txt"
cp "$work/summary.samples" "$results_dir/raw/ota_rollout-summary.samples"
read -r st0 rx0 in0 <<<"$before"
read -r st1 rx1 in1 <<<"$after"
applied=$((st1 - st0))
sent=$(field "$summary" ota_statuses)
urls=$(field "$summary" ota_urls)
successes=$(field "$summary" ota_successes)
offered_s=$([[ -n $t_offered ]] && calc "$t_offered - $t0" %.1f || echo "not reached")
done_s=$([[ -n $t_done ]] && calc "$t_done - $t0" %.1f || echo "not reached")
server_rss=$(rss_mib "$server_pid")
stop_server

report=$results_dir/ota_rollout.md
cat >"$report" <<REPORT
# OTA rollout over the broker — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $(nproc) vCPU $(cpu_model ""), $(uname -sr); $(openssl version | cut -d' ' -f1-2).

$nodes simulated TLS nodes (\`rainmaker-sim fleet --ota download\`), one FFFF-FFFF job, \`ota.push_per_second = $pace\`.

| figure | value |
|---|---|
| every node offered the job (rainmaker_ota_offered_total ≥ nodes) | ${offered_s} s |
| every node ended (success + failed + rejected = nodes) | ${done_s} s |
| job summary at the end | success ${success:-?}, failed ${failed:-?}, rejected ${rejected:-?}, in progress ${in_progress:-?}, pending ${pending:-?}, total ${total:-?} |
| otaurl received by the nodes | ${urls:-?} |
| otastatus sent by the nodes / applied by the server | ${sent:-?} / ${applied} |
| successes the nodes reported | ${successes:-?} |
| MQTT messages received / ingested by the server during the rollout | $((rx1 - rx0)) / $((in1 - in0)) |
| server RSS at the end | ${server_rss} MiB |

Fleet: \`$summary\`
REPORT
cat "$report"
