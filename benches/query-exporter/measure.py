"""Measures query-exporter on the sales indicators: median refresh time, samples served and
resident memory. Run inside the venv that setup.sh makes; measure.sh does that.

A refresh is one run of every query in the configuration. query-exporter schedules each
query as its own job, all on the same interval and started together; with the default
connection pool of one connection they run one after another, with --pool-size N up to N
at once. A refresh's time is from the first query's start to the last query's metrics
being updated, as recorded by timed_query_exporter.py. The first refresh (connecting,
creating every series) is a warm-up and is not counted.

Without --interval, a calibration run times one refresh first and the interval is set to
three times that plus a second (at least 2 s), so refreshes do not overlap: query-exporter
starts the next one on time whether the last one has finished or not.
"""

import argparse
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


class _TagLoader(yaml.SafeLoader):
    """Reads the configuration without resolving its !env tags."""


_TagLoader.add_constructor("!env", lambda loader, node: loader.construct_scalar(node))


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def sqlalchemy_url(backend: str, dsn: str) -> str:
    """A SQLAlchemy URL from a file path, sqlite: URL or postgres(ql):// URL."""
    if backend == "sqlite":
        if dsn.startswith("sqlite:"):
            return dsn
        path = Path(dsn)
        if not path.is_file():
            fail(f"SQLite file {dsn} does not exist")
        # Read-only, as sales_exporter opens it.
        return f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
    if dsn.startswith("postgres://"):
        return "postgresql://" + dsn[len("postgres://"):]
    if not dsn.startswith("postgresql"):
        fail(f"not a PostgreSQL URL: {dsn}")
    return dsn


class Exporter:
    """One query-exporter process with its timings file and log."""

    def __init__(self, args, url: str, interval: int, workdir: Path, detach: bool):
        self.timings = workdir / "timings.jsonl"
        self.log = workdir / "query-exporter.log"
        self.timings.write_text("")
        env = dict(os.environ, SALES_DSN=url, SALES_QUERY_INTERVAL=str(interval),
                   QE_TIMINGS=str(self.timings))
        config = args.config
        if args.pool_size != 1:
            # query-exporter runs as many queries at once as its pool has connections.
            config = workdir / f"pool-{args.pool_size}-{args.config.name}"
            text = args.config.read_text()
            dsn_line = "    dsn: !env SALES_DSN\n"
            if dsn_line not in text:
                fail(f"{args.config} has no line '{dsn_line.strip()}' to add a pool size to")
            config.write_text(text.replace(
                dsn_line, f"{dsn_line}    connection-pool:\n      size: {args.pool_size}\n"))
        command = [sys.executable, str(HERE / "timed_query_exporter.py"),
                   "--config", str(config), "--host", "127.0.0.1",
                   "--port", str(args.port), "--log-level", "warning"]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=detach)
        self.port = args.port
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                fail(f"query-exporter exited with {self.process.returncode}:\n{self.log.read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        fail(f"query-exporter did not listen on 127.0.0.1:{self.port} within 30 s")

    def records(self):
        queries, calls = [], []
        for line in self.timings.read_text().splitlines():
            record = json.loads(line)
            (queries if "query" in record else calls).append(record)
        return queries, calls

    def wait_refreshes(self, count: int, names: list[str], timeout: float):
        deadline = time.time() + timeout
        while True:
            if self.process.poll() is not None:
                fail(f"query-exporter exited with {self.process.returncode}:\n{self.log.read_text()}")
            queries, calls = self.records()
            if len(queries) >= count * len(names):
                return refreshes(queries, calls, names)[:count]
            if time.time() > deadline:
                self.stop()
                fail(f"{len(queries)} query runs after {timeout:.0f} s, expected "
                     f"{count * len(names)}; log:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode()

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def refreshes(queries, calls, names):
    """Groups query runs into refreshes of one run of each query; each refresh is
    (wall seconds, seconds spent in database calls)."""
    queries = sorted(queries, key=lambda r: r["start"])
    result = []
    for i in range(0, len(queries) - len(names) + 1, len(names)):
        group = queries[i:i + len(names)]
        if sorted(r["query"] for r in group) != sorted(names):
            fail("the query runs of two refreshes overlap: a refresh took longer than "
                 "the interval; set a longer one (INTERVAL=seconds)")
        first = min(r["start"] for r in group)
        last = max(r["end"] for r in group)
        in_db = sum(c["db_end"] - c["db_start"] for c in calls
                    if first <= c["db_start"] and c["db_end"] <= last)
        result.append((last - first, in_db))
    return result


def sample_counts(text: str) -> tuple[int, int]:
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    return len(samples), sum(1 for line in samples if line.startswith("sales_"))


def reported_latency(text: str) -> float:
    """query-exporter's own query_latency: mean seconds per query, summed over queries."""
    sums, counts = {}, {}
    for line in text.splitlines():
        for suffix, into in (("query_latency_sum{", sums), ("query_latency_count{", counts)):
            if line.startswith(suffix):
                labels, value = line.rsplit(" ", 1)
                into[labels[len(suffix):]] = float(value)
    return sum(sums[k] / counts[k] for k in sums if counts.get(k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--dsn", required=True, help="SQLite file or URL, PostgreSQL URL")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--interval", type=int, help="seconds between refreshes (default: calibrated)")
    parser.add_argument("--config", type=Path, help="default: <backend>.yaml beside this script")
    parser.add_argument("--keep", action="store_true", help="leave query-exporter running; prints pid=")
    parser.add_argument("--workdir", type=Path, help="for the log and timings (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=1800, help="longest wait for one refresh, seconds")
    parser.add_argument("--pool-size", type=int, default=1,
                        help="database connections, so queries run at once (default 1, query-exporter's)")
    args = parser.parse_args()
    if args.runs < 1:
        fail("--runs must be at least 1")
    if not 1 <= args.pool_size <= 100:
        fail("--pool-size must be from 1 to 100")
    args.config = args.config or HERE / f"{args.backend}.yaml"
    url = sqlalchemy_url(args.backend, args.dsn)
    names = list(yaml.load(args.config.read_text(), _TagLoader)["queries"])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="query-exporter-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", args.port)) == 0:
            fail(f"port {args.port} is already in use")

    interval = args.interval
    if interval is None:
        calibration = Exporter(args, url, 86400, workdir, detach=False)
        try:
            [(first, _)] = calibration.wait_refreshes(1, names, args.timeout)
        finally:
            calibration.stop()
        interval = max(2, math.ceil(3 * first + 1))

    exporter = Exporter(args, url, interval, workdir, detach=args.keep)
    try:
        timed = exporter.wait_refreshes(args.runs + 1, names, args.timeout + (args.runs + 2) * interval)[1:]
        text = exporter.metrics()
        rss = exporter.rss_kb()
    except BaseException:
        exporter.stop()
        raise
    walls = [wall for wall, _ in timed]
    in_db = [db for _, db in timed]
    samples, indicator_samples = sample_counts(text)
    out = {
        "query_exporter_version": metadata.version("query-exporter"),
        "backend": args.backend,
        "queries": len(names),
        "interval_s": interval,
        "pool_size": args.pool_size,
        "runs": len(walls),
        "refresh_median_s": f"{statistics.median(walls):.4f}",
        "refresh_min_s": f"{min(walls):.4f}",
        "refresh_max_s": f"{max(walls):.4f}",
        "db_median_s": f"{statistics.median(in_db):.4f}",
        "reported_query_latency_s": f"{reported_latency(text):.4f}",
        "samples": samples,
        "indicator_samples": indicator_samples,
        "exposition_bytes": len(text.encode()),
        "rss_kb": rss,
        "log": exporter.log,
    }
    if args.keep:
        out["pid"] = exporter.process.pid
        out["url"] = f"http://127.0.0.1:{args.port}/metrics"
    else:
        exporter.stop()
    for key, value in out.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
