//! The exporter on SQLite, PostgreSQL and MariaDB with the same data: the awkward fixture
//! and the CRM dataset give the same series everywhere, and server sessions are read-only
//! and cancel slow queries. The server tests need `SALES_EXPORTER_TEST_DATABASES=1`.

mod common;

#[path = "fixtures/awkward/fixture.rs"]
mod awkward;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};

use awkward::{Backend, Storage};
use common::db::{enabled, Server, TestDatabase};
use common::{close, parse_exposition, run_exporter, SeriesKey};
use sales_exporter::config::Config;
use sales_exporter::refresh::{Clock, RefreshError, Refresher};
use sales_exporter::source::{SalesSource, SourceError};

/// Self-metrics that differ from run to run whatever the backend.
const VOLATILE: [&str; 2] = [
    "sales_exporter_refresh_duration_seconds",
    "sales_exporter_last_refresh_success_timestamp_seconds",
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/awkward")
}

/// Writes the awkward fixture into a new SQLite file and returns its URL.
async fn awkward_sqlite(dir: &Path) -> String {
    let path = dir.join("awkward.sqlite");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("open");
    for statement in awkward::statements(Backend::Sqlite) {
        conn.execute(statement.as_str()).await.expect("fixture");
    }
    conn.close().await.expect("close");
    format!("sqlite:{}", path.display())
}

/// Creates a database on `server` holding the awkward fixture.
async fn awkward_server(server: Server) -> TestDatabase {
    let db = TestDatabase::create(server, "awkward").await;
    let backend = match server {
        Server::Postgres => Backend::Postgres,
        Server::MySql => Backend::MySql,
    };
    db.execute_all(&awkward::statements(backend)).await;
    db
}

/// Runs the binary once on `config` and returns its samples, without the volatile ones.
fn export(dir: &Path, name: &str, config: &str) -> BTreeMap<SeriesKey, f64> {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).expect("write config");
    let output = run_exporter(
        dir,
        &[
            "--config",
            path.to_str().expect("utf-8 path"),
            "--once",
            "--as-of",
            awkward::AS_OF,
        ],
    );
    assert!(
        output.status.success(),
        "{name}: exporter failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut samples = parse_exposition(&String::from_utf8(output.stdout).expect("utf-8"));
    samples.retain(|(metric, _), _| !VOLATILE.contains(&metric.as_str()));
    samples
}

/// The hand-worked rows of `expected.tsv` for `storage`: series and value (`None` when
/// the series must be absent).
fn hand_worked(storage: &str) -> Vec<(SeriesKey, Option<f64>)> {
    let text = std::fs::read_to_string(fixture_dir().join("expected.tsv")).expect("expected");
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert!(fields.len() >= 4, "bad expected line: {line}");
        if fields[0] != storage {
            continue;
        }
        let labels = match fields[2] {
            "-" => BTreeMap::new(),
            labels => labels
                .split(',')
                .map(|pair| pair.split_once('=').expect("label=value"))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        };
        let value = match fields[3] {
            "absent" => None,
            value => Some(value.parse().expect("expected value")),
        };
        rows.push(((fields[1].to_owned(), labels), value));
    }
    assert!(rows.len() > 10, "expected.tsv has rows for {storage}");
    rows
}

fn assert_hand_worked(what: &str, storage: &str, samples: &BTreeMap<SeriesKey, f64>) {
    let mut wrong = Vec::new();
    for (series, want) in hand_worked(storage) {
        let got = samples.get(&series).copied();
        let right = match (want, got) {
            (Some(want), Some(got)) => close(got, want),
            (None, None) => true,
            _ => false,
        };
        if !right {
            wrong.push(format!("{series:?}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{what}: {wrong:#?}");
}

fn assert_same(what: &str, left: &BTreeMap<SeriesKey, f64>, right: &BTreeMap<SeriesKey, f64>) {
    let differ: Vec<String> = left
        .keys()
        .chain(right.keys())
        .filter(|k| left.get(*k) != right.get(*k))
        .map(|k| format!("{k:?}: {:?} vs {:?}", left.get(k), right.get(k)))
        .collect();
    assert!(
        differ.is_empty(),
        "{what}: {} differences: {differ:#?}",
        differ.len()
    );
}

/// On SQLite the awkward fixture gives the hand-worked values, and text, timestamptz and
/// unix-seconds columns give exactly what naive timestamps give.
#[tokio::test]
async fn awkward_fixture_on_sqlite_gives_the_hand_worked_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = awkward_sqlite(dir.path()).await;
    let reference = export(
        dir.path(),
        "ts",
        &awkward::config(&url, Storage::Timestamp, None),
    );
    assert_hand_worked("sqlite timestamp", "timestamp", &reference);
    for storage in [Storage::Text, Storage::TimestampTz, Storage::Unix] {
        let samples = export(dir.path(), "other", &awkward::config(&url, storage, None));
        assert_same(&format!("sqlite {storage:?}"), &reference, &samples);
    }
    let dates = export(
        dir.path(),
        "date",
        &awkward::config(&url, Storage::Date, None),
    );
    assert_hand_worked("sqlite date", "date", &dates);
}

/// SQLite, PostgreSQL and MariaDB export exactly the same series and values from the
/// awkward fixture, for every time type, and those are the hand-worked ones.
#[tokio::test]
async fn awkward_fixture_is_identical_on_every_backend() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = awkward_sqlite(dir.path()).await;
    let postgres = awkward_server(Server::Postgres).await;
    let mysql = awkward_server(Server::MySql).await;
    for storage in Storage::ALL {
        let reference = export(
            dir.path(),
            "sqlite",
            &awkward::config(&sqlite, storage, None),
        );
        for db in [&postgres, &mysql] {
            let samples = export(
                dir.path(),
                "server",
                &awkward::config(&db.url, storage, None),
            );
            assert_same(
                &format!("{:?} {storage:?}", db.server),
                &reference,
                &samples,
            );
        }
        match storage {
            Storage::Timestamp => assert_hand_worked("all", "timestamp", &reference),
            Storage::Date => assert_hand_worked("all", "date", &reference),
            _ => {}
        }
    }
}

/// The CRM dataset loaded into PostgreSQL and MariaDB with DATE columns matches the
/// independent oracle, as it does on SQLite.
#[tokio::test]
async fn crm_dataset_matches_the_oracle_on_postgres_and_mariadb() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/crm/crm.toml"),
    )
    .expect("crm.toml");
    assert!(template.contains("url = \"sqlite:crm.sqlite\""));
    for server in Server::ALL {
        let db = TestDatabase::create(server, "crm").await;
        db.execute_all(&crm_statements()).await;
        assert_eq!(db.scalar("SELECT COUNT(*) FROM sales_pipeline").await, 8800);
        let config = template.replace("sqlite:crm.sqlite", &db.url);
        let path = dir.path().join("crm.toml");
        std::fs::write(&path, config).expect("write config");
        let output = run_exporter(
            dir.path(),
            &[
                "--config",
                path.to_str().expect("utf-8"),
                "--once",
                "--as-of",
                common::crm::AS_OF,
            ],
        );
        assert!(
            output.status.success(),
            "{server:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        common::crm::check_against_oracle(&String::from_utf8(output.stdout).expect("utf-8"));
    }
}

/// The CRM CSV files as portable SQL: DATE columns, indexes on both dates, and multi-row
/// inserts; empty fields become NULL.
fn crm_statements() -> Vec<String> {
    let fixtures = common::crm::fixtures();
    let mut sql = vec![
        "CREATE TABLE sales_pipeline (opportunity_id VARCHAR(16) PRIMARY KEY, \
         sales_agent VARCHAR(64), product VARCHAR(64), account VARCHAR(64), \
         deal_stage VARCHAR(16), engage_date DATE, close_date DATE, close_value BIGINT)"
            .to_owned(),
        "CREATE TABLE sales_teams (sales_agent VARCHAR(64) PRIMARY KEY, manager VARCHAR(64), \
         regional_office VARCHAR(64))"
            .to_owned(),
        "CREATE INDEX sales_pipeline_engage_date ON sales_pipeline (engage_date)".to_owned(),
        "CREATE INDEX sales_pipeline_close_date ON sales_pipeline (close_date)".to_owned(),
    ];
    for (file, table) in [
        ("sales_pipeline.csv", "sales_pipeline"),
        ("sales_teams.csv", "sales_teams"),
    ] {
        let mut reader = csv::Reader::from_path(fixtures.join(file)).expect("csv");
        let rows: Vec<String> = reader
            .records()
            .map(|record| {
                let record = record.expect("csv row");
                let values: Vec<String> = record
                    .iter()
                    .map(|field| match field {
                        "" => "NULL".to_owned(),
                        field => format!("'{}'", field.replace('\'', "''")),
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        for chunk in rows.chunks(500) {
            sql.push(format!("INSERT INTO {table} VALUES {}", chunk.join(", ")));
        }
    }
    sql
}

/// A library config for the awkward fixture on `db` with a mapped opportunities query.
fn library_config(db: &TestDatabase, query: &str) -> Arc<Config> {
    let text = awkward::config(&db.url, Storage::Timestamp, Some(query));
    Arc::new(Config::from_toml(&text, Path::new("backends-test.toml")).expect("valid config"))
}

fn exposition_lines(refresher: &Refresher) -> (Vec<String>, Vec<String>) {
    let published = refresher.published();
    let published = published.read().expect("lock");
    let text = String::from_utf8(published.exposition.to_vec()).expect("utf-8");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .partition(|l| !l.starts_with("sales_exporter_"))
}

/// Statements still running in `db` that sleep, seen from another session.
async fn sleeping_statements(db: &TestDatabase) -> i64 {
    let sql = match db.server {
        Server::Postgres => format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{}' \
             AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
            db.name
        ),
        Server::MySql => format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{}' \
             AND INFO LIKE '%SLEEP(%' AND ID <> CONNECTION_ID()",
            db.name
        ),
    };
    db.scalar(&sql).await
}

/// A query past the 1 s timeout is cancelled on the server, the refresh fails with the
/// timeout error, and the last good snapshot keeps being served.
#[tokio::test]
async fn slow_query_is_cancelled_on_the_server_and_the_last_snapshot_is_kept() {
    if !enabled() {
        return;
    }
    for server in Server::ALL {
        let db = awkward_server(server).await;
        let sleep = match server {
            Server::Postgres => "pg_sleep",
            Server::MySql => "SLEEP",
        };
        db.execute_all(&[
            "CREATE TABLE gate (seconds INTEGER)".to_owned(),
            "INSERT INTO gate VALUES (0)".to_owned(),
        ])
        .await;
        let query = format!(
            "SELECT o.* FROM opps_timestamp o CROSS JOIN gate g \
             WHERE {sleep}(g.seconds) IS NOT NULL"
        );
        let config = library_config(&db, &query);
        let source = SalesSource::connect_lazy(&config.database).expect("pool");
        let as_of = awkward::AS_OF.parse().expect("instant");
        let mut refresher =
            Refresher::new(Arc::clone(&config), source, Clock::Fixed(as_of)).expect("refresher");

        refresher.refresh().await.expect("first refresh");
        let (first, own) = exposition_lines(&refresher);
        assert!(first.len() > 100, "{server:?}: indicators published");
        assert!(own.contains(&"sales_exporter_refresh_success 1".to_owned()));

        db.execute_all(&["UPDATE gate SET seconds = 5".to_owned()])
            .await;
        let started = Instant::now();
        let Err(err) = refresher.refresh().await else {
            panic!("{server:?}: the second refresh must time out");
        };
        let elapsed = started.elapsed();
        assert!(
            matches!(&err, RefreshError::Source(e) if matches!(e.source, SourceError::Timeout { .. })),
            "{server:?}: {err}"
        );
        assert!(
            err.to_string().contains("query_timeout_secs (1 s)"),
            "{err}"
        );
        assert!(
            elapsed < Duration::from_secs(3),
            "{server:?}: took {elapsed:?}"
        );
        assert_eq!(
            sleeping_statements(&db).await,
            0,
            "{server:?}: still running"
        );

        let (second, own) = exposition_lines(&refresher);
        assert_eq!(first, second, "{server:?}: the last snapshot is kept");
        assert!(own.contains(&"sales_exporter_refresh_success 0".to_owned()));
        assert!(own
            .iter()
            .any(|l| l
                .starts_with("sales_exporter_refresh_errors_total{relation=\"opportunities\"} 1")));
    }
}

/// A mapped query that tries to write is refused by the read-only session and changes
/// nothing.
#[tokio::test]
async fn writes_through_a_mapped_query_are_refused() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for server in Server::ALL {
        let db = awkward_server(server).await;
        // A write wrapped in a function, since a data-modifying WITH cannot be a subquery;
        // it deletes from another table, which MariaDB would refuse anyway (error 1442).
        let function = match server {
            Server::Postgres => {
                "CREATE FUNCTION wipe_opportunities() RETURNS INTEGER LANGUAGE sql VOLATILE \
                 AS 'DELETE FROM reps; SELECT 1'"
            }
            Server::MySql => {
                "CREATE FUNCTION wipe_opportunities() RETURNS INT MODIFIES SQL DATA \
                 BEGIN DELETE FROM reps; RETURN 1; END"
            }
        };
        db.execute_all(&[function.to_owned()]).await;
        let query = "SELECT o.* FROM opps_timestamp o WHERE wipe_opportunities() = 1";
        let config = awkward::config(&db.url, Storage::Timestamp, Some(query));
        let path = dir.path().join("write.toml");
        std::fs::write(&path, config).expect("write config");
        let output = run_exporter(
            dir.path(),
            &[
                "--config",
                path.to_str().expect("utf-8"),
                "--once",
                "--as-of",
                awkward::AS_OF,
            ],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{server:?}: the write was refused"
        );
        assert!(
            stderr.contains("read-only transaction") || stderr.contains("READ ONLY"),
            "{server:?}: {stderr}"
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM reps").await,
            5,
            "{server:?}"
        );
    }
}

/// URL options reach PostgreSQL: `sslmode=require` gives a TLS session (rustls),
/// `application_name` names it, and `connect_timeout` is accepted.
#[tokio::test]
async fn postgres_url_options_give_a_named_tls_session() {
    if !enabled() {
        return;
    }
    let db = awkward_server(Server::Postgres).await;
    let url = format!(
        "{}?sslmode=require&application_name=sales_exporter_tls_test&connect_timeout=5",
        db.url
    );
    let text = awkward::config(&url, Storage::Timestamp, None);
    let config = Arc::new(Config::from_toml(&text, Path::new("tls.toml")).expect("config"));
    let source = SalesSource::connect_lazy(&config.database).expect("pool");
    let as_of = awkward::AS_OF.parse().expect("instant");
    let mut refresher =
        Refresher::new(Arc::clone(&config), source, Clock::Fixed(as_of)).expect("refresher");
    refresher.refresh().await.expect("refresh over TLS");
    let tls_sessions = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.datname = '{}' AND a.application_name = 'sales_exporter_tls_test' \
             AND s.ssl",
            db.name
        ))
        .await;
    assert!(tls_sessions >= 1, "no TLS session named by the URL");
}

/// On MariaDB, `password_env` supplies the password of a user whose URL holds none.
#[tokio::test]
async fn mariadb_password_comes_from_password_env() {
    if !enabled() {
        return;
    }
    let db = awkward_server(Server::MySql).await;
    let user = format!("u{}", &db.name[db.name.len() - 12..]);
    db.execute_all(&[
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-from-env'"),
        format!("GRANT SELECT ON {}.* TO '{user}'@'%'", db.name),
    ])
    .await;
    let _drop_user = DropUser(db.url.clone(), user.clone());
    let url = db.url.replacen("root@", &format!("{user}@"), 1);
    let variable = "SALES_EXPORTER_TEST_MARIADB_PASSWORD";
    std::env::set_var(variable, "pw-from-env");
    let text = awkward::config(&url, Storage::Timestamp, None).replace(
        "[database]\n",
        &format!("[database]\npassword_env = \"{variable}\"\n"),
    );
    let config = Arc::new(Config::from_toml(&text, Path::new("pw.toml")).expect("config"));
    let source = SalesSource::connect_lazy(&config.database).expect("pool");
    let as_of = awkward::AS_OF.parse().expect("instant");
    let mut refresher =
        Refresher::new(Arc::clone(&config), source, Clock::Fixed(as_of)).expect("refresher");
    refresher.refresh().await.expect("refresh as the new user");
}

/// Drops a MariaDB user when the test ends, however it ends.
struct DropUser(String, String);

impl Drop for DropUser {
    fn drop(&mut self) {
        let (url, user) = (self.0.clone(), self.1.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = sqlx::MySqlConnection::connect(&url).await.expect("connect");
                let _ = conn
                    .execute(format!("DROP USER '{user}'@'%'").as_str())
                    .await;
            });
        })
        .join();
    }
}

/// MariaDB columns in a binary character set (VARBINARY, BLOB) still decode as text.
#[tokio::test]
async fn mariadb_binary_strings_decode_as_text() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = awkward_server(Server::MySql).await;
    let config = awkward::config(&db.url, Storage::Timestamp, None).replace(
        "[reps]\ntable = \"reps\"",
        "[reps]\nquery = \"SELECT CAST(id AS BINARY) AS id, CAST(name AS BINARY) AS name, \
         CAST(team AS BINARY) AS team, active FROM reps\"",
    );
    assert!(config.contains("CAST(name AS BINARY)"));
    let samples = export(dir.path(), "binary", &config);
    let info = common::key(
        "sales_rep_info",
        &[("rep", "r3"), ("rep_name", "Bob Stone"), ("team", "South")],
    );
    assert_eq!(samples.get(&info), Some(&1.0));
}
