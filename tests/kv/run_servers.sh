#!/usr/bin/env bash
# run_servers.sh SUITE BACKEND... — starts a throwaway PostgreSQL and/or
# redis-server on free loopback ports (temp dirs, no durability: tests only),
# exports TRUSTEE_TEST_POSTGRES_URL / TRUSTEE_TEST_REDIS_URL, runs
# `SUITE <backend>` for each backend, and always stops the servers.
# As root, postgres runs as the `postgres` user (it refuses to run as root).
set -euo pipefail
suite=$1
shift
work=$(mktemp -d /tmp/kvservers.XXXXXX)
chmod 755 "$work"
pg_bin=""
pg_started=0
redis_pid=""

cleanup() {
  if [ "$pg_started" = 1 ]; then
    as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  return 1
}

start_postgres() {
  pg_bin=$(find_pg_bin) || { echo "run_servers: PostgreSQL binaries not found" >&2; exit 1; }
  mkdir -p "$work/pg" "$work/pgsock"
  [ "$(id -u)" = 0 ] && chown postgres "$work/pg" "$work/pgsock"
  as_pg "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync -E UTF8 >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log" >&2; exit 1; }
  local port
  port=$(free_port)
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pgsock/log" -w -t 30 \
    -o "-p $port -h 127.0.0.1 -k $work/pgsock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$work/pgsock/log" >&2; exit 1; }
  pg_started=1
  export TRUSTEE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

start_redis() {
  local port i
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --requirepass kvtest \
    --logfile "$work/redis.log" &
  redis_pid=$!
  for i in $(seq 1 100); do
    if /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2).close()" 2>/dev/null; then
      break
    fi
    sleep 0.05
  done
  export TRUSTEE_TEST_REDIS_URL="redis://:kvtest@127.0.0.1:$port"  # exercises AUTH
}

for be in "$@"; do
  case $be in
    postgres) start_postgres ;;
    redis) start_redis ;;
  esac
done
rc=0
for be in "$@"; do
  "$suite" "$be" || rc=1
done
exit $rc
