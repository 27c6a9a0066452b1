#!/usr/bin/env bash
# Builds the release binary: the Swift runtime and FoundationEssentials linked statically
# (--static-swift-stdlib), and libstdc++ too — loading the shared libstdc++ (its symbol
# relocations) was about 0.8 ms of CPU in every command's start, 15–20 % of `postbacks kma`.
# Swift's link line asks for `-lstdc++`; a folder holding only libstdc++.a, searched first,
# makes the linker take the archive. tools/check-binary.sh checks the result.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
dir=.build/static-cxx
mkdir -p "$dir"
# Ask the toolchain's clang (the linker driver Swift uses) where the archive is.
toolchain=$(dirname "$(readlink -f "$(command -v "$SWIFT")")")
archive=
for cc in "$toolchain/clang" clang gcc; do
  found=$("$cc" -print-file-name=libstdc++.a 2>/dev/null || true)
  if [ -f "$found" ]; then archive=$found; break; fi
done
if [ -f "$archive" ]; then
  ln -sfn "$archive" "$dir/libstdc++.a"
else
  echo "build-release: no libstdc++.a (install libstdc++-dev): libstdc++ stays a shared library" >&2
  rm -f "$dir/libstdc++.a"
fi
exec "$SWIFT" build -c release --static-swift-stdlib -Xswiftc -warnings-as-errors -Xlinker "-L$PWD/$dir" "$@"
