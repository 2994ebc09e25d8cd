#!/usr/bin/env bash
# Crypto benchmarks beside same-run baselines.
#   bench/crypto/run.sh <build-dir> [seconds-per-case]
# Prints, per case, the module's ops/s, the same primitives called directly
# through OpenSSL in the same process, and their ratio (target >= 0.87, i.e.
# the module adds <= 15%); then `openssl speed` for ecdhp256/ecdsap256 in the
# same run, with the module's figures as a fraction of them.
set -euo pipefail
build=${1:?usage: run.sh <build-dir> [seconds]}
secs=${2:-2}
exe="$build/bench_crypto"
[ -x "$exe" ] || cmake --build "$build" --target bench_crypto -j2 >/dev/null
out=$("$exe" "$secs")
echo "$out"
speed=$(openssl speed -seconds "$secs" ecdhp256 ecdsap256 2>/dev/null)
ecdh=$(awk '/256 bits ecdh \(nistp256\)/ {print $(NF)}' <<<"$speed")
sign=$(awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1)}' <<<"$speed")
verify=$(awk '/256 bits ecdsa \(nistp256\)/ {print $(NF)}' <<<"$speed")
echo "# openssl speed (same run): ecdhp256 ${ecdh} op/s, ecdsap256 sign ${sign} op/s, verify ${verify} op/s"
awk -v e="$ecdh" -v s="$sign" -v v="$verify" '
  /^jwe-ecdh/     { printf "jwe-ecdh-1k  / openssl ecdhp256 derive: %.3f (a JWE also generates the ephemeral key: expect ~0.5)\n", $2 / e }
  /^es256-sign/   { printf "es256-sign   / openssl ecdsap256 sign:   %.3f\n", $2 / s }
  /^es256-verify/ { printf "es256-verify / openssl ecdsap256 verify: %.3f\n", $2 / v }
  /^[a-z]/ { if ($4 < 0.87) { printf "NOTE: %s module/raw %.3f is below the 0.87 target\n", $1, $4 } }
' <<<"$out"
