#!/usr/bin/env bash
# Installs every Debian 12 package trustee-c needs to build, run and test.
# Idempotent: packages already present are left alone. Works as root or through sudo.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  # libraries
  libssl-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
  libgrpc-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler
  libtomlplusplus-dev libtss2-dev libsqlite3-dev libpq-dev libhiredis-dev
  libpcre2-dev
  # tests and tools
  libcmocka-dev bats python3-jwcrypto python3-grpcio python3-protobuf python3-grpc-tools
  postgresql redis-server sqlite3 openssl curl procps
)

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
