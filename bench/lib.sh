# Shared helpers of the benchmark scripts (sourced, not run). Every script: `cd` to the repo
# root, `source bench/lib.sh`, then `bench_init`. Servers are started with `bench_spawn`, which
# records their pid; the EXIT trap stops each of them by pid and removes the work folder.
# Loopback only: every server listens on 127.0.0.1, port 0 (the kernel picks a free one) or a
# port read back from the server's own output.

BIN=${BIN:-.build/release/leadbridge}
BIN=$(realpath "$BIN")
export LEADBRIDGE_HOME=${LEADBRIDGE_HOME:-$PWD}
BENCH_PIDS=()

bench_init() {
  [ -x "$BIN" ] || { echo "error: no leadbridge binary at $BIN (run: swift build -c release)" >&2; exit 3; }
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is missing (tools/ensure-packages.sh wrk nginx-light hyperfine sqlite3)" >&2; exit 3; }
  done
  WORK=$(mktemp -d /tmp/leadbridge-bench.XXXXXX)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local p i
  # Newest first: clients stop before the servers they talk to.
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${BENCH_PIDS[i]}" 2>/dev/null || true
  done
  for p in "${BENCH_PIDS[@]}"; do
    # Bounded wait (5 s) for a graceful stop, then SIGKILL.
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  [ -n "${WORK:-}" ] && [ -z "${BENCH_KEEP:-}" ] && rm -rf "$WORK"
  return 0
}

# bench_spawn NAME CMD...: runs CMD in the background with stdout/stderr in $WORK/NAME.out/.err
# and remembers its pid (for the EXIT trap and for `bench_cpu`).
bench_spawn() {
  local name=$1; shift
  rm -f "$WORK/$name.out" "$WORK/$name.err"
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  BENCH_PIDS+=("$pid")
  eval "PID_$name=$pid"
}

# bench_wait_line FILE REGEX [SECONDS]: waits (bounded) until FILE has a line matching REGEX.
bench_wait_line() {
  local file=$1 re=$2 limit=${3:-10} i
  for i in $(seq 1 $((limit * 10))); do
    grep -qE "$re" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: timed out waiting for /$re/ in $file:" >&2
  cat "$file" "${file%.out}.err" >&2 2>/dev/null || true
  return 1
}

# bench_emulator NETWORKS [OPTIONS…]: starts `leadbridge emulate` on a free loopback port with statuses
# final at once (--settle 0); exports LEADBRIDGE_CONNECT_TO and sets EMU_PORT and PID_emulator.
bench_emulator() {
  local only=$1; shift
  bench_spawn emulator "$BIN" emulate --listen 127.0.0.1:0 --only "$only" --settle 0 "$@"
  bench_wait_line "$WORK/emulator.out" '^LEADBRIDGE_CONNECT_TO=' 15
  export "$(grep -m1 '^LEADBRIDGE_CONNECT_TO=' "$WORK/emulator.out")"
  EMU_PORT=$(grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/emulator.out" | sed 's/.*://')
  [ -n "$EMU_PORT" ] || { echo "error: cannot read the emulator's port" >&2; return 1; }
}

# bench_cpu PID: user+system CPU seconds used so far by a process (from /proc).
bench_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# bench_now: wall clock in seconds with nanoseconds.
bench_now() { date +%s.%N; }

# bench_stop PID: stops one server this script started (SIGTERM, bounded wait, SIGKILL).
bench_stop() {
  local p=$1
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  bench_forget "$p"
}

# bench_forget PID: drops a finished process from the list, so the EXIT trap never signals a
# pid the system may have reused.
bench_forget() {
  local keep=() q
  for q in "${BENCH_PIDS[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done
  BENCH_PIDS=("${keep[@]}")
}

# bench_conn_sampler PORT FILE: samples, every 0.1 s (at most 3000 times), the number of
# established client connections to 127.0.0.1:PORT into FILE; stop it with bench_stop.
bench_conn_sampler() {
  local port=$1 file=$2
  ( for _ in $(seq 1 3000); do
      ss -Htn state established "( dport = :$port )" 2>/dev/null | wc -l
      sleep 0.1
    done >"$file" ) &
  BENCH_PIDS+=("$!")
  SAMPLER_PID=$!
}
