#!/usr/bin/env bash
# Starvation benchmark: can hostile clients keep a network's postbacks out?
# `leadbridge serve` (SQLite, 1,000 seeded LeadRock leads) while bench/starve.py holds
#   - 10,000 idle connections (connect, send nothing), spread over 100 loopback addresses
#     127.0.1.1 … 127.0.1.100 so the per-address limit lets the server keep them all, and
#   - 1,000 slowloris connections from ONE address (127.0.0.1), each dripping one header line
#     every 2 s and never finishing its request head,
# every connection reopened at once when the server closes it. Meanwhile a valid network
# sends 1,000 postbacks from 127.0.0.2 (50/s, a new connection each).
#
# Figure: share of valid postbacks answered 200 within 100 ms (target ≥ 99 %), with serve's
# RSS and thread count while the attack is held (RSS target: ≤ 100 MB for the 10,000 idle
# connections). Baseline in the same run: the same valid client against the same server with
# no attack. Prints one markdown row.
#
# STARVE_IDLE, STARVE_SLOWLORIS, STARVE_VALID, STARVE_RECEIVER_JSON (extra `receiver` keys;
# the default keeps idle connections for 120 s so they stay idle through the run) override.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 python3 timeout curl
IDLE=${STARVE_IDLE:-10000}
SLOW=${STARVE_SLOWLORIS:-1000}
VALID=${STARVE_VALID:-1000}
RECEIVER_JSON=${STARVE_RECEIVER_JSON:-'{"idle_timeout_seconds": 120}'}
TOKEN=bench-token-$RANDOM$RANDOM

bench_receiver_store 1000 "$RECEIVER_JSON"
bench_serve
# Let serve use the file limit it raises itself; the client raises its own.
timeout 120 python3 bench/starve.py --port "$SERVE_PORT" --token "$TOKEN" --idle 0 --slowloris 0 --valid 200 --settle 0 \
  --rss-pid "$PID_serve" >"$WORK/quiet.txt" 2>&1 || { echo "warning: quiet run failed" >&2; cat "$WORK/quiet.txt" >&2; }
quiet_proc=$(bench_proc "$PID_serve")
timeout 300 python3 bench/starve.py --port "$SERVE_PORT" --token "$TOKEN" --idle "$IDLE" --slowloris "$SLOW" --valid "$VALID" \
  --rss-pid "$PID_serve" >"$WORK/attack.txt" 2>&1 || { echo "warning: attack run failed" >&2; cat "$WORK/attack.txt" >&2; }
bench_stop "$PID_serve"
grep -E 'out of file|limit' "$WORK/serve.err" | head -3 >&2 || true

python3 - "$WORK" "$quiet_proc" <<'PY'
import re, sys
work, quiet_proc = sys.argv[1], sys.argv[2].split()
def result(name):
    m = re.search(r"STARVE_RESULT.*", open(f"{work}/{name}").read())
    return dict(re.findall(r"(\w+)=([\d.]+)", m.group(0))) if m else {}
a, q = result("attack.txt"), result("quiet.txt")
def share(r):
    return 100.0 * int(r.get("ok_within_deadline", 0)) / max(1, int(r.get("valid", 0)))
sa, sq = share(a), share(q)
rss = int(a.get("rss_kb", 0)) / 1024
print(f"| starvation: valid postbacks from 127.0.0.2 while {int(a.get('idle', 0)):,} idle + {int(a.get('slowloris', 0)):,} slowloris connections are held "
      f"| {sa:.1f} % answered 200 within {float(a.get('deadline_ms', 100)):g} ms ({a.get('ok_within_deadline', '?')}/{a.get('valid', '?')}; p50 {a.get('p50_ms', '?')} ms, p99 {a.get('p99_ms', '?')} ms) "
      f"| no attack: {sq:.1f} % ({q.get('ok_within_deadline', '?')}/{q.get('valid', '?')}; p99 {q.get('p99_ms', '?')} ms) | {sa / max(sq, 0.1):.2f}× "
      f"| target ≥ 99 %: {'yes' if sa >= 99 else 'NO'}; serve RSS {rss:.0f} MB under attack (target ≤ 100 MB: {'yes' if 0 < rss <= 100 else 'NO'}), "
      f"{a.get('threads', '?')} threads (quiet: {quiet_proc[0]} MB, {quiet_proc[1]} threads); attacker connections held when valid traffic began "
      f"{a.get('held_before', '?')}, at the end {a.get('held_after', '?')}; closed by serve: idle {a.get('idle_closed_by_server', '?')}, "
      f"slowloris {a.get('slow_closed_by_server', '?')}; 200s {a.get('ok', '?')} |")
PY
