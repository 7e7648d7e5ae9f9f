#!/usr/bin/env bash
# The access benchmark: how fast scimd answers "which banks and lockers may this
# user use" — the question of every badge swipe — for a user in 20 groups, in a tenant
# with USERS users and 1,000 locker banks (10,000 lockers). Seeds over HTTP, then measures
# GET /admin/v1/tenants/{t}/users/{userName}/access with wrk on loopback, at 1, 8 and 64
# connections, each bounded by DURATION seconds. Prints requests/s, p50 and p99.
#
#   bench/access.sh                    # USERS=100000 DURATION=10 THREADS=2
#   USERS=10000 DURATION=5 bench/access.sh
#   DATABASE=postgres bench/access.sh  # a throwaway PostgreSQL (fsync on)
#   KEEP=1 bench/access.sh             # keep the database (its directory is printed)
set -euo pipefail
USERS=${USERS:-100000}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CORES=$(nproc)
WORKERS=${WORKERS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. "$root/bench/lib.sh"
bench_build
work=$(mktemp -d)
DATABASE=${DATABASE:-sqlite}
pgdir=
if [ "$DATABASE" = postgres ]; then
  pgdir=/tmp/scimd-access-pg-$$
  export SCIMD_DATABASE_URL=$("$root/scripts/pg" start "$pgdir" "$(free_port)")
else
  export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
fi
port=$(free_port)
base="http://127.0.0.1:$port"
"$bin" tenant create bench >/dev/null
export TOKEN=$("$bin" token create --tenant bench | tail -n 1)
export OPERATOR=$("$bin" admin-token create | tail -n 1)
server=
cleanup() {
  kill "$server" 2>/dev/null; wait 2>/dev/null
  [ -n "$pgdir" ] && { "$root/scripts/pg" stop "$pgdir" || true; rm -rf "$pgdir"; }
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
start_scimd "$port" "$WORKERS" "$work/server.log" --max-page-size 1000

echo "seeding $USERS users…"
seed_users "$USERS" a
write_ids "$work"
echo "seeding places, groups and access…"
python3 "$BENCH_DIR/access_seed.py" 127.0.0.1 "$port" "$TOKEN" "$OPERATOR" "$work/names" "$work/ids" "$work/cohort"
export COHORT_FILE="$work/cohort"
wrk -t1 -c1 -d2s -s "$BENCH_DIR/access.lua" "$base" >/dev/null # warm up

# A rules change: every user gets location loc0; the recomputation runs in the background,
# in rowid order, so it is over when the last user created has the location.
last=$(tail -n 1 "$work/ids")
t0=$(date +%s.%N)
curl -fs -X PUT -H "Authorization: Bearer $OPERATOR" -H 'Content-Type: application/json' \
  -d '{"provision":"all"}' "$base/admin/v1/tenants/bench/places/locations/loc0/rules" >/dev/null
until curl -fs -H "Authorization: Bearer $TOKEN" "$base/scim/v2/Users/$last" | grep -q '"locations":\["loc0"\]'; do
  sleep 0.2
  if [ "$(echo "$(date +%s.%N) - $t0 > 600" | bc)" = 1 ]; then echo "recomputation not done in 600 s" >&2; exit 1; fi
done
recompute=$(echo "$(date +%s.%N) - $t0" | bc)

echo
echo "== scimd access benchmark ($DATABASE): $(count_users) users, 1,000 banks, a user in 20 groups, $CORES cores, $WORKERS worker(s), $(date -u +%F)"
printf '| %-12s | %12s | %10s | %10s |\n' connections "req/s" p50 p99
printf '|%s|%s|%s|%s|\n' "--------------" "--------------" "------------" "------------"
for c in 1 8 64; do
  t=$THREADS; [ "$c" -lt "$t" ] && t=$c
  out=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$BENCH_DIR/access.lua" "$base" 2>&1)
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "FAILED: non-2xx responses" >&2; exit 1; fi
  printf '| %-12s | %12s | %10s | %10s |\n' "$c" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
done
printf 'a rules change giving every user a location: all users recomputed in %.1f s\n' "$recompute"
