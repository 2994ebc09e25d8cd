#!/usr/bin/env bash
# bench/as/run.sh <build-dir> — sample attestations/s through the library and
# through restful-as over loopback HTTP (keep-alive, concurrent connections),
# beside the ES256 signing bound `openssl speed ecdsap256` measured in the
# same run (every EAR token costs one P-256 signature). Target: >= 5000/s
# over HTTP on a 2-core machine.
set -euo pipefail
B=$(cd "${1:?usage: run.sh <build-dir>}" && pwd)
SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-32}
cmake --build "$B" --target restful-as as_bench as_loadgen -j2 >/dev/null
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

sign=$(openssl speed -seconds "$SECS" ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1)}')
lib=$("$B/as_bench" 2 "$SECS" | awk '{print $2}')

echo '{}' >"$tmp/config.json"
"$B/restful-as" -c "$tmp/config.json" -s 127.0.0.1:0 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/log" 2>/dev/null && break; sleep 0.05; done
# the listening line is logged at info: re-read the port from it, or fail
port=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$tmp/log" | sed 's/.*://' || true)
if [ -z "$port" ]; then echo "restful-as did not start"; cat "$tmp/log"; exit 1; fi
ev=$(printf '{"svn":"1","report_data":""}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
printf '{"verification_requests":[{"tee":"sample","evidence":"%s"}],"policy_ids":[]}' "$ev" >"$tmp/body.json"
# reference values so default_cpu affirms (same work as the library run)
pl=$(printf '{"svn":["1"],"launch_digest":["abcde"],"major_version":1,"minimum_minor_version":1}' | base64 -w0)
curl -sf -X POST "http://127.0.0.1:$port/reference-value" \
  -d "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"$pl\"}" >/dev/null
read -r _ http _ errs < <("$B/as_loadgen" 127.0.0.1 "$port" /attestation "$tmp/body.json" "$CONNS" "$SECS")

printf '%-44s %10s\n' "openssl speed ecdsap256 sign/s (baseline)" "$sign"
printf '%-44s %10s   ratio %.3f\n' "AS library attestations/s (2 threads)" "$lib" "$(awk -v a="$lib" -v b="$sign" 'BEGIN{print a/b}')"
printf '%-44s %10s   ratio %.3f   errors %s\n' "restful-as HTTP attestations/s ($CONNS conns)" "$http" \
  "$(awk -v a="$http" -v b="$sign" 'BEGIN{print a/b}')" "$errs"
if [ "$http" -ge 5000 ]; then echo "target >= 5000/s over HTTP: met"; else echo "target >= 5000/s over HTTP: NOT met"; fi
