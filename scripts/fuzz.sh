#!/usr/bin/env bash
# Builds every libFuzzer target with clang (build-fuzz/) and runs each for
# FUZZ_SECONDS (default 20) on its corpus in fuzz/<module>/corpus/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null; then
  echo "fuzz: clang not found; install it with scripts/setup.sh"
  exit 1
fi
secs=${FUZZ_SECONDS:-20}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTRUSTEE_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
shopt -s nullglob
rc=0
for src in fuzz/*/fuzz_*.c; do
  name=$(basename "$src" .c)
  mod=$(basename "$(dirname "$src")")
  # Build each target alone, so one module that does not build under clang
  # does not stop the others from being fuzzed.
  if ! cmake --build build-fuzz --target "$name" -j"$(nproc)" >"build-fuzz/$name.build.log" 2>&1; then
    echo "fuzz: $name does not build; see build-fuzz/$name.build.log"
    tail -20 "build-fuzz/$name.build.log"
    rc=1
    continue
  fi
  corpus="fuzz/$mod/corpus/$name"
  work="build-fuzz/corpus/$name"
  mkdir -p "$work"
  [ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null || true
  echo "== $name (${secs}s)"
  if ! "build-fuzz/fuzz/$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 "$work" \
      >"build-fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see build-fuzz/$name.log"
    tail -30 "build-fuzz/$name.log"
    rc=1
  fi
done
exit $rc
