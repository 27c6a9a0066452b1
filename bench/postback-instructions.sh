#!/usr/bin/env bash
# Instructions per raw-log postback (load-independent): `leadbridge serve` under valgrind's
# callgrind (each thread counted apart), answering valid postbacks for 1,000 seeded LeadRock
# leads (bench/postbacks.sh's raw-log workload) from 64 keep-alive connections. The figure is
# the marginal cost, (instructions after LARGE postbacks − after SMALL) / (LARGE − SMALL), so
# start-up and the first round (each lead's status change) drop out: what is left are repeats
# of a status the lead has. Counted by thread: the event loop's (parse, check, answer) and the
# store writer's. The writer's count depends on its batch sizes, which valgrind (one thread
# at a time, ~50× slower) makes smaller than a real run's, and on the clock (a lead's
# confirmed_at moves once a second): trust it for changes to the writer's own code only next
# to a baseline of the same run. Not part of `bench/run` (about a minute per binary):
#   bench/postback-instructions.sh                               # the release binary
#   BASE=/path/to/other/leadbridge bench/postback-instructions.sh   # and a baseline binary
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 python3 valgrind cc curl
[ -n "${BENCH_KEEP:-}" ] && echo "work folder: $WORK" >&2
SMALL=${INSTR_SMALL:-1000}
LARGE=${INSTR_LARGE:-4000}
CONNS=${INSTR_CONNECTIONS:-64}
LEADS=1000
BASE=${BASE:+$(realpath "$BASE")}
TOKEN=bench-token-$RANDOM$RANDOM
bench_receiver_store "$LEADS"
cp "$WORK/store.sqlite" "$WORK/seed.sqlite"
# valgrind 3.19 writes into the mask a process passes to rt_sigsuspend (as bench/send-instructions.sh).
cat >"$WORK/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
int sigsuspend(const sigset_t *mask) { sigset_t copy = *mask; return (int)syscall(SYS_rt_sigsuspend, &copy, 8); }
C
cc -shared -fPIC -O2 -o "$WORK/sigsuspend.so" "$WORK/sigsuspend.c"
# The client: N postbacks over CONNS keep-alive connections, each sent when the last one's answer
# came; counts the answers that were not 200.
cat >"$WORK/client.py" <<'PY'
import socket, sys, threading
port, token, leads, total, conns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
state = {"next": 0, "bad": 0}
lock = threading.Lock()
def worker():
    s = socket.create_connection(("127.0.0.1", port), timeout=300)
    f = s.makefile("rb")
    while True:
        with lock:
            i = state["next"]
            if i >= total:
                break
            state["next"] += 1
        s.sendall(f"GET /postback/leadrock?token={token}&oid=P-{i % leads + 1}&status=approve HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status, length = f.readline(), 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        f.read(length)
        if b" 200 " not in status:
            with lock:
                state["bad"] += 1
    s.close()
threads = [threading.Thread(target=worker) for _ in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
print(state["bad"])
PY
# instructions BIN N TAG: "ROWS LOOP WRITER OTHER" — callgrind's instruction counts by thread
# (the thread running EventLoop.run, the one running PostbackIngest.writerLoop, the rest) after
# N postbacks, and the rows stored.
instructions() {
  local bin=$1 n=$2 dir="$WORK/$3"
  mkdir -p "$dir"
  rm -f "$WORK"/store.sqlite*
  cp "$WORK/seed.sqlite" "$WORK/store.sqlite"
  bench_spawn serve env LD_PRELOAD="$WORK/sigsuspend.so" valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/callgrind.out" \
    "$bin" --config "$WORK/leadbridge.json" serve --listen 127.0.0.1:0
  bench_wait_line "$WORK/serve.out" 'listening on http://' 300
  local port bad rows
  port=$(grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/serve.out" | sed 's/.*://')
  bad=$(timeout 900 python3 "$WORK/client.py" "$port" "$TOKEN" "$LEADS" "$n" "$CONNS")
  # A graceful stop under valgrind (the writer's last commit, callgrind writing its counts) takes
  # seconds: up to two minutes before bench_stop's own short wait and SIGKILL.
  kill -TERM "$PID_serve" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$PID_serve" 2>/dev/null || break; sleep 0.2; done
  bench_stop "$PID_serve"
  [ "$bad" = 0 ] || { echo "error: $bad of $n postbacks not answered 200 ($3)" >&2; return 1; }
  rows=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM raw_postbacks")
  [ "$rows" -ge "$n" ] || { echo "error: $rows rows stored for $n postbacks answered 200 ($3)" >&2; return 1; }
  python3 - "$dir" "$rows" <<'PY'
import glob, re, sys
counts = {"loop": 0, "writer": 0, "other": 0}
for f in glob.glob(sys.argv[1] + "/callgrind.out*"):
    text = open(f, errors="replace").read()
    m = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    kind = "loop" if "EventLoopC3run" in text else "writer" if "writerLoopyyF" in text else "other"
    counts[kind] += int(m.group(1)) if m else 0
print(sys.argv[2], counts["loop"], counts["writer"], counts["other"])
PY
}

# per_postback BIN TAG: "LOOP WRITER TOTAL" instructions per postback, marginal SMALL→LARGE.
per_postback() {
  local a b
  a=$(instructions "$1" "$SMALL" "$2-s")
  b=$(instructions "$1" "$LARGE" "$2-l")
  python3 -c 'import sys
a, b = [list(map(int, x.split())) for x in sys.argv[1:3]]
n = b[0] - a[0]
loop, writer, other = [(b[i] - a[i]) / n for i in (1, 2, 3)]
print(round(loop), round(writer), round(loop + writer + other))' "$a" "$b"
}

figure=$(per_postback "$BIN" new)
base=""
[ -n "$BASE" ] && base=$(per_postback "$BASE" base)
python3 - "$figure" "$base" "$SMALL" "$LARGE" <<'PY'
import sys
f = list(map(int, sys.argv[1].split()))
b = list(map(int, sys.argv[2].split())) if sys.argv[2] else None
what = f"(callgrind, marginal {sys.argv[3]}→{sys.argv[4]} raw-log postbacks, 64 connections)"
for i, name in ((0, "event loop"), (1, "store writer"), (2, "whole process")):
    base = f"baseline binary {b[i]:,}" if b else "(set BASE= for a baseline binary)"
    ratio = f"{f[i] / b[i]:.2f}×" if b else ""
    print(f"| postbacks: instructions per raw-log postback, {name} {what} | {f[i]:,} | {base} | {ratio} | load-independent; the writer's depends on valgrind's batch sizes |")
PY
