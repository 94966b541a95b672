//! Database outages against the real binary: starting with no database (SQLite file absent,
//! PostgreSQL unreachable), retrying on a capped backoff and logging an error once, and
//! PostgreSQL dying mid-run behind a TCP proxy the test stops and restarts on one port.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{free_port, Server};
use common::{demo_database, example_config_for, key, write_config, SeriesKey};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Set to 1 to run the PostgreSQL test; CI sets it (and a missing server is then a failure).
const TEST_DATABASES: &str = "SALES_EXPORTER_TEST_DATABASES";

/// The shared test server; the test only creates and drops a schema of its own.
const POSTGRES: &str = "127.0.0.1:5432";

fn failures() -> SeriesKey {
    key("sales_exporter_refreshes_total", &[("result", "failure")])
}

fn success() -> SeriesKey {
    key("sales_exporter_refresh_success", &[])
}

fn last_success() -> SeriesKey {
    key("sales_exporter_last_refresh_success_timestamp_seconds", &[])
}

/// The example config on `database`, refreshed every `interval_secs`.
fn config_text(database: &Path, interval_secs: u64) -> String {
    let interval = format!("interval_secs = {interval_secs}");
    example_config_for(database).replacen("interval_secs = 60", &interval, 1)
}

/// With the SQLite file absent and an hour between refreshes, the exporter serves its
/// self-metrics and 503 on readiness, retries within seconds, and is ready soon after
/// the file appears.
#[test]
fn starts_without_the_database_and_retries_within_seconds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("sales.sqlite");
    let config = write_config(dir.path(), "sales.toml", &config_text(&database, 3600));
    let server = Server::with_config(dir.path(), &config);

    let samples = server.wait_samples("two failed attempts", |s| s[&failures()] >= 2.0);
    assert_eq!(samples[&success()], 0.0);
    assert!(samples.contains_key(&key(
        "sales_exporter_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    )));
    assert_eq!(server.get("/-/ready").status, 503);
    let log = server.wait_log("failures=2");
    assert!(
        log.contains("WARN") && log.contains("Refresh failed"),
        "{log}"
    );

    let demo = tempfile::tempdir().expect("temp dir");
    std::fs::copy(demo_database(demo.path()), &database).expect("put the database in place");
    server.wait_status("/-/ready", 200);
    let samples = server.samples();
    assert_eq!(samples[&success()], 1.0);
    assert!(samples
        .keys()
        .any(|(name, _)| name == "sales_company_revenue"));
    server.wait_log("First refresh succeeded");
}

/// Failures go on being retried at most an interval apart, each logged at WARN, and the
/// ERROR that asks an operator to act is logged once, not per failure.
#[test]
fn repeated_failures_log_one_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("absent.sqlite");
    let config = write_config(dir.path(), "sales.toml", &config_text(&database, 2));
    let server = Server::with_config(dir.path(), &config);

    server.wait_samples("seven failed attempts", |s| s[&failures()] >= 7.0);
    let log = server.log();
    let warnings = log.lines().filter(|l| l.contains(" WARN ")).count();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(warnings >= 7, "{log}");
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains("Refreshes keep failing"), "{log}");
    assert!(errors[0].contains("failures=5"), "{log}");
}

/// A TCP proxy to PostgreSQL on a fixed local port; stopping it drops every connection
/// through it and refuses new ones, like a database going away.
struct Proxy {
    runtime: tokio::runtime::Runtime,
    port: u16,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    fn new() -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        Proxy {
            runtime,
            port: port_outside_ephemeral_range(),
            task: None,
        }
    }

    fn start(&mut self) {
        let address = format!("127.0.0.1:{}", self.port);
        let listener = (self.runtime)
            .block_on(TcpListener::bind(&address))
            .expect("the proxy binds its port again");
        self.task = Some(self.runtime.spawn(async move {
            // Dropped with the task, so stopping aborts every forwarded connection.
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(POSTGRES).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        }));
    }

    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = self.runtime.block_on(task);
        }
    }
}

/// A free port below the kernel's ephemeral range, so that while the proxy is stopped no
/// outgoing connection (of this test or another running beside it) can be given its number
/// and keep the proxy from binding it again.
fn port_outside_ephemeral_range() -> u16 {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let ephemeral_start: u16 = range
        .split_whitespace()
        .next()
        .and_then(|start| start.parse().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral_start / 2);
    let span = ephemeral_start - low;
    // Tests of this binary run side by side in one process: each call starts elsewhere.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let offset = ((std::process::id() + call * 97) % u32::from(span)) as u16;
    (0..span)
        .map(|step| low + (offset + step) % span)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free local port below the ephemeral range")
}

/// Runs `sql` on the shared PostgreSQL test database.
fn postgres(sql: &str) {
    use sqlx::Connection;
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let url = format!("postgres://postgres@{POSTGRES}/test");
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (see README) answers");
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .expect("setup SQL runs");
        let _ = conn.close().await;
    });
}

/// Drops the test's schema when the test ends, passed or not.
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        postgres(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}

/// A PostgreSQL schema of a few opportunities behind a stopped proxy, and a config (in
/// `dir`) that reads it through the proxy every `interval_secs`; `None` unless enabled.
fn postgres_behind_proxy(dir: &Path, interval_secs: u64) -> Option<(Schema, Proxy, String)> {
    if std::env::var(TEST_DATABASES).as_deref() != Ok("1") {
        println!("skipping: set {TEST_DATABASES}=1 to run the PostgreSQL outage tests");
        return None;
    }
    let schema = Schema(format!("ops_outage_{}_{}", std::process::id(), free_port()));
    postgres(&format!(
        "DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s};
         CREATE TABLE {s}.opportunities (id int, rep text, created_at timestamptz,
           status text, closed_at timestamptz, amount numeric, customer text);
         INSERT INTO {s}.opportunities VALUES
           (1, 'ann', now() - interval '3 days', 'won', now() - interval '1 day', 1200.50, 'acme'),
           (2, 'bob', now() - interval '3 days', 'lost', now() - interval '1 day', 300, 'zeta'),
           (3, 'ann', now() - interval '1 day', 'open', NULL, 80, 'acme');",
        s = schema.0
    ));
    let proxy = Proxy::new();
    let config = format!(
        "[database]\nurl = \"postgres://postgres@127.0.0.1:{port}/test\"\n\
         query_timeout_secs = 2\n[refresh]\ninterval_secs = {interval_secs}\n\
         [opportunities]\ntable = \"{schema}.opportunities\"\n\
         [opportunities.columns]\nid = \"id\"\nrep = \"rep\"\ncreated_at = \"created_at\"\n\
         status = \"status\"\nclosed_at = \"closed_at\"\namount = \"amount\"\n\
         customer = \"customer\"\n\
         [opportunities.status]\nopen = [\"open\"]\nwon = [\"won\"]\nlost = [\"lost\"]\n",
        port = proxy.port,
        schema = schema.0
    );
    let config = write_config(dir, "sales.toml", &config);
    Some((schema, proxy, config))
}

/// PostgreSQL unreachable at start (its proxy not yet up) with an hour between refreshes:
/// not ready, self-metrics served, and ready within seconds of the database coming up.
#[test]
fn postgres_down_at_start_is_retried_until_it_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some((_schema, mut proxy, config)) = postgres_behind_proxy(dir.path(), 3600) else {
        return;
    };
    let server = Server::with_config(dir.path(), &config);
    let samples = server.wait_samples("two failed attempts", |s| s[&failures()] >= 2.0);
    assert_eq!(samples[&success()], 0.0);
    assert_eq!(server.get("/-/ready").status, 503);

    proxy.start();
    server.wait_status("/-/ready", 200);
    let revenue = key(
        "sales_company_revenue",
        &[("period", "30d"), ("window", "current")],
    );
    assert_eq!(server.samples()[&revenue], 1200.5);
}

/// PostgreSQL going away mid-run: the last good indicators keep being served with their
/// success time frozen (so their age shows), errors are counted, readiness holds, and the
/// exporter recovers by itself when the database is back.
#[test]
fn database_dying_mid_run_serves_the_last_snapshot_then_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some((_schema, mut proxy, config)) = postgres_behind_proxy(dir.path(), 1) else {
        return;
    };
    proxy.start();
    let server = Server::with_config(dir.path(), &config);
    server.wait_status("/-/ready", 200);
    let revenue = key(
        "sales_company_revenue",
        &[("period", "30d"), ("window", "current")],
    );
    let good = server.wait_samples("the revenue", |s| s.get(&revenue) == Some(&1200.5));

    proxy.stop();
    let errors = key(
        "sales_exporter_refresh_errors_total",
        &[("relation", "opportunities")],
    );
    let down = server.wait_samples("a failed refresh", |s| s[&success()] == 0.0);
    let down = server.wait_samples("a frozen success time", |s| {
        s[&success()] == 0.0 && s[&last_success()] == down[&last_success()]
    });
    std::thread::sleep(Duration::from_millis(1500));
    let still_down = server.samples();
    assert_eq!(still_down[&success()], 0.0);
    assert!(still_down[&errors] >= 1.0, "errors counted");
    assert_eq!(
        still_down[&revenue], 1200.5,
        "the last good value is served"
    );
    assert_eq!(still_down[&last_success()], down[&last_success()]);
    assert!(still_down[&last_success()] >= good[&last_success()]);
    assert_eq!(server.get("/-/ready").status, 200);
    let landing = server.get("/");
    assert!(landing.body.contains(" s ago)"), "{}", landing.body);
    assert!(
        landing.body.contains("Last refresh failed"),
        "{}",
        landing.body
    );

    proxy.start();
    let back = server.wait_samples("a recovery", |s| {
        s[&success()] == 1.0 && s[&last_success()] > still_down[&last_success()]
    });
    assert_eq!(back[&revenue], 1200.5);
    server.wait_log("Refresh succeeded again");
}
