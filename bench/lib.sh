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
  # The scripts read leadbridge's English lines ("listening on http://…"); Russian is the default.
  export LEADBRIDGE_LANG=en
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
  [ -n "${PG_DIR:-}" ] && tools/pg-scratch.sh destroy "$PG_DIR"
  [ -n "${WORK:-}" ] && [ -z "${BENCH_KEEP:-}" ] && rm -rf "$WORK"
  return 0
}

# bench_postgres: a scratch PostgreSQL server (tools/pg-scratch.sh, fsync on) destroyed by the
# EXIT trap; sets PG_DIR, PG_URL (unix socket, database "postgres") and PG_PSQL (a psql command).
bench_postgres() {
  local out
  out=$(PG_SCRATCH_FSYNC=on tools/pg-scratch.sh start $$) || return 1
  PG_DIR=$(echo "$out" | sed -n 1p)
  PG_URL=$(echo "$out" | sed -n 2p)
  PG_PSQL="psql -X -q -v ON_ERROR_STOP=1 $PG_URL"
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

# bench_timev FILE: the wall time (s), peak RSS (MB) and CPU time (user + system, s) from the
# output of /usr/bin/time -v, on one line.
bench_timev() {
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($NF, p, ":"); wall = p[n] + 60 * p[n - 1] + (n > 2 ? 3600 * p[n - 2] : 0) }
    /Maximum resident set size/ { rss = $NF / 1024 }
    /User time \(seconds\)/ { cpu += $NF }
    /System time \(seconds\)/ { cpu += $NF }
    END { printf "%.2f %.0f %.2f\n", wall, rss, cpu }' "$1"
}

# bench_now: wall clock in seconds with nanoseconds.
bench_now() { date +%s.%N; }

# bench_sqlite_baseline: the same-run baseline of the ledger benchmarks — the sqlite3 CLI runs
# $WORK/baseline.sql on $WORK/baseline.sqlite; sets b0 and b1 (start and end, seconds).
bench_sqlite_baseline() {
  b0=$(bench_now)
  timeout 120 sqlite3 "$WORK/baseline.sqlite" <"$WORK/baseline.sql" >/dev/null
  b1=$(bench_now)
}

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

# The console's tallies counted again from the leads (leadbridge's SQLiteSchema.recountTallies):
# from schema 11 leadbridge's writer keeps them, so a seed written by the sqlite3 CLI ends with it.
BENCH_RECOUNT_TALLIES="DELETE FROM lead_tallies;
DELETE FROM final_tallies;
INSERT INTO lead_tallies (network, account, state, status, day, currency, payout, n)
  SELECT network, account, state, status, created_at / 86400, currency, payout, count(*) FROM leads
  GROUP BY network, account, state, status, created_at / 86400, currency, payout;
INSERT INTO final_tallies (state, day, network, account, minutes, n)
  SELECT state, created_at / 86400, network, account, (final_at - created_at) / 60, count(*) FROM leads WHERE final_at IS NOT NULL
  GROUP BY state, created_at / 86400, network, account, (final_at - created_at) / 60;"

# bench_clone_lead DB ORDER_ID PREFIX N [PHONE_FORMAT]: N copies of the lead ORDER_ID (every
# column as leadbridge wrote it, so no state word is spelled here) as PREFIX1 … PREFIXN, in one
# transaction; the copies' lead files carry their own id and phone (printf(PHONE_FORMAT, i),
# default +73%09d), and no network id.
bench_clone_lead() {
  local db=$1 template=$2 prefix=$3 n=$4 phone=${5:-+73%09d} cols
  cols=$(sqlite3 "$db" "SELECT group_concat(name, ', ') FROM pragma_table_info('leads') WHERE name NOT IN ('id', 'order_id', 'lead_json', 'external_id', 'journal_head')")
  sqlite3 "$db" <<SQL >/dev/null
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $n)
INSERT INTO leads (order_id, lead_json, $cols)
SELECT '$prefix' || i, json_set(t.lead_json, '$.id', '$prefix' || i, '$.phone', printf('$phone', i)), $(echo "$cols" | sed 's/\([a-z_][a-z_]*\)/t.\1/g')
FROM seq, (SELECT * FROM leads WHERE order_id = '$template') t;
$BENCH_RECOUNT_TALLIES
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
}

# bench_receiver_store LEADS [RECEIVER_JSON]: writes $WORK/leadbridge.json (a LeadRock account,
# the receiver on 127.0.0.1:0 with token $TOKEN, RECEIVER_JSON merged into the `receiver`
# section) and puts LEADS pending LeadRock leads P-1 … P-LEADS into $WORK/store.sqlite, as the
# network accepted them: leadbridge sends one lead to the emulator, and sqlite3 copies it.
bench_receiver_store() {
  local leads=$1 extra=${2:-"{}"}
  rm -f "$WORK"/store.sqlite*
  python3 - "$LEADBRIDGE_HOME" "$WORK/leadbridge.json" "$TOKEN" "$extra" "$WORK/template-lead.json" <<'PY'
import json, sys
spec = json.load(open(f"{sys.argv[1]}/Networks/leadrock.json"))
ex = spec["exampleAccount"]
receiver = {"listen": "127.0.0.1:0", "token": sys.argv[3]}
receiver.update(json.loads(sys.argv[4]))
json.dump({"store": "store.sqlite", "accounts": {"leadrock": {"network": "leadrock", "credentials": ex["credentials"], "params": ex["params"]}},
           "receiver": receiver}, open(sys.argv[2], "w"), indent=1)
lead = next(e["lead"] for e in spec["examples"] if e.get("expect", {}).get("result") == "accepted")
lead["id"] = "TEMPLATE"
json.dump(lead, open(sys.argv[5], "w"), ensure_ascii=False)
PY
  bench_emulator leadrock
  "$BIN" --config "$WORK/leadbridge.json" send leadrock --lead "$WORK/template-lead.json" --account leadrock >"$WORK/template-send.txt" 2>&1 \
    || { echo "error: the template lead was not sent:" >&2; cat "$WORK/template-send.txt" >&2; return 1; }
  bench_stop "$PID_emulator"
  unset LEADBRIDGE_CONNECT_TO
  bench_clone_lead "$WORK/store.sqlite" TEMPLATE P- "$leads"
}

# bench_nginx: nginx `return 200` (2 workers, access log off, minimal config in $WORK/nginx) on
# a free loopback port; sets NGINX_PORT and PID_nginx.
bench_nginx() {
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
}

# bench_serve [OID]: `leadbridge serve` on the config of bench_receiver_store; waits for its
# port (SERVE_PORT, PID_serve) and checks that a valid postback for lead OID (default P-1) is
# answered 200.
bench_serve() {
  local oid=${1:-P-1}
  bench_spawn serve "$BIN" --config "$WORK/leadbridge.json" serve --listen 127.0.0.1:0
  bench_wait_line "$WORK/serve.out" 'listening on http://' 15
  SERVE_PORT=$(grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/serve.out" | sed 's/.*://')
  local probe
  probe=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/postback/leadrock?token=$TOKEN&oid=$oid&status=approve")
  [ "$probe" = 200 ] || { echo "error: a valid postback got HTTP $probe" >&2; cat "$WORK/serve.err" >&2; exit 1; }
}

# bench_io PID: "READS WRITES BYTES" of a running process so far (from /proc/PID/io): its
# read and write system calls on files and pipes (the store's pread and pwrite; socket sends and
# receives are not counted) and the bytes it sent towards the disk.
bench_io() {
  awk '/^syscr:/ { r = $2 } /^syscw:/ { w = $2 } /^write_bytes:/ { b = $2 } END { printf "%.0f %.0f %.0f\n", r, w, b }' "/proc/$1/io"
}

# bench_proc PID: "RSS_MB THREADS" of a running process (from /proc).
bench_proc() {
  awk '/^VmRSS:/ { rss = $2 } /^Threads:/ { t = $2 } END { printf "%.0f %d\n", rss / 1024, t }' "/proc/$1/status"
}

# bench_template_lead CONFIG NETWORK ACCOUNT ORDER_ID: sends the first lead of NETWORK's spec
# examples that the network accepts, as ORDER_ID, through `leadbridge send` (to the emulator
# LEADBRIDGE_CONNECT_TO points at): a lead in the ledger exactly as leadbridge writes one the
# network accepted, for bench_clone_lead to copy.
bench_template_lead() {
  local config=$1 net=$2 account=$3 oid=$4
  python3 - "$LEADBRIDGE_HOME/Networks/$net.json" "$oid" >"$WORK/template-$net.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
lead = next(e["lead"] for e in spec["examples"] if e.get("expect", {}).get("result") == "accepted")
lead["id"] = sys.argv[2]
print(json.dumps(lead, ensure_ascii=False))
PY
  "$BIN" --config "$config" send "$net" --lead "$WORK/template-$net.json" --account "$account" >"$WORK/template-$net.txt" 2>&1 \
    || { echo "error: the template lead of $net was not sent:" >&2; cat "$WORK/template-$net.txt" >&2; return 1; }
}

# bench_kma_queue_template: $WORK/leadbridge.json (a KMA account; sync retries at once) and
# $WORK/template/store.sqlite holding one queued KMA lead, TEMPLATE — queued by leadbridge after
# a refused connection (the emulator had just stopped). The send benchmarks copy it.
bench_kma_queue_template() {
  python3 - "$LEADBRIDGE_HOME" "$WORK/leadbridge.json" <<'PY'
import json, sys
ex = json.load(open(f"{sys.argv[1]}/Networks/kma.json"))["exampleAccount"]
json.dump({"store": "store.sqlite", "accounts": {"kma": {"network": "kma", "credentials": ex["credentials"], "params": ex["params"]}},
           "sync": {"poll_interval_seconds": 0, "retry_base_seconds": 0.001}}, open(sys.argv[2], "w"), indent=1)
PY
  mkdir -p "$WORK/template"
  cp "$WORK/leadbridge.json" "$WORK/template/leadbridge.json"
  bench_emulator kma
  bench_stop "$PID_emulator"
  bench_template_lead "$WORK/template/leadbridge.json" kma kma TEMPLATE 2>/dev/null || true
  unset LEADBRIDGE_CONNECT_TO
  local queued
  queued=$(sqlite3 "$WORK/template/store.sqlite" "SELECT count(*) FROM leads WHERE order_id = 'TEMPLATE' AND due_at IS NOT NULL AND claim_owner IS NULL")
  [ "$queued" = 1 ] || { echo "error: the template lead is not queued:" >&2; cat "$WORK/template-kma.txt" >&2; return 1; }
}

# bench_kma_spec CONCURRENCY FILE: a copy of kma.json with "concurrency" set in its send block.
bench_kma_spec() {
  python3 - "$LEADBRIDGE_HOME/Networks/kma.json" "$2" "$1" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec.pop("$schema", None)
spec["send"]["concurrency"] = int(sys.argv[3])
json.dump(spec, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
}

# bench_kma_queue DIR PREFIX N PHONE: DIR/leadbridge.json and DIR/store.sqlite with N copies of
# the queued template (order ids PREFIX1…, phones by the printf format PHONE), all due now.
bench_kma_queue() {
  local dir=$1
  cp "$WORK/leadbridge.json" "$dir/leadbridge.json"
  cp "$WORK/template/store.sqlite" "$dir/store.sqlite"
  bench_clone_lead "$dir/store.sqlite" TEMPLATE "$2" "$3" "$4"
  # Due now: the template's retry is due up to a second after it was queued, so a pass started
  # within that second would find nothing due and send nothing.
  # The template goes, and the tallies are counted again without it (schema 11).
  sqlite3 "$dir/store.sqlite" "BEGIN; DELETE FROM journal WHERE lead_id IN (SELECT id FROM leads WHERE order_id = 'TEMPLATE'); DELETE FROM leads WHERE order_id = 'TEMPLATE';
    UPDATE leads SET due_at = min(due_at, CAST(strftime('%s', 'now') AS INTEGER)) WHERE due_at IS NOT NULL; $BENCH_RECOUNT_TALLIES COMMIT;"
}
