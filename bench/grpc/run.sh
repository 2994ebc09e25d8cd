#!/usr/bin/env bash
# bench/grpc/run.sh <build-dir> — sample attestations/s through grpc-as over
# loopback gRPC (BENCH_CLIENTS calls in flight on BENCH_POOL connections,
# grpc_bench's async load generator; BENCH_SYNC=1 for blocking callers
# through src/grpc's client) beside the library rate (as_bench, 2 threads,
# same work: verify, default_cpu with reference values, ES256 EAR) measured
# in the same run. Target: the gRPC path keeps >= 70% of the library's rate.
#
# The machine is shared and its speed drifts, so library and gRPC slices are
# interleaved ROUNDS times (default 7; the order alternates each round so a
# drift does not always favour one side) and each round gives two ratios:
#   wall: attestations per wall-clock second, grpc-as / library;
#   cpu:  attestations per CPU-second of the serving process (grpc-as's
#         utime+stime from /proc over its slice; as_bench's from
#         /usr/bin/time), grpc-as / library.
# The cpu ratio is the fairer one here: the load generator runs on the same
# two cores as grpc-as (in a deployment the KBS calls from elsewhere), and
# other jobs' load steals wall time unevenly between slices; CPU time
# counts only what the server itself spent per attestation. Both medians are
# printed; the target is checked against the wall median (issue 9's wording)
# and the cpu median is shown beside it.
# GRPC_AS=<binary> measures another grpc-as build (e.g. a before/after pair).
set -euo pipefail
B=$(cd "${1:?usage: run.sh <build-dir>}" && pwd)
SECS=${BENCH_SECONDS:-2}
ROUNDS=${BENCH_ROUNDS:-7}
CLIENTS=${BENCH_CLIENTS:-16}
POOL=${BENCH_POOL:-4}
AS_BIN=${GRPC_AS:-$B/grpc-as}
cmake --build "$B" --target grpc-as rvps-tool as_bench grpc_bench -j2 >/dev/null
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

echo '{}' >"$tmp/config.json"
TRUSTEE_LOG=info "$AS_BIN" -c "$tmp/config.json" -s 127.0.0.1:0 --jwks-socket none 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/log" 2>/dev/null && break; sleep 0.05; done
port=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$tmp/log" | sed 's/.*://' || true)
if [ -z "$port" ]; then echo "grpc-as did not start"; cat "$tmp/log"; exit 1; fi
pl=$(printf '{"svn":["1"],"launch_digest":["abcde"],"major_version":1,"minimum_minor_version":1}' | base64 -w0)
printf '{"version":"0.1.0","type":"sample","payload":"%s"}' "$pl" >"$tmp/msg.json"
TRUSTEE_LOG=warn "$B/rvps-tool" register -p "$tmp/msg.json" -a "127.0.0.1:$port"
hz=$(getconf CLK_TCK)
# CPU seconds (user+system) used so far by grpc-as.
server_cpu() { awk -v hz="$hz" '{print ($14 + $15) / hz}' "/proc/$pid/stat"; }
lib_slice() { # -> "rate cpu_seconds"
  /usr/bin/time -f 'cpu %U %S' -o "$tmp/time" "$B/as_bench" 2 "$SECS" >"$tmp/lib" 2>/dev/null
  echo "$(awk '{print $2}' "$tmp/lib") $(awk '/^cpu/{print $2 + $3}' "$tmp/time")"
}
grpc_slice() { # -> "rate server_cpu_seconds errors"
  local c0 c1 g e
  c0=$(server_cpu)
  read -r _ g _ e < <(TRUSTEE_LOG=warn "$B/grpc_bench" "127.0.0.1:$port" "$CLIENTS" "$SECS" "$POOL")
  c1=$(server_cpu)
  echo "$g $(awk -v a="$c0" -v b="$c1" 'BEGIN{print b - a}') $e"
}
errs=0
: >"$tmp/rounds"
for i in $(seq "$ROUNDS"); do
  if ((i % 2)); then
    read -r l lc < <(lib_slice)
    read -r g gc e < <(grpc_slice)
  else
    read -r g gc e < <(grpc_slice)
    read -r l lc < <(lib_slice)
  fi
  errs=$((errs + e))
  # Per CPU-second: calls = rate x SECS on both sides, so the ratio is g*lc / (l*gc).
  read -r wr cr < <(awk -v g="$g" -v l="$l" -v gc="$gc" -v lc="$lc" \
    'BEGIN{printf "%.3f %.3f\n", g / l, (gc > 0 ? g * lc / (l * gc) : 0)}')
  echo "$wr $cr $l $g" >>"$tmp/rounds"
  printf 'round %d: library %6s/s (%5.2f cpu-s)   grpc-as %6s/s (%5.2f cpu-s)   wall ratio %s   cpu ratio %s\n' \
    "$i" "$l" "$lc" "$g" "$gc" "$wr" "$cr"
done
mid=$(((ROUNDS + 1) / 2))
read -r ratio lib grpc < <(awk '{print $1, $3, $4}' "$tmp/rounds" | sort -n | sed -n "${mid}p")
cratio=$(awk '{print $2}' "$tmp/rounds" | sort -n | sed -n "${mid}p")

printf '%-56s %10s\n' "AS library attestations/s (2 threads, baseline)" "$lib"
printf '%-56s %10s   errors %s\n' "grpc-as attestations/s ($CLIENTS in flight, $POOL conns)" "$grpc" "$errs"
printf 'median of %s rounds: wall ratio %s   cpu ratio (per server CPU-second) %s   load %s\n' "$ROUNDS" \
  "$ratio" "$cratio" "$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v r="$ratio" 'BEGIN{exit !(r >= 0.70)}'; then echo "target >= 0.70 of the library (wall): met"; else
  echo "target >= 0.70 of the library (wall): NOT met"; fi
