#!/usr/bin/env bash
# GET by id, `scimd serve` as a user runs it (its defaults: request log at info, audit on, a
# worker per core) beside the reference server (bench/reference.rs: a bare axum + SQLite
# primary-key lookup on the same database), in alternating rounds of the same length, wrk
# on the same machine. Prints each round's requests per second and the ratio.
#
#   bench/reference.sh                          # USERS=100000 ROUNDS=3 SECS=10
#   USERS=10000 ROUNDS=1 SECS=5 bench/reference.sh
set -euo pipefail
USERS=${USERS:-100000}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. "$root/bench/lib.sh"
bench_fresh
(cd "$root" && cargo build --release -q -p scimd-server --example reference)
base="http://127.0.0.1:$port"
export TOKEN=$token
# The defaults: no SCIMD_LOG, no --workers.
env -u SCIMD_LOG "$bin" serve --listen "127.0.0.1:$port" >"$work/scimd.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
echo "seeding $USERS users…"
seed_users "$USERS" ref
write_ids "$work"
echo "users: $(count_users)"
ref_port=$(free_port)
"$root/target/release/examples/reference" "127.0.0.1:$ref_port" "$work/bench.db" 1 2>/dev/null &
reference=$!
trap 'kill $server $reference 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
first=$(head -n 1 "$work/ids")
curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" "$base/scim/v2/Users/$first" || { echo "scimd does not answer a GET" >&2; exit 1; }
curl -fs -o /dev/null "http://127.0.0.1:$ref_port/scim/v2/Users/$first" || { echo "the reference does not answer a GET" >&2; exit 1; }
export IDS_FILE="$work/ids"
rate() { wrk -t2 -c64 -d"${SECS}s" -s "$BENCH_DIR/get.lua" "$1" | awk '/Requests\/sec/ {print $2}'; }
rate "$base" >/dev/null; rate "http://127.0.0.1:$ref_port" >/dev/null   # warm both
printf '%-6s %14s %14s %7s\n' round scimd reference ratio
for r in $(seq "$ROUNDS"); do
  s=$(rate "$base"); ref=$(rate "http://127.0.0.1:$ref_port")
  printf '%-6s %14s %14s %7.2f\n' "$r" "$s" "$ref" "$(python3 -c "print($s/$ref)")"
done
