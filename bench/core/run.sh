#!/usr/bin/env bash
# Core benchmarks beside a same-run baseline: `openssl speed -evp sha384` on
# 1 KiB blocks (MB/s). Ratios: base64 and our SHA-384 against OpenSSL's raw
# SHA-384 throughput; JCS operations as "how many SHA-384(1 KiB) one
# canonicalisation costs". Usage: bench/core/run.sh <build-dir> [seconds]
set -euo pipefail
build=$1
secs=${2:-${BENCH_SECONDS:-1}}
exe="$build/bench/bench_core"
if [ ! -x "$exe" ]; then
  cmake --build "$build" --target bench_core >/dev/null
fi
base_kbs=$(openssl speed -evp sha384 -bytes 1024 -seconds "${secs%.*}" 2>/dev/null | awk '/^sha384/ {sub(/k$/, "", $2); print $2}')
base_mbs=$(awk -v k="$base_kbs" 'BEGIN { printf "%.1f", k * 1000 / 1e6 }')
base_ops=$(awk -v k="$base_kbs" 'BEGIN { printf "%.0f", k * 1000 / 1024 }')
printf '%-26s %14s %-6s   %-28s %s\n' benchmark value unit "baseline (openssl speed)" ratio
"$exe" "$secs" | while read -r name value unit; do
  case $unit in
  MB/s) base=$base_mbs; bunit="MB/s sha384-1k" ;;
  *) base=$base_ops; bunit="ops/s sha384-1k" ;;
  esac
  ratio=$(awk -v a="$value" -v b="$base" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
  printf '%-26s %14s %-6s   %10s %-17s %s\n' "$name" "$value" "$unit" "$base" "$bunit" "$ratio"
done
