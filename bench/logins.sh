#!/usr/bin/env bash
# Memory under a burst of password checks: 1,000 concurrent bad logins (unknown
# usernames, each checked with argon2), 1,000 concurrent wrong client secrets, and a Bulk
# of 128 creates with passwords, against this checkout's release build and, with REV,
# another revision's in the same run. Prints the peak RSS of the server per scenario.
#
#   bench/logins.sh [REV]             # N=1000 BULK=128
set -euo pipefail
rev=${1:-}
N=${N:-1000}
BULK=${BULK:-128}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
ulimit -n 8192 2>/dev/null || true
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  wait 2>/dev/null || true
  [ -n "$rev" ] && git -C "$root" worktree remove --force "$work/base" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
bench_build
cp "$bin" "$work/scimd-this"
builds=this
if [ -n "$rev" ]; then
  git -C "$root" worktree add -q --detach "$work/base" "$rev"
  (cd "$work/base" && CARGO_TARGET_DIR="$root/target" cargo build --release -q -p scimd-server)
  cp "$root/target/release/scimd" "$work/scimd-base"
  bench_build
  builds="base this"
fi
echo "== password checks at once, $(nproc) cores, $(date -u +%F' '%H:%M) UTC"
echo "| build | scenario | requests | time | statuses | peak RSS |"
echo "| --- | --- | ---: | ---: | --- | ---: |"
for which in $builds; do
  bin="$work/scimd-$which"
  rm -f "$work"/db*
  export SCIMD_DATABASE_URL="sqlite://$work/db"
  "$bin" tenant create bench >/dev/null
  token=$("$bin" token create --tenant bench | tail -n 1)
  creds=$("$bin" client create --tenant bench --grant password --grant client_credentials --json)
  cid=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
  csecret=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
  port=$(free_port)
  for scenario in users client bulk; do
    start_scimd "$port" "$(nproc)" "$work/$which.log"
    count=$N; [ "$scenario" = bulk ] && count=$BULK
    printf '| %s ' "$which"
    python3 "$root/bench/logins.py" 127.0.0.1 "$port" "$server" "$scenario" "$count" "$cid" "$csecret" "$token"
    kill "$server"; wait "$server" 2>/dev/null || true; server=
  done
done
