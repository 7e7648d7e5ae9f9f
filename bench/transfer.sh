#!/usr/bin/env bash
# Moving data at USERS users: a release scimd on a fresh SQLite database, USERS users created
# over HTTP (wrk, bounded in time) and 200 groups of 50 members; then, the server stopped,
# `scimd export` of everything, `scimd import` into PostgreSQL (scripts/pg, durable
# settings), `scimd export` from there, `scimd import` back into a new SQLite database,
# and `scimd backup` of the first. Prints each step's seconds and the sizes, and checks
# that the three exports are the same apart from their headers.
#
#   bench/transfer.sh                 # USERS=100000
#   USERS=10000 bench/transfer.sh
#
# Each step is bounded by STEP_LIMIT seconds (default 900).
set -euo pipefail
USERS=${USERS:-100000}
STEP_LIMIT=${STEP_LIMIT:-900}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. "$root/bench/lib.sh"
bench_fresh
base="http://127.0.0.1:$port"
export TOKEN=$token
pgdir=/tmp/scimd-transfer-pg-$$
pgport=$(free_port)
trap 'rc=$?; set +e; kill $server 2>/dev/null; wait 2>/dev/null; "$root/scripts/pg" stop "$pgdir" >/dev/null 2>&1; rm -rf "$work" "$pgdir"; exit $rc' EXIT

start_scimd "$port" "$(nproc)" "$work/scimd.log"
echo "seeding $USERS users…"
seed_users "$USERS" bench
python3 - "$base" "$TOKEN" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1:3]
req = urllib.request.Request(base + "/scim/v2/Users?attributes=id&count=10000", headers={"Authorization": f"Bearer {token}"})
ids = [r["id"] for r in json.load(urllib.request.urlopen(req))["Resources"]]
for g in range(200):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"Bench group {g}",
            "members": [{"value": i} for i in ids[g * 50:(g + 1) * 50]]}
    req = urllib.request.Request(base + "/scim/v2/Groups", json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
    urllib.request.urlopen(req).read()
PY
kill "$server"; wait "$server" 2>/dev/null || true; server=

sqlite_a=$SCIMD_DATABASE_URL
pg_url=$("$root/scripts/pg" start "$pgdir" "$pgport")
sqlite_c="sqlite://$work/back.db"

# step NAME COMMAND…: runs it bounded in time, printing its seconds.
step() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  timeout "$STEP_LIMIT" "$@" >/dev/null 2>"$work/step.err" || { echo "$name failed:" >&2; cat "$work/step.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  printf '%-36s %8.1f s\n' "$name" "$(echo "$t1 - $t0" | bc)"
}
size() { du -b "$@" | awk '{s += $1} END {printf "%.1f MB", s / 1e6}'; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
step "export (SQLite)" env SCIMD_DATABASE_URL="$sqlite_a" "$bin" export -o "$work/a.jsonl"
step "import into PostgreSQL" env SCIMD_DATABASE_URL="$pg_url" "$bin" import "$work/a.jsonl"
step "export (PostgreSQL)" env SCIMD_DATABASE_URL="$pg_url" "$bin" export -o "$work/p.jsonl"
step "import back into SQLite" env SCIMD_DATABASE_URL="$sqlite_c" "$bin" import "$work/p.jsonl"
step "backup (SQLite, VACUUM INTO)" env SCIMD_DATABASE_URL="$sqlite_a" "$bin" backup "$work/backup.db"
echo "SQLite database:  $(size "$work"/bench.db "$work"/bench.db-audit)"
echo "export file:      $(size "$work/a.jsonl") ($(wc -l <"$work/a.jsonl") lines)"
echo "backup:           $(size "$work/backup.db" "$work/backup.db-audit")"
if cmp -s <(tail -n +2 "$work/a.jsonl") <(tail -n +2 "$work/p.jsonl"); then
  echo "the exports from SQLite and PostgreSQL are the same apart from their headers"
else
  echo "the exports differ" >&2
  exit 1
fi
