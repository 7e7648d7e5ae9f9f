# Shared by the benchmark scripts (sourced): the release binary, a free loopback port, and
# a scimd server started on it. Expects `root` (the repository) to be set.
bench_build() {
  (cd "$root" && cargo build --release -q -p scimd-server)
  bin="$root/target/release/scimd"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
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
