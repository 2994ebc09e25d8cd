#!/usr/bin/env bash
# Sets up, builds and starts the main job: a KBS with the built-in AS and
# RVPS, embedded storage and a generated admin key.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"
if [ ! -x build/kbs ]; then
  echo "start: the KBS is not built yet (see issues); nothing to start."
  exit 0
fi
exec bash scripts/run-kbs.sh
