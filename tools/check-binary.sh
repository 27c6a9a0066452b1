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
# Foundation proper (with ICU's data) is not linked either: the binary uses FoundationEssentials,
# which is enough; Foundation's 50 MB and tens of thousands of relocations would slow every start.
icu=$( (nm "$bin" 2>/dev/null || true) | grep -cE ' icudt[0-9]+_dat$' || true)
if grep -qE 'libFoundation\.so|lib_FoundationICU' <<<"$libs" || [ "$icu" != 0 ]; then
  echo "check-binary: $bin links Foundation (ICU): use FoundationEssentials (import FoundationEssentials) and its APIs" >&2
  exit 1
fi
# libstdc++ is linked in (tools/build-release.sh): loading the shared one costs every start.
if grep -q 'libstdc++' <<<"$libs"; then
  echo "check-binary: $bin loads the shared libstdc++: build it with tools/build-release.sh (make release), which links libstdc++.a" >&2
  exit 1
fi
echo "check-binary: $bin loads $(grep -c '=>' <<<"$libs") shared libraries, none of them FoundationNetworking, libcurl or libpq; no Foundation/ICU inside"
