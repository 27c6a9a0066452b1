#!/usr/bin/env bash
# Console benchmark: every page of the operator's console (and /metrics) answered by
# `leadbridge serve` over a ledger of 100,000 leads, against the goal of 200 ms per page.
#
# The ledger: `leadbridge migrate` creates the schema, the sqlite3 CLI fills it — 100,000
# leads over the last 7 days on three networks (accepted with every status, duplicate,
# rejected, uncertain, parked, queued), a journal of about 3.6 entries per lead (intake,
# attempt, status changes), 100,000 raw postbacks (applied, unmatched, unknown words) and a
# sync pass per network. A browser-like client (curl with a cookie jar) logs in through the
# form, then asks each page 11 times; the first answer is dropped (warm-up), the median and
# the maximum of the other ten are reported, next to /health (the receiver's trivial route)
# measured the same way in the same run. Prints one markdown row per page.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 curl
N=${CONSOLE_LEADS:-100000}
GOAL_MS=200
export CONSOLE_TOKEN=bench-console-token-0123456789

cat >"$WORK/leadbridge.json" <<JSON
{"store": "store.sqlite",
 "accounts": {"kma-main": {"network": "kma", "credentials": {"token": "KMA-BENCH-TOKEN"}},
              "dr-main": {"network": "drcash", "credentials": {"token": "DRC-BENCH-TOKEN"}, "params": {"drcash": "iu244"}},
              "ad-main": {"network": "adcombo", "credentials": {"token": "AD-BENCH-TOKEN"}}},
 "receiver": {"listen": "127.0.0.1:0", "token": "bench-receiver-token", "base_url": "https://t.example.com"},
 "console": {"token": "\${CONSOLE_TOKEN}"}}
JSON
"$BIN" --config "$WORK/leadbridge.json" migrate >/dev/null

now=$(date +%s)
sqlite3 "$WORK/store.sqlite" <<SQL >/dev/null
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE seq(i INTEGER PRIMARY KEY);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N) INSERT INTO seq SELECT i FROM s;
-- i % 20: 0 queued, 1 uncertain, 2 rejected, 3 duplicate, 4 parked, else accepted; accepted i % 5: approved ×2, cancelled, trash, pending.
CREATE TEMP TABLE plan AS SELECT i,
  CASE i % 3 WHEN 0 THEN 'kma' WHEN 1 THEN 'drcash' ELSE 'adcombo' END AS network,
  CASE i % 3 WHEN 0 THEN 'kma-main' WHEN 1 THEN 'dr-main' ELSE 'ad-main' END AS account,
  CASE i % 20 WHEN 0 THEN 'queued' WHEN 1 THEN 'uncertain' WHEN 2 THEN 'rejected' WHEN 3 THEN 'duplicate' WHEN 4 THEN 'parked' ELSE 'accepted' END AS state,
  $now - (i * 6047) % (7 * 86400) - 600 AS created
  FROM seq;
INSERT INTO leads (id, network, order_id, account, lead_json, state, reach, external_id, status, raw_status, payout, currency, attempts, due_at, pollable,
                   created_at, updated_at)
SELECT i, network, 'B-' || i, account, json_object('id', 'B-' || i, 'phone', printf('+7 (9%02d) %03d-%02d-%02d', i % 100, i % 1000, i % 97, i % 89), 'name', 'Client ' || i),
  state, CASE state WHEN 'accepted' THEN 'held' WHEN 'uncertain' THEN 'maybe' ELSE 'none' END,
  CASE state WHEN 'accepted' THEN 'X' || i END,
  CASE WHEN state = 'accepted' THEN CASE i % 5 WHEN 0 THEN 'approved' WHEN 1 THEN 'approved' WHEN 2 THEN 'cancelled' WHEN 3 THEN 'trash' ELSE 'pending' END
       WHEN state = 'duplicate' THEN 'trash' END,
  CASE WHEN state = 'accepted' THEN CASE i % 5 WHEN 0 THEN 'approve' WHEN 1 THEN 'approve' WHEN 2 THEN 'cancel' WHEN 3 THEN 'fake' ELSE 'hold' END END,
  CASE WHEN state = 'accepted' AND i % 5 < 2 THEN CASE i % 2 WHEN 0 THEN '10.50' ELSE '700' END END,
  CASE WHEN state = 'accepted' AND i % 5 < 2 THEN CASE i % 2 WHEN 0 THEN 'USD' ELSE 'RUB' END END,
  CASE WHEN state = 'queued' THEN 0 ELSE 1 END, CASE WHEN state = 'queued' THEN created + 60 END,
  CASE WHEN state = 'uncertain' OR (state = 'accepted' AND i % 5 = 4) THEN 1 ELSE 0 END,
  created, created + 60
FROM plan;
INSERT INTO journal (lead_id, at, kind, source, to_state) SELECT i, created, 'queued', 'intake', 'queued' FROM plan;
INSERT INTO journal (lead_id, at, kind, source, from_state, to_state, attempt, outcome, http_status, duration_ms)
  SELECT i, created + 1, 'attempt', 'send', 'sending', state, 1,
         CASE state WHEN 'accepted' THEN 'accepted' WHEN 'duplicate' THEN 'duplicate' WHEN 'rejected' THEN 'rejected' ELSE 'failed' END, 200, 120
  FROM plan WHERE state <> 'queued';
INSERT INTO journal (lead_id, at, kind, source, from_status, to_status, raw_status)
  SELECT i, created + 30, 'status', 'poll', NULL, 'pending', 'hold' FROM plan WHERE state = 'accepted';
INSERT INTO journal (lead_id, at, kind, source, from_status, to_status, raw_status)
  SELECT l.id, l.created_at + 60 + (l.id * 37) % 86400, 'status', 'postback', 'pending', l.status, l.raw_status
  FROM leads l WHERE l.state = 'accepted' AND l.status <> 'pending';
-- Each lead's journal as a chain (schema 10; leadbridge's SQLiteSchema.linkJournal): entries
-- written here, not by leadbridge's writer, are linked as its migration step links them.
CREATE INDEX journal_links ON journal (lead_id, id);
UPDATE journal SET prev = (SELECT max(j.id) FROM journal j WHERE j.lead_id = journal.lead_id AND j.id < journal.id);
UPDATE leads SET journal_head = (SELECT max(j.id) FROM journal j WHERE j.lead_id = leads.id);
DROP INDEX journal_links;
-- When each lead first got its final status (Core's finalAt): its postback's time above.
UPDATE leads SET final_at = created_at + 60 + (id * 37) % 86400 WHERE state = 'accepted' AND status IN ('approved', 'cancelled', 'trash');
INSERT INTO raw_postbacks (received_at, network, remote, method, path, query, body, result, lead_id, note, order_id)
  SELECT created + 90, network, '203.0.113.' || (i % 250), 'GET', '/postback/' || network,
         'token=***&oid=B-' || i || '&status=' || CASE i % 50 WHEN 0 THEN 'zzqqx' WHEN 1 THEN 'mystery' ELSE 'approve' END, NULL,
         CASE i % 50 WHEN 0 THEN 'unknown-status' WHEN 1 THEN 'unknown-status' WHEN 2 THEN 'unmatched' ELSE 'applied' END,
         CASE WHEN i % 50 > 2 THEN i END, NULL, 'B-' || i
  FROM plan;
INSERT INTO sync_passes (network, started_at, finished_at, outcome, error, sent, polled, changes, last_ok_at, passes, failed_passes, total_seconds)
VALUES ('kma', $now - 70, $now - 60, 'ok', NULL, 10, 500, 20, $now - 60, 1440, 3, 14000),
       ('drcash', $now - 70, $now - 62, 'failed', 'poll: HTTP 500', 0, 0, 0, $now - 3600, 1440, 60, 11000),
       ('adcombo', $now - 70, $now - 65, 'ok', NULL, 8, 400, 12, $now - 65, 1440, 0, 7000);
$BENCH_RECOUNT_TALLIES
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
leads=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM leads")
[ "$leads" = "$N" ] || { echo "error: seeded $leads leads, expected $N" >&2; exit 1; }

bench_spawn serve "$BIN" --config "$WORK/leadbridge.json" serve --listen 127.0.0.1:0
bench_wait_line "$WORK/serve.out" 'listening on http://' 15
PORT=$(grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/serve.out" | sed 's/.*://')
BASE="http://127.0.0.1:$PORT"
# serve adds the seeded postbacks (written by sqlite3, above the order index's mark) to the
# raw log's order index at its first idle moment, in steps of 8,192: the pages are measured
# once that is done, as a serve that has run for a while reads them (a ledger migrated from
# schema 7 is indexed by its migration).
for _ in $(seq 1 300); do
  [ "$(sqlite3 "$WORK/store.sqlite" "SELECT (SELECT upto FROM raw_postbacks_indexed) >= (SELECT max(id) FROM raw_postbacks)")" = 1 ] && break
  sleep 0.2
done
[ "$(sqlite3 "$WORK/store.sqlite" "SELECT (SELECT upto FROM raw_postbacks_indexed) >= (SELECT max(id) FROM raw_postbacks)")" = 1 ] \
  || { echo "error: serve did not index the seeded postbacks within 60 s" >&2; exit 1; }
JAR="$WORK/cookies"

# Log in through the form, as a browser does: its CSRF cookie and field, then the token.
csrf=$(curl -s -c "$JAR" -b "$JAR" "$BASE/console/login" | grep -oE 'name="csrf" value="[0-9a-f]+"' | sed 's/.*value="//; s/"$//')
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" --data-urlencode "csrf=$csrf" --data-urlencode "token=$CONSOLE_TOKEN" \
       --data-urlencode "next=/console/networks" "$BASE/console/login")
[ "$code" = 303 ] || { echo "error: login answered $code" >&2; cat "$WORK/serve.err" >&2; exit 1; }

# median_ms PATH [CURL ARGS…]: "MEDIAN MAX" in ms of 10 answers after one warm-up; every one must be 200.
median_ms() {
  local path=$1; shift
  local times=() t code
  for k in $(seq 0 10); do
    read -r code t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -b "$JAR" "$@" "$BASE$path")
    [ "$code" = 200 ] || { echo "error: $path answered $code" >&2; cat "$WORK/serve.err" >&2; return 1; }
    [ "$k" = 0 ] || times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "%.1f %.1f\n", (v[5] + v[6]) / 2, v[NR] }'
}

lead_id=$(( N / 2 ))
read -r base_med base_max < <(median_ms /health)
over=0
for page in /console/networks /console/networks/kma /console/leads "/console/leads?phone=4567" "/console/leads?order=B-4242" \
            "/console/leads?network=kma&status=approved" "/console/leads/$lead_id" /console/funnel "/console/funnel?network=drcash" \
            /console/postbacks /console/health /metrics; do
  if [ "$page" = /metrics ]; then read -r med max < <(median_ms "$page" -H "Authorization: Bearer $CONSOLE_TOKEN")
  else read -r med max < <(median_ms "$page"); fi
  verdict=$(awk -v m="$max" -v g=$GOAL_MS 'BEGIN { print (m < g ? "every answer under " g " ms" : "OVER " g " ms") }')
  [[ $verdict == OVER* ]] && over=1
  ratio=$(awk -v a="$med" -v b="$base_med" 'BEGIN { printf "%.0f×", (b > 0 ? a / b : 0) }')
  echo "| console $page ($N leads) | $med ms median, $max ms max | /health $base_med ms | $ratio | $verdict |"
done
[ "$over" = 0 ] || echo "warning: a page took $GOAL_MS ms or more (a loaded machine distorts this: run it in a quiet window)" >&2
