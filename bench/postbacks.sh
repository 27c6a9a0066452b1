#!/usr/bin/env bash
# Postback ingest benchmark: `leadbridge serve` with its SQLite store (the file `serve` opens:
# WAL, synchronous=NORMAL, group commit; a postback is answered once its raw row and its
# status are committed) and 1,000 seeded LeadRock leads, loaded by
# `wrk -t2 -c64 -d10s` with valid postbacks /postback/leadrock?token=T&oid=P-<i>&status=approve
# (order ids rotating over the seeded leads).
#
# Figures: stored postbacks per second (rows in raw_postbacks after serve stopped ÷ wrk's
# duration), requests/s and p99 latency (wrk). Targets: ≥ 20,000 stored/s, p99 < 20 ms.
# Check: no acknowledged postback is missing — responses 200 counted by wrk's response hook
# must be ≤ rows in raw_postbacks (rows may exceed them by the requests in flight when wrk
# stops: the server still commits those).
#
# Baseline in the same run: nginx (minimal config in a temp folder, `return 200`, 2 worker
# processes, access log off) on another loopback port, loaded by the same wrk command.
# Prints one markdown row.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 wrk nginx python3 timeout
LEADS=${POSTBACK_LEADS:-1000}
DURATION=${POSTBACK_SECONDS:-10}
CONNS=${POSTBACK_CONNECTIONS:-64}
TOKEN=bench-token-$RANDOM$RANDOM

python3 - "$LEADBRIDGE_HOME" "$WORK/leadbridge.json" "$TOKEN" <<'PY'
import json, sys
ex = json.load(open(f"{sys.argv[1]}/Networks/leadrock.json"))["exampleAccount"]
json.dump({"store": "store.sqlite", "accounts": {"leadrock": {"network": "leadrock", "credentials": ex["credentials"], "params": ex["params"]}},
           "receiver": {"listen": "127.0.0.1:0", "token": sys.argv[3]}}, open(sys.argv[2], "w"), indent=1)
PY
"$BIN" --config "$WORK/leadbridge.json" leads --limit 1 >/dev/null
sqlite3 "$WORK/store.sqlite" <<SQL >/dev/null
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $LEADS)
INSERT INTO leads (network, order_id, account, lead_json, external_id, status, detail, send_state, attempts, created_at, updated_at)
SELECT 'leadrock', 'P-' || i, 'leadrock', json_object('id', 'P-' || i, 'phone', printf('+73%09d', i)), NULL, 'pending', 'accepted',
       'accepted', 1, unixepoch() - 60, unixepoch() - 60 FROM seq;
INSERT INTO outbox (lead_id, state, next_attempt_at) SELECT id, 'done', unixepoch() - 60 FROM leads;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL

# nginx on a free loopback port (asked from the kernel, then released).
NGINX_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { default_type text/plain; return 200 "OK\n"; }
  }
}
CONF
bench_spawn nginx nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$NGINX_PORT/" >/dev/null || { echo "error: nginx did not start" >&2; cat "$WORK/nginx/error.log" "$WORK/nginx.err" >&2; exit 1; }

bench_spawn serve "$BIN" --config "$WORK/leadbridge.json" serve --listen 127.0.0.1:0
bench_wait_line "$WORK/serve.out" 'listening on http://' 15
SERVE_PORT=$(grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/serve.out" | sed 's/.*://')
probe=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/postback/leadrock?token=$TOKEN&oid=P-1&status=approve")
[ "$probe" = 200 ] || { echo "error: a valid postback got HTTP $probe" >&2; cat "$WORK/serve.err" >&2; exit 1; }
rows_before=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM raw_postbacks")

run_wrk() {  # run_wrk PORT OUT
  timeout $((DURATION + 30)) wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s -s bench/wrk/postback.lua \
    "http://127.0.0.1:$1/postback/leadrock" -- "$TOKEN" "$LEADS" >"$2" 2>&1 || { echo "warning: wrk failed" >&2; cat "$2" >&2; }
}
run_wrk "$SERVE_PORT" "$WORK/wrk-serve.txt"
serve_cpu=$(bench_cpu "$PID_serve")
# Stop serve gracefully (it finishes the requests in flight), then count what it stored.
bench_stop "$PID_serve"
run_wrk "$NGINX_PORT" "$WORK/wrk-nginx.txt"
sqlite3 "$WORK/store.sqlite" "SELECT result, count(*) FROM raw_postbacks GROUP BY result" >"$WORK/results.txt"

python3 - "$WORK" "$rows_before" "$serve_cpu" "$CONNS" "$DURATION" <<'PY'
import re, sys
work, before, cpu, conns, duration = sys.argv[1:6]
def wrk(name):
    text = open(f"{work}/{name}").read()
    m = re.search(r"WRK_RESULT.*", text)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(0))} if m else {}
s, g = wrk("wrk-serve.txt"), wrk("wrk-nginx.txt")
results = dict(line.split("|") for line in open(f"{work}/results.txt").read().split())
rows = sum(int(v) for v in results.values()) - int(before)
applied = int(results.get("applied", 0)) - int(before)
dur = s.get("duration_us", 1) / 1e6
stored = rows / dur
rps = s.get("requests", 0) / dur
p99 = s.get("p99_us", 0) / 1000
g_rps = g.get("requests", 0) / (g.get("duration_us", 1) / 1e6)
g_p99 = g.get("p99_us", 0) / 1000
acked = s.get("ok", 0)
missing = max(0, acked - rows)
ok_targets = f"≥ 20,000 stored/s: {'yes' if stored >= 20000 else 'NO'}, p99 < 20 ms: {'yes' if p99 < 20 else 'NO'}"
print(f"| postbacks: `serve` ingest, SQLite store, wrk -t2 -c{conns} -d{duration}s | {stored:,.0f} stored/s; {rps:,.0f} req/s, p99 {p99:.1f} ms "
      f"| nginx `return 200`: {g_rps:,.0f} req/s, p99 {g_p99:.1f} ms | {rps / g_rps:.2f}× (req/s) "
      f"| {ok_targets}; acknowledged (200) {acked:,}, stored {rows:,} ({applied:,} applied), missing {missing}; non-200 {s.get('other', '?')}, "
      f"socket errors {s.get('socket_errors', '?')}; serve CPU {float(cpu):.1f} s |")
PY
