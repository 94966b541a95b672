#!/usr/bin/env bash
# Installs query-exporter, pinned with every dependency in requirements.txt beside this
# script, into a Python virtual environment, with the PostgreSQL driver that SQLAlchemy
# 2.1 uses for postgresql:// URLs (psycopg 3, binary build); SQLite needs nothing beyond
# Python's own sqlite3.
#
#   benches/query-exporter/setup.sh                  # venv at target/bench-venv
#   BENCH_VENV=/opt/qe PYTHON=python3.12 benches/query-exporter/setup.sh
#
# Idempotent: a venv already holding exactly these pins is left as it is; any other venv
# at that path is emptied and filled again. Needs Python 3.11 or newer with its venv
# module (Debian: python3-venv) and access to PyPI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

venv=${BENCH_VENV:-target/bench-venv}
python=${PYTHON:-python3}
requirements="$here/requirements.txt"
pinned=$(awk -F'==' '$1 == "query-exporter" {print $2}' "$requirements")
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ -x "$venv/bin/query-exporter" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && "$venv/bin/python" -c 'import psycopg, sqlite3' 2>/dev/null; then
  echo "query-exporter $pinned already installed in $venv"
  exit 0
fi

command -v "$python" >/dev/null || { echo "error: $python not found; set PYTHON" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "error: query-exporter $pinned needs Python 3.11 or newer; $python is $("$python" -V 2>&1)" >&2
  exit 1
}
# A venv holding other pins is emptied first, so that it holds exactly these.
"$python" -m venv --clear "$venv" || {
  echo "error: could not create a venv at $venv (Debian: apt-get install python3-venv)" >&2
  exit 1
}
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  -r "$requirements"
"$venv/bin/python" -c 'import psycopg, sqlite3' || {
  echo "error: the database drivers do not import in $venv" >&2
  exit 1
}
echo "$want" >"$stamp"
echo "installed $("$venv/bin/query-exporter" --version 2>&1 | tail -1) in $venv"
