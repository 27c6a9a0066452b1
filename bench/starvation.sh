#!/usr/bin/env bash
# Starvation benchmark: can hostile clients keep a network's postbacks out?
# `leadbridge serve` (SQLite, 1,000 seeded LeadRock leads, a fresh server per attack) while
# bench/starve.py holds hostile connections, every one reopened at once when the server closes
# or refuses it. Meanwhile a valid network sends postbacks from 127.0.0.2 (50/s, a new
# connection each). Three attacks, one row each:
#   1. idle, one address: 1,000 connections from 127.0.0.1 that connect and send nothing
#      (the issue's "520 idle connections from one address" attack, doubled);
#   2. slowloris, one address: 1,000 connections from 127.0.0.1, each dripping one header
#      line every 2 s and never finishing its request head;
#   3. both at scale: 10,000 idle connections spread over 100 loopback addresses
#      127.0.1.1 … 127.0.1.100 (so the per-address limit lets the server keep them all) plus
#      the 1,000 slowloris connections from 127.0.0.1.
#
# Figure: share of valid postbacks answered 200 within 100 ms (target ≥ 99 %), with serve's
# RSS and thread count while the attack is held (RSS target: ≤ 100 MB for the 10,000 idle
# connections). Baseline in the same run: the same valid client against a fresh server with no
# attack. Prints one markdown row per attack.
#
# STARVE_IDLE, STARVE_IDLE_ONE, STARVE_SLOWLORIS, STARVE_VALID, STARVE_RECEIVER_JSON (extra
# `receiver` keys; the default keeps idle connections for 120 s so they stay idle through the
# run) override.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 python3 timeout curl
IDLE=${STARVE_IDLE:-10000}
IDLE_ONE=${STARVE_IDLE_ONE:-1000}
SLOW=${STARVE_SLOWLORIS:-1000}
VALID=${STARVE_VALID:-1000}
RECEIVER_JSON=${STARVE_RECEIVER_JSON:-'{"idle_timeout_seconds": 120}'}
TOKEN=bench-token-$RANDOM$RANDOM

bench_receiver_store 1000 "$RECEIVER_JSON"
cp "$WORK/store.sqlite" "$WORK/seeded.sqlite"

# attack NAME STARVE_ARGS…: a fresh serve on the seeded store, starve.py against it (its output
# in $WORK/NAME.txt), serve's RSS and threads afterwards in $WORK/NAME-proc.txt. serve uses
# the file limit it raises itself; the client raises its own.
attack() {
  local name=$1; shift
  rm -f "$WORK"/store.sqlite*
  cp "$WORK/seeded.sqlite" "$WORK/store.sqlite"
  bench_serve
  timeout 300 python3 bench/starve.py --port "$SERVE_PORT" --token "$TOKEN" --rss-pid "$PID_serve" "$@" >"$WORK/$name.txt" 2>&1 \
    || { echo "warning: the $name run failed" >&2; cat "$WORK/$name.txt" >&2; }
  bench_proc "$PID_serve" >"$WORK/$name-proc.txt"
  bench_stop "$PID_serve"
  grep -E 'out of file|limit' "$WORK/serve.err" | sort | uniq -c | sort -rn | head -3 | sed "s/^/$name: /" >&2 || true
}
attack quiet --idle 0 --slowloris 0 --valid "$VALID" --settle 0
attack idle-one --idle "$IDLE_ONE" --idle-sources 0 --slowloris 0 --valid "$VALID"
attack slowloris --idle 0 --slowloris "$SLOW" --valid "$VALID"
attack both --idle "$IDLE" --slowloris "$SLOW" --valid "$VALID"

python3 - "$WORK" <<'PY'
import re, sys
work = sys.argv[1]
def result(name):
    m = re.search(r"STARVE_RESULT.*", open(f"{work}/{name}.txt").read())
    return dict(re.findall(r"(\w+)=([\d.]+)", m.group(0))) if m else {}
def share(r):
    return 100.0 * int(r.get("ok_within_deadline", 0)) / max(1, int(r.get("valid", 0)))
q = result("quiet")
sq = share(q)
quiet_rss, quiet_threads = open(f"{work}/quiet-proc.txt").read().split()
rows = [
    ("idle-one", f"valid postbacks from 127.0.0.2 while {{idle}} idle connections from ONE address (127.0.0.1) are held open"),
    ("slowloris", f"valid postbacks from 127.0.0.2 while {{slowloris}} slowloris connections from ONE address (127.0.0.1) drip their heads"),
    ("both", f"valid postbacks from 127.0.0.2 while {{idle}} idle (100 addresses) + {{slowloris}} slowloris (one address) connections are held"),
]
for name, title in rows:
    a = result(name)
    sa = share(a)
    rss = int(a.get("rss_kb", 0)) / 1024
    title = title.format(idle=f"{int(a.get('idle', 0)):,}", slowloris=f"{int(a.get('slowloris', 0)):,}")
    rss_note = f" (target ≤ 100 MB: {'yes' if 0 < rss <= 100 else 'NO'})" if name == "both" else ""
    print(f"| starvation: {title} "
          f"| {sa:.1f} % answered 200 within {float(a.get('deadline_ms', 100)):g} ms ({a.get('ok_within_deadline', '?')}/{a.get('valid', '?')}; p50 {a.get('p50_ms', '?')} ms, p99 {a.get('p99_ms', '?')} ms) "
          f"| no attack: {sq:.1f} % ({q.get('ok_within_deadline', '?')}/{q.get('valid', '?')}; p99 {q.get('p99_ms', '?')} ms) | {sa / max(sq, 0.1):.2f}× "
          f"| target ≥ 99 %: {'yes' if sa >= 99 else 'NO'}; serve peak RSS {rss:.0f} MB under attack{rss_note}, "
          f"{a.get('threads', '?')} threads (no attack: {quiet_rss} MB, {quiet_threads} threads); attacker connections held when valid traffic began "
          f"{a.get('held_before', '?')}, at the end {a.get('held_after', '?')}; closed or refused by serve: idle {a.get('idle_closed_by_server', '?')}, "
          f"slowloris {a.get('slow_closed_by_server', '?')}; 200s {a.get('ok', '?')} |")
PY
