#!/usr/bin/env bash
# Load run of /metrics (a script, not a test; CI does not run it). Builds the release
# binary, serves the demo data with a 2 s refresh so refreshes run under load, drives
# /metrics from wrk on loopback (plain, then with Accept-Encoding: gzip) and reports
# requests per second, latency percentiles, errors and the exporter's resident memory.
#
#   benches/load.sh                      # 64 connections, 30 s per run
#   CONNECTIONS=16 DURATION=10s benches/load.sh
#
# Needs wrk (Debian: apt-get install wrk) and curl. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

connections=${CONNECTIONS:-64}
duration=${DURATION:-30s}
threads=${THREADS:-2}
port=${PORT:-19745}
url="http://127.0.0.1:${port}/metrics"

for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing; apt-get install $tool" >&2; exit 1; }
done

cargo build --release --quiet
bin="$PWD/target/release/sales_exporter"
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && "$bin" --demo --once >/dev/null)
sed -e "s|^url = .*|url = \"sqlite:${work}/sales_exporter-demo.sqlite\"|" \
    -e "s|^interval_secs = .*|interval_secs = 2|" \
    config.example.toml >"$work/load.toml"
"$bin" --config "$work/load.toml" --web.listen-address "127.0.0.1:${port}" \
  --log-level warn 2>"$work/exporter.log" &
pid=$!

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:${port}/-/ready" >/dev/null && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:${port}/-/ready" >/dev/null || { cat "$work/exporter.log"; exit 1; }

rss() { awk '/^VmRSS/ {print $2 " " $3}' "/proc/${pid}/status"; }
refreshes() {
  curl -fs "$url" | awk '/^sales_exporter_refreshes_total\{result="success"\}/ {print $2}'
}
plain_bytes=$(curl -fs "$url" | wc -c)
gzip_bytes=$(curl -fs -H 'Accept-Encoding: gzip' "$url" | wc -c)

echo "== exporter pid ${pid}, exposition ${plain_bytes} bytes (${gzip_bytes} gzipped), refresh every 2 s"
echo "== RSS before: $(rss); successful refreshes so far: $(refreshes)"
echo
echo "== plain: ${connections} connections, ${threads} threads, ${duration}"
wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url"
echo "== RSS after plain: $(rss); successful refreshes so far: $(refreshes)"
echo
echo "== gzip: ${connections} connections, ${threads} threads, ${duration}"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -H 'Accept-Encoding: gzip' "$url"
echo "== RSS after gzip: $(rss); successful refreshes so far: $(refreshes)"

if grep -qi "panicked" "$work/exporter.log"; then
  echo "error: the exporter panicked:" >&2
  cat "$work/exporter.log" >&2
  exit 1
fi
# Lines cut at 200 characters: sqlx quotes a whole slow statement in its warning.
echo "== exporter log: $(grep -c . "$work/exporter.log") warning or error lines; the first 5:"
head -5 "$work/exporter.log" | cut -c1-200
