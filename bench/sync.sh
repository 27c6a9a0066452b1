#!/usr/bin/env bash
# Sync benchmark: one `leadbridge sync --json` pass over 100,000 accepted, pending leads spread
# over three networks whose statuses come by poll API (AdCombo batches of 500, M1 Shop 100,
# Webvork 50), against the built-in network emulator on loopback.
#
# The emulator answers a poll only for leads it knows; it learns them through its admin
# endpoint /_emulator/register, which gives each its own external id. So the leads are
# registered first (two sequential curl streams, keep-alive); then leadbridge sends one
# template lead per network (`leadbridge send`, accepted), the emulator's state is read back
# (/_emulator/state) and the sqlite3 CLI copies each network's template (every column as
# leadbridge wrote it: accepted, pending) once per registered lead, with the emulator's order
# and external ids. With --settle 0 every lead has its final status when polled, so every lead
# changes.
#
# Measured by /usr/bin/time -v: wall time, leads/s, peak RSS (target < 100 MB); poll requests
# per network from the summary JSON next to the ideal ceil(N / batch); the statuses stored
# are checked against the emulator's plan. Baseline in the same run: the sqlite3 CLI doing the
# same row writes (last_polled_at for every lead, status/raw status/payout/updated_at for every
# lead that changes, one journal row per change) in one transaction on a copy of the seeded
# store. The CPU time of leadbridge (user + system) and of the emulator during the pass are
# reported too: the pass polls one request at a time and both share this machine's cores, so
# the wall time is roughly the sum of the two. Prints one markdown row.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 curl python3 /usr/bin/time timeout
N=${SYNC_LEADS:-100000}
NETS=(adcombo m1shop webvork)

bench_emulator "$(IFS=,; echo "${NETS[*]}")"
base="http://127.0.0.1:$EMU_PORT/_emulator/register"

# 1. Register the leads at the emulator: B-1 … B-N, round robin over the networks.
for half in 0 1; do
  awk -v n="$N" -v h="$half" -v base="$base" 'BEGIN {
    split("adcombo m1shop webvork", nets, " ")
    for (i = 1 + h; i <= n; i += 2) {
      printf "url = \"%s?network=%s&oid=B-%d\"\noutput = /dev/null\n", base, nets[(i - 1) % 3 + 1], i
    }
  }' >"$WORK/register$half.cfg"
done
t0=$(bench_now)
timeout 300 curl -sS --fail -K "$WORK/register0.cfg" &
c0=$!
BENCH_PIDS+=("$c0")
timeout 300 curl -sS --fail -K "$WORK/register1.cfg" &
c1=$!
BENCH_PIDS+=("$c1")
wait "$c0"
bench_forget "$c0"
wait "$c1"
bench_forget "$c1"
t_register=$(python3 -c "print(f'{$(bench_now) - $t0:.1f}')")

# 2. Configuration: one account per network with the spec's exampleAccount (the only one
# the emulator accepts); poll every lead whatever its last poll.
python3 - "$LEADBRIDGE_HOME" "$WORK/leadbridge.json" "${NETS[@]}" <<'PY'
import json, sys
home, out, nets = sys.argv[1], sys.argv[2], sys.argv[3:]
accounts = {}
for n in nets:
    ex = json.load(open(f"{home}/Networks/{n}.json"))["exampleAccount"]
    accounts[n] = {"network": n, "credentials": ex["credentials"], "params": ex.get("params", {})}
json.dump({"store": "store.sqlite", "accounts": accounts, "sync": {"poll_interval_seconds": 0}}, open(out, "w"), indent=1)
PY

# 3. Seed the store: one template per network sent by leadbridge, then copied by sqlite3 for
# every lead the emulator knows (its order and external ids).
for net in "${NETS[@]}"; do bench_template_lead "$WORK/leadbridge.json" "$net" "$net" "T-$net"; done
timeout 60 curl -sS --fail "http://127.0.0.1:$EMU_PORT/_emulator/state" -o "$WORK/state.json"
cols=$(sqlite3 "$WORK/store.sqlite" "SELECT group_concat(name, ', ') FROM pragma_table_info('leads') WHERE name NOT IN ('id', 'order_id', 'lead_json', 'external_id', 'journal_head')")
sqlite3 "$WORK/store.sqlite" <<SQL >/dev/null
PRAGMA synchronous=NORMAL;
BEGIN;
INSERT INTO leads (order_id, lead_json, external_id, $cols)
SELECT json_extract(s.value, '\$.order_id'),
       json_set(t.lead_json, '\$.id', json_extract(s.value, '\$.order_id'),
                '\$.phone', printf('+79%09d', CAST(substr(json_extract(s.value, '\$.order_id'), 3) AS INTEGER))),
       json_extract(s.value, '\$.external_id'), $(echo "$cols" | sed 's/\([a-z_][a-z_]*\)/t.\1/g')
FROM json_each(readfile('$WORK/state.json')) AS s JOIN leads AS t ON t.order_id = 'T-' || json_extract(s.value, '\$.network')
WHERE json_extract(s.value, '\$.order_id') NOT LIKE 'T-%';
$BENCH_RECOUNT_TALLIES
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
# Every copy is pollable as its template is (no state word spelled: compared with the template).
# (EXISTS keeps the copies the outer loop: a join let SQLite scan every copy per template row.)
seeded=$(sqlite3 "$WORK/store.sqlite" "SELECT count(*) FROM leads l WHERE l.pollable = 1 AND l.order_id NOT LIKE 'T-%'
  AND EXISTS (SELECT 1 FROM leads t WHERE t.order_id = 'T-' || l.network AND t.network = l.network AND t.state = l.state AND t.status = l.status)")
[ "$seeded" = "$N" ] || { echo "error: seeded $seeded pollable leads, expected $N" >&2; exit 1; }
N=$((N + ${#NETS[@]}))
cp "$WORK/store.sqlite" "$WORK/baseline.sqlite"
# The emulator's final statuses, for the baseline's updates and the check (not timed).
sqlite3 "$WORK/baseline.sqlite" <<SQL >/dev/null
CREATE TABLE bench_plan AS SELECT json_extract(value, '\$.network') AS network, json_extract(value, '\$.order_id') AS order_id,
       json_extract(value, '\$.plan') AS plan FROM json_each(readfile('$WORK/state.json'));
CREATE UNIQUE INDEX bench_plan_key ON bench_plan(network, order_id);
PRAGMA wal_checkpoint(TRUNCATE);
SQL

# 4. The measured pass.
emu_cpu0=$(bench_cpu "$PID_emulator")
set +e
timeout 300 /usr/bin/time -v "$BIN" --config "$WORK/leadbridge.json" sync --json >"$WORK/sync.jsonl" 2>"$WORK/sync.time"
sync_rc=$?
set -e
emu_cpu=$(python3 -c "print(f'{$(bench_cpu "$PID_emulator") - $emu_cpu0:.1f}')")
[ "$sync_rc" = 0 ] || { echo "warning: leadbridge sync exited $sync_rc" >&2; tail -5 "$WORK/sync.time" >&2; }

# 5. Baseline: the same row writes by the sqlite3 CLI, one transaction, on the seeded copy.
cat >"$WORK/baseline.sql" <<'SQL'
PRAGMA synchronous=NORMAL;
BEGIN IMMEDIATE;
UPDATE leads SET payout = CASE WHEN p.plan = 'approved' THEN '10.00' ELSE '0' END, status = p.plan, raw_status = p.plan, detail = NULL,
       pollable = 0, updated_at = unixepoch()
  FROM bench_plan AS p WHERE p.network = leads.network AND p.order_id = leads.order_id AND p.plan <> 'pending';
INSERT INTO journal (lead_id, at, kind, source, from_state, to_state, from_status, to_status, raw_status)
  SELECT id, unixepoch(), 'status', 'poll', state, state, 'pending', status, raw_status FROM leads WHERE status <> 'pending';
UPDATE leads SET last_polled_at = unixepoch() WHERE pollable = 1 OR last_polled_at IS NULL;
COMMIT;
SQL
bench_sqlite_baseline

# 6. Checks: every lead's stored status equals the emulator's plan; polled once each.
sqlite3 "$WORK/store.sqlite" "ATTACH '$WORK/baseline.sqlite' AS b;
  SELECT count(*) FROM leads l JOIN b.bench_plan p ON p.network = l.network AND p.order_id = l.order_id
   WHERE l.status = p.plan AND l.last_polled_at IS NOT NULL;" >"$WORK/check.txt"

python3 - "$WORK" "$N" "$b0" "$b1" "$sync_rc" "$emu_cpu" "$t_register" "$LEADBRIDGE_HOME" "${NETS[@]}" <<'PY'
import json, math, re, sys
work, n, b0, b1, rc, emu_cpu, t_reg, home = sys.argv[1:9]
nets = sys.argv[9:]
n = int(n)
tv = open(f"{work}/sync.time").read()
def field(name):
    m = re.search(re.escape(name) + r"\):?\s*(.+)", tv) or re.search(re.escape(name) + r":\s*(.+)", tv)
    return m.group(1).strip() if m else "?"
el = field("Elapsed (wall clock) time (h:mm:ss or m:ss")
parts = [float(x) for x in el.split(":")]
wall = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
rss_mb = int(field("Maximum resident set size (kbytes")) / 1024
cpu = float(field("User time (seconds")) + float(field("System time (seconds"))
summary = None
for line in open(f"{work}/sync.jsonl"):
    if '"summary":true' in line:
        summary = json.loads(line)
counts = {}
ok_requests = True
per_net = []
import sqlite3
db = sqlite3.connect(f"{work}/baseline.sqlite")
for net in nets:
    k = db.execute("SELECT count(*) FROM leads WHERE network = ?", (net,)).fetchone()[0]
    batch = json.load(open(f"{home}/Networks/{net}.json"))["poll"]["batch"]
    ideal = math.ceil(k / batch)
    got = (summary or {}).get("networks", {}).get(net, {}).get("poll_requests", "?")
    ok_requests &= got == ideal
    per_net.append(f"{net} {got}/{ideal}")
changes = (summary or {}).get("changes", "?")
correct = int(open(f"{work}/check.txt").read().strip() or 0)
base = float(b1) - float(b0)
print(f"| sync: {n:,} pending leads, 3 poll networks (emulator) | {wall:.1f} s, {n / wall:,.0f} leads/s, peak RSS {rss_mb:.0f} MB "
      f"| sqlite3 CLI same row writes, 1 tx: {base:.2f} s ({n / base:,.0f} leads/s) | {wall / base:.1f}× "
      f"| target ≤ 5× the baseline: {'yes' if wall / base <= 5 else 'NO'}; poll requests got/ideal: {', '.join(per_net)} ({'ideal' if ok_requests else 'NOT ideal'}); RSS target < 100 MB: {'yes' if rss_mb < 100 else 'NO'}; "
      f"leadbridge CPU {cpu:.1f} s, emulator CPU {float(emu_cpu):.1f} s; {changes} changes, {correct}/{n} statuses match the emulator; "
      f"exit {rc}; setup (register {n:,} at the emulator) {t_reg} s, not timed |")
PY
