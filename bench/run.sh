#!/usr/bin/env bash
# scimd benchmark: `scimd serve` as a user runs it (its defaults: request log at info, audit
# on, a worker per core) beside the reference server (bench/reference.rs: a bare axum +
# primary-key lookup on the same database) in the same run. Seeds USERS users over HTTP
# (the sustained create rate: users over wall time, every 201 durable), then, with wrk on
# loopback: GET by id (scimd and the reference, alternating), filter userName eq, list pages
# of 100, PATCH replace, +100 members to a 10,000-member group as the identity providers
# send it, the OAuth token endpoint, GET with a JWT access token, creates with the audit
# trail's payloads on and off, and GET with the request log off (its cost). Every wrk run
# is bounded by DURATION seconds. Prints requests/s, p99, ratios and the server's memory.
#
#   bench/run.sh                      # USERS=100000 DURATION=10 CONNS=64 THREADS=2
#   USERS=10000 DURATION=5 bench/run.sh
#   DATABASE=postgres bench/run.sh    # a throwaway PostgreSQL (fsync on) instead of SQLite
#   DATABASE=postgres REPLICAS=2 bench/run.sh   # two replicas behind nginx (scripts/replicas)
#   WORKERS=1 SCIMD_LOG=warn bench/run.sh       # the earlier configuration (one worker, no request log)
set -euo pipefail
USERS=${USERS:-100000}
DURATION=${DURATION:-10}
CREATE_DURATION=${CREATE_DURATION:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
CORES=$(nproc)
# Unset: the server's defaults (a worker per core; the request log at info).
WORKERS=${WORKERS:-}
LOG_LEVEL=${SCIMD_LOG:-}
unset SCIMD_LOG
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

(cd "$root" && cargo build --release -q -p scimd-server --bin scimd --example reference)
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
start_server() { # [log level]: the server with its defaults, or WORKERS / SCIMD_LOG / this level
  local level=${1:-$LOG_LEVEL}
  local env=(${level:+SCIMD_LOG=$level} ${WORKERS:+SCIMD_WORKERS=$WORKERS})
  if [ "$REPLICAS" -gt 1 ]; then
    [ -n "$server" ] && { "$root/scripts/replicas" stop "$work/replicas"; sleep 1; }
    env "${env[@]}" SCIMD_BIN=$bin \
      "$root/scripts/replicas" start "$work/replicas" "$port" "$SCIMD_DATABASE_URL" "$REPLICAS" >/dev/null
    server=$(head -1 "$work/replicas/pids")
    return
  fi
  [ -n "$server" ] && { kill "$server"; wait "$server" 2>/dev/null || true; }
  # The request log goes to a file, as a service manager's journal would take it.
  env "${env[@]}" "$bin" serve --listen "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
cleanup() {
  if [ "$REPLICAS" -gt 1 ]; then "$root/scripts/replicas" stop "$work/replicas"; else [ -n "$server" ] && kill "$server" 2>/dev/null; fi
  [ -n "${reference:-}" ] && kill "$reference" 2>/dev/null
  wait 2>/dev/null
  [ -n "$pgdir" ] && { "$root/scripts/pg" stop "$pgdir" || true; rm -rf "$pgdir"; }
  rm -rf "$work"
}
trap cleanup EXIT
start_server

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
memory() { # the process's own (anonymous) memory, its peak RSS, and the mapped database (PSS), in MiB
  awk '/^Anonymous:/ {a=$2} /^Pss_File:/ {f=$2} END {printf "anonymous %d MiB, mapped database %d MiB", a/1024, f/1024}' /proc/"$server"/smaps_rollup
  awk '/^VmHWM:/ {printf ", peak RSS %d MiB", $2/1024}' /proc/"$server"/status
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
# The rest of the users, timed: one wrk run whose threads stop after their share, ended as
# soon as the tenant holds USERS users (wrk itself would run its whole duration).
before=$(count_users)
t0=$(date +%s.%N)
export RUN=r1
PER_THREAD=$(( (USERS - before + THREADS - 1) / THREADS )) \
  wrk -t"$THREADS" -c"$CONNS" -d600s -s "$BENCH_DIR/create.lua" "$base" >/dev/null &
seeder=$!
while [ "$(count_users)" -lt "$USERS" ]; do sleep 0.2; done
seed_secs=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
kill $seeder 2>/dev/null; wait $seeder 2>/dev/null || true
RPS["POST /Users (sustained, to $USERS)"]=$(python3 -c "print(round(($(count_users) - $before) / $seed_secs))")
echo "created $(( $(count_users) - before )) users in $seed_secs s"
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

# The reference on the same database (tenant 1: the bench tenant of a fresh database).
ref_port=$(free_port)
if [ "$DATABASE" = postgres ]; then ref_db=${SCIMD_DATABASE_URL%%\?*}; else ref_db="$work/bench.db"; fi
"$root/target/release/examples/reference" "127.0.0.1:$ref_port" "$ref_db" 1 2>/dev/null &
reference=$!
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$ref_port/scim/v2/Users/$(head -n 1 "$IDS_FILE")" && break; sleep 0.1; done
ref_base="http://127.0.0.1:$ref_port"
wrk -t"$THREADS" -c"$CONNS" -d2s -s "$BENCH_DIR/get.lua" "$base" >/dev/null # warm both
wrk -t"$THREADS" -c"$CONNS" -d2s -s "$BENCH_DIR/get.lua" "$ref_base" >/dev/null
ratios=()
for round in 1 2; do
  run_wrk "GET /Users/{id}" get.lua
  g[$round]=${RPS["GET /Users/{id}"]}
  base_saved=$base base=$ref_base
  run_wrk "reference GET (bare axum + primary key)" get.lua
  base=$base_saved
  r[$round]=${RPS["reference GET (bare axum + primary key)"]}
done
ref_rps=$(python3 -c "print(round((${r[1]} + ${r[2]}) / 2, 2))")
get_rps=$(python3 -c "print(round((${g[1]} + ${g[2]}) / 2, 2))")
RPS["GET /Users/{id}"]=$get_rps
RPS["reference GET (bare axum + primary key)"]=$ref_rps
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
  db_size=$(du -ch "$work"/bench.db* | tail -1 | cut -f1)
fi

# The request log's cost: GET with the log off (level warn), then with the defaults again.
log_on=()
if [ "$REPLICAS" = 1 ] && [ -z "$LOG_LEVEL" ]; then
  start_server warn
  wrk -t"$THREADS" -c"$CONNS" -d2s -s "$BENCH_DIR/get.lua" "$base" >/dev/null
  run_wrk "GET /Users/{id} (request log off)" get.lua
  start_server
  wrk -t"$THREADS" -c"$CONNS" -d2s -s "$BENCH_DIR/get.lua" "$base" >/dev/null
  run_wrk "GET /Users/{id} (defaults, again)" get.lua
  log_cost=$(python3 -c "on = ($get_rps + ${RPS["GET /Users/{id} (defaults, again)"]}) / 2; off = ${RPS["GET /Users/{id} (request log off)"]}; print(f'{(1 - on / off) * 100:.1f}%')")
fi
mem_end=$(memory)

config="defaults: ${WORKERS:-a worker per core}, request log ${LOG_LEVEL:-info}"
echo
echo "== scimd benchmark ($DATABASE, $REPLICAS replica$([ "$REPLICAS" = 1 ] || echo s), $config): $total users, wrk -t$THREADS -c$CONNS -d${DURATION}s, $CORES cores, $(date -u '+%F %H:%M')"
printf '| %-44s | %-14s | %-10s |\n' "operation" "req/s" "p99"
printf '|%s|%s|%s|\n' "----------------------------------------------" "----------------" "------------"
for k in "POST /Users (create)" "POST /Users (sustained, to $USERS)" "GET /Users/{id}" "reference GET (bare axum + primary key)" \
         "GET /Users?filter=userName eq" "GET /Users page of 100" "PATCH /Users/{id} (replace)" \
         "POST /oauth2/token (client_credentials)" "GET /Users/{id} (JWT access token)" \
         "POST /Users (create, audit payloads kept)" "POST /Users (create, audit payloads off)" \
         "GET /Users/{id} (request log off)" "GET /Users/{id} (defaults, again)"; do
  [ -n "${RPS[$k]:-}" ] && printf '| %-44s | %14s | %10s |\n' "$k" "${RPS[$k]}" "${P99[$k]:-}"
done
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "GET / reference GET: $(ratio "$get_rps" "$ref_rps") (rounds: ${g[1]}/${r[1]}, ${g[2]}/${r[2]})"
echo "filter / reference GET: $(ratio "${RPS["GET /Users?filter=userName eq"]}" "$ref_rps"); filter / GET: $(ratio "${RPS["GET /Users?filter=userName eq"]}" "$get_rps")"
[ -n "${log_cost:-}" ] && echo "request log at info costs $log_cost of GET throughput"
echo "members: $members"
echo "seeding: $seed_secs s for the users after the first create run"
echo "server memory: $mem_seeded after seeding; $mem_end at the end"
echo "database: $db_size"
echo "(anonymous: the process's own memory; mapped: the database file as readers map it, each page once (PSS))"
