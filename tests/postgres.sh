#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests and for developers (Debian's postgresql package; no system
# service, no change to the machine's own clusters):
#
#   eval "$(tests/postgres.sh start)"   # initdb + pg_ctl start in a temp folder, on a free 127.0.0.1 port; prints
#                                       # export CHEESECAVE_TEST_POSTGRES='Host=127.0.0.1;Port=...;...'
#   tests/postgres.sh stop              # stops the server and deletes its folder
#
# The folder is $CHEESECAVE_POSTGRES_DIR (default: /tmp/cheesecave-postgres-<uid>); `start` refuses a folder that
# already holds a running server. As root the server runs as the `postgres` user (PostgreSQL refuses to run as root).
# The account is a superuser with a random password, so tests can create and drop a database per test class.
# fsync is off: the data is thrown away, and the tests should not wait on the disk.
set -euo pipefail

dir=${CHEESECAVE_POSTGRES_DIR:-${TMPDIR:-/tmp}/cheesecave-postgres-$(id -u)}
user=cheesecave

say() { echo "tests/postgres.sh: $*" >&2; }

bindir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
  return 1
}

# Runs a PostgreSQL program as the folder's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local bin
  bin=$(bindir) || { say "PostgreSQL is not installed (apt-get install postgresql, or run tests/run.sh, which installs it)"; exit 1; }
  if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" status -D "$dir/data" >/dev/null 2>&1; then
    say "a server already runs in $dir: run 'tests/postgres.sh stop' first, or set CHEESECAVE_POSTGRES_DIR"
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    say "running as root needs the 'postgres' user (Debian's postgresql package creates it)"; exit 1
  fi

  rm -rf "$dir"
  mkdir -p "$dir/socket"
  chmod 700 "$dir"
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
  printf '%s\n' "$password" >"$dir/password"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"

  as_owner "$bin/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/password" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { say "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }

  local port attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM % 30000)))
    port_in_use "$port" && continue
    if as_owner "$bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -h 127.0.0.1 -k $dir/socket -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null 2>&1; then
      local connection="Host=127.0.0.1;Port=$port;Username=$user;Password=$password;Database=postgres"
      printf '%s\n' "$connection" >"$dir/connection"
      [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/connection"
      say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$port (folder $dir)"
      echo "export CHEESECAVE_TEST_POSTGRES='$connection'"
      return 0
    fi
    say "could not start on port $port (attempt $attempt), trying another"
  done
  say "the server did not start; its log:"; tail -20 "$dir/server.log" >&2 || true
  exit 1
}

stop() {
  local bin
  if [ -d "$dir/data" ] && bin=$(bindir); then
    as_owner "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: tests/postgres.sh start|stop   (folder: \$CHEESECAVE_POSTGRES_DIR, default $dir)" >&2; exit 2 ;;
esac
