# Shared by the benchmark scripts (sourced): the release binary, a free loopback port, and
# a scimd server started on it. Expects `root` (the repository) to be set.
bench_build() {
  (cd "$root" && cargo build --release -q -p scimd-server)
  bin="$root/target/release/scimd"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# bench_fresh: the release build, a new `work` directory with an empty SQLite database
# (SCIMD_DATABASE_URL) holding the tenant `bench`, its token in `token`, a free `port`;
# the server (`server`) stopped and `work` removed on exit.
bench_fresh() {
  bench_build
  work=$(mktemp -d)
  port=$(free_port)
  export SCIMD_DATABASE_URL="sqlite://$work/bench.db"
  "$bin" tenant create bench >/dev/null
  token=$("$bin" token create --tenant bench | tail -n 1)
  server=
  trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
}
# start_scimd PORT WORKERS LOGFILE [more serve arguments…]: sets `server` to its pid.
start_scimd() {
  local port=$1 workers=$2 log=$3
  shift 3
  SCIMD_LOG=${SCIMD_LOG:-warn} "$bin" serve --listen "127.0.0.1:$port" --workers "$workers" "$@" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2
  cat "$log" >&2
  exit 1
}
# count_users: the bench tenant's users (needs `base` and `TOKEN`).
count_users() { curl -fs -H "Authorization: Bearer $TOKEN" "$base/scim/v2/Users?count=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalResults"])'; }
# seed_users N PREFIX: creates users over HTTP until the tenant has N (wrk, 2 threads,
# 64 connections; each run sized to what is missing).
seed_users() {
  local n=$1 prefix=$2 i=0 missing secs
  while [ "$(count_users)" -lt "$n" ]; do
    missing=$((n - $(count_users)))
    secs=$(( missing / 3000 + 3 )); [ "$secs" -gt 120 ] && secs=120
    RUN=$prefix$i PER_THREAD=$(( (missing + 1) / 2 )) \
      wrk -t2 -c64 -d"${secs}s" -s "$BENCH_DIR/create.lua" "$base" >/dev/null
    i=$((i+1))
  done
}
# write_ids DIR: every user's id and userName, one per line, into DIR/ids and DIR/names.
write_ids() {
  python3 - "$base" "$TOKEN" "$1" <<'PY'
import json, sys, urllib.request
base, token, work = sys.argv[1:4]
ids, names = open(f"{work}/ids", "w"), open(f"{work}/names", "w")
start = 1
while True:
    req = urllib.request.Request(f"{base}/scim/v2/Users?attributes=userName&count=1000&startIndex={start}",
                                 headers={"Authorization": f"Bearer {token}"})
    page = json.load(urllib.request.urlopen(req))
    if not page["Resources"]:
        break
    for r in page["Resources"]:
        ids.write(r["id"] + "\n"); names.write(r["userName"] + "\n")
    start += len(page["Resources"])
PY
}
