#!/usr/bin/env bash
# Installs the Debian 12 packages rainmaker-server needs to build, test and run (clang and its
# libFuzzer runtime for the fuzz targets; PostgreSQL 15 for the storage tests, which start their
# own throwaway server with tests/support/postgres_server.sh).
# postgresql-15 also creates (and where it can, starts) Debian's "main" cluster on port 5432: left
# alone, as no test uses it (theirs runs on a free port, from its own data directory).
# Only what is missing is installed; uses sudo when not root.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libsqlite3-dev libpq-dev postgresql-15 libsodium-dev libssl-dev libcurl4-openssl-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libicu-dev
  libhowardhinnant-date-dev tzdata libzip-dev
  libgtest-dev libgmock-dev
  mosquitto mosquitto-dev libmosquitto-dev mosquitto-clients
  nodejs npm wrk curl clang-format sqlite3 openssl nginx-light
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian (e.g. a preinstalled Node): accept them if on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
