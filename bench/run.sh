#!/usr/bin/env bash
# scimd benchmark: seeds USERS users into a release build over HTTP and measures, with
# wrk on loopback, POST create, GET by id, filter userName eq, list pages of 100, PATCH
# replace, and PATCH adds of 100 members to a group growing to 10,000. Every wrk run is
# bounded by DURATION seconds. Prints requests/s and p99 per line, and the server's RSS.
#
#   bench/run.sh                      # USERS=100000 DURATION=10 CONNS=64 THREADS=2
#   USERS=10000 DURATION=5 bench/run.sh
set -euo pipefail
USERS=${USERS:-100000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
SCIMD_LOG=${SCIMD_LOG:-warn}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

(cd "$root" && cargo build --release -q -p scimd-server)
bin="$root/target/release/scimd"
work=$(mktemp -d)
export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" tenant create bench >/dev/null
export TOKEN=$("$bin" token create --tenant bench | tail -n 1)
SCIMD_LOG=$SCIMD_LOG "$bin" serve --listen "127.0.0.1:$port" --max-page-size 1000 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

declare -A RPS P99
run_wrk() { # name script [env...]
  local name=$1 script=$2
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH_DIR/$script" "$base" 2>&1)
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "FAILED: $name had non-2xx responses" >&2; exit 1; fi
  RPS[$name]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  P99[$name]=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-34s %12s req/s   p99 %s\n' "$name" "${RPS[$name]}" "${P99[$name]}"
}
count_users() { curl -fs -H "Authorization: Bearer $TOKEN" "$base/scim/v2/Users?count=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalResults"])'; }

echo "seeding $USERS users (first create run is the measured one)…"
export RUN=r0 PER_THREAD=$(( USERS / THREADS ))
run_wrk "POST /Users (create)" create.lua
unset PER_THREAD
i=1
while [ "$(count_users)" -lt "$USERS" ]; do
  export RUN=r$i; i=$((i+1))
  missing=$((USERS - $(count_users)))
  # Each thread stops after its share (a few in flight may land beyond it).
  PER_THREAD=$(( (missing + THREADS - 1) / THREADS )) \
    wrk -t"$THREADS" -c"$CONNS" -d120s -s "$BENCH_DIR/create.lua" "$base" >/dev/null
done
total=$(count_users)
echo "users: $total"

python3 - "$base" "$TOKEN" "$work" "$total" <<'PY'
import json, sys, urllib.request
base, token, work, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ids, names = open(f"{work}/ids", "w"), open(f"{work}/names", "w")
start = 1
while start <= total:
    req = urllib.request.Request(f"{base}/scim/v2/Users?attributes=userName&count=1000&startIndex={start}",
                                 headers={"Authorization": f"Bearer {token}"})
    page = json.load(urllib.request.urlopen(req))
    for r in page["Resources"]:
        ids.write(r["id"] + "\n"); names.write(r["userName"] + "\n")
    if not page["Resources"]:
        break
    start += len(page["Resources"])
PY
export IDS_FILE="$work/ids" NAMES_FILE="$work/names" TOTAL="$total"
rss_seeded=$(ps -o rss= -p $server)

run_wrk "GET /Users/{id}" get.lua
run_wrk "GET /Users?filter=userName eq" filter.lua
run_wrk "GET /Users page of 100" list.lua
run_wrk "PATCH /Users/{id} (replace)" patch.lua
members=$(python3 "$BENCH_DIR/members.py" 127.0.0.1 "$port" "$TOKEN" "$IDS_FILE" 10000 100)
rss_end=$(ps -o rss= -p $server)
mem_end=$(awk '/^(RssAnon|RssFile):/ {printf "%s %d MiB  ", $1, $2/1024}' /proc/$server/status)
db_size=$(du -sh "$work" | cut -f1)

echo
echo "== scimd benchmark: $total users, wrk -t$THREADS -c$CONNS -d${DURATION}s, $(nproc) cores, $(date -u +%F)"
printf '| %-32s | %12s | %10s |\n' "operation" "req/s" "p99"
printf '|%s|%s|%s|\n' "----------------------------------" "--------------" "------------"
for k in "POST /Users (create)" "GET /Users/{id}" "GET /Users?filter=userName eq" "GET /Users page of 100" "PATCH /Users/{id} (replace)"; do
  printf '| %-32s | %12s | %10s |\n' "$k" "${RPS[$k]}" "${P99[$k]}"
done
echo "members: $members" | head -1
echo "server RSS: $((rss_seeded/1024)) MiB after seeding, $((rss_end/1024)) MiB at the end ($mem_end); database $db_size"
echo "  (RssFile is the database file as the reader connections map it: the operating system's page cache,"
echo "   counted once per connection that touched a page.)"
