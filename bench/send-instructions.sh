#!/usr/bin/env bash
# Instructions per sent lead (load-independent): `leadbridge sync` sending KMA leads to the
# built-in emulator on loopback, counted by valgrind's callgrind. The figure is the marginal
# cost, (instructions with LARGE leads − instructions with SMALL leads) / (LARGE − SMALL), so
# start-up and the pass's fixed costs drop out. Concurrency 1 and 64 by default
# (INSTR_LEVELS="1 64"). Not part of `bench/run` (valgrind makes it slow: about a minute per
# level); run it by hand before and after a change:
#   bench/send-instructions.sh                       # the release binary
#   BASE=/path/to/other/leadbridge bench/send-instructions.sh   # and a baseline binary, same run
# Each row: the figure, and the baseline binary's figure when BASE is set.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 python3 valgrind cc
[ -n "${BENCH_KEEP:-}" ] && echo "work folder: $WORK" >&2
SMALL=${INSTR_SMALL:-300}
LARGE=${INSTR_LARGE:-900}
LEVELS=${INSTR_LEVELS:-"1 64"}
BASE=${BASE:+$(realpath "$BASE")}

# The template: queued by leadbridge after a refused connection (as bench/send.sh makes it), by
# the baseline binary when there is one: a binary cannot open a store a newer one migrated,
# while a newer one migrates the older store (in both runs of a level: the marginal figure
# leaves it out).
if [ -n "$BASE" ]; then
  NEW_BIN=$BIN BIN=$BASE
  bench_kma_queue_template
  BIN=$NEW_BIN
else
  bench_kma_queue_template
fi

# valgrind 3.19 writes into the mask a process passes to rt_sigsuspend, and libdispatch passes
# one in read-only memory (its signal thread, when an async main returns): valgrind itself
# crashes. A copy on the stack is the same call for the process.
cat >"$WORK/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
int sigsuspend(const sigset_t *mask) { sigset_t copy = *mask; return (int)syscall(SYS_rt_sigsuspend, &copy, 8); }
C
cc -shared -fPIC -O2 -o "$WORK/sigsuspend.so" "$WORK/sigsuspend.c"

# instructions BIN C N TAG RUN: callgrind's total instruction count of one sync of N leads (new
# phone numbers each time, by RUN: the emulator refuses a phone it has seen).
instructions() {
  local bin=$1 c=$2 n=$3 dir="$WORK/$4"
  mkdir -p "$dir/specs"
  bench_kma_spec "$c" "$dir/specs/kma.json"
  bench_kma_queue "$dir" "I$4-" "$n" "+7$(printf '%03d%02d' "$c" "$5")%05d"
  LD_PRELOAD="$WORK/sigsuspend.so" timeout 600 valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" "$bin" --networks "$dir/specs" --config "$dir/leadbridge.json" sync --json \
    >"$dir/sync.jsonl" 2>"$dir/valgrind.err" || { echo "error: sync under valgrind failed ($4)" >&2; tail -3 "$dir/valgrind.err" >&2; return 1; }
  local accepted
  accepted=$(python3 -c 'import json,sys; print(next((json.loads(l)["networks"]["kma"]["accepted"] for l in open(sys.argv[1]) if "\"summary\":true" in l), 0))' "$dir/sync.jsonl")
  [ "$accepted" = "$n" ] || { echo "error: $accepted of $n accepted ($4)" >&2; return 1; }
  grep -m1 -oE 'Collected : [0-9]+' "$dir/valgrind.err" | grep -oE '[0-9]+'
}

per_lead() {
  local bin=$1 c=$2 tag=$3 run=$4 a b
  a=$(instructions "$bin" "$c" "$SMALL" "$tag-c$c-s" "$run")
  b=$(instructions "$bin" "$c" "$LARGE" "$tag-c$c-l" "$((run + 1))")
  echo $(( (b - a) / (LARGE - SMALL) ))
}

for c in $LEVELS; do
  bench_emulator kma
  figure=$(per_lead "$BIN" "$c" new 10)
  base=""
  [ -n "$BASE" ] && base=$(per_lead "$BASE" "$c" base 20)
  bench_stop "$PID_emulator"
  if [ -n "$base" ]; then
    python3 -c 'import sys; f, b, c = map(int, sys.argv[1:4]); print(f"| send: instructions per sent lead (callgrind, marginal {sys.argv[4]}→{sys.argv[5]} leads), concurrency {c} | {f/1e6:.3f} M | baseline binary {b/1e6:.3f} M | {f/b:.2f}× | target ≤ 0.6 M at concurrency 1 |")' \
      "$figure" "$base" "$c" "$SMALL" "$LARGE"
  else
    python3 -c 'import sys; f, c = map(int, sys.argv[1:3]); print(f"| send: instructions per sent lead (callgrind, marginal {sys.argv[3]}→{sys.argv[4]} leads), concurrency {c} | {f/1e6:.3f} M | (set BASE= for a baseline binary) | | target ≤ 0.6 M at concurrency 1 |")' \
      "$figure" "$c" "$SMALL" "$LARGE"
  fi
done
