#!/usr/bin/env bash
# bench/rego/run.sh <build-dir> — Rego engine: median ns per evaluation in
# prepared mode for Trustee's KBS and AS default policies, with and without
# parsing the input, and compile time; ratios against the regorus 0.11
# prepared anchors (5 us / 30 us, issue 3) and a same-run jansson baseline.
set -euo pipefail
B=$(cd "${1:?usage: run.sh <build-dir>}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${TRUSTEE_SHARED_DIR:-$HERE/../../../shared}
cmake --build "$B" --target rego_bench -j2 >/dev/null
"$B/rego_bench" "$SHARED" "${BENCH_ROUNDS:-51}"
