#!/usr/bin/env bash
# Measures sales_exporter beside the bare SQL it sends, query-exporter computing the same
# indicators, and nginx serving the same bytes, on the benchmark database at each scale, in
# one run (a script, not a test; CI does not run it). Each refresh figure is the median of
# RUNS refreshes after a warm-up one. Prints two tables, then how a refresh grows with 10x
# more old history behind the same recent data.
#
#   benches/compare.sh                              # 100k, 1M and 10M opportunities
#   SCALES="100000" RUNS=3 WRK_DURATION=10s benches/compare.sh
#
# Environment:
#   SCALES          opportunities per scale (default "100000 1000000 10000000")
#   BACKENDS        "sqlite postgres" (default both)
#   RUNS            refreshes timed per figure (default 5)
#   WRK_DURATION    each /metrics load run (default 30s); CONNECTIONS (default 64)
#   HISTORY_SCALE   the scale of the 1x/10x history comparison (default 1000000; empty: skip)
#   QE_SCALES       the scales query-exporter runs at (default: all of SCALES); "nan" elsewhere
#   RESULTS         file the raw key=value figures are appended to (default target/bench-results.txt)
#   BENCH_DATA      where load-data.sh keeps the data (default target/bench-data)
#   AS_OF           the data's last day, passed to load-data.sh (default today in UTC): data
#                   loaded on another day is generated and loaded again unless AS_OF names it
#
# Needs: sqlite3, psql with PostgreSQL at 127.0.0.1:5432 (trust), wrk, nginx, curl, python3
# (query-exporter is installed into a virtual environment by benches/query-exporter/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "compare: $*" >&2; exit 1; }

scales=${SCALES:-100000 1000000 10000000}
backends=${BACKENDS:-sqlite postgres}
runs=${RUNS:-5}
wrk_duration=${WRK_DURATION:-30s}
connections=${CONNECTIONS:-64}
history_scale=${HISTORY_SCALE-1000000}
qe_scales=${QE_SCALES-$scales}

# Every setting is checked before anything runs: a bad one found after an hour of
# measuring would lose the hour.
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || fail "$1 must be a positive integer, not '$2'"; }
for scale in $scales; do positive "each of SCALES" "$scale"; done
for scale in $qe_scales; do positive "each of QE_SCALES" "$scale"; done
[ -z "$history_scale" ] || positive HISTORY_SCALE "$history_scale"
positive RUNS "$runs"
positive CONNECTIONS "$connections"
[[ $wrk_duration =~ ^[1-9][0-9]*[smh]?$ ]] || fail "WRK_DURATION must be a wrk duration such as 30s or 2m, not '$wrk_duration'"
for backend in $backends; do
  case $backend in sqlite | postgres) ;; *) fail "unknown backend '$backend' in BACKENDS (known: sqlite postgres)" ;; esac
done

# Paths given in the environment are read from the caller's folder, like load-data.sh's.
results=${RESULTS:-$root/target/bench-results.txt}
[[ $results == /* ]] || results="$PWD/$results"
data=${BENCH_DATA:-$root/target/bench-data}
mkdir -p "$data" || fail "cannot create the data folder $data"
data=$(cd "$data" && pwd)
export BENCH_DATA=$data
cd "$root"
ours_port=19745
qe_port=19755
nginx_port=19765

for tool in sqlite3 psql wrk curl python3 /usr/sbin/nginx; do
  command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install sqlite3 postgresql-client wrk curl nginx-light)"
done
psql -X -q -h 127.0.0.1 -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1 \
  || fail "PostgreSQL does not answer at 127.0.0.1:5432 as user postgres"

cargo build --release --quiet
bin=$root/target/release/sales_exporter
benches/query-exporter/setup.sh >/dev/null
work=$(mktemp -d)
started=()
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$(dirname "$results")"
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) scales=[$scales] backends=[$backends] runs=$runs" >>"$results"

# The data folder name load-data.sh uses for a scale: 100000 -> 100k, 1000000 -> 1m.
label() {
  local n=$1
  if (( n % 1000000 == 0 )); then echo "$((n / 1000000))m"
  elif (( n % 1000 == 0 )); then echo "$((n / 1000))k"
  else echo "$n"; fi
}

# Median of the numbers read, one per line (or of column $1 of each line).
median() { awk -v c="${1:-1}" '{ print $c }' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

record() { echo "$*" >>"$results"; }

# Writes our config for BACKEND on dataset NAME with POOL connections to stdout.
our_config() {
  local backend=$1 name=$2 pool=$3 db
  case $backend in
    sqlite) db="$data/$name/sales.sqlite" ;;
    postgres) db="sales_bench_$name" ;;
  esac
  sed -e "s|BENCH_DB|$db|" -e "s|^interval_secs = .*|interval_secs = 1|" \
      -e "s|^max_connections = .*|max_connections = $pool|" \
      -e "s|^query_timeout_secs = .*|query_timeout_secs = 1800|" \
      "benches/config/$backend.toml"
}

# Starts our exporter on CONFIG and leaves its pid in $ours_pid.
start_ours() {
  "$bin" --config "$1" --web.listen-address "127.0.0.1:$ours_port" --log-level warn \
    2>>"$work/ours.log" &
  ours_pid=$!
  started+=("$ours_pid")
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

scrape() { curl -s --max-time 120 "http://127.0.0.1:$ours_port/metrics"; }

# The count of successful refreshes in the exposition on stdin.
successes() { awk '/^sales_exporter_refreshes_total\{result="success"\}/ { print $2 }'; }

# Prints, for each of the next RUNS successful refreshes (after one warm-up), its duration
# and the time its queries took added up (they run side by side). Refreshes start at least
# the 1 s interval apart, so a scrape every half second sees nearly all of them (one it
# misses only delays the count); scraping more often would take CPU from the refresh it
# measures (a page is 7 MB at 1M).
our_refreshes() {
  local want=$((runs + 1)) seen=0 last=0 count duration deadline=$((SECONDS + 3600))
  while (( seen < want )); do
    (( SECONDS < deadline )) || fail "our exporter did not refresh $want times within an hour; see $work/ours.log"
    kill -0 "$ours_pid" 2>/dev/null || { cat "$work/ours.log" >&2; fail "our exporter exited"; }
    local page
    page=$(scrape || true)
    count=$(successes <<<"$page")
    if [ -n "$count" ] && [ "$count" != "$last" ]; then
      duration=$(awk '/^sales_exporter_refresh_duration_seconds / { print $2 }
        /^sales_exporter_query_duration_seconds\{/ { q += $2 } END { print "", q }' <<<"$page" | tr -d '\n')
      last=$count
      seen=$((seen + 1))
      (( seen > 1 )) && echo "$duration"
    fi
    sleep 0.5
  done
}

# Median wall time of our SQL (from --print-sql) run bare by the database's own client:
# the sum of every statement's time as the client reports it, median over RUNS runs.
floor() {
  local backend=$1 name=$2 config=$3 sql="$work/refresh.sql"
  "$bin" --config "$config" --print-sql >"$sql"
  for run in $(seq 0 "$runs"); do
    local total
    case $backend in
      sqlite)
        total=$( { printf '.timer on\n.output /dev/null\n'; cat "$sql"; } \
          | sqlite3 -readonly "$data/$name/sales.sqlite" \
          | awk '/^Run Time:/ { s += $4 } END { print s }') ;;
      postgres)
        total=$( { printf '\\timing on\n'; cat "$sql"; } \
          | psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d "sales_bench_$name" -o /dev/null \
          | awk '/^Time:/ { s += $2 / 1000 } END { print s }') ;;
    esac
    (( run > 0 )) && echo "$total"
  done | median
}

# wrk against URL (extra wrk arguments after it): prints "rps p50_ms p99_ms errors".
load() {
  local url=$1; shift
  wrk -t2 -c"$connections" -d"$wrk_duration" --timeout 60s --latency "$@" "$url" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    /Non-2xx/ { errors += $5 }
    END { printf "%.2f %.2f %.2f %d\n", rps, p50, p99, errors + 0 }'
}

rss_mib() { awk '/^VmRSS/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
peak_mib() { awk '/^VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }

# Our resident memory between refreshes: read as soon as the next refresh has succeeded
# (a refresh holds its aggregate rows until it ends, so a reading in the middle of one
# says what a refresh peaks at, not what the server holds). Waits up to two intervals.
rss_after_refresh() {
  local interval=$1 count last="" deadline
  deadline=$((SECONDS + 2 * interval + 60))
  while (( SECONDS < deadline )); do
    count=$( (scrape || true) | successes)
    if [ -z "$last" ]; then last=$count
    elif [ -n "$count" ] && [ "$count" != "$last" ]; then rss_mib "$ours_pid"; return; fi
    sleep 0.5
  done
  echo "compare: no refresh within $((2 * interval + 60)) s; memory read mid-cycle" >&2
  rss_mib "$ours_pid"
}

refresh_rows=()
serve_rows=()
history_rows=()

for scale in $scales; do
  name="$(label "$scale")-h1"
  BACKENDS="$backends" benches/load-data.sh "$scale" 1 >&2
  for backend in $backends; do
    echo "== $name $backend" >&2
    our_config "$backend" "$name" 2 >"$work/ours.toml"
    start_ours "$work/ours.toml"
    our_refreshes >"$work/refreshes"
    ours=$(median 1 <"$work/refreshes")
    ours_queries=$(median 2 <"$work/refreshes")
    stop "$ours_pid"
    bare=$(floor "$backend" "$name" "$work/ours.toml")

    case $backend in
      sqlite) dsn="$data/$name/sales.sqlite" ;;
      postgres) dsn="postgres://postgres@127.0.0.1:5432/sales_bench_$name" ;;
    esac
    if [[ " $qe_scales " == *" $scale "* ]]; then
      qe=$(QE_WORKDIR="$work/qe" benches/query-exporter/measure.sh "$backend" "$dsn" "$qe_port" "$runs" --keep)
      qe_pid=$(sed -n 's/^pid=//p' <<<"$qe")
      started+=("$qe_pid")
      qe_refresh=$(sed -n 's/^refresh_median_s=//p' <<<"$qe")
      qe_samples=$(sed -n 's/^samples=//p' <<<"$qe")
      qe_interval=$(sed -n 's/^interval_s=//p' <<<"$qe")
    else
      qe_pid="" qe_refresh=nan qe_samples=0
      qe_interval=$(awk -v o="$ours" 'BEGIN { printf "%d", 3 * o + 1 }')
    fi

    # Under load both exporters refresh on query-exporter's interval.
    sed -e "s|^interval_secs = .*|interval_secs = $qe_interval|" "$work/ours.toml" >"$work/ours-load.toml"
    start_ours "$work/ours-load.toml"
    runs=0 our_refreshes >/dev/null
    page=$(scrape)
    samples=$(grep -vc '^#' <<<"$page")
    printf '%s' "$page" >"$work/exposition.txt"
    read -r ours_rps ours_p50 ours_p99 ours_err < <(load "http://127.0.0.1:$ours_port/metrics")
    read -r gz_rps gz_p50 gz_p99 gz_err < <(load "http://127.0.0.1:$ours_port/metrics" -H 'Accept-Encoding: gzip')
    ours_rss=$(rss_after_refresh "$qe_interval")
    ours_peak=$(peak_mib "$ours_pid")
    qe_rps=nan qe_p50=nan qe_p99=nan qe_err=0 qe_rss=nan qe_peak=nan
    if [ -n "$qe_pid" ]; then
      read -r qe_rps qe_p50 qe_p99 qe_err < <(load "http://127.0.0.1:$qe_port/metrics")
      qe_rss=$(rss_mib "$qe_pid")
      qe_peak=$(peak_mib "$qe_pid")
      stop "$qe_pid"
    fi
    stop "$ours_pid"

    nginx=$(benches/nginx/serve.sh "$work/exposition.txt" "$nginx_port")
    nginx_pid=$(sed -n 's/^pid=//p' <<<"$nginx")
    read -r ng_rps ng_p50 ng_p99 ng_err < <(load "http://127.0.0.1:$nginx_port/metrics")
    read -r ngz_rps ngz_p50 ngz_p99 ngz_err < <(load "http://127.0.0.1:$nginx_port/metrics" -H 'Accept-Encoding: gzip')
    benches/nginx/serve.sh --stop "$nginx_pid" >/dev/null

    bytes=$(wc -c <"$work/exposition.txt")
    record "scale=$scale backend=$backend samples=$samples qe_samples=$qe_samples bytes=$bytes ours_s=$ours ours_queries_s=$ours_queries floor_s=$bare qe_s=$qe_refresh ours_rps=$ours_rps ours_p50_ms=$ours_p50 ours_p99_ms=$ours_p99 ours_errors=$ours_err gzip_rps=$gz_rps gzip_p50_ms=$gz_p50 gzip_p99_ms=$gz_p99 gzip_errors=$gz_err qe_rps=$qe_rps qe_p50_ms=$qe_p50 qe_p99_ms=$qe_p99 qe_errors=$qe_err nginx_rps=$ng_rps nginx_p50_ms=$ng_p50 nginx_p99_ms=$ng_p99 nginx_gzip_rps=$ngz_rps ours_rss_mib=$ours_rss qe_rss_mib=$qe_rss ours_peak_mib=$ours_peak qe_peak_mib=$qe_peak interval_under_load_s=$qe_interval"
    refresh_rows+=("$(awk -v s="$(label "$scale")" -v b="$backend" -v o="$ours" -v o1="$ours_queries" -v f="$bare" -v q="$qe_refresh" \
      'BEGIN { qs = "n/a"; qo = "n/a"; if (q != "nan") { qs = sprintf("%.3f", q); qo = sprintf("%.1f", q / o) }
        printf "| %s | %s | %.3f | %.3f | %.3f | %.2f | %.2f | %s | %s |", s, b, o, o1, f, o / f, o1 / f, qs, qo }')")
    serve_rows+=("$(awk -v s="$(label "$scale")" -v b="$backend" -v n="$samples" -v qn="$qe_samples" -v kb="$bytes" \
      -v r="$ours_rps" -v p="$ours_p50/$ours_p99" -v gr="$gz_rps" -v gp="$gz_p50/$gz_p99" -v qr="$qe_rps" -v qp="$qe_p50/$qe_p99" -v qe_err="$qe_err" \
      -v nr="$ng_rps" -v ngr="$ngz_rps" -v m="$ours_rss" -v qm="$qe_rss" -v pk="$ours_peak" -v qpk="$qe_peak" \
      'BEGIN { qe = "n/a"; ratio = "n/a"; qmem = "n/a"; qpeak = "n/a"; qsamples = "n/a"
        if (qr != "nan") { qe = sprintf("%.2f (%s, %d err)", qr, qp, qe_err); qmem = sprintf("%.1f", qm); qpeak = sprintf("%.1f", qpk); qsamples = qn; if (qr + 0 > 0) ratio = sprintf("%.0fx", r / qr) }
        printf "| %s | %s | %d / %s | %.0f | %.0f (%s) | %.0f (%s) | %s | %.0f | %.0f | %s | %.2f | %.2f | %.1f / %s | %.1f / %s |", s, b, n, qsamples, kb / 1024, r, p, gr, gp, qe, nr, ngr, ratio, r / nr, gr / ngr, m, qmem, pk, qpeak }')")
  done
done

if [ -n "$history_scale" ]; then
  for backend in $backends; do
    declare -A history=()
    for factor in 1 10; do
      name="$(label "$history_scale")-h$factor"
      BACKENDS="$backend" benches/load-data.sh "$history_scale" "$factor" >&2
      echo "== $name $backend (history)" >&2
      our_config "$backend" "$name" 2 >"$work/ours.toml"
      start_ours "$work/ours.toml"
      history[ours$factor]=$(our_refreshes | median 1)
      stop "$ours_pid"
      history[floor$factor]=$(floor "$backend" "$name" "$work/ours.toml")
      case $backend in
        sqlite) history[rows$factor]=$(sqlite3 "$data/$name/sales.sqlite" 'SELECT COUNT(*) FROM opportunities') ;;
        postgres) history[rows$factor]=$(psql -X -qtA -h 127.0.0.1 -U postgres -d "sales_bench_$name" -c 'SELECT COUNT(*) FROM opportunities') ;;
      esac
      record "history scale=$history_scale factor=$factor backend=$backend rows=${history[rows$factor]} ours_s=${history[ours$factor]} floor_s=${history[floor$factor]}"
    done
    history_rows+=("$(awk -v s="$(label "$history_scale")" -v b="$backend" -v r1="${history[rows1]}" -v r10="${history[rows10]}" \
      -v o1="${history[ours1]}" -v o10="${history[ours10]}" -v f1="${history[floor1]}" -v f10="${history[floor10]}" \
      'BEGIN { printf "| %s | %s | %d | %d | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f |", s, b, r1, r10, o1, o10, o10 / o1, f1, f10, f10 / f1 }')")
    unset history
  done
fi

echo
echo "Refresh: seconds, median of $runs. ours: the whole refresh, queries side by side on 2 connections;"
echo "ours' queries: their times added up; bare SQL: the same statements one after another in sqlite3/psql"
echo
echo "| scale | backend | ours | ours' queries | bare SQL | ours / bare | queries / bare | query-exporter | qe / ours |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${refresh_rows[@]}"
echo
echo "/metrics: wrk -c$connections -d$wrk_duration on loopback; req/s (p50/p99 ms); RSS: ours just after a refresh, query-exporter after its run; peak: the most resident since start"
echo
echo "| scale | backend | samples ours / qe | KiB | ours req/s | ours gzip req/s | query-exporter req/s | nginx req/s | nginx gzip req/s | ours / qe | ours / nginx | gzip / nginx gzip | RSS MiB ours / qe | peak MiB ours / qe |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${serve_rows[@]}"
if [ "${#history_rows[@]}" -gt 0 ]; then
  echo
  echo "History: the same recent data with 1x and 10x old history; refresh seconds, median of $runs"
  echo
  echo "| scale | backend | rows 1x | rows 10x | ours 1x | ours 10x | ratio | bare 1x | bare 10x | ratio |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${history_rows[@]}"
fi
echo
echo "raw figures appended to $results"
