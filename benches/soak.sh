#!/usr/bin/env bash
# Memory over time (a script, not a test): serves the demo data with a 1 s refresh, scrapes
# /metrics (plain and gzip) twice a second, and samples the exporter's resident memory every
# 10 s. Prints the samples, then the first and last ten minutes' medians and the maximum.
#
#   benches/soak.sh                # one hour
#   DURATION=600 benches/soak.sh   # ten minutes
#
# Needs curl; builds the release binary first. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-3600}
port=${PORT:-19746}
url="http://127.0.0.1:${port}/metrics"

cargo build --release --quiet
bin="$PWD/target/release/sales_exporter"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && "$bin" --demo --once >/dev/null)
sed -e "s|^url = .*|url = \"sqlite:${work}/sales_exporter-demo.sqlite\"|" \
    -e "s|^interval_secs = .*|interval_secs = 1|" \
    config.example.toml >"$work/soak.toml"
"$bin" --config "$work/soak.toml" --web.listen-address "127.0.0.1:${port}" \
  --log-level warn 2>"$work/exporter.log" &
exporter=$!
pids+=("$exporter")
for _ in $(seq 50); do curl -sf -o /dev/null "$url" && break; sleep 0.2; done

( while true; do
    curl -s -o /dev/null "$url"
    curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$url"
    sleep 0.5
  done ) &
pids+=("$!")

samples="$work/rss"
start=$(date +%s)
echo "seconds rss_kib refreshes"
while [ $(( $(date +%s) - start )) -lt "$duration" ]; do
  kill -0 "$exporter" 2>/dev/null || { echo "error: the exporter exited; its log:" >&2; cat "$work/exporter.log" >&2; exit 1; }
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$exporter/status")
  refreshes=$(curl -s "$url" | awk '/^sales_exporter_refreshes_total\{result="success"\}/ {print $2}')
  elapsed=$(( $(date +%s) - start ))
  echo "$elapsed $rss $refreshes" | tee -a "$samples"
  sleep 10
done

awk -v d="$duration" '
  { t[NR] = $1; r[NR] = $2; if ($2 > max) max = $2 }
  END {
    window = (d >= 1800) ? 600 : d / 5
    n1 = 0; n2 = 0
    for (i = 1; i <= NR; i++) {
      if (t[i] < window) first[++n1] = r[i]
      if (t[i] >= t[NR] - window) last[++n2] = r[i]
    }
    asort(first); asort(last)
    printf "first %d s median %d KiB; last %d s median %d KiB; max %d KiB; %d samples\n",
      window, first[int((n1 + 1) / 2)], window, last[int((n2 + 1) / 2)], max, NR
  }' "$samples"
grep -c ERROR "$work/exporter.log" | sed 's/^/errors logged: /' || true
