#!/usr/bin/env bash
# Send benchmark: `leadbridge sync` sending a queue of 2,000 leads to KMA (form + bearer) at
# send concurrency 1, 8 and 64 against the built-in network emulator on loopback, plus 64
# against an emulator that answers each request after 20 ms (closer to a real network).
#
# For each level: a fresh emulator and a user spec folder holding a copy of kma.json with
# "concurrency": C in its `send` block, passed with --networks (sync takes the concurrency
# from the account in leadbridge.json if set there, else from the spec; default 4). Three
# repetitions, each with a fresh store of 2,000 queued leads with new order ids and phones:
# copies (bench_clone_lead) of one lead leadbridge itself queued — its first attempt found no
# emulator listening (connection refused: certainly not received), so it is queued again, due
# at once (retry_base_seconds 0.001). The figure is leads sent and accepted
# per second over the whole `leadbridge sync` process (start-up included, ~40 ms), median of
# the three. Also reported: the process's CPU time (user + system, /usr/bin/time) per lead
# and the most connections to the emulator seen established during a pass (sampled every
# 0.1 s).
#
# Baseline in the same run, against the same emulator, after each pass: wrk with the same
# concurrency sending the same number of valid KMA requests (the same headers and form
# fields, a new lead each time); each wrk thread stops after its share of answers and the
# time is taken in the wrk script, first request to last answer (wrk itself always runs its
# whole -d, 2 s). Requests/s counts only answers with "code":0 (accepted); median of the
# three. One row per level.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init sqlite3 wrk python3 ss timeout /usr/bin/time
N=${SEND_LEADS:-2000}
# A level is C, or C:MS for an emulator that answers each request after MS milliseconds
# (its `slow` fault), closer to a real network's latency.
LEVELS=${SEND_LEVELS:-"1 8 64 64:20"}
REPS=${SEND_REPS:-3}

# The template: queued by leadbridge after a refused connection (the emulator just stopped).
bench_kma_queue_template

for level in $LEVELS; do
  C=${level%%:*}
  SLOW=0
  [ "$level" = "$C" ] || SLOW=${level#*:}
  tag="c$C-slow$SLOW"
  mkdir -p "$WORK/$tag/specs"
  bench_kma_spec "$C" "$WORK/$tag/specs/kma.json"
  if [ "$SLOW" = 0 ]; then bench_emulator kma; else bench_emulator kma --faults "kma:slow=$SLOW"; fi
  for r in $(seq 1 "$REPS"); do
    dir="$WORK/$tag/r$r"
    mkdir -p "$dir"
    # The store: N copies of the queued template (ids and phones unique per level and rep), due now.
    bench_kma_queue "$dir" "S$C-$SLOW-$r-" "$N" "+71$(printf '%02d%02d%d' "$C" "$SLOW" "$r")%06d"
    bench_conn_sampler "$EMU_PORT" "$dir/conns.txt"
    t0=$(bench_now)
    set +e
    timeout 300 /usr/bin/time -f "CPU %U %S" "$BIN" --networks "$WORK/$tag/specs" --config "$dir/leadbridge.json" sync --json \
      >"$dir/sync.jsonl" 2>"$dir/sync.err"
    echo $? >"$dir/rc"
    set -e
    t1=$(bench_now)
    echo "$t0 $t1" >"$dir/wall"
    bench_stop "$SAMPLER_PID"
    [ "$(cat "$dir/rc")" = 0 ] || { echo "warning: leadbridge sync exited $(cat "$dir/rc") at concurrency $C" >&2; tail -3 "$dir/sync.err" >&2; }

    threads=$(( C < 2 ? C : 2 ))
    timeout 60 wrk -t"$threads" -c"$C" -d"${SEND_WRK_SECONDS:-2}s" --timeout 10s -s bench/wrk/kma-send.lua \
      "http://127.0.0.1:$EMU_PORT/lead/add" -- "$((C * 100 + SLOW * 10 + r))" $(( (N + threads - 1) / threads )) >"$dir/wrk.txt" 2>&1 \
      || { echo "warning: wrk failed" >&2; cat "$dir/wrk.txt" >&2; }
  done
  bench_stop "$PID_emulator"

  python3 - "$WORK/$tag" "$N" "$C" "$REPS" "$SLOW" <<'PY'
import json, re, statistics, sys
base, n, c, reps, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lb, wr, cpu_ms, peaks, acc, p99, other, errors, rcs = [], [], [], [], [], [], [], [], []
for r in range(1, reps + 1):
    d = f"{base}/r{r}"
    t0, t1 = map(float, open(f"{d}/wall").read().split())
    summary = {}
    for line in open(f"{d}/sync.jsonl"):
        if '"summary":true' in line:
            summary = json.loads(line)
    k = summary.get("networks", {}).get("kma", {})
    accepted, sent = k.get("accepted", 0), k.get("sent", 0)
    acc.append(accepted)
    lb.append(accepted / (t1 - t0))
    conns = [int(x) for x in open(f"{d}/conns.txt").read().split() if x.strip()]
    peaks.append(max(conns) if conns else 0)
    m = re.search(r"CPU ([\d.]+) ([\d.]+)", open(f"{d}/sync.err").read())
    cpu_ms.append((float(m.group(1)) + float(m.group(2))) * 1000 / max(1, sent) if m else float("nan"))
    rcs.append(open(f"{d}/rc").read().strip())
    w = re.search(r"WRK_RESULT.*", open(f"{d}/wrk.txt").read())
    w = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", w.group(0))} if w else {}
    wr.append(w.get("accepted", 0) / (max(1, w.get("elapsed_us", 1)) / 1e6))
    p99.append(w.get("p99_us", 0) / 1000)
    other.append(w.get("other", 0))
    errors.append(w.get("socket_errors", 0))
med = statistics.median
where = f"emulator answering after {slow} ms" if slow else "emulator"
cpu_target = f"CPU per lead target ≤ 0.2 ms: {'yes' if med(cpu_ms) <= 0.2 else 'NO'}"
if slow:
    ideal = c / (slow / 1000)
    cpu_target += f"; ideal {c} / {slow / 1000:g} s = {ideal:,.0f} leads/s, leadbridge {med(lb) / ideal:.2f}× of it (target ≥ 0.9: {'yes' if med(lb) >= 0.9 * ideal else 'NO'})"
print(f"| send: {n:,} leads to KMA ({where}), concurrency {c} | {med(lb):,.0f} leads/s (median of {reps}: {', '.join(f'{x:,.0f}' for x in lb)}) "
      f"| wrk -c{c}, {n:,} same requests: {med(wr):,.0f} accepted req/s (runs {', '.join(f'{x:,.0f}' for x in wr)}; p99 {med(p99):.1f} ms) "
      f"| {med(lb) / med(wr):.2f}× | accepted {'/'.join(map(str, acc))} of {n:,}; leadbridge CPU {med(cpu_ms):.2f} ms per lead (user+sys); "
      f"{cpu_target}; peak connections to the emulator during sync: {max(peaks)}; wrk non-accepted {sum(other)}, socket errors {sum(errors)}; exit {'/'.join(rcs)} |")
PY
done
