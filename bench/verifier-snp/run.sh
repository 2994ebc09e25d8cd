#!/usr/bin/env bash
# SNP verifier throughput beside `openssl speed ecdsap384` in the same run.
#   bench/verifier-snp/run.sh <build-dir> [seconds-per-case]
# Target: snp-evaluate >= 0.85 x openssl's ecdsap384 verify/s (the report
# signature is the only unavoidable cost; the VCEK chain is cached).
set -euo pipefail
build=${1:?usage: run.sh <build-dir> [seconds]}
secs=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
shared=${TRUSTEE_SHARED_DIR:-$here/../../../shared}
exe="$build/bench_snp"
[ -x "$exe" ] || cmake --build "$build" --target bench_snp -j2 >/dev/null
out=$("$exe" "$shared/vectors/trustee/attestation-service/tests/e2e/evidence.json" "$secs")
echo "$out"
speed=$(openssl speed -seconds "$secs" ecdsap384 2>/dev/null)
verify=$(awk '/384 bits ecdsa \(nistp384\)/ {print $(NF)}' <<<"$speed")
echo "# openssl speed ecdsap384 (same run): verify ${verify} op/s"
awk -v v="$verify" '
  /^snp-evaluate /       { r = $2 / v; printf "snp-evaluate       / openssl ecdsap384 verify: %.3f%s\n", r, (r < 0.85 ? "  (below the 0.85 target)" : "") }
  /^snp-parse-evaluate / { printf "snp-parse-evaluate / openssl ecdsap384 verify: %.3f (includes JSON parsing of the 6.7 KB evidence)\n", $2 / v }
  /^raw-p384-verify /    { printf "raw-p384-verify    / openssl ecdsap384 verify: %.3f (in-process raw vs openssl: the load of the machine differed by this much between the two)\n", $2 / v }
  /^evaluate\/raw /      { printf "snp-evaluate       / in-process raw P-384 verify (interleaved, same load): %.3f\n", $2 }
' <<<"$out"
