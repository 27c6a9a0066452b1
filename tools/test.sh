#!/usr/bin/env bash
# `make test`: every stage with its output kept in .build/test-logs/<stage>.log, one line per
# stage on the terminal, the failing part of a failing stage, and as the last line
# `N passed, M failed` (tests, spec examples, schema checks, and one check per build or lint
# stage). Exit status 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
LOGS=.build/test-logs
mkdir -p "$LOGS"
passed=0
failed=0

# run NAME COMMAND…: runs quietly into the log; returns the command's status.
run() {
  local name=$1; shift
  printf '%-10s ' "$name"
  "$@" >"$LOGS/$name.log" 2>&1
}

# counts NAME PASSED FAILED STATUS: adds a stage's counts and prints its line.
counts() {
  local name=$1 p=$2 f=$3 status=$4
  if [ "$status" != 0 ] && [ "$f" = 0 ]; then f=1; fi   # failed without a countable test: the stage fails
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" = 0 ]; then echo "ok ($p)"; else echo "FAILED ($f of $((p + f))) — $LOGS/$name.log"; fi
}

# A stage that is one check (a build, lint): show the end of its log when it fails.
single() {
  local name=$1; shift
  run "$name" "$@"; local status=$?
  if [ $status = 0 ]; then counts "$name" 1 0 0; else counts "$name" 0 1 1; grep -E 'error|warning' "$LOGS/$name.log" | head -40 || tail -40 "$LOGS/$name.log"; fi
  return $status
}

# "N passed, M failed" printed by `leadbridge test` and the schema check.
from_summary() {
  local name=$1 status=$2 line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/$name.log" | tail -1)
  local p=${line%% passed*} f=${line#*, }; f=${f%% failed*}
  counts "$name" "${p:-0}" "${f:-0}" "$status"
  [ "$status" = 0 ] || grep -E 'FAIL|error|failed' "$LOGS/$name.log" | head -40
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}

single build "$SWIFT" build --build-tests -Xswiftc -warnings-as-errors || finish

run tests "$SWIFT" test --skip-build; status=$?
log="$LOGS/tests.log"
# Swift Testing: "Test run with N tests in S suites passed|failed"; each failing test "✘ Test NAME … failed after".
st_total=$(grep -oE 'Test run with [0-9]+ tests' "$log" | tail -1 | grep -oE '[0-9]+' || true)
st_failed=$(grep -E '^✘ Test ' "$log" | grep -v '^✘ Test run with' | grep -cE ' failed after ' || true)
# XCTest: the last "Executed N tests, with F failures" is the whole run.
xc_line=$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -1)
xc_total=$(echo "$xc_line" | grep -oE 'Executed [0-9]+' | grep -oE '[0-9]+' || true)
xc_failed=$(echo "$xc_line" | grep -oE 'with [0-9]+' | grep -oE '[0-9]+' || true)
t_failed=$(( ${st_failed:-0} + ${xc_failed:-0} ))
counts tests $(( ${st_total:-0} + ${xc_total:-0} - t_failed )) "$t_failed" "$status"
if [ "$status" != 0 ]; then
  # Each failure with its details (the "↳" lines and their indented continuation), and XCTest's.
  awk '/^✘ (Suite|Test run)/ {next} /^✘/ {p=1; print; next} /^↳ \/\/\// {next} p && /^(↳|  )/ {print; next} {p=0} /: error: / {print}' "$log" | head -80
fi

single lint .build/debug/leadbridge lint --strict
run examples .build/debug/leadbridge test --lang en; from_summary examples $?
run schema /usr/bin/python3 Tests/Schema/validate_specs.py .; from_summary schema $?
single release env SWIFT="$SWIFT" tools/build-release.sh
# No FoundationNetworking/URLSession in the binary, and libcurl only loaded on first use.
single binary tools/check-binary.sh .build/release/leadbridge

# The installed layout works from another folder, without LEADBRIDGE_HOME or the source tree:
# the binary finds its specs in PREFIX/share/leadbridge (`networks`, `postbacks kma`).
install_check() {
  local prefix status=0
  prefix=$(mktemp -d)
  make -s install PREFIX="$prefix" || status=1
  if [ $status = 0 ]; then
    (cd / && env -u LEADBRIDGE_HOME -u LEADBRIDGE_NETWORKS "$prefix/bin/leadbridge" networks --json) | grep -q '"id": "kma"' || { echo "installed: networks --json lacks kma"; status=1; }
    (cd / && env -u LEADBRIDGE_HOME -u LEADBRIDGE_NETWORKS "$prefix/bin/leadbridge" postbacks kma --json) | grep -q '"network": "kma"' || { echo "installed: postbacks kma failed"; status=1; }
    (cd / && env -u LEADBRIDGE_HOME -u LEADBRIDGE_NETWORKS "$prefix/bin/leadbridge" postbacks kma) >/dev/null || { echo "installed: postbacks kma exits non-zero"; status=1; }
  fi
  rm -rf "$prefix"
  return $status
}
single install install_check

finish
