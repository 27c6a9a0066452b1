#!/usr/bin/env bash
# Checks what the release binary loads at start-up: no FoundationNetworking/URLSession, no
# libcurl and no libpq (the HTTP client and the PostgreSQL store load them with dlopen on first
# use, so commands that never send or never open a PostgreSQL ledger start without their
# library trees). Usage: tools/check-binary.sh [BINARY]
set -euo pipefail
bin=${1:-.build/release/leadbridge}
[ -x "$bin" ] || { echo "check-binary: no binary at $bin" >&2; exit 1; }
libs=$(ldd "$bin")
bad=$(grep -E 'libFoundationNetworking|libcurl|libpq' <<<"$libs" || true)
if [ -n "$bad" ]; then
  echo "check-binary: $bin links what it must not load at start-up:" >&2
  echo "$bad" >&2
  echo "(objects compiled before these libraries became load-on-demand keep a link request: rm -rf .build and build again)" >&2
  exit 1
fi
echo "check-binary: $bin loads $(grep -c '=>' <<<"$libs") shared libraries, none of them FoundationNetworking, libcurl or libpq"
