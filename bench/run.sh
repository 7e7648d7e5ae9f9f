#!/usr/bin/env bash
# scimd benchmark: seeds USERS users into a release build over HTTP and measures, with
# wrk on loopback, POST create, GET by id, filter userName eq, list pages of 100, PATCH
# replace, PATCH adds of 100 members to a group growing to 10,000, the OAuth token
# endpoint (client_credentials), GET by id with a JWT access token, and creates with the
# audit trail's payloads on and off. Every wrk run is
# bounded by DURATION seconds. Prints requests/s and p99 per line, and the server's memory.
#
# wrk runs on the same machine. By default the server gets one worker thread fewer than
# there are cores (`--workers`), leaving a core to wrk; the reads are then measured again
# with a worker per core (the server's own default), so both figures are printed.
#
#   bench/run.sh                      # USERS=100000 DURATION=10 CREATE_DURATION=5 CONNS=64 THREADS=2
#   USERS=10000 DURATION=5 bench/run.sh
#   WORKERS=2 bench/run.sh            # the main pass with 2 worker threads
#   DATABASE=postgres bench/run.sh    # a throwaway PostgreSQL (fsync on) instead of SQLite
#   DATABASE=postgres REPLICAS=2 bench/run.sh   # two replicas behind nginx (scripts/replicas)
set -euo pipefail
USERS=${USERS:-100000}
DURATION=${DURATION:-10}
CREATE_DURATION=${CREATE_DURATION:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
CORES=$(nproc)
WORKERS=${WORKERS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
SCIMD_LOG=${SCIMD_LOG:-warn}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

(cd "$root" && cargo build --release -q -p scimd-server)
bin="$root/target/release/scimd"
work=$(mktemp -d)
DATABASE=${DATABASE:-sqlite}
REPLICAS=${REPLICAS:-1}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pgdir=
if [ "$DATABASE" = postgres ]; then
  pgdir=/tmp/scimd-bench-pg-$$
  pgport=$(free_port)
  export SCIMD_DATABASE_URL=$("$root/scripts/pg" start "$pgdir" "$pgport")
  export SCIMD_PG_POOL=${SCIMD_PG_POOL:-16}
else
  export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
fi
port=$(free_port)
base="http://127.0.0.1:$port"
"$bin" tenant create bench >/dev/null
export TOKEN=$("$bin" token create --tenant bench | tail -n 1)

server=
start_server() { # workers
  if [ "$REPLICAS" -gt 1 ]; then
    [ -n "$server" ] && { "$root/scripts/replicas" stop "$work/replicas"; sleep 1; }
    SCIMD_LOG=$SCIMD_LOG SCIMD_WORKERS=$1 SCIMD_MAX_PAGE_SIZE=1000 SCIMD_BIN=$bin \
      "$root/scripts/replicas" start "$work/replicas" "$port" "$SCIMD_DATABASE_URL" "$REPLICAS" >/dev/null
    server=$(head -1 "$work/replicas/pids")
    return
  fi
  [ -n "$server" ] && { kill "$server"; wait "$server" 2>/dev/null || true; }
  SCIMD_LOG=$SCIMD_LOG "$bin" serve --listen "127.0.0.1:$port" --max-page-size 1000 --workers "$1" \
    >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
cleanup() {
  if [ "$REPLICAS" -gt 1 ]; then "$root/scripts/replicas" stop "$work/replicas"; else [ -n "$server" ] && kill "$server" 2>/dev/null; fi
  wait 2>/dev/null
  [ -n "$pgdir" ] && { "$root/scripts/pg" stop "$pgdir" || true; rm -rf "$pgdir"; }
  rm -rf "$work"
}
trap cleanup EXIT
start_server "$WORKERS"

declare -A RPS P99
run_wrk() { # key script
  local name=$1 script=$2
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH_DIR/$script" "$base" 2>&1)
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "FAILED: $name had non-2xx responses" >&2; exit 1; fi
  RPS[$name]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  P99[$name]=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-44s %12s req/s   p99 %s\n' "$name" "${RPS[$name]}" "${P99[$name]}"
}
count_users() { curl -fs -H "Authorization: Bearer $TOKEN" "$base/scim/v2/Users?count=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalResults"])'; }
memory() { # RSS, and its anonymous / file-mapped parts, in MiB
  awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {printf "%d MiB (anonymous %d, mapped file %d)", r/1024, a/1024, f/1024}' /proc/"$server"/status
}

echo "seeding $USERS users (the first create run, CREATE_DURATION seconds, is the measured one)…"
# wrk divides by its full duration even when the script stops its threads early, so the
# measured run is bounded by time only; it must not reach USERS.
export RUN=r0
DURATION_SAVED=$DURATION DURATION=$CREATE_DURATION
run_wrk "POST /Users (create)" create.lua
DURATION=$DURATION_SAVED
if [ "$(count_users)" -ge "$USERS" ]; then
  echo "WARNING: the measured create run reached $USERS users; its rate is a lower bound (lower CREATE_DURATION)" >&2
fi
i=1
while [ "$(count_users)" -lt "$USERS" ]; do
  export RUN=r$i; i=$((i+1))
  missing=$((USERS - $(count_users)))
  # Each thread stops after its share (a few in flight may land beyond it).
  # wrk runs its whole duration even when every thread has stopped: size it to the work
  # (at ~3,000 creates/s at least; the loop goes on if it was not enough).
  secs=$(( missing / 3000 + 3 )); [ "$secs" -gt 120 ] && secs=120
  PER_THREAD=$(( (missing + THREADS - 1) / THREADS )) \
    wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" -s "$BENCH_DIR/create.lua" "$base" >/dev/null
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
mem_seeded=$(memory)

run_wrk "GET /Users/{id}" get.lua
run_wrk "GET /Users?filter=userName eq" filter.lua
run_wrk "GET /Users page of 100" list.lua
run_wrk "PATCH /Users/{id} (replace)" patch.lua
# OAuth: the token endpoint, and reads authenticated by a JWT access token.
client_json=$("$bin" client create --tenant bench --json)
CLIENT_ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_id"])' "$client_json")
CLIENT_SECRET=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_secret"])' "$client_json")
export BASIC=$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)
run_wrk "POST /oauth2/token (client_credentials)" token.lua
LONG_LIVED=$TOKEN
TOKEN=$(curl -fs -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$base/oauth2/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
run_wrk "GET /Users/{id} (JWT access token)" get.lua
TOKEN=$LONG_LIVED
members=$(python3 "$BENCH_DIR/members.py" 127.0.0.1 "$port" "$TOKEN" "$IDS_FILE" 10000 100)
members=${members%%$'\n'*} # its first line (not `head -1`: python would write into a closed pipe)
# The cost of audit payloads: creates with the tenant's payloads kept, then off (events
# only), back to back on the same database.
DURATION_SAVED=$DURATION DURATION=$CREATE_DURATION
export RUN=ron
run_wrk "POST /Users (create, audit payloads kept)" create.lua
"$bin" tenant set bench --audit-details off >/dev/null
DETAILS_TOKEN=$TOKEN
TOKEN=$("$bin" token create --tenant bench | tail -n 1) # a fresh token: the old one's grant is cached
export RUN=roff
run_wrk "POST /Users (create, audit payloads off)" create.lua
"$bin" tenant set bench --audit-details changes >/dev/null
TOKEN=$DETAILS_TOKEN
DURATION=$DURATION_SAVED
mem_end=$(memory)
if [ "$DATABASE" = postgres ]; then
  db_size=$(psql "$SCIMD_DATABASE_URL" -qAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")
else
  db_size=$(du -sh "$work" | cut -f1)
fi

if [ "$WORKERS" != "$CORES" ]; then
  start_server "$CORES"
  wrk -t"$THREADS" -c"$CONNS" -d2s -s "$BENCH_DIR/get.lua" "$base" >/dev/null # warm the mapped pages
  run_wrk "GET /Users/{id} ($CORES workers)" get.lua
  run_wrk "GET /Users?filter=userName eq ($CORES workers)" filter.lua
  run_wrk "GET /Users page of 100 ($CORES workers)" list.lua
  mem_second=$(memory)
fi

echo
echo "== scimd benchmark ($DATABASE, $REPLICAS replica$([ "$REPLICAS" = 1 ] || echo s)): $total users, wrk -t$THREADS -c$CONNS -d${DURATION}s, $CORES cores, $(date -u +%F)"
printf '| %-44s | %-14s | %-10s |\n' "operation ($WORKERS worker$([ "$WORKERS" = 1 ] || echo s))" "req/s" "p99"
printf '|%s|%s|%s|\n' "----------------------------------------------" "----------------" "------------"
for k in "POST /Users (create)" "GET /Users/{id}" "GET /Users?filter=userName eq" "GET /Users page of 100" "PATCH /Users/{id} (replace)" \
         "POST /oauth2/token (client_credentials)" "GET /Users/{id} (JWT access token)" \
         "POST /Users (create, audit payloads kept)" "POST /Users (create, audit payloads off)"; do
  printf '| %-44s | %14s | %10s |\n' "$k" "${RPS[$k]}" "${P99[$k]}"
done
if [ "$WORKERS" != "$CORES" ]; then
  for k in "GET /Users/{id}" "GET /Users?filter=userName eq" "GET /Users page of 100"; do
    printf '| %-44s | %14s | %10s |\n' "$k, $CORES workers" "${RPS[$k ($CORES workers)]}" "${P99[$k ($CORES workers)]}"
  done
fi
echo "members: $members"
echo "server memory: $mem_seeded after seeding; $mem_end at the end${mem_second:+; $mem_second after the $CORES-worker reads}"
echo "database (with WAL): $db_size"
echo "(the mapped file part of RSS is the database as reader connections map it: pages of the"
echo " operating system's file cache, counted once per connection that touched them)"
