#!/usr/bin/env bash
# The portal's page times at USERS users: a release scimd with its defaults on a fresh
# SQLite database, USERS users created over HTTP (wrk, bounded in time), 200 groups of
# 50 members, a places tree, then every page of the portal opened REPEAT times by a
# signed-in operator (bench/portal.py). Prints p50, p95 and the slowest load per page.
#
#   bench/portal.sh                 # USERS=100000 REPEAT=20
#   USERS=10000 bench/portal.sh
set -euo pipefail
USERS=${USERS:-100000}
REPEAT=${REPEAT:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. "$root/bench/lib.sh"
bench_fresh
base="http://127.0.0.1:$port"
export TOKEN=$token
password="bench operator password"
echo "$password" | "$bin" operator create --username bench-operator --password-stdin >/dev/null
start_scimd "$port" "$(nproc)" "$work/scimd.log"
echo "seeding $USERS users…"
seed_users "$USERS" bench
python3 - "$base" "$TOKEN" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1:3]
def call(method, path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
    return json.load(urllib.request.urlopen(req))
req = urllib.request.Request(base + "/scim/v2/Users?attributes=id&count=10000", headers={"Authorization": f"Bearer {token}"})
ids = [r["id"] for r in json.load(urllib.request.urlopen(req))["Resources"]]
for g in range(200):
    members = [{"value": i} for i in ids[g * 50:(g + 1) * 50]]
    call("POST", "/scim/v2/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                     "displayName": f"Bench group {g}", "members": members})
PY
python3 -c '
import json
print(json.dumps({"locations": [{"key": f"loc{l}", "name": f"Location {l}", "sections": [{"key": f"loc{l}-s{s}", "name": f"Section {s}",
  "banks": [{"key": f"loc{l}-s{s}-b{b}", "name": f"Bank {b}", "lockers": [{"key": f"loc{l}-s{s}-b{b}-l{k}"} for k in range(10)]}
  for b in range(10)]} for s in range(5)]} for l in range(10)]}))' | "$bin" places import --tenant bench - >/dev/null
echo "users: $(count_users)"
"$root/.venv/bin/python" "$BENCH_DIR/portal.py" 127.0.0.1 "$port" bench-operator "$password" bench "$REPEAT"
