#!/usr/bin/env bash
# A/B: this checkout's release build against another revision's, side by side on one
# seeded SQLite database, so that a change's cost on the read path is measured apart from
# this machine's run-to-run noise. Servers take turns (one worker each, ROUNDS rounds of
# GET by id and filter userName eq, DURATION seconds per wrk run).
#
#   bench/ab.sh REV                   # USERS=100000 ROUNDS=3 DURATION=8
set -euo pipefail
rev=${1:?usage: bench/ab.sh REV}
USERS=${USERS:-100000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
. "$root/bench/lib.sh"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  wait 2>/dev/null || true
  git -C "$root" worktree remove --force "$work/base" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
bench_build
cp "$bin" "$work/scimd-this"
git -C "$root" worktree add -q --detach "$work/base" "$rev"
# The base builds in a target directory of its own: the workspace crates of both trees
# would get the same file names in one directory, and cargo, judging freshness by times,
# could then link this checkout against the base's crates (their sources were written
# last). Dependencies are built once and kept there for the next run.
(cd "$work/base" && CARGO_TARGET_DIR="$root/target/ab-base" cargo build --release -q -p scimd-server)
cp "$root/target/ab-base/release/scimd" "$work/scimd-base"

export SCIMD_DATABASE_URL="sqlite://$work/ab.db"
bin="$work/scimd-this"
"$bin" tenant create bench >/dev/null
export TOKEN=$("$bin" token create --tenant bench | tail -n 1)
port=$(free_port)
base="http://127.0.0.1:$port"
start_scimd "$port" 1 "$work/seed.log"
seed_users "$USERS" s
write_ids "$work"
export IDS_FILE="$work/ids" NAMES_FILE="$work/names"
kill "$server"; wait "$server" 2>/dev/null || true; server=
rps() { wrk -t2 -c64 -d"${DURATION}s" -s "$BENCH_DIR/$1" "$base" | awk '/Requests\/sec/ {print $2}'; }
echo "== A/B on $USERS users, one worker, wrk -t2 -c64 -d${DURATION}s, $(date -u +%F' '%H:%M) UTC"
printf '%-6s %-10s %14s %14s\n' round build "GET/s" "filter/s"
for r in $(seq "$ROUNDS"); do
  for which in base this; do
    bin="$work/scimd-$which"
    start_scimd "$port" 1 "$work/$which.log"
    rps get.lua >/dev/null # warm the cache
    printf '%-6s %-10s %14s %14s\n' "$r" "$which" "$(rps get.lua)" "$(rps filter.lua)"
    kill "$server"; wait "$server" 2>/dev/null || true; server=
  done
done
echo "(base: $(git -C "$root" rev-parse --short=12 "$rev"); this: $(git -C "$root" rev-parse --short=12 HEAD)$(git -C "$root" diff --quiet HEAD || echo ' + uncommitted changes'))"
