#!/usr/bin/env bash
# How cost grows with the number of users: for each size in SIZES, a fresh SQLite database,
# `scimd serve` with its defaults (request log at info, audit on, a worker per core), the
# users loaded through Bulk (bench/load.py, timed), then in alternating rounds of SECS
# seconds: GET by id, the reference server's GET on the same database (bench/reference.rs),
# `userName eq` filters, and pages of 100 at random startIndex. Prints one row per size:
# load time, rates, ratios to the reference, database size per user, the process's memory.
#
#   bench/curve.sh                              # SIZES="10000 100000 1000000" SECS=5 ROUNDS=2
#   SIZES=100000 SECS=10 ROUNDS=3 bench/curve.sh
set -euo pipefail
SIZES=${SIZES:-10000 100000 1000000}
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. "$root/bench/lib.sh"
bench_build
(cd "$root" && cargo build --release -q -p scimd-server --example reference)
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.0f}")' "$@"; }
rate() { # url script
  local out; out=$(wrk -t2 -c64 -d"${SECS}s" -s "$BENCH_DIR/$2" "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "FAILED: non-2xx responses ($2)" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
mem() { # anonymous MiB, peak RSS MiB, mapped database (PSS) MiB
  awk '/^Anonymous:/ {a=$2} /^Pss_File:/ {f=$2} END {printf "%d %d", a/1024, f/1024}' /proc/"$1"/smaps_rollup
  awk '/^VmHWM:/ {printf " %d", $2/1024}' /proc/"$1"/status
}
echo "== scimd growth: $(nproc) cores, SQLite, defaults, $(date -u '+%F %H:%M')"
printf '| users | Bulk load | users/s | GET/s | reference GET/s | GET ratio | filter/s | filter ratio | pages of 100/s | bytes per user | anonymous MiB | peak RSS MiB | mapped DB MiB |\n'
printf '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for n in $SIZES; do
  work=$(mktemp -d); port=$(free_port); ref_port=$(free_port)
  export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
  "$bin" tenant create bench >/dev/null
  export TOKEN=$("$bin" token create --tenant bench | tail -n 1)
  base="http://127.0.0.1:$port"
  env -u SCIMD_LOG "$bin" serve --listen "127.0.0.1:$port" >"$work/scimd.log" 2>&1 &
  server=$!
  trap 'kill $server ${reference:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
  load=$(python3 "$BENCH_DIR/load.py" 127.0.0.1 "$port" "$TOKEN" "$n" "$work" | awk -F= '/^LOAD_SECS=/ {print $2}')
  tenant_id=1
  "$root/target/release/examples/reference" "127.0.0.1:$ref_port" "$work/bench.db" "$tenant_id" 2>/dev/null &
  reference=$!
  sleep 0.5
  export IDS_FILE="$work/ids" NAMES_FILE="$work/names" TOTAL="$n"
  first=$(head -n 1 "$work/ids")
  curl -fs -o /dev/null "http://127.0.0.1:$ref_port/scim/v2/Users/$first" || { echo "the reference does not answer" >&2; exit 1; }
  rate "$base" get.lua >/dev/null; rate "http://127.0.0.1:$ref_port" get.lua >/dev/null
  g=(); r=(); f=(); l=()
  for _ in $(seq "$ROUNDS"); do
    g+=("$(rate "$base" get.lua)"); r+=("$(rate "http://127.0.0.1:$ref_port" get.lua)")
    f+=("$(rate "$base" filter.lua)"); l+=("$(rate "$base" list.lua)")
  done
  G=$(median "${g[@]}"); R=$(median "${r[@]}"); F=$(median "${f[@]}"); L=$(median "${l[@]}")
  size=$(du -cb "$work"/bench.db* | tail -1 | cut -f1)
  read -r anon mapped peak <<<"$(mem "$server")"
  printf '| %d | %.1f s | %.0f | %s | %s | %.2f | %s | %.2f | %s | %d | %d | %d | %d |\n' "$n" "$load" \
    "$(python3 -c "print($n/$load)")" "$G" "$R" "$(python3 -c "print($G/$R)")" "$F" "$(python3 -c "print($F/$R)")" \
    "$L" "$((size / n))" "$anon" "$peak" "$mapped"
  kill $server $reference 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; reference=
done
trap - EXIT
