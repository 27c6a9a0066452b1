#!/usr/bin/env bash
# Postback ingest on PostgreSQL: 1 and 2 `leadbridge serve` processes on one PostgreSQL
# database (a scratch server from Debian's postgresql package, fsync on, durability normal =
# synchronous_commit local) against 1 `serve` on SQLite, under the same load: wrk with 2
# threads and 64 connections for 10 s of valid LeadRock postbacks over 1,000 accepted leads
# (with 2 serves, two wrk of 1 thread and 32 connections each, one per serve, at once: a
# balancer's share).
#
# The leads are seeded once in PostgreSQL (psql) and copied to the SQLite file with
# `leadbridge copy-store`, so both stores hold the same ledger. Figures: stored postbacks per
# second (rows in raw_postbacks ÷ wrk's duration), requests/s and p99 (wrk). Check: no
# acknowledged postback missing (200s counted by wrk ≤ rows stored). Baseline in the same run:
# 1 serve on SQLite. Prints one markdown row per PostgreSQL figure.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init wrk python3 psql timeout
LEADS=${POSTBACK_LEADS:-1000}
DURATION=${POSTBACK_SECONDS:-10}
CONNS=${POSTBACK_CONNECTIONS:-64}
TOKEN=bench-token-$RANDOM$RANDOM
bench_postgres

write_config() {  # write_config FILE STORE
  python3 - "$LEADBRIDGE_HOME" "$1" "$TOKEN" "$2" <<'PY'
import json, sys
ex = json.load(open(f"{sys.argv[1]}/Networks/leadrock.json"))["exampleAccount"]
json.dump({"store": sys.argv[4], "accounts": {"leadrock": {"network": "leadrock", "credentials": ex["credentials"], "params": ex["params"]}},
           "receiver": {"listen": "127.0.0.1:0", "token": sys.argv[3]}}, open(sys.argv[2], "w"), indent=1)
PY
}
write_config "$WORK/pg.json" "$PG_URL"
write_config "$WORK/sqlite.json" "$WORK/store.sqlite"
"$BIN" --config "$WORK/pg.json" migrate >/dev/null
$PG_PSQL <<SQL
INSERT INTO leads (network, order_id, account, lead_json, state, reach, status, pollable, attempts, created_at, updated_at)
SELECT 'leadrock', 'P-' || i, 'leadrock', json_build_object('id', 'P-' || i, 'phone', '+73' || lpad(i::text, 9, '0'))::text,
       'accepted', 'held', 'pending', 1, 1, extract(epoch FROM now())::bigint - 60, extract(epoch FROM now())::bigint - 60
FROM generate_series(1, $LEADS) AS i;
SQL
"$BIN" copy-store "$PG_URL" "$WORK/store.sqlite" >/dev/null

rows() {  # rows pg|sqlite
  if [ "$1" = pg ]; then $PG_PSQL -tA -c "SELECT count(*) FROM raw_postbacks"
  else python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM raw_postbacks').fetchone()[0])" "$WORK/store.sqlite"; fi
}

start_serve() {  # start_serve NAME CONFIG: sets PORT_<NAME>
  bench_spawn "$1" "$BIN" --config "$2" serve --listen 127.0.0.1:0
  bench_wait_line "$WORK/$1.out" 'listening on http://' 15
  local port
  port=$(grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/$1.out" | sed 's/.*://')
  local probe
  probe=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/postback/leadrock?token=$TOKEN&oid=P-1&status=approve")
  [ "$probe" = 200 ] || { echo "error: a valid postback to $1 got HTTP $probe" >&2; cat "$WORK/$1.err" >&2; return 1; }
  eval "PORT_$1=$port"
}

run_wrk() {  # run_wrk PORT THREADS CONNECTIONS OUT
  timeout $((DURATION + 30)) wrk -t"$2" -c"$3" -d"${DURATION}s" --timeout 10s -s bench/wrk/postback.lua \
    "http://127.0.0.1:$1/postback/leadrock" -- "$TOKEN" "$LEADS" >"$4" 2>&1 || { echo "warning: wrk failed" >&2; cat "$4" >&2; }
}

# 1. Baseline: 1 serve on SQLite.
start_serve sq "$WORK/sqlite.json"
before=$(rows sqlite)
run_wrk "$PORT_sq" 2 "$CONNS" "$WORK/wrk-sqlite.txt"
bench_stop "$PID_sq"
echo "sqlite $(( $(rows sqlite) - before ))" >"$WORK/stored.txt"

# 2. 1 serve on PostgreSQL.
start_serve pg1 "$WORK/pg.json"
before=$(rows pg)
run_wrk "$PORT_pg1" 2 "$CONNS" "$WORK/wrk-pg1.txt"
bench_stop "$PID_pg1"
echo "pg1 $(( $(rows pg) - before ))" >>"$WORK/stored.txt"

# 3. 2 serves on PostgreSQL, each getting half the connections at the same time.
start_serve pga "$WORK/pg.json"
start_serve pgb "$WORK/pg.json"
before=$(rows pg)
run_wrk "$PORT_pga" 1 $((CONNS / 2)) "$WORK/wrk-pg2a.txt" &
wa=$!
run_wrk "$PORT_pgb" 1 $((CONNS / 2)) "$WORK/wrk-pg2b.txt" &
wb=$!
wait "$wa" "$wb"
bench_stop "$PID_pga"
bench_stop "$PID_pgb"
echo "pg2 $(( $(rows pg) - before ))" >>"$WORK/stored.txt"

python3 - "$WORK" "$CONNS" "$DURATION" <<'PY'
import re, sys
work, conns, duration = sys.argv[1:4]
def wrk(name):
    m = re.search(r"WRK_RESULT.*", open(f"{work}/{name}").read())
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(0))} if m else {}
stored = dict((k, int(v)) for k, v in (l.split() for l in open(f"{work}/stored.txt")))
def figure(runs, rows):
    dur = max(r.get("duration_us", 1) for r in runs) / 1e6
    req = sum(r.get("requests", 0) for r in runs)
    ok = sum(r.get("ok", 0) for r in runs)
    other = sum(r.get("other", 0) for r in runs)
    errors = sum(r.get("socket_errors", 0) for r in runs)
    p99 = max(r.get("p99_us", 0) for r in runs) / 1000
    return rows / dur, req / dur, p99, ok, other, errors, rows
base = figure([wrk("wrk-sqlite.txt")], stored["sqlite"])
for label, runs, key in [("1 serve", [wrk("wrk-pg1.txt")], "pg1"), ("2 serves", [wrk("wrk-pg2a.txt"), wrk("wrk-pg2b.txt")], "pg2")]:
    s, r, p99, ok, other, errors, rows = figure(runs, stored[key])
    print(f"| postbacks: {label} on PostgreSQL (synchronous_commit local), wrk {conns} connections {duration}s | {s:,.0f} stored/s; {r:,.0f} req/s, p99 {p99:.1f} ms "
          f"| 1 serve on SQLite, same wrk: {base[0]:,.0f} stored/s; {base[1]:,.0f} req/s, p99 {base[2]:.1f} ms | {s / base[0]:.2f}× (stored/s) "
          f"| acknowledged (200) {ok:,}, stored {rows:,}, missing {max(0, ok - rows)}; non-200 {other}, socket errors {errors} |")
PY
