#!/usr/bin/env bash
# The sync benchmark: `scimd sync` from a CSV of USERS users into an empty scimd
# (release builds, loopback, a fresh SQLite database), then the same file again (no
# change: nothing to do), then with 1% of the users changed. Prints the wall time of each
# run and its report's counts.
#
#   bench/sync.sh                      # USERS=100000 CONCURRENCY=32
#   USERS=10000 bench/sync.sh
set -euo pipefail
USERS=${USERS:-100000}
CONCURRENCY=${CONCURRENCY:-32}
CORES=$(nproc)
WORKERS=${WORKERS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_fresh
echo "$token" >"$work/token"
start_scimd "$port" "$WORKERS" "$work/server.log" --max-page-size 1000
python3 - "$work/users.csv" "$USERS" 0 <<'PY'
import sys
path, n, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    f.write("userName,givenName,familyName,email,active,externalId\n")
    for i in range(n):
        given = "Changed" if i % 100 == 0 and changed else "Given"
        f.write(f"user{i:06d}@corp.example,{given},Family {i},user{i:06d}@corp.example,true,ext-{i}\n")
PY
run() { # label
  local t0 t1
  t0=$(date +%s.%N)
  env -u SCIMD_DATABASE_URL "$bin" sync --source "$work/users.csv" --target "http://127.0.0.1:$port/scim/v2" \
    --token-file "$work/token" --concurrency "$CONCURRENCY" --quiet --report "$work/report.json" >/dev/null
  t1=$(date +%s.%N)
  python3 - "$1" "$(echo "$t1 - $t0" | bc)" "$work/report.json" <<'PY'
import json, sys
label, secs, r = sys.argv[1], float(sys.argv[2]), json.load(open(sys.argv[3]))
print(f"| {label:<36} | {secs:8.1f} s | created {r['created']}, updated {r['updated']}, unchanged {r['unchanged']}, errors {r['error_count']}, requests {r['requests']} |")
PY
}
echo "== scimd sync benchmark: $USERS users, concurrency $CONCURRENCY, server with $WORKERS worker(s), $CORES cores, $(date -u +%F)"
run "into an empty scimd"
run "again, no change"
python3 - "$work/users.csv" "$USERS" 1 <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("userName,givenName,familyName,email,active,externalId\n")
    for i in range(n):
        given = "Changed" if i % 100 == 0 else "Given"
        f.write(f"user{i:06d}@corp.example,{given},Family {i},user{i:06d}@corp.example,true,ext-{i}\n")
PY
run "again, 1% of the users changed"
