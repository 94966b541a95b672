#!/usr/bin/env bash
# Builds the benchmark sales database: generates CSV files with benches/salesgen, then loads
# them into SQLite and PostgreSQL (tables, data, indexes; ANALYZE on PostgreSQL). A script, not
# a test; CI does not run it. Each phase is skipped when a stamp shows it was done with the
# same parameters, and timed when it runs.
#
#   benches/load-data.sh OPPORTUNITIES HISTORY_FACTOR     # e.g. 1000000 10
#
# Writes ${BENCH_DATA:-target/bench-data}/<name>/ (name e.g. 100k-h1, 1m-h10): the CSV files,
# sales.sqlite, and loads the PostgreSQL database sales_bench_<name>.
#   BACKENDS="sqlite postgres"   which backends to load (default both)
#   AS_OF=YYYY-MM-DD             last day of the history (default today in UTC)
#   SEED=N                       salesgen's seed (default salesgen's own)
#   PGHOST, PGPORT, PGUSER       PostgreSQL server (default 127.0.0.1, 5432, postgres; trust)
set -euo pipefail

usage() { echo "usage: $0 OPPORTUNITIES HISTORY_FACTOR   (e.g. $0 1000000 10)" >&2; exit 2; }
fail() { echo "load-data: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
opportunities=$1
history_factor=$2
[[ $opportunities =~ ^[1-9][0-9]*$ ]] || fail "OPPORTUNITIES must be a positive integer, not '$opportunities'"
[[ $history_factor =~ ^[1-9][0-9]*$ ]] || fail "HISTORY_FACTOR must be a positive integer, not '$history_factor'"

# BENCH_DATA is read relative to the caller's folder; the default is in the repository.
root=$(cd "$(dirname "$0")/.." && pwd)
data=${BENCH_DATA:-$root/target/bench-data}
mkdir -p "$data" || fail "cannot create the data folder $data"
data=$(cd "$data" && pwd)
cd "$root"

backends=${BACKENDS:-sqlite postgres}
for backend in $backends; do
  case $backend in
    sqlite) command -v sqlite3 >/dev/null || fail "sqlite3 is missing (Debian: apt-get install sqlite3)" ;;
    postgres) command -v psql >/dev/null || fail "psql is missing (Debian: apt-get install postgresql-client)" ;;
    *) fail "unknown backend '$backend' in BACKENDS (known: sqlite postgres)" ;;
  esac
done
as_of=${AS_OF:-$(date -u +%F)}
[[ $as_of =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || fail "AS_OF must be YYYY-MM-DD, not '$as_of'"

scale() {
  if (($1 % 1000000 == 0)); then echo "$(($1 / 1000000))m"
  elif (($1 % 1000 == 0)); then echo "$(($1 / 1000))k"
  else echo "$1"; fi
}
name="$(scale "$opportunities")-h${history_factor}"
dir="$data/$name"
[[ $dir != *"'"* ]] || fail "the data folder $dir must not contain a single quote"
mkdir -p "$dir"

# Seconds since the epoch with a fraction, and the time a phase took.
now() { date +%s.%N; }
took() { awk -v start="$1" -v end="$(now)" -v what="$2" 'BEGIN { printf "  %-34s %7.1f s\n", what, end - start }'; }

echo "== $name: $opportunities opportunities, history factor $history_factor, as of $as_of -> $dir"

# --- generate -------------------------------------------------------------------------------
t=$(now)
export CARGO_TARGET_DIR="$root/benches/salesgen/target"
cargo build --release --quiet --locked --manifest-path benches/salesgen/Cargo.toml \
  || fail "cannot build benches/salesgen"
took "$t" "build salesgen"
salesgen="$CARGO_TARGET_DIR/release/salesgen"
generator=$(cat benches/salesgen/Cargo.lock benches/salesgen/src/*.rs | sha256sum | cut -c1-16)
stamp="opportunities=$opportunities history_factor=$history_factor as_of=$as_of seed=${SEED:-default} generator=$generator"
# A backend's stamp also names its schema file, so that a changed index is loaded again.
schema_stamp() { echo "$stamp schema=$(sha256sum "benches/schema/$1.sql" | cut -c1-16)"; }
tables=(reps opportunities activities costs)

csv_ready() {
  [ "$(cat "$dir/csv.stamp" 2>/dev/null)" = "$stamp" ] || return 1
  for table in "${tables[@]}"; do [ -f "$dir/$table.csv" ] || return 1; done
}
if csv_ready; then
  echo "  generate: already done ($(cat "$dir/summary.txt"))"
else
  t=$(now)
  rm -f "$dir/csv.stamp"
  seed_flag=()
  [ -n "${SEED:-}" ] && seed_flag=(--seed "$SEED")
  "$salesgen" --opportunities "$opportunities" --history-factor "$history_factor" \
    --as-of "$as_of" "${seed_flag[@]}" --out "$dir" 2>"$dir/summary.txt" \
    || fail "salesgen failed: $(cat "$dir/summary.txt")"
  echo "$stamp" >"$dir/csv.stamp"
  took "$t" "generate CSV"
  echo "  $(cat "$dir/summary.txt")"
fi

# Rows per table as salesgen reported them: "... 400 reps, 1000000 opportunities, ...".
expected() { grep -o "[0-9]* $1" "$dir/summary.txt" | head -1 | cut -d' ' -f1; }

# The schema file's table part, and its index part (from the "-- Indexes" line on).
schema_tables() { awk '/^-- Indexes/ { exit } { print }' "$1"; }
schema_indexes() { awk '/^-- Indexes/ { on = 1 } on { print }' "$1"; }

check_counts() { # backend, then "table count" lines on stdin
  local backend=$1 table count want
  while read -r table count; do
    want=$(expected "$table")
    [ "$count" = "$want" ] || fail "$backend: $table holds $count rows, salesgen wrote $want"
  done
}

# --- SQLite ---------------------------------------------------------------------------------
load_sqlite() {
  local db="$dir/sales.sqlite" tmp="$dir/sales.sqlite.loading" loaded_as
  loaded_as=$(schema_stamp sqlite)
  if [ -f "$db" ] && [ "$(cat "$db.stamp" 2>/dev/null)" = "$loaded_as" ]; then
    echo "  sqlite: already loaded ($db)"
    return
  fi
  rm -f "$db.stamp" "$tmp"
  local pragmas="PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;"
  t=$(now)
  {
    echo ".bail on"
    echo "$pragmas"
    schema_tables benches/schema/sqlite.sql
    echo "BEGIN;"
    for table in "${tables[@]}"; do echo ".import --csv --skip 1 '$dir/$table.csv' $table"; done
    # .import writes empty cells as ''; the nullable columns get their NULLs back.
    echo "UPDATE opportunities SET rep_id = NULLIF(rep_id, ''), closed_at = NULLIF(closed_at, ''),"
    echo "  amount = NULLIF(amount, '') WHERE rep_id = '' OR closed_at = '' OR amount = '';"
    echo "UPDATE activities SET opportunity_id = NULL WHERE opportunity_id = '';"
    echo "UPDATE costs SET team = NULL WHERE team = '';"
    echo "COMMIT;"
  } | sqlite3 "$tmp" >/dev/null || fail "sqlite: cannot load the CSV files into $tmp"
  took "$t" "sqlite: import + NULLs"
  t=$(now)
  { echo ".bail on"; echo "$pragmas"; schema_indexes benches/schema/sqlite.sql; } \
    | sqlite3 "$tmp" >/dev/null || fail "sqlite: cannot create the indexes in $tmp"
  took "$t" "sqlite: indexes"
  for table in "${tables[@]}"; do
    echo "$table $(sqlite3 "$tmp" "SELECT count(*) FROM $table")"
  done | check_counts sqlite
  mv "$tmp" "$db"
  echo "$loaded_as" >"$db.stamp"
  echo "  sqlite: $db ($(du -h "$db" | cut -f1))"
}

# --- PostgreSQL -----------------------------------------------------------------------------
load_postgres() {
  local host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=${PGUSER:-postgres}
  local db="sales_bench_$name" loaded_as
  loaded_as=$(schema_stamp postgres)
  local psql=(psql -h "$host" -p "$port" -U "$user" -X -q -v ON_ERROR_STOP=1)
  export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
  "${psql[@]}" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 \
    || fail "PostgreSQL at $host:$port does not accept user $user on database postgres (is it running?)"
  local loaded
  loaded=$("${psql[@]}" -d postgres -tAc \
    "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")
  if [ "$loaded" = "$loaded_as" ]; then
    echo "  postgres: already loaded (database $db)"
    return
  fi
  t=$(now)
  "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" \
    || fail "postgres: cannot recreate database $db"
  schema_tables benches/schema/postgres.sql | "${psql[@]}" -d "$db" \
    || fail "postgres: cannot create the tables in $db"
  took "$t" "postgres: create database"
  for table in "${tables[@]}"; do
    t=$(now)
    # FREEZE (the table being truncated in the same transaction) writes the rows frozen and
    # all-visible, as a long-lived table is, without a VACUUM pass after the load.
    "${psql[@]}" -d "$db" -1 -c "TRUNCATE $table" \
      -c "\\copy $table FROM '$dir/$table.csv' WITH (FORMAT csv, HEADER, NULL '', FREEZE)" \
      || fail "postgres: cannot copy $dir/$table.csv into $db.$table"
    took "$t" "postgres: copy $table"
  done
  t=$(now)
  { echo "SET maintenance_work_mem = '1GB';"; schema_indexes benches/schema/postgres.sql | grep -v '^ANALYZE'; } \
    | "${psql[@]}" -d "$db" || fail "postgres: cannot create the indexes in $db"
  took "$t" "postgres: indexes"
  t=$(now)
  "${psql[@]}" -d "$db" -c "ANALYZE" || fail "postgres: ANALYZE failed in $db"
  took "$t" "postgres: analyze"
  for table in "${tables[@]}"; do
    echo "$table $("${psql[@]}" -d "$db" -tAc "SELECT count(*) FROM $table")"
  done | check_counts postgres
  "${psql[@]}" -d postgres -c "COMMENT ON DATABASE \"$db\" IS '$loaded_as'" \
    || fail "postgres: cannot stamp database $db"
  echo "  postgres: database $db ($("${psql[@]}" -d "$db" -tAc "SELECT pg_size_pretty(pg_database_size(current_database()))"))"
}

for backend in $backends; do
  case $backend in
    sqlite) load_sqlite ;;
    postgres) load_postgres ;;
  esac
done
