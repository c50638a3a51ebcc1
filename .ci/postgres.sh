# shellcheck shell=bash
# Sourced by .ci/run: a throwaway PostgreSQL server for the PostgreSQL
# store's tests (internal/pgtest). Unless AKTUAL_TEST_POSTGRES already names
# a server, it installs Debian's postgresql package when no initdb is found,
# initialises a cluster in a temporary directory (as the postgres user when
# run as root: initdb refuses root), starts it on a free 127.0.0.1 port with
# its socket in that directory, creates a superuser role with a password,
# and exports
#
#   AKTUAL_TEST_POSTGRES=postgres://aktual:PASSWORD@127.0.0.1:PORT/postgres?sslmode=disable
#   AKTUAL_REQUIRE_POSTGRES=1   (a test that finds no server fails, never skips)
#
# The server is stopped and its directory removed when the sourcing shell
# exits (an EXIT trap, chained after any trap already set).
# Try it alone: bash -c 'set -euo pipefail; source .ci/postgres.sh; psql "$AKTUAL_TEST_POSTGRES" -c "select version()"'

export AKTUAL_REQUIRE_POSTGRES=1

aktual_pg_log() { echo "postgres.sh: $*" >&2; }

# aktual_pg_bin prints the directory holding initdb and pg_ctl: PATH first,
# then the newest of Debian's /usr/lib/postgresql/VERSION/bin.
aktual_pg_bin() {
  local p
  # Resolved: a symlink on PATH may stand alone, away from psql and pg_isready.
  if p=$(command -v initdb) && p=$(dirname "$(readlink -f "$p")") && [ -x "$p/pg_ctl" ] && [ -x "$p/pg_isready" ]; then
    echo "$p"
    return 0
  fi
  p=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$p" ] && [ -x "$p/initdb" ] && [ -x "$p/pg_ctl" ] && [ -x "$p/pg_isready" ]; then
    echo "$p"
    return 0
  fi
  return 1
}

# aktual_pg_as runs a command as the cluster's owner: postgres when we are
# root, ourselves otherwise.
aktual_pg_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# aktual_pg_port prints a TCP port nothing listens on at 127.0.0.1.
aktual_pg_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

aktual_pg_stop() {
  if [ -n "${AKTUAL_PG_DIR:-}" ] && [ -d "$AKTUAL_PG_DIR" ]; then
    aktual_pg_as "$AKTUAL_PG_BIN/pg_ctl" stop -D "$AKTUAL_PG_DIR/data" -m fast -w >/dev/null 2>&1 || true
    rm -rf "$AKTUAL_PG_DIR"
    aktual_pg_log "stopped the test server"
  fi
}

aktual_pg_start() {
  local pw port tries
  if ! AKTUAL_PG_BIN=$(aktual_pg_bin); then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      aktual_pg_log "PostgreSQL's server binaries (initdb, pg_ctl) are missing: install Debian's postgresql package, or set AKTUAL_TEST_POSTGRES to a server"
      return 1
    fi
    aktual_pg_log "installing Debian's postgresql package"
    # No default cluster: the tests start their own.
    mkdir -p /etc/postgresql-common
    if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
      echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    AKTUAL_PG_BIN=$(aktual_pg_bin)
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    aktual_pg_log "running as root, the server must run as the postgres user, and there is none"
    return 1
  fi

  AKTUAL_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/aktual-ci-postgres.XXXXXX")
  chmod 700 "$AKTUAL_PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$AKTUAL_PG_DIR"
  fi
  # Chained before anything else can fail, so a half-started server is
  # stopped too.
  local prev
  prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
  # shellcheck disable=SC2064 # expand $prev now
  trap "aktual_pg_stop${prev:+; $prev}" EXIT

  pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # The bootstrap superuser (named after the OS user) logs in over the
  # socket by peer authentication; TCP takes a password.
  aktual_pg_as "$AKTUAL_PG_BIN/initdb" -D "$AKTUAL_PG_DIR/data" --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C --no-sync >"$AKTUAL_PG_DIR/initdb.log" 2>&1 ||
    { cat "$AKTUAL_PG_DIR/initdb.log" >&2; return 1; }

  for tries in 1 2 3; do
    port=$(aktual_pg_port)
    # Durability off: a throwaway server, made fast.
    if aktual_pg_as "$AKTUAL_PG_BIN/pg_ctl" start -D "$AKTUAL_PG_DIR/data" -l "$AKTUAL_PG_DIR/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k '$AKTUAL_PG_DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null; then
      break
    fi
    aktual_pg_log "the server did not start on port $port (try $tries):"
    tail -n 20 "$AKTUAL_PG_DIR/server.log" >&2 || true
    if [ "$tries" = 3 ]; then
      return 1
    fi
  done

  for _ in $(seq 60); do
    if aktual_pg_as "$AKTUAL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      break
    fi
    sleep 0.5
  done
  aktual_pg_as "$AKTUAL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" ||
    { aktual_pg_log "the server does not accept connections"; return 1; }

  aktual_pg_as "$AKTUAL_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$AKTUAL_PG_DIR" -p "$port" -d postgres \
    -c "CREATE ROLE aktual LOGIN SUPERUSER PASSWORD '$pw'"

  export AKTUAL_TEST_POSTGRES="postgres://aktual:$pw@127.0.0.1:$port/postgres?sslmode=disable"
  aktual_pg_log "test server $("$AKTUAL_PG_BIN/postgres" --version) on 127.0.0.1:$port (data in $AKTUAL_PG_DIR)"
}

if [ -z "${AKTUAL_TEST_POSTGRES:-}" ]; then
  aktual_pg_start
else
  aktual_pg_log "using the server AKTUAL_TEST_POSTGRES names"
fi
