#!/usr/bin/env bash
# Start-up benchmark: `leadbridge postbacks kma` (loads and checks every spec) against
# /bin/true, both measured by hyperfine in the same run. Prints one markdown table row per
# figure with the ratio to the baseline. Needs a release build (bench/run makes one).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/leadbridge}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export LEADBRIDGE_HOME=$PWD
hyperfine -N --warmup 20 --runs 200 --export-json "$OUT/h.json" \
  -n baseline '/bin/true' \
  -n postbacks_kma "$BIN postbacks kma" \
  -n lint_all "$BIN lint" >/dev/null
python3 - "$OUT/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["baseline"]["mean"] * 1000
for name, label in [("postbacks_kma", "startup: `leadbridge postbacks kma` (50 specs loaded)"), ("lint_all", "startup: `leadbridge lint` (50 specs + examples)")]:
    m = r[name]["mean"] * 1000
    sd = r[name]["stddev"] * 1000
    print(f"| {label} | {m:.1f} ms ± {sd:.1f} | /bin/true {base:.2f} ms | {m/base:.1f}× | target < 50 ms: {'yes' if m < 50 else 'NO'} |")
PY
