#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's `postgresql` package, for the tests and the
# benchmarks (no mock: the real server, in a temporary folder).
#
#   tools/pg-scratch.sh start [OWNER_PID]   prints DIR, then the unix-socket and TCP URLs
#   tools/pg-scratch.sh createdb DIR NAME   creates an empty database NAME
#   tools/pg-scratch.sh stop DIR            stops the server (fast) and keeps DIR
#   tools/pg-scratch.sh restart DIR         starts a stopped server of DIR again
#   tools/pg-scratch.sh destroy DIR         stops it at once and removes DIR
#
# The server listens on a unix socket inside DIR and on 127.0.0.1 at a free port. Local
# (socket) connections are trusted; TCP needs the password of user `leadbridge`, printed
# inside the TCP URL. As root, the server runs as `nobody` (initdb refuses root) and DIR
# belongs to it. With OWNER_PID, a watchdog destroys the server once that process is gone,
# so a crashed or killed test run never leaves a server behind.
# Environment: PG_SCRATCH_FSYNC=on keeps fsync (benchmarks); tests turn it off for speed.
set -euo pipefail

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  echo "pg-scratch: no PostgreSQL server found (install Debian's postgresql package)" >&2
  exit 3
}

# Runs a command as the unprivileged owner of the data folder.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME=/tmp LC_ALL=C "$@"
  else
    env LC_ALL=C "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
  local dir=$1 port
  port=$(cat "$dir/port")
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { echo "pg-scratch: the server did not start; its log:" >&2; tail -20 "$dir/server.log" >&2; exit 3; }
}

case "${1:-}" in
  start)
    owner=${2:-}
    bin=$(bindir)
    dir=$(mktemp -d /tmp/lb-pg.XXXXXX)
    chmod 755 "$dir"
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    printf '%s\n' "$password" > "$dir/password"
    [ "$(id -u)" = "0" ] && chown -R 65534:65534 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U leadbridge --pwfile="$dir/password" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
      || { echo "pg-scratch: initdb failed:" >&2; tail -20 "$dir/initdb.log" >&2; exit 3; }
    port=$(free_port)
    echo "$port" > "$dir/port"
    fsync=${PG_SCRATCH_FSYNC:-off}
    cat >> "$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 100
shared_buffers = 64MB
fsync = $fsync
full_page_writes = $fsync
logging_collector = off
EOF
    pg_start "$dir"
    if [ -n "$owner" ]; then
      # The watchdog: sleeps (no busy loop) until the owner is gone, then destroys the server.
      nohup setsid bash -c "while kill -0 $owner 2>/dev/null; do sleep 1; done; '$0' destroy '$dir'" >/dev/null 2>&1 &
    fi
    echo "$dir"
    echo "postgresql://leadbridge@/postgres?host=$dir&port=$port"
    echo "postgresql://leadbridge:$password@127.0.0.1:$port/postgres"
    ;;
  createdb)
    dir=${2:?usage: pg-scratch.sh createdb DIR NAME}
    "$(bindir)/createdb" -h "$dir" -p "$(cat "$dir/port")" -U leadbridge "${3:?usage: pg-scratch.sh createdb DIR NAME}"
    ;;
  stop)
    dir=${2:?usage: pg-scratch.sh stop DIR}
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null
    ;;
  restart)
    dir=${2:?usage: pg-scratch.sh restart DIR}
    pg_start "$dir"
    ;;
  destroy)
    dir=${2:?usage: pg-scratch.sh destroy DIR}
    case "$dir" in /tmp/lb-pg.*) ;; *) echo "pg-scratch: refusing to remove $dir" >&2; exit 1 ;; esac
    [ -d "$dir/data" ] && as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-scratch.sh start [OWNER_PID] | createdb DIR NAME | stop DIR | restart DIR | destroy DIR" >&2
    exit 1
    ;;
esac
