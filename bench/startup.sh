#!/usr/bin/env bash
# Start-up benchmark: the manager's catalog commands about one network, `leadbridge postbacks
# kma` and `leadbridge show drcash` (they load only that network's spec), and `leadbridge
# lint` (every spec and its examples), against /bin/true, all measured by hyperfine in the
# same run. Targets: each catalog command ≤ 10 ms and ≤ 10× /bin/true. Prints one markdown
# table row per figure with the ratio to the baseline. Needs a release build (`make bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/leadbridge}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export LEADBRIDGE_HOME=$PWD
hyperfine -N --warmup 20 --runs 300 --export-json "$OUT/h.json" \
  -n baseline '/bin/true' \
  -n postbacks_kma "$BIN postbacks kma" \
  -n show_drcash "$BIN show drcash" \
  -n lint_all "$BIN lint" >/dev/null
python3 - "$OUT/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["baseline"]["mean"] * 1000
for name, label, one in [("postbacks_kma", "startup: `leadbridge postbacks kma` (one spec loaded)", True),
                         ("show_drcash", "startup: `leadbridge show drcash` (one spec loaded)", True),
                         ("lint_all", "startup: `leadbridge lint` (all specs + examples)", False)]:
    m = r[name]["mean"] * 1000
    sd = r[name]["stddev"] * 1000
    note = (f"target ≤ 10 ms and ≤ 10× /bin/true: {'yes' if m <= 10 and m / base <= 10 else 'NO'}" if one
            else f"target < 50 ms: {'yes' if m < 50 else 'NO'}")
    print(f"| {label} | {m:.1f} ms ± {sd:.1f} (user {r[name]['user'] * 1000:.1f} + sys {r[name]['system'] * 1000:.1f}) | /bin/true {base:.2f} ms | {m/base:.1f}× | {note} |")
PY
