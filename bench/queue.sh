#!/usr/bin/env bash
# Bulk queue benchmark: `leadbridge send kma --lead leads.ndjson --queue` puts 100,000 leads
# (NDJSON, one lead per line, each with a name, a country and a sub id) in the outbox of an
# empty ledger: every lead read and validated on its own, then recorded through the lead
# lifecycle, a transaction per 5,000 leads.
#
# Measured by /usr/bin/time -v: wall time, leads/s, peak RSS. Baseline in the same run: the
# sqlite3 CLI reading the same NDJSON (.import into a one-column table) and doing the same
# writes (a queued lead row with its JSON and one journal row each) in one transaction on an
# empty ledger of the same schema. Prints one markdown row.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 python3 /usr/bin/time timeout
N=${QUEUE_LEADS:-100000}

cat >"$WORK/leadbridge.json" <<JSON
{"store": "store.sqlite", "accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}}}
JSON

# 1. Two empty ledgers with leadbridge's schema.
"$BIN" --config "$WORK/leadbridge.json" leads --limit 1 >/dev/null
cp "$WORK/store.sqlite" "$WORK/baseline.sqlite"

# 2. The leads, as a shop's export would give them.
python3 - "$WORK" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/leads.ndjson", "w") as f:
    for i in range(1, n + 1):
        f.write(json.dumps({"id": f"Q-{i}", "phone": f"+79{i:09d}", "name": "Иван Петров", "country": "RU",
                            "subs": {"sub2": f"s{i % 97}"}}, ensure_ascii=False) + "\n")
PY

# 3. The measured queueing.
set +e
timeout 300 /usr/bin/time -v "$BIN" --config "$WORK/leadbridge.json" send kma --lead "$WORK/leads.ndjson" --account k --queue --lang en \
  >"$WORK/queue.out" 2>"$WORK/queue.time"
rc=$?
set -e
[ "$rc" = 0 ] || { echo "warning: leadbridge send --queue exited $rc" >&2; tail -5 "$WORK/queue.time" >&2; }

# 4. Baseline: the sqlite3 CLI reads the same lines and writes the same rows, one transaction.
cat >"$WORK/baseline.sql" <<SQL
PRAGMA synchronous=NORMAL;
CREATE TEMP TABLE input (line TEXT);
.mode ascii
.separator "\t" "\n"
.import $WORK/leads.ndjson input
BEGIN IMMEDIATE;
INSERT INTO leads (network, order_id, account, lead_json, state, reach, attempts, due_at, pollable, created_at, updated_at)
  SELECT 'kma', json_extract(line, '$.id'), 'k', json(line), 'queued', 'none', 0, unixepoch(), 0, unixepoch(), unixepoch() FROM input;
INSERT INTO journal (lead_id, at, kind, source, to_state) SELECT id, created_at, 'queued', 'intake', 'queued' FROM leads;
COMMIT;
SQL
bench_sqlite_baseline

# 5. Checks: both ledgers hold N queued leads with a journal row each.
got=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM leads WHERE state = 'queued'")
journal=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM journal WHERE kind = 'queued'")
base_rows=$(sqlite3 "$WORK/baseline.sqlite" "SELECT count(*) FROM leads WHERE state = 'queued'")

read -r wall rss_mb _ < <(bench_timev "$WORK/queue.time")
python3 - "$N" "$b0" "$b1" "$rc" "$got" "$journal" "$base_rows" "$wall" "$rss_mb" <<'PY'
import sys
n, b0, b1, rc, got, journal, base_rows, wall, rss_mb = sys.argv[1:10]
n, wall, rss_mb = int(n), max(float(sys.argv[8]), 0.01), float(rss_mb)
base = max(float(b1) - float(b0), 0.001)
print(f"| send --queue: {n:,} leads (NDJSON) | {wall:.2f} s, {n / wall:,.0f} leads/s, peak RSS {rss_mb:.0f} MB "
      f"| sqlite3 CLI .import + same writes, 1 tx: {base:.2f} s ({n / base:,.0f} leads/s) | {wall / base:.1f}× "
      f"| {got} queued, {journal} journal rows (baseline {base_rows}); exit {rc} |")
PY
