# shellcheck shell=bash
# bench/bigdb.sh: figures 7 and 8 of bench/run (issue 21, "fast at scale"),
# sourced by bench/run after its tools, binaries and helpers are in place
# (log, die, raw, serve, stop, publish, activate, PGBIN, AKTUALD, BIN, WORK).
#
# 7. PostgreSQL: bench/cmd/bigdb fills a database with BIG_CUSTOMERS
#    customers (a code each), BIG_HWKEYS hardware keys and BIG_LEDGER
#    ledger rows; then bench/cmd/bigquery times each kind of staff search
#    and the customer page (p50, p99 of BIG_QUERIES each); aktuald admin
#    audit of it under /usr/bin/time -v (wall, peak RSS) against the audit
#    of an empty database; pg_dump --format=custom and pg_restore into a
#    new database (docs/operations.md), their times, the database's and
#    the dump's size; reserve+complete (bench/cmd/loadgen, 32 clients, a
#    code each: 32 of the generated customers, given 10000 updates more)
#    on it against the same on an empty database, in turn.
# 8. SQLite at a tenth of the size: the same, but for the load, with
#    aktuald admin backup and restore.

BIG_DIR=$WORK/bigdb
mkdir -p "$BIG_DIR"
if [ "$QUICK" = 1 ]; then
  BIG_CUSTOMERS=100000 BIG_HWKEYS=20000 BIG_LEDGER=2000000 BIG_QUERIES=200
else
  BIG_CUSTOMERS=1000000 BIG_HWKEYS=200000 BIG_LEDGER=20000000 BIG_QUERIES=300
fi
BIG_CLIENTS=32
BIG_UPDATES=10000

# big_time KEY CMD…: runs CMD under /usr/bin/time -v; records KEY.wall and
# KEY.rss_kib.
big_time() {
  local key=$1 t0 t1
  shift
  t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$BIG_DIR/time.txt" "$@" >"$BIG_DIR/out.txt" 2>"$BIG_DIR/err.txt" ||
    { cat "$BIG_DIR/out.txt" "$BIG_DIR/err.txt" >&2; die "$key: $* failed"; }
  t1=$EPOCHREALTIME
  raw "$key.wall $(elapsed "$t0" "$t1")"
  raw "$key.rss_kib $(awk -F': ' '/Maximum resident set size/ { print $2 }' "$BIG_DIR/time.txt")"
}

# big_fill PREFIX DATA SIZE_FACTOR [--db URL]: aktuald init, then bigdb.
big_fill() {
  local prefix=$1 data=$2 div=$3
  shift 3
  "$AKTUALD" --data "$data" "$@" init >/dev/null || die "aktuald init"
  local c=$((BIG_CUSTOMERS / div)) h=$((BIG_HWKEYS / div)) l=$((BIG_LEDGER / div))
  raw "$prefix.customers $c"
  raw "$prefix.hwkeys $h"
  raw "$prefix.ledger $l"
  log "7/8. $prefix: generating $c customers, $h hardware keys, $l ledger rows (bench/cmd/bigdb)"
  local t0=$EPOCHREALTIME
  "$BIN/bigdb" --data "$data" "$@" --customers "$c" --hwkeys "$h" --ledger "$l" --sample "$data.sample" ||
    die "bench/cmd/bigdb failed"
  raw "$prefix.generate_s $(elapsed "$t0" "$EPOCHREALTIME")"
}

# big_measure PREFIX DATA [--db URL]: the queries and the audit.
big_measure() {
  local prefix=$1 data=$2
  shift 2
  log "7/8. $prefix: $BIG_QUERIES queries of each kind (bench/cmd/bigquery)"
  raw "$prefix.queries $BIG_QUERIES"
  "$BIN/bigquery" --data "$data" "$@" --sample "$data.sample" --n "$BIG_QUERIES" --prefix "$prefix" >>"$WORK/raw.txt" ||
    die "bench/cmd/bigquery failed"
  log "7/8. $prefix: aktuald admin audit of the whole database"
  big_time "$prefix.audit" "$AKTUALD" --data "$data" "$@" admin audit
  grep -q 'Audit passed' "$BIG_DIR/out.txt" || { cat "$BIG_DIR/out.txt" >&2; die "the audit of the generated database failed"; }
}

# big_load KEY URL CODES: reserve+complete from BIG_CLIENTS clients.
big_load() {
  local key=$1 url=$2 codes=$3
  "$BIN/loadgen" --server "$url" --codes "$codes" --product ledger --clients "$BIG_CLIENTS" \
    --duration "${WARM_S}s" --max $((BIG_CLIENTS * BIG_UPDATES / 4)) >/dev/null || die "$key: the load generator's warm-up failed"
  "$BIN/loadgen" --server "$url" --codes "$codes" --product ledger --clients "$BIG_CLIENTS" \
    --duration "${LOAD_S}s" --max $((BIG_CLIENTS * BIG_UPDATES / 4)) >"$BIG_DIR/loadgen.json" || die "$key: the load generator failed"
  raw "$key.tps $(grep -o '"tps":[0-9.e+]*' "$BIG_DIR/loadgen.json" | cut -d: -f2)"
  raw "$key.p99_ms $(($(grep -o '"p99_ns":[0-9]*' "$BIG_DIR/loadgen.json" | cut -d: -f2) / 1000))e-3"
}

# big_ready DATA CODES_OUT [--db URL]: publishes the product the load
# updates and activates BIG_CLIENTS codes: new customers on an empty
# database, generated ones (whose codes bigdb's sample holds) on a big one.
big_ready() {
  local data=$1 codes=$2 name code i=0
  shift 2
  printf 'ledger 1.0.0\n' >"$BIG_DIR/ledger-1.0.0"
  printf 'ledger 2.0.0\n' >"$BIG_DIR/ledger-2.0.0"
  publish "$data" ledger 1.0.0 "$BIG_DIR/ledger-1.0.0" "$@" "${NOPATCH[@]}"
  publish "$data" ledger 2.0.0 "$BIG_DIR/ledger-2.0.0" "$@" "${NOPATCH[@]}"
  : >"$codes"
  if [ -s "$data.sample" ]; then
    while IFS=$'\t' read -r name _ code _ && [ "$i" -lt "$BIG_CLIENTS" ]; do
      "$AKTUALD" --data "$data" "$@" admin activate --customer "$name" --series pro --updates "$BIG_UPDATES" >/dev/null ||
        die "activating $name"
      echo "$code" >>"$codes"
      i=$((i + 1))
    done < <(awk 'NR % 7 == 3' "$data.sample")
  else
    for i in $(seq -w 1 "$BIG_CLIENTS"); do
      activate "$data" "bench-big-$i" "$BIG_UPDATES" "$@" >>"$codes" || die "aktuald admin activate"
    done
  fi
  [ "$(grep -c . "$codes")" = "$BIG_CLIENTS" ] || die "activating the load's codes"
}

# ---------------------------------------------------------------------------
# 7. PostgreSQL.

log "7. starting a throwaway PostgreSQL (.ci/postgres.sh)"
unset AKTUAL_TEST_POSTGRES
# shellcheck source=.ci/postgres.sh
source "$ROOT/.ci/postgres.sh"
BIG_ADMIN=$AKTUAL_TEST_POSTGRES
big_url() { echo "$BIG_ADMIN" | sed "s|/postgres?|/$1?|"; }
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$BIG_ADMIN" -c 'CREATE DATABASE big' -c 'CREATE DATABASE big_empty' -c 'CREATE DATABASE big_restored'
BIG_PG=$(big_url big)
BIG_EMPTY=$(big_url big_empty)

"$AKTUALD" --data "$BIG_DIR/empty-pg" --db "$BIG_EMPTY" init >/dev/null || die "aktuald init"
big_ready "$BIG_DIR/empty-pg" "$BIG_DIR/codes-empty.txt" --db "$BIG_EMPTY"
big_time bigdb.pg.audit_empty "$AKTUALD" --data "$BIG_DIR/empty-pg" --db "$BIG_EMPTY" admin audit

big_fill bigdb.pg "$BIG_DIR/pg" 1 --db "$BIG_PG"
raw "bigdb.pg.db_bytes $("$PGBIN/psql" -X -At "$BIG_ADMIN" -c "SELECT pg_database_size('big')")"
big_measure bigdb.pg "$BIG_DIR/pg" --db "$BIG_PG"
{
  echo "# the plans of the searches on the big database (EXPLAIN ANALYZE, bench/cmd/bigquery --explain)"
  "$BIN/bigquery" --data "$BIG_DIR/pg" --db "$BIG_PG" --sample "$BIG_DIR/pg.sample" --explain 2>&1 | sed 's/^/# /'
} >"$WORK/bigdb-plans.txt" || true

log "7. backup (pg_dump --format=custom) and restore (pg_restore into a new database)"
t0=$EPOCHREALTIME
"$PGBIN/pg_dump" --format=custom --file "$BIG_DIR/big.dump" "$BIG_PG" || die "pg_dump"
raw "bigdb.pg.backup.wall $(elapsed "$t0" "$EPOCHREALTIME")"
raw "bigdb.pg.backup.bytes $(stat -c %s "$BIG_DIR/big.dump")"
t0=$EPOCHREALTIME
"$PGBIN/pg_restore" --clean --if-exists --dbname "$(big_url big_restored)" "$BIG_DIR/big.dump" || die "pg_restore"
raw "bigdb.pg.restore.wall $(elapsed "$t0" "$EPOCHREALTIME")"
rm -f "$BIG_DIR/big.dump"
"$PGBIN/psql" -X -q "$BIG_ADMIN" -c 'DROP DATABASE big_restored' || true

log "7. reserve+complete on the big database and on an empty one, in turn"
big_ready "$BIG_DIR/pg" "$BIG_DIR/codes-big.txt" --db "$BIG_PG"
for _ in $(seq "$RUNS"); do
  serve "$BIG_DIR/empty-pg" "$BIG_DIR/aktuald-empty.log" --db "$BIG_EMPTY"
  big_load bigdb.pg.rc_empty "$SERVE_URL" "$BIG_DIR/codes-empty.txt"
  stop "$SERVE_PID"
  serve "$BIG_DIR/pg" "$BIG_DIR/aktuald-big.log" --db "$BIG_PG"
  big_load bigdb.pg.rc "$SERVE_URL" "$BIG_DIR/codes-big.txt"
  stop "$SERVE_PID"
done
aktual_pg_stop

# ---------------------------------------------------------------------------
# 8. SQLite, a tenth of the size.

"$AKTUALD" --data "$BIG_DIR/empty-sqlite" init >/dev/null || die "aktuald init"
big_time bigdb.sqlite.audit_empty "$AKTUALD" --data "$BIG_DIR/empty-sqlite" admin audit
big_fill bigdb.sqlite "$BIG_DIR/sqlite" 10
raw "bigdb.sqlite.db_bytes $(stat -c %s "$BIG_DIR/sqlite/aktuald.db")"
big_measure bigdb.sqlite "$BIG_DIR/sqlite"
log "8. backup and restore (aktuald admin backup, admin restore)"
t0=$EPOCHREALTIME
"$AKTUALD" --data "$BIG_DIR/sqlite" admin backup --out "$BIG_DIR/sqlite.backup" >/dev/null || die "aktuald admin backup"
raw "bigdb.sqlite.backup.wall $(elapsed "$t0" "$EPOCHREALTIME")"
raw "bigdb.sqlite.backup.bytes $(stat -c %s "$BIG_DIR/sqlite.backup")"
t0=$EPOCHREALTIME
"$AKTUALD" --data "$BIG_DIR/sqlite" admin restore --from "$BIG_DIR/sqlite.backup" >/dev/null || die "aktuald admin restore"
raw "bigdb.sqlite.restore.wall $(elapsed "$t0" "$EPOCHREALTIME")"
rm -rf "$BIG_DIR"
