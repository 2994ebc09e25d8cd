#!/usr/bin/env bash
# Runs every benchmark area: bench/<area>/run.sh <build-dir>. Each area prints
# its results beside a baseline measured in the same run (e.g. `openssl
# speed`) as a ratio, so numbers stay comparable across machines.
# Usage: bench/run.sh [build-dir]   (default: build)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd) || { echo "bench: no build directory $1"; exit 1; }
rc=0
for script in "$here"/*/run.sh; do
  [ -x "$script" ] || [ -f "$script" ] || continue
  area=$(basename "$(dirname "$script")")
  echo "== bench/$area"
  if ! bash "$script" "$build"; then
    echo "bench/$area: FAILED"
    rc=1
  fi
done
exit $rc
