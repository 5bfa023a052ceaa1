#!/usr/bin/env bash
# OTA image downloads over HTTPS (#10): N parallel keep-alive downloads of a 2 MB ESP app image
# through its presigned image_url on rainmaker-server's HTTPS listener, beside nginx (Debian)
# serving the same file over TLS with the same certificate, protocols and ciphers, in the same
# run, alternating rounds. Both get one thread for TLS: `--io-threads 1` and
# `worker_processes 1`. wrk drives both (`wrk -t1 -cN`). Prints a Markdown report and writes
# it to bench/results/downloads.md.
#
#   bench/downloads.sh                      # defaults: 50 connections, 3 rounds of 10 s, 2 MiB
#   BENCH_CONNECTIONS=50 BENCH_DURATION=10s BENCH_ROUNDS=3 BENCH_IMAGE_KIB=2048 bench/downloads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-downloads

connections=${BENCH_CONNECTIONS:-50}
duration=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-3}
image_kib=${BENCH_IMAGE_KIB:-2048}
int_in BENCH_CONNECTIONS "$connections" 1 1000
int_in BENCH_ROUNDS "$rounds" 1 10
int_in BENCH_IMAGE_KIB "$image_kib" 16 65536
[[ $duration =~ ^[0-9]+s$ ]] || die "BENCH_DURATION must be seconds, e.g. 10s"
need_tools wrk curl nginx python3 openssl
build rainmaker-server rainmaker_presence rainmaker_revocation
server_bin=$build_dir/bin/rainmaker-server
need_bins "build the release preset" "$server_bin"
mkdir -p "$results_dir/raw"

# The image: an ESP app image of about image_kib KiB (fuzz/make_esp_image_seeds.py's layout).
python3 - "$work/fw.bin" "$image_kib" <<'EOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("esp", "fuzz/make_esp_image_seeds.py")
esp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(esp)
size = int(sys.argv[2]) * 1024
desc = esp.app_desc("2.0.0", "led_light")
data = bytes((i * 7) & 0xFF for i in range(size - 512))
open(sys.argv[1], "wb").write(esp.image([(0x3F400020, desc + b"\x11" * 64), (0x40080000, data)], hashed=True))
EOF
image_bytes=$(stat -c %s "$work/fw.bin")
image_sha=$(sha256sum "$work/fw.bin" | cut -d' ' -f1)

# rainmaker-server: an admin uploads the image inline (#29), the listing (#30) gives its URL.
data_dir=$work/data
"$server_bin" admin create-user --data-dir "$data_dir" --user-name ops@example.com \
    --password Passw0rdOne --admin --password-cost min >/dev/null 2>"$work/admin.log" ||
    { cat "$work/admin.log" >&2; die "admin create-user failed"; }
start_server http --io-threads 1 --worker-threads 1 --log-level warn --password-cost min
login ops@example.com Passw0rdOne
python3 - "$work/fw.bin" "$work/upload.json" <<'EOF'
import base64, json, sys
data = open(sys.argv[1], "rb").read()
json.dump({"image_name": "bench", "base64_fwimage": base64.b64encode(data).decode()}, open(sys.argv[2], "w"))
EOF
curl -sS --max-time 60 -X POST -H "Authorization: $token" -H 'Content-Type: application/json' \
    --data-binary @"$work/upload.json" "$base/v1/admin/otaimage" >"$work/upload.out"
grep -q '"status":"success"' "$work/upload.out" || die "upload failed: $(cat "$work/upload.out")"
image_url=$(curl -sS "$base/v1/admin/otaimage?image_name=bench" -H "Authorization: $token" |
    sed -n 's/.*"image_url":"\([^"]*\)".*/\1/p')
[[ -n $image_url ]] || die "no image_url"
ours=https://127.0.0.1:$https_port$(sed 's|^https://[^/]*||' <<<"$image_url")
[[ $(curl -sS --cacert "$data_dir/tls/ca.pem" --resolve "localhost:$https_port:127.0.0.1" \
    "$image_url" | sha256sum | cut -d' ' -f1) == "$image_sha" ]] || die "our download differs"

# nginx: the same file, certificate and key, TLS 1.2/1.3 with the same ciphers, one worker.
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/www" "$work/nginx/tmp" "$work/nginx/logs"
cp "$work/fw.bin" "$work/nginx/www/fw.bin"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $data_dir/https/server.pem;
        ssl_certificate_key $data_dir/https/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL;
        ssl_prefer_server_ciphers on;
        root $work/nginx/www;
    }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/logs/stderr" &
nginx_pid=$!
track "$nginx_pid"
for ((i = 0; i < 50; i++)); do
    curl -sk --max-time 1 "https://127.0.0.1:$nginx_port/fw.bin" -o /dev/null && break
    sleep 0.1
done
theirs=https://127.0.0.1:$nginx_port/fw.bin
[[ $(curl -sSk "$theirs" | sha256sum | cut -d' ' -f1) == "$image_sha" ]] ||
    die "nginx did not serve the file: $(cat "$work/nginx/logs/"*)"

# nginx's worker (the process that does the TLS work): the child of its master.
nginx_worker=$(cat "/proc/$nginx_pid/task/$nginx_pid/children" 2>/dev/null | awk '{ print $1 }')
[[ -n $nginx_worker ]] || die "no nginx worker"

# CPU time (user + system) of process PID in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# One measured wrk run against URL, PID doing its work: "requests/s MiB/s p50 p99 errors
# cpu-ms-per-download" (the CPU the server spent per download: what the load of the shared
# machine changes least).
measure() {
    local label=$1 url=$2 pid=$3 out before after
    out=$results_dir/raw/downloads-$label.txt
    before=$(cpu_ticks "$pid")
    wrk -t1 -c"$connections" -d"$duration" --latency "$url" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    after=$(cpu_ticks "$pid")
    awk -v bytes="$image_bytes" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
        /^Requests\/sec:/ { rps = $2 }
        / requests in / { n = $1 }
        /^ *50%/ { p50 = $2 } /^ *99%/ { p99 = $2 }
        /Non-2xx|Socket errors/ { errors = errors $0 " " }
        END { printf "%.1f %.1f %s %s %s %.2f\n", rps, rps * bytes / 1048576, p50, p99,
              (errors == "" ? "none" : "yes"), (n > 0 ? 1000 * ticks / hz / n : 0) }' "$out"
}

declare -a ours_rps theirs_rps ours_mbs theirs_mbs ours_cpu theirs_cpu
report=$work/report.md
{
    echo "### OTA image downloads over HTTPS ($(date -u +%Y-%m-%d), $(cpu_model "unknown CPU"), $(nproc) cores)"
    echo
    echo "$connections keep-alive connections (\`wrk -t1 -c$connections -d$duration\`), an image of $image_bytes bytes, TLS 1.3;"
    echo "rainmaker-server \`--io-threads 1 --worker-threads 1\` (release build) beside nginx $(nginx -v 2>&1 | sed 's|.*/||') \`worker_processes 1\`, alternating."
    echo
    echo "| round | server | downloads/s | MiB/s | p50 | p99 | errors | server CPU ms per download |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$report"
for ((round = 1; round <= rounds; round++)); do
    read -r rps mbs p50 p99 errors cpu <<<"$(measure "nginx-$round" "$theirs" "$nginx_worker")"
    theirs_rps+=("$rps")
    theirs_mbs+=("$mbs")
    theirs_cpu+=("$cpu")
    echo "| $round | nginx | $rps | $mbs | $p50 | $p99 | $errors | $cpu |" >>"$report"
    read -r rps mbs p50 p99 errors cpu <<<"$(measure "rainmaker-$round" "$ours" "$server_pid")"
    ours_rps+=("$rps")
    ours_mbs+=("$mbs")
    ours_cpu+=("$cpu")
    echo "| $round | rainmaker-server | $rps | $mbs | $p50 | $p99 | $errors | $cpu |" >>"$report"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ours_median=$(median "${ours_rps[@]}")
theirs_median=$(median "${theirs_rps[@]}")
ratio=$(calc "100 * $ours_median / $theirs_median" "%.0f")
{
    echo
    echo "Median: rainmaker-server $ours_median downloads/s ($(median "${ours_mbs[@]}") MiB/s), nginx $theirs_median ($(median "${theirs_mbs[@]}") MiB/s): **$ratio %** of nginx (goal ≥ 70 %: $(verdict at_least "$ratio" 70))."
    echo "CPU per download (median): rainmaker-server $(median "${ours_cpu[@]}") ms, nginx $(median "${theirs_cpu[@]}") ms."
    echo "Server RSS after the runs: $(rss_mib "$server_pid") MiB (peak $(rss_mib "$server_pid" VmHWM) MiB)."
} >>"$report"
cat "$report"
cp "$report" "$results_dir/downloads.md"
