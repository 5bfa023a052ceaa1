#!/usr/bin/env bash
# Fails when a source under src/ includes a header of a layer it may not depend on, or a
# third-party header its layer may not use (docs/architecture.md, "Layers"; run by `make test`).
# CMake cannot catch these: every library sees all of src/ and /usr/include, where Debian puts
# Beast, sqlite3.h, curl.h and mosquitto.h alike.
# Usage: scripts/layer-check.sh [SRC_DIR]   (default: the repository's src/)
# shellcheck disable=SC2034  # the tables are read through table()'s nameref
set -euo pipefail
src=${1:-$(dirname "$0")/../src}
label=${1:-src}
label=${label%/}
cd "$src"

# Layer (a folder of src/; a file belongs to the longest one its path starts with) → the layers
# whose "..." headers it may include besides its own. An entry ending in / is a folder inside a
# layer, allowed alone. * = any. Each row is what the layer's CMake library links
# (src/CMakeLists.txt), narrowed where the architecture says more.
declare -A may_include=(
  [core]=""
  [crypto]="core"
  [storage]="core"
  [storage/sql]="storage core"
  [storage/sqlite]="storage/sql storage core"
  [storage/postgres]="storage/sql storage core"
  [storage/files]="storage crypto core"
  [storage/s3]="storage crypto net core"
  [net]="core"
  [domain]="storage crypto core"
  [jobs]="domain storage crypto core"
  [mqtt]="domain storage crypto core"
  [outbound]="domain storage crypto net core"
  [http/server]="domain/auth/ core"  # the Router asks the Authenticator and RouteGuard; not http/api
  [http/api]="http/server domain crypto core"  # thin handlers call the domain, not the stores
  [app]="*"  # the composition root names every concrete type
)

# Third-party libraries: name → an extended regex on the header between < >. Headers that match
# none (the standard library, POSIX, other header-only Boost) are not checked.
declare -A library=(
  [json]='^boost/json(\.hpp|/)'
  [beast]='^boost/beast(\.hpp|/)'
  [asio]='^boost/(asio|system)(\.hpp|/)'
  [openssl]='^openssl/'
  [sodium]='^sodium(\.h|/)'
  [spdlog]='^(spdlog|fmt)/'
  [sqlite]='^sqlite3(ext)?\.h$'
  [libpq]='^(libpq-fe\.h|libpq/|postgres)'
  [curl]='^curl/'
  [mosquitto]='^(mosquitto(_broker|_plugin)?|mqtt_protocol)\.h$'
  [libzip]='^zip(conf)?\.h$'
  [date]='^date/'
  [icu]='^unicode/'
  [toml]='^toml\+\+/'
  [cli11]='^CLI/'
)

# Layer → the third-party libraries it may include.
declare -A may_use=(
  [core]="json sodium spdlog"
  [crypto]="json openssl sodium"
  [storage]="json"
  [storage/sql]="json"  # the stores are written once, over storage/sql/connection.hpp
  [storage/sqlite]="json sqlite"
  [storage/postgres]="json libpq"
  [storage/files]="json"
  [storage/s3]="json curl"
  [net]="json curl"
  [domain]="json icu date libzip"  # never Beast, sqlite3.h, curl.h, mosquitto.h, libpq
  [jobs]="json"
  [mqtt]="json mosquitto"
  [outbound]="json curl"
  [http/server]="json beast asio openssl"
  [http/api]="json"
  [app]="*"
)

# Known exceptions in today's code, each with its reason: "file (under src/) header  reason".
exceptions=(
  "http/api/blob_routes.cpp storage/blob_store.hpp  streams blob bytes between socket and BlobStore; domain/ota checks the URL first"
)

table() {
  local -n t=$1
  local k
  for k in "${!t[@]}"; do printf '%s=%s;' "$k" "${t[$k]}"; done
}

find . -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' -o -name '*.def' \
  -o -name '*.inc' -o -name '*.ipp' \) | sed 's|^\./||' | LC_ALL=C sort |
  LABEL=$label INCLUDES=$(table may_include) LIBRARIES=$(table library) USES=$(table may_use) \
  EXCEPTIONS=$(printf '%s\n' "${exceptions[@]}") awk '
    function parse(s, out,   n, i, rows, kv) {
      n = split(s, rows, ";")
      for (i = 1; i <= n; i++) if (rows[i] != "") {
        split(rows[i], kv, "=")
        out[kv[1]] = " " kv[2] " "
      }
    }
    # The longest layer the path starts with, "" if none.
    function layer_of(path,   l, best) {
      best = ""
      for (l in allowed)
        if (index(path, l "/") == 1 && length(l) > length(best)) best = l
      return best
    }
    function may(layer, header, header_layer,   n, i, e) {
      if (allowed[layer] ~ / \* / || header_layer == layer || index(allowed[layer], " " header_layer " "))
        return 1
      n = split(allowed[layer], e, " ")
      for (i = 1; i <= n; i++)
        if (e[i] ~ /\/$/ && index(header, e[i]) == 1) return 1
      return 0
    }
    function report(file, line, msg) {
      printf "%s/%s:%d: %s\n", label, file, line, msg
      bad = 1
    }
    BEGIN {
      label = ENVIRON["LABEL"]
      parse(ENVIRON["INCLUDES"], allowed)
      parse(ENVIRON["LIBRARIES"], pattern)
      parse(ENVIRON["USES"], used)
      for (l in pattern) { sub(/^ /, "", pattern[l]); sub(/ $/, "", pattern[l]) }
      n = split(ENVIRON["EXCEPTIONS"], rows, "\n")
      for (i = 1; i <= n; i++) {
        split(rows[i], f, " ")
        if (f[1] != "") excused[f[1] " " f[2]] = 0
      }
    }
    {
      file = $0
      layer = layer_of(file)
      if (layer == "") report(file, 1, "no layer for this folder (add one to scripts/layer-check.sh)")
      line = 0
      while ((getline text < file) > 0) {
        line++
        if (layer == "" || text !~ /^[ \t]*#[ \t]*include[ \t]*[<"]/) continue
        match(text, /[<"][^>"]*[>"]/)
        written = substr(text, RSTART, RLENGTH)
        header = substr(written, 2, length(written) - 2)
        if (substr(written, 1, 1) == "\"") {
          hl = layer_of(header)
          if (may(layer, header, hl)) continue
          if ((file " " header) in excused) { excused[file " " header]++; continue }
          report(file, line, layer " may not include " written " (" (hl == "" ? "no layer" : hl) ")")
        } else {
          lib = ""
          for (l in pattern) if (header ~ pattern[l]) lib = l
          if (lib == "" || used[layer] ~ / \* / || index(used[layer], " " lib " ")) continue
          report(file, line, layer " may not include " written " (" lib ")")
        }
      }
      close(file)
    }
    END {
      for (e in excused)
        if (excused[e] == 0)
          printf "layer-check: the exception \"%s\" matches nothing any more: remove it\n", e > "/dev/stderr"
      exit bad
    }'
