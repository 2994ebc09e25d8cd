#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds twice (Release, and
# Debug with AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# test under both builds. Exits non-zero on any failure; the last line is
# ctest's summary of the sanitizer run.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
jobs=$(nproc)

build() { # dir, cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j"$jobs"
}

build build-release -DCMAKE_BUILD_TYPE=Release || exit 1
build build-asan -DCMAKE_BUILD_TYPE=Debug -DTRUSTEE_SANITIZE=ON || exit 1

rc=0
echo "== tests: Release build"
(cd build-release && ctest --output-on-failure -j"$jobs" --timeout 900) || rc=1
echo "== tests: ASan+UBSan build"
(cd build-asan && ctest --output-on-failure -j"$jobs" --timeout 1200) || rc=1
exit $rc
