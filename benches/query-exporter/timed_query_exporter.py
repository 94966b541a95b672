"""Runs query-exporter as its own `query-exporter` command does, and appends JSON lines to
the file named by QE_TIMINGS:

- {"query", "start", "end"} per query run: from the moment the scheduler started it to
  the moment its metrics were updated (waiting for the database connection included);
- {"db_start", "db_end"} per database call: transaction, execute and fetch of all rows.

query-exporter's own `query_latency` histogram times only the cursor's execute; SQLite
computes part of a result while its rows are fetched, so that figure misses some of the
work. Nothing else changes: the two wrappers only read the clock.
"""

import json
import os
import threading
import time

from query_exporter import db, executor
from query_exporter.main import script

_out = open(os.environ["QE_TIMINGS"], "a", buffering=1)
_lock = threading.Lock()
_execute_query = executor.QueryExecutor._execute_query
_execute_sync = db.Database._execute_sync


def _record(**fields):
    with _lock:
        _out.write(json.dumps(fields) + "\n")


async def _timed_execute_query(self, query_execution, dbname):
    start = time.time()
    try:
        await _execute_query(self, query_execution, dbname)
    finally:
        _record(query=query_execution.name, start=start, end=time.time())


def _timed_execute_sync(self, sql, parameters):
    start = time.time()
    try:
        return _execute_sync(self, sql, parameters)
    finally:
        _record(db_start=start, db_end=time.time())


executor.QueryExecutor._execute_query = _timed_execute_query
db.Database._execute_sync = _timed_execute_sync

if __name__ == "__main__":
    script()
