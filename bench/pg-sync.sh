#!/usr/bin/env bash
# Sync scaling on PostgreSQL: one pass over 100,000 accepted, pending AdCombo leads (statuses
# by poll API, batches of 500) run by 1, 2 and 4 workers at once on one PostgreSQL database
# (a scratch server from Debian's postgresql package, fsync on): the first worker is a plain
# `leadbridge sync`, the others `sync --join`; they take disjoint pages of leads (claimed
# with FOR UPDATE SKIP LOCKED and stamped polled in the same transaction), against the
# built-in network emulator on loopback.
#
# The leads are registered at the emulator first (its own external ids), then seeded with
# psql; before each run their status is reset to pending and unpolled. Figures: wall time of
# the pass (first start to last exit) and leads/s; the poll requests of all workers together,
# which must stay exactly ceil(N / 500); statuses stored that match the emulator's plan.
# Baseline in the same run: the same pass with 1 worker. Both workers and the emulator share
# this machine's cores, so the scaling figure is bounded by them. Prints one row per count.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init curl python3 psql timeout
N=${SYNC_LEADS:-100000}
NET=adcombo
bench_postgres
bench_emulator "$NET"
base="http://127.0.0.1:$EMU_PORT/_emulator/register"

# 1. Register the leads at the emulator (two curl streams, keep-alive).
for half in 0 1; do
  awk -v n="$N" -v h="$half" -v base="$base" -v net="$NET" 'BEGIN {
    for (i = 1 + h; i <= n; i += 2) printf "url = \"%s?network=%s&oid=S-%d\"\noutput = /dev/null\n", base, net, i
  }' >"$WORK/register$half.cfg"
done
timeout 300 curl -sS --fail -K "$WORK/register0.cfg" &
c0=$!; BENCH_PIDS+=("$c0")
timeout 300 curl -sS --fail -K "$WORK/register1.cfg" &
c1=$!; BENCH_PIDS+=("$c1")
wait "$c0"; bench_forget "$c0"
wait "$c1"; bench_forget "$c1"
timeout 60 curl -sS --fail "http://127.0.0.1:$EMU_PORT/_emulator/state" -o "$WORK/state.json"

# 2. Configuration and seed.
python3 - "$LEADBRIDGE_HOME" "$WORK" "$NET" "$PG_URL" <<'PY'
import csv, json, sys
home, work, net, url = sys.argv[1:5]
ex = json.load(open(f"{home}/Networks/{net}.json"))["exampleAccount"]
json.dump({"store": url, "accounts": {net: {"network": net, "credentials": ex["credentials"], "params": ex.get("params", {})}},
           "sync": {"poll_interval_seconds": 0}}, open(f"{work}/leadbridge.json", "w"), indent=1)
with open(f"{work}/seed.csv", "w", newline="") as f:
    w = csv.writer(f)
    plans = {}
    for l in json.load(open(f"{work}/state.json")):
        w.writerow([l["order_id"], l["external_id"]])
        plans[l["plan"]] = plans.get(l["plan"], 0) + 1
json.dump(plans, open(f"{work}/plans.json", "w"))
PY
"$BIN" --config "$WORK/leadbridge.json" migrate >/dev/null
$PG_PSQL <<SQL
CREATE TEMP TABLE seed (order_id text, external_id text);
\copy seed FROM '$WORK/seed.csv' WITH (FORMAT csv)
INSERT INTO leads (network, order_id, account, lead_json, state, reach, external_id, status, pollable, attempts, created_at, updated_at)
SELECT '$NET', order_id, '$NET', json_build_object('id', order_id, 'phone', '+79' || lpad(substr(order_id, 3), 9, '0'))::text,
       'accepted', 'held', external_id, 'pending', 1, 1, extract(epoch FROM now())::bigint - 3600, extract(epoch FROM now())::bigint - 3600
FROM seed;
SQL
seeded=$($PG_PSQL -tA -c "SELECT count(*) FROM leads")
[ "$seeded" = "$N" ] || { echo "error: seeded $seeded leads, expected $N" >&2; exit 1; }

# 3. The passes.
for workers in 1 2 4; do
  $PG_PSQL -c "UPDATE leads SET status = 'pending', raw_status = NULL, detail = NULL, payout = NULL, currency = NULL, pollable = 1, last_polled_at = NULL" \
    -c "DELETE FROM journal" -c "VACUUM ANALYZE leads" >/dev/null
  pids=()
  t0=$(bench_now)
  for w in $(seq 1 "$workers"); do
    join=""; [ "$w" -gt 1 ] && join="--join"
    timeout 600 "$BIN" --config "$WORK/leadbridge.json" sync --network "$NET" --json $join >"$WORK/sync-$workers-$w.jsonl" 2>"$WORK/sync-$workers-$w.err" &
    pids+=("$!"); BENCH_PIDS+=("$!")
  done
  rcs=()
  for p in "${pids[@]}"; do set +e; wait "$p"; rcs+=("$?"); set -e; bench_forget "$p"; done
  t1=$(bench_now)
  final=$($PG_PSQL -tA -c "SELECT count(*) FROM leads WHERE status <> 'pending'")
  echo "$workers $t0 $t1 $final ${rcs[*]}" >>"$WORK/runs.txt"
done

python3 - "$WORK" "$N" "$LEADBRIDGE_HOME" "$NET" <<'PY'
import glob, json, math, sys
work, n, home, net = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
batch = json.load(open(f"{home}/Networks/{net}.json"))["poll"]["batch"]
ideal = math.ceil(n / batch)
plans = json.load(open(f"{work}/plans.json"))
changing = n - plans.get("pending", 0)
runs = {}
for line in open(f"{work}/runs.txt"):
    w, t0, t1, final, *rcs = line.split()
    requests = 0
    for f in glob.glob(f"{work}/sync-{w}-*.jsonl"):
        for l in open(f):
            if '"summary":true' in l:
                requests += json.loads(l).get("networks", {}).get(net, {}).get("poll_requests", 0)
    runs[int(w)] = (float(t1) - float(t0), requests, int(final), rcs)
base = runs[1][0]
for w, (t, requests, final, rcs) in sorted(runs.items()):
    print(f"| sync: {n:,} pending leads on PostgreSQL, {w} worker{'s' if w > 1 else ''} (emulator, AdCombo batches of {batch}) | {t:.1f} s, {n / t:,.0f} leads/s "
          f"| 1 worker, same run: {base:.1f} s | {base / t:.2f}× faster "
          f"| poll requests {requests} (ideal ceil(N / batch) = {ideal}: {'exact' if requests == ideal else 'NOT exact'}); "
          f"{final:,}/{changing:,} statuses changed; exits {' '.join(rcs)} |")
PY
