#!/usr/bin/env bash
# Postback ingest benchmark: `leadbridge serve` with its SQLite store (the file `serve` opens:
# WAL, synchronous=NORMAL, group commit; a postback is answered once its raw row and its
# status are committed), loaded by `wrk -t2 -c64 -d10s`, two workloads:
#
# 1. raw-log rate (the cheapest path): valid postbacks
#    /postback/leadrock?token=T&oid=P-<i>&status=approve rotating over 1,000 seeded leads, so
#    after the first round nearly every one is decided "unchanged" (no lead update, no event).
#    Figure: postbacks stored per second (rows in raw_postbacks after serve stopped ÷ wrk's
#    duration). Targets: ≥ 0.5× nginx, p99 < 10 ms.
# 2. status-change rate: 600,000 seeded pending leads; every postback approves a different one,
#    in scrambled order (bench/wrk/postback.lua, order "once"), so each is a status change with its
#    lead update and journal entry. Figure: status changes per second, counted in the ledger
#    (leads approved by the run, checked against the journal's status changes and the
#    postbacks applied).
#    Target: ≥ 0.3× nginx.
#
# Both: no acknowledged postback may be missing — responses 200 counted by wrk's response hook
# must be ≤ rows in raw_postbacks (rows may exceed them by the requests in flight when wrk
# stops: the server still commits those). serve's RSS and thread count are sampled half-way
# through each run; its CPU time per postback stored (user + system over the run, from /proc)
# is the figure load on the machine barely changes, and so are its store I/O system calls and
# bytes written per postback (from /proc/PID/io: the pages each postback dirties).
#
# Baseline in the same run: nginx (minimal config in a temp folder, `return 200`, 2 worker
# processes, access log off) on another loopback port, loaded by the same wrk command (same
# script, same arguments). Prints one markdown row per workload.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 wrk nginx python3 timeout curl
LEADS=${POSTBACK_LEADS:-1000}
STATUS_LEADS=${POSTBACK_STATUS_LEADS:-600000}
DURATION=${POSTBACK_SECONDS:-10}
CONNS=${POSTBACK_CONNECTIONS:-64}
TOKEN=bench-token-$RANDOM$RANDOM

bench_nginx

run_wrk() {  # run_wrk PORT OUT SCRIPT ARGS…
  local port=$1 out=$2 script=$3; shift 3
  timeout $((DURATION + 30)) wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$script" \
    "http://127.0.0.1:$port/postback/leadrock" -- "$@" >"$out" 2>&1 || { echo "warning: wrk failed" >&2; cat "$out" >&2; }
}

# serve under load: run_serve NAME SCRIPT ARGS… (wrk against serve, a /proc sample half-way,
# then a graceful stop so the requests in flight are committed).
run_serve() {
  local name=$1; shift
  run_wrk "$SERVE_PORT" "$WORK/wrk-$name.txt" "$@" &
  local wrk_pid=$!
  sleep $((DURATION / 2))
  bench_proc "$PID_serve" >"$WORK/proc-$name.txt"
  wait "$wrk_pid"
  bench_cpu "$PID_serve" >"$WORK/cpu-$name.txt"
  bench_io "$PID_serve" >"$WORK/io-$name.txt"
  bench_stop "$PID_serve"
}

# 1. Raw-log rate.
bench_receiver_store "$LEADS"
bench_serve
sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM raw_postbacks" >"$WORK/before-raw.txt"
run_serve raw bench/wrk/postback.lua "$TOKEN" "$LEADS"
run_wrk "$NGINX_PORT" "$WORK/wrk-nginx-raw.txt" bench/wrk/postback.lua "$TOKEN" "$LEADS"
sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM raw_postbacks; SELECT count(*) FROM raw_postbacks WHERE result = 'applied'" >"$WORK/after-raw.txt"

# 2. Status-change rate.
bench_receiver_store $((STATUS_LEADS + 1)) # the last one for bench_serve's probe, outside the run's leads
bench_serve "P-$((STATUS_LEADS + 1))"
ledger_counts() {
  sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM raw_postbacks; SELECT count(*) FROM leads WHERE status = 'approved';
    SELECT count(*) FROM journal WHERE kind = 'status' AND source = 'postback' AND to_status = 'approved' AND from_status IS NOT 'approved';
    SELECT count(*) FROM raw_postbacks WHERE result = 'applied'"
}
ledger_counts >"$WORK/before-status.txt"
run_serve status bench/wrk/postback.lua "$TOKEN" "$STATUS_LEADS" once 2
run_wrk "$NGINX_PORT" "$WORK/wrk-nginx-status.txt" bench/wrk/postback.lua "$TOKEN" "$STATUS_LEADS" once 2
ledger_counts >"$WORK/after-status.txt"

python3 - "$WORK" "$CONNS" "$DURATION" <<'PY'
import re, sys
work, conns, duration = sys.argv[1:4]
def wrk(name):
    m = re.search(r"WRK_RESULT.*", open(f"{work}/{name}").read())
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(0))} if m else {}
def numbers(name):
    return [int(x) for x in open(f"{work}/{name}").read().split()]
def io(name, rows):
    r, w, b = numbers(f"io-{name}.txt")
    rows = max(rows, 1)
    return f"store I/O per postback: {r / rows:.1f} reads, {w / rows:.1f} writes (system calls), {b / rows / 1024:.0f} KB written"
def rate(w, count=None):
    return (w.get("requests", 0) if count is None else count) / (w.get("duration_us", 1) / 1e6)
cmd = f"wrk -t2 -c{conns} -d{duration}s"

# 1. raw log
s, g = wrk("wrk-raw.txt"), wrk("wrk-nginx-raw.txt")
(before,), (after, applied) = numbers("before-raw.txt"), numbers("after-raw.txt")
rows = after - before
stored, g_rps, p99 = rate(s, rows), rate(g), s.get("p99_us", 0) / 1000
rss, threads = numbers("proc-raw.txt")
cpu = float(open(f"{work}/cpu-raw.txt").read())
missing = max(0, s.get("ok", 0) - rows)
ok = stored >= 0.5 * g_rps and p99 < 10 and missing == 0
print(f"| postbacks, raw-log rate: `serve` stores valid postbacks for 1,000 leads (nearly all decided unchanged), SQLite, {cmd} "
      f"| {stored:,.0f} postbacks stored/s; p99 {p99:.1f} ms "
      f"| nginx `return 200`: {g_rps:,.0f} req/s, p99 {g.get('p99_us', 0) / 1000:.1f} ms | {stored / g_rps:.2f}× "
      f"| target ≥ 0.5× and p99 < 10 ms, none missing: {'yes' if ok else 'NO'}; acknowledged (200) {s.get('ok', 0):,}, stored {rows:,}, missing {missing}; "
      f"non-200 {s.get('other', '?')}, socket errors {s.get('socket_errors', '?')}; serve under load: {threads} threads, RSS {rss} MB, CPU {cpu:.1f} s "
      f"({cpu * 1e6 / max(rows, 1):.0f} µs per postback stored); {io('raw', rows)} |")

# 2. status changes
s, g = wrk("wrk-status.txt"), wrk("wrk-nginx-status.txt")
b, a = numbers("before-status.txt"), numbers("after-status.txt")
rows, changes, events, applied = a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]
changed, g_rps, p99 = rate(s, changes), rate(g), s.get("p99_us", 0) / 1000
rss, threads = numbers("proc-status.txt")
cpu = float(open(f"{work}/cpu-status.txt").read())
missing = max(0, s.get("ok", 0) - rows)
consistent = changes == events == applied and s.get("wrapped", 0) == 0
ok = changed >= 0.3 * g_rps and missing == 0 and consistent
print(f"| postbacks, status-change rate: every postback approves another of 600,000 pending leads (random order), SQLite, {cmd} "
      f"| {changed:,.0f} status changes/s (stored and applied); p99 {p99:.1f} ms "
      f"| nginx `return 200`: {g_rps:,.0f} req/s, p99 {g.get('p99_us', 0) / 1000:.1f} ms | {changed / g_rps:.2f}× "
      f"| target ≥ 0.3×, none missing, ledger consistent: {'yes' if ok else 'NO'}; leads approved {changes:,} = journal status changes {events:,} = postbacks applied {applied:,}"
      f"{'' if consistent else ' (MISMATCH or leads exhausted: wrapped ' + str(s.get('wrapped', 0)) + ')'}; acknowledged (200) {s.get('ok', 0):,}, "
      f"stored {rows:,}, missing {missing}; non-200 {s.get('other', '?')}; serve under load: {threads} threads, RSS {rss} MB, CPU {cpu:.1f} s "
      f"({cpu * 1e6 / max(rows, 1):.0f} µs per postback stored); {io('status', rows)} |")
PY
