#!/usr/bin/env bash
# Intel DCAP (TDX) quote verifications/s with cached collateral, beside
# `openssl speed ecdsap256` verify/s in the same run.
#   bench/verifier-dcap/run.sh <build-dir> [seconds-per-case]
# With the PCK chain, the QE report and the collateral verified once and
# cached, a quote costs one P-256 verification (the quote signature by the
# attestation key) plus parsing, hashing and the TCB evaluation: the bound is
# openssl's verify/s. Target: dcap-verify >= 0.60 x that bound. Both sides
# count CPU time (openssl speed measures user CPU time), so a busy machine
# does not skew the ratio.
set -euo pipefail
build=${1:?usage: run.sh <build-dir> [seconds]}
secs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
shared=${TRUSTEE_SHARED_DIR:-$here/../../../shared}
exe="$build/bench_dcap"
[ -x "$exe" ] || cmake --build "$build" --target bench_dcap -j2 >/dev/null
out=$("$exe" "$shared/vectors/dcap-qvl/tdx_quote" "$shared/vectors/dcap-qvl/tdx_quote_collateral.json" "$secs")
echo "$out"
speed=$(openssl speed -seconds "$secs" ecdsap256 2>/dev/null)
verify=$(awk '/256 bits ecdsa \(nistp256\)/ {print $(NF)}' <<<"$speed")
echo "# openssl speed ecdsap256 (same run): verify ${verify} op/s"
awk -v v="$verify" '
  /^dcap-verify /     { r = $2 / v; printf "dcap-verify     / openssl ecdsap256 verify: %.3f%s\n", r, (r < 0.60 ? "  (below the 0.60 target)" : "") }
  /^tdx-evaluate /    { printf "tdx-evaluate    / openssl ecdsap256 verify: %.3f (whole verifier: base64, evidence JSON, claims)\n", $2 / v }
  /^raw-p256-verify / { printf "raw-p256-verify / openssl ecdsap256 verify: %.3f (the same operation in-process: how comparable the two measurements are)\n", $2 / v }
  /^verify\/raw /     { printf "dcap-verify     / in-process raw P-256 verify (interleaved, same load): %.3f\n", $2 }
' <<<"$out"
