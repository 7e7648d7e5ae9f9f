#!/usr/bin/env bash
# scimd events benchmark (release build, the defaults: SQLite unless DATABASE=postgres).
#
# 1. Creates with and without a push stream: wrk POST /Users for CREATE_DURATION seconds
#    on a tenant without streams and on one with a push stream to a loopback receiver
#    (alternately, ROUNDS times each); the ratio of their medians.
# 2. bench/events_bench.rs against the same server: commit-to-receipt p50/p99 at RATE
#    creates/s for SECS seconds, a BACKLOG-event backlog drained, and the access events
#    of a GROUP-user group linked to a bank.
#
#   bench/events.sh                   # ROUNDS=3 CREATE_DURATION=5 RATE=1000 SECS=10 BACKLOG=100000 GROUP=1000
#   BACKLOG=20000 bench/events.sh
#   DATABASE=postgres bench/events.sh
set -euo pipefail
ROUNDS=${ROUNDS:-3}
CREATE_DURATION=${CREATE_DURATION:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
CORES=$(nproc)
WORKERS=${WORKERS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
export RATE=${RATE:-1000} SECS=${SECS:-10} BACKLOG=${BACKLOG:-100000} GROUP=${GROUP:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$root/bench"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source "$BENCH_DIR/lib.sh"
(cd "$root" && cargo build --release -q -p scimd-server --bins --example events_bench)
bin="$root/target/release/scimd"
driver="$root/target/release/examples/events_bench"
work=$(mktemp -d)
pgdir=
if [ "${DATABASE:-sqlite}" = postgres ]; then
  pgdir=/tmp/scimd-bench-events-pg-$$
  export SCIMD_DATABASE_URL=$("$root/scripts/pg" start "$pgdir" "$(free_port)")
else
  export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
fi
port=$(free_port)
base="http://127.0.0.1:$port"
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  [ -n "${rx:-}" ] && kill "$rx" 2>/dev/null
  wait 2>/dev/null
  [ -n "$pgdir" ] && { "$root/scripts/pg" stop "$pgdir" || true; rm -rf "$pgdir"; }
  rm -rf "$work"
}
trap cleanup EXIT
for t in plain streamed driven; do "$bin" tenant create "$t" >/dev/null; done
plain=$("$bin" token create --tenant plain | tail -n 1)
streamed=$("$bin" token create --tenant streamed | tail -n 1)
driven=$("$bin" token create --tenant driven | tail -n 1)
operator=$("$bin" admin-token create | tail -n 1)
start_scimd "$port" "$WORKERS" "$work/server.log"

# The streamed tenant's receiver: the driver's (Rust; answers 202 as fast as wrk creates).
"$driver" receive >"$work/rx.url" 2>"$work/rx.log" &
rx=$!
for _ in $(seq 100); do [ -s "$work/rx.url" ] && break; sleep 0.1; done
rx_url=$(head -1 "$work/rx.url")
"$bin" events stream add --tenant streamed --push "$rx_url" --json >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
create_rps() { # token run
  TOKEN=$1 RUN=$2 wrk -t"$THREADS" -c"$CONNS" -d"${CREATE_DURATION}s" -s "$BENCH_DIR/create.lua" "$base" 2>&1 \
    | awk '/Requests\/sec/ {print $2}'
}
: >"$work/plain" ; : >"$work/streamed"
for r in $(seq "$ROUNDS"); do
  create_rps "$plain" "p$r" >>"$work/plain"
  create_rps "$streamed" "s$r" >>"$work/streamed"
done
p=$(median <"$work/plain"); s=$(median <"$work/streamed")
printf 'POST /Users without streams (median of %d): %10.0f req/s\n' "$ROUNDS" "$p"
printf 'POST /Users with a push stream (median):     %10.0f req/s   ratio %.2f\n' "$s" "$(python3 -c "print($s/$p)")"
printf 'runs: without %s; with %s\n' "$(tr '\n' ' ' <"$work/plain")" "$(tr '\n' ' ' <"$work/streamed")"
kill "$rx" 2>/dev/null; rx=

"$driver" "$base" "$driven" "$operator" driven
echo "server memory: $(awk '/^VmRSS:/ {printf "%d MiB", $2/1024}' /proc/"$server"/status)"
