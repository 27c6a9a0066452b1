#!/usr/bin/env bash
# Import benchmark: `leadbridge import apileads report.csv` over a 100,000-row lead report in
# Windows-1251 with `;` (what a Russian cabinet's export looks like), against a ledger of
# 100,000 queued apileads leads. 1 % of the rows name leads the ledger does not have; the
# statuses are Принят / Отклонен / Треш / Холд with payouts like `12,50`.
#
# Measured by /usr/bin/time -v: wall time, rows/s, peak RSS. Baseline in the same run: the
# sqlite3 CLI importing the same report (as UTF-8: it reads no Windows-1251) into a table and
# doing the same row writes (status, raw status, payout, state for every matched lead, one
# journal row each) in one transaction on a copy of the seeded ledger. Prints one markdown row.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 python3 /usr/bin/time timeout
N=${IMPORT_ROWS:-100000}

cat >"$WORK/leadbridge.json" <<JSON
{"store": "store.sqlite", "accounts": {"apl": {"network": "apileads", "credentials": {"user": "u", "token": "t"}}}}
JSON

# 1. The ledger: leadbridge creates the schema, sqlite3 fills it with queued leads B-1 … B-N
# (as an enqueue writes them: state queued, reach none, due now, one journal line each).
"$BIN" --config "$WORK/leadbridge.json" leads --limit 1 >/dev/null
sqlite3 "$WORK/store.sqlite" <<SQL >/dev/null
PRAGMA synchronous=NORMAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO leads (network, order_id, account, lead_json, state, reach, attempts, due_at, pollable, created_at, updated_at)
SELECT 'apileads', 'B-' || i, 'apl', json_object('id', 'B-' || i, 'phone', printf('+79%09d', i)), 'queued', 'none', 0,
       unixepoch() - 3600, 0, unixepoch() - 3600, unixepoch() - 3600 FROM n;
INSERT INTO journal (lead_id, at, kind, source, to_state) SELECT id, created_at, 'queued', 'intake', 'queued' FROM leads;
$BENCH_RECOUNT_TALLIES
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
seeded=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM leads WHERE state = 'queued'")
[ "$seeded" = "$N" ] || { echo "error: seeded $seeded leads, expected $N" >&2; exit 1; }
cp "$WORK/store.sqlite" "$WORK/baseline.sqlite"

# 2. The report, in Windows-1251 (and the same rows in UTF-8 for the baseline).
python3 - "$WORK" "$N" <<'PY'
import random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = ["Принят", "Отклонен", "Треш", "Холд"]
rows = ["ID лида;sub1;Статус;Выплата;Комментарий"]
for i in range(1, n + 1):
    order = f"B-{i}" if i % 100 else f"X-{i}"        # 1 % of the rows: no such lead
    w = rng.choice(words)
    pay = "12,50" if w == "Принят" else "0"
    note = '"перезвонить; после 18:00"' if i % 50 == 0 else ""
    rows.append(f"{900000 + i};{order};{w};{pay};{note}")
text = "\r\n".join(rows) + "\r\n"
open(f"{work}/report.csv", "wb").write(text.encode("cp1251"))
open(f"{work}/report.utf8.csv", "wb").write(text.encode("utf-8"))
PY

# 3. The measured import.
set +e
timeout 300 /usr/bin/time -v "$BIN" --config "$WORK/leadbridge.json" import apileads "$WORK/report.csv" --lang en >"$WORK/import.out" 2>"$WORK/import.time"
rc=$?
set -e
[ "$rc" = 0 ] || { echo "warning: leadbridge import exited $rc" >&2; tail -5 "$WORK/import.time" >&2; }

# 4. Baseline: the sqlite3 CLI imports the same rows and does the same writes, one transaction.
cat >"$WORK/baseline.sql" <<SQL
PRAGMA synchronous=NORMAL;
CREATE TEMP TABLE report (ext TEXT, sub1 TEXT, status TEXT, payout TEXT, comment TEXT);
.mode csv
.separator ";" "\r\n"
.import --skip 1 $WORK/report.utf8.csv report
BEGIN IMMEDIATE;
CREATE TEMP TABLE m AS SELECT l.id AS id, r.ext AS ext, r.status AS raw,
  CASE r.status WHEN 'Принят' THEN 'approved' WHEN 'Отклонен' THEN 'cancelled' WHEN 'Треш' THEN 'trash' ELSE 'pending' END AS bucket,
  replace(r.payout, ',', '.') AS payout, nullif(r.comment, '') AS comment
  FROM report r JOIN leads l ON l.network = 'apileads' AND l.order_id = r.sub1;
UPDATE leads SET state = 'accepted', reach = 'held', due_at = NULL, external_id = m.ext, status = m.bucket, raw_status = m.raw,
       payout = m.payout, comment = m.comment, confirmed_at = unixepoch(), updated_at = unixepoch()
  FROM m WHERE m.id = leads.id;
INSERT INTO journal (lead_id, at, kind, source, from_state, to_state, to_status, raw_status)
  SELECT id, unixepoch(), 'status', 'import', 'queued', 'accepted', bucket, raw FROM m;
COMMIT;
SQL
bench_sqlite_baseline

# 5. Checks: every matched lead has the report's status; the unmatched rows were reported.
expected=$(sqlite3 "$WORK/baseline.sqlite" "SELECT count(*) FROM leads WHERE status IS NOT NULL")
sqlite3 "$WORK/store.sqlite" "ATTACH '$WORK/baseline.sqlite' AS b;
  SELECT count(*) FROM leads l JOIN b.leads o ON o.id = l.id WHERE l.status = o.status AND l.raw_status = o.raw_status;" >"$WORK/check.txt"

read -r wall rss_mb _ < <(bench_timev "$WORK/import.time")
python3 - "$WORK" "$N" "$b0" "$b1" "$rc" "$expected" "$wall" "$rss_mb" <<'PY'
import re, sys
work, n, b0, b1, rc, expected, wall, rss_mb = sys.argv[1:9]
n, wall, rss_mb = int(n), float(wall), float(rss_mb)
out = open(f"{work}/import.out").read()
counts = re.search(r"Rows: .*", out)
correct = int(open(f"{work}/check.txt").read().strip() or 0)
base = float(b1) - float(b0)
print(f"| import: {n:,}-row report (Windows-1251, ;) | {wall:.2f} s, {n / wall:,.0f} rows/s, peak RSS {rss_mb:.0f} MB "
      f"| sqlite3 CLI .import + same writes, 1 tx: {base:.2f} s ({n / base:,.0f} rows/s) | {wall / base:.1f}× "
      f"| {counts.group(0) if counts else 'no summary'}; {correct}/{expected} statuses as the baseline; exit {rc} |")
PY
