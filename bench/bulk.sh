#!/usr/bin/env bash
# The Bulk benchmark: N users (default 10,000) imported into a fresh scimd as
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
. "$root/bench/lib.sh"
bench_fresh
start_scimd "$port" "$WORKERS" "$work/server.log"
echo "== scimd Bulk benchmark: $N users, $CORES cores, server with $WORKERS worker(s), SQLite, $(date -u +%F)"
echo "| import | time | users/s |"
echo "| --- | ---: | ---: |"
python3 "$root/bench/bulk.py" 127.0.0.1 "$port" "$token" "$N" "$BATCH"
