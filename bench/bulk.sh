#!/usr/bin/env bash
# The Bulk benchmark (issue 9): N users (default 10,000) imported into a fresh scimd as
# single POSTs (sequential, then from 16 connections) and as Bulk requests of 1,000;
# prints the wall time of each (bench/bulk.py).
#
#   bench/bulk.sh            # N=10000 BATCH=1000
set -euo pipefail
N=${N:-10000}
BATCH=${BATCH:-1000}
CORES=$(nproc)
WORKERS=${WORKERS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root" && cargo build --release -q -p scimd-server)
bin="$root/target/release/scimd"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
"$bin" tenant create bench >/dev/null
token=$("$bin" token create --tenant bench | tail -n 1)
SCIMD_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --workers "$WORKERS" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "== scimd Bulk benchmark: $N users, $CORES cores, server with $WORKERS worker(s), SQLite, $(date -u +%F)"
echo "| import | time | users/s |"
echo "| --- | ---: | ---: |"
python3 "$root/bench/bulk.py" 127.0.0.1 "$port" "$token" "$N" "$BATCH"
