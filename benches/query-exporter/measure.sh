#!/usr/bin/env bash
# Runs query-exporter on the sales indicators (postgres.yaml or sqlite.yaml beside this
# script) and prints, as key=value lines: the median refresh time over RUNS refreshes
# (one refresh = every query once), the samples its /metrics serves and its resident
# memory after the runs.
#
#   benches/query-exporter/measure.sh BACKEND DSN PORT [RUNS] [--keep]
#
#   BACKEND  sqlite or postgres
#   DSN      SQLite: a file path (opened read-only) or a sqlite: URL;
#            PostgreSQL: postgres://user@host:port/db or postgresql://...
#   PORT     port query-exporter listens on, on 127.0.0.1
#   RUNS     refreshes to time after a warm-up one (default 10)
#   --keep   leave query-exporter running (for a load test) and print pid=...; stop it
#            with `kill PID`
#
# Environment: INTERVAL (seconds between refreshes; default: calibrated from one refresh,
# three times its time plus 1 s), POOL_SIZE (database connections, hence queries run at once;
# default 1, query-exporter's default), BENCH_VENV (default target/bench-venv), QE_WORKDIR
# (folder for the log and timings; default a temporary one). Runs setup.sh first (a no-op
# when query-exporter is installed).
#
# Output keys: refresh_median_s, refresh_min_s, refresh_max_s (first query start to last
# query's metrics updated), db_median_s (time inside database calls, fetch included),
# reported_query_latency_s (query-exporter's own query_latency histogram, summed over
# queries: execute only), samples and indicator_samples (lines of /metrics that are not
# comments; those starting with sales_), exposition_bytes, rss_kb, interval_s,
# pool_size, log, pid and url with --keep.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

usage() { sed -n '7p' "$0" | sed 's/^# */usage: /' >&2; exit 2; }
keep=()
positional=()
for arg in "$@"; do
  case "$arg" in
    --keep) keep=(--keep) ;;
    -h|--help) usage ;;
    *) positional+=("$arg") ;;
  esac
done
[ "${#positional[@]}" -ge 3 ] && [ "${#positional[@]}" -le 4 ] || usage
backend=${positional[0]}
dsn=${positional[1]}
port=${positional[2]}
runs=${positional[3]:-10}
case "$backend" in
  sqlite|postgres) ;;
  *) echo "error: BACKEND must be sqlite or postgres, not '$backend'" >&2; exit 2 ;;
esac
[[ "$port" =~ ^[0-9]+$ ]] || { echo "error: PORT must be a number, not '$port'" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "error: RUNS must be a positive number, not '$runs'" >&2; exit 2; }

venv=${BENCH_VENV:-target/bench-venv}
"$here/setup.sh" >/dev/null

args=(--backend "$backend" --dsn "$dsn" --port "$port" --runs "$runs" "${keep[@]}")
[ -n "${INTERVAL:-}" ] && args+=(--interval "$INTERVAL")
[ -n "${QE_WORKDIR:-}" ] && args+=(--workdir "$QE_WORKDIR")
[ -n "${POOL_SIZE:-}" ] && args+=(--pool-size "$POOL_SIZE")
exec "$venv/bin/python" "$here/measure.py" "${args[@]}"
