#!/usr/bin/env bash
# Serves a saved exposition with nginx, as the upper bound of what serving the same bytes
# can cost: FILE at http://127.0.0.1:PORT/metrics with sales_exporter's content type,
# its gzip form (pre-compressed once, gzip_static) to clients sending Accept-Encoding: gzip,
# keep-alive on, two worker processes (one per core), no access log.
#
#   benches/nginx/serve.sh FILE PORT     # starts nginx, prints pid=, dir=, url=
#   benches/nginx/serve.sh --stop PID    # stops it and removes its folder
#
# Everything (config, copy of FILE and FILE.gz, pid file, error log, temp paths) lives
# in a fresh temporary folder; nothing outside it is written. Run as root, nginx is
# started as the user nobody. Environment: NGINX (default /usr/sbin/nginx), GZIP_LEVEL
# (default 1, the level sales_exporter compresses with), WORKERS (default 2).
set -euo pipefail

nginx=${NGINX:-/usr/sbin/nginx}

stop() {
  local pid=$1 command prefix
  [[ "$pid" =~ ^[0-9]+$ ]] || { echo "error: --stop needs the PID that serve.sh printed" >&2; exit 2; }
  [ -r "/proc/$pid/cmdline" ] || { echo "error: no process $pid" >&2; exit 1; }
  # nginx rewrites its master's command line to
  # "nginx: master process NGINX -p DIR/ -c DIR/nginx.conf -e DIR/error.log".
  command=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  prefix=$(sed -n 's/.* -p \([^ ]*\) .*/\1/p' <<<"$command")
  case "$command" in
    "nginx: master process "*" -c ${prefix}nginx.conf "*) ;;
    *) echo "error: process $pid is not an nginx master started by serve.sh" >&2; exit 1 ;;
  esac
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    [ -e "/proc/$pid" ] || break
    sleep 0.05
  done
  [ -e "/proc/$pid" ] && { echo "error: nginx $pid did not stop" >&2; exit 1; }
  [ -n "$prefix" ] && [ -f "${prefix}nginx.conf" ] && rm -rf "$prefix"
  echo "stopped nginx $pid"
}

if [ "${1:-}" = "--stop" ]; then
  [ $# -eq 2 ] || { echo "usage: $0 --stop PID" >&2; exit 2; }
  stop "$2"
  exit 0
fi
[ $# -eq 2 ] || { sed -n '7,8p' "$0" | sed 's/^# *//' >&2; exit 2; }
file=$1
port=$2
[ -f "$file" ] || { echo "error: $file is not a file" >&2; exit 1; }
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65535 ] \
  || { echo "error: PORT must be a number from 1024 to 65535, not '$port'" >&2; exit 2; }
[ -x "$nginx" ] || { echo "error: $nginx not found (Debian: apt-get install nginx-light)" >&2; exit 1; }
command -v gzip >/dev/null || { echo "error: gzip is missing" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "error: port $port is already in use" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/nginx-metrics.XXXXXX")
trap 'rm -rf "$dir"' ERR
mkdir -p "$dir/html" "$dir/temp"
cp "$file" "$dir/html/metrics"
gzip -c "-${GZIP_LEVEL:-1}" "$file" >"$dir/html/metrics.gz"
# gzip_static compares nothing but the names; equal times keep the pair obviously matched.
touch -r "$dir/html/metrics" "$dir/html/metrics.gz"

cat >"$dir/nginx.conf" <<EOF
worker_processes ${WORKERS:-2};
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    server_tokens off;
    server {
        listen 127.0.0.1:$port;
        root $dir/html;
        location = /metrics {
            types { }
            default_type "text/plain; version=0.0.4; charset=utf-8";
            gzip_static on;
            gzip_vary on;
        }
        location / {
            return 404;
        }
    }
}
EOF

run=("$nginx" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log")
if [ "$(id -u)" = 0 ]; then
  # Unprivileged all the way: the master too runs as nobody.
  chown -R nobody "$dir"
  run=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "${run[@]}")
fi
"${run[@]}" -t -q || { cat "$dir/error.log" >&2 2>/dev/null; exit 1; }
"${run[@]}"

for _ in $(seq 1 100); do
  [ -s "$dir/nginx.pid" ] && break
  sleep 0.05
done
[ -s "$dir/nginx.pid" ] || { echo "error: nginx wrote no pid file; $dir/error.log:" >&2; cat "$dir/error.log" >&2; exit 1; }
pid=$(cat "$dir/nginx.pid")
trap - ERR
echo "pid=$pid"
echo "dir=$dir"
echo "url=http://127.0.0.1:$port/metrics"
