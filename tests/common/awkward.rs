//! Helpers for the awkward fixture: writing it into each backend, running the exporter on
//! it, and comparing expositions with each other and with the hand-worked table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};

use super::awkward_fixture::{self as awkward, Backend, Storage};
use super::db::{Server, TestDatabase};
use super::{close, parse_exposition, run_once_at, write_config, SeriesKey};
use sales_exporter::config::Config;

/// Self-metrics that differ from run to run whatever the backend.
const VOLATILE: [&str; 4] = [
    "sales_exporter_refresh_duration_seconds",
    "sales_exporter_query_duration_seconds",
    "sales_exporter_last_refresh_success_timestamp_seconds",
    "sales_exporter_config_last_reload_success_timestamp_seconds",
];

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/awkward")
}

/// Writes the awkward fixture into a new SQLite file and returns its URL.
pub async fn awkward_sqlite(dir: &Path) -> String {
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
pub async fn awkward_server(server: Server) -> TestDatabase {
    let db = TestDatabase::create(server, "awkward").await;
    let backend = match server {
        Server::Postgres => Backend::Postgres,
        Server::MySql => Backend::MySql,
    };
    db.execute_all(&awkward::statements(backend)).await;
    db
}

/// Runs the binary once on `config` and returns its samples, without the volatile ones.
pub fn export(dir: &Path, name: &str, config: &str) -> BTreeMap<SeriesKey, f64> {
    let path = write_config(dir, &format!("{name}.toml"), config);
    let output = run_once_at(dir, &path, awkward::AS_OF);
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
pub fn hand_worked(storage: &str) -> Vec<(SeriesKey, Option<f64>)> {
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

/// Asserts every hand-worked value of `storage` in `samples`, naming `what` on failure.
pub fn assert_hand_worked(what: &str, storage: &str, samples: &BTreeMap<SeriesKey, f64>) {
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

/// Asserts that two expositions hold exactly the same series and values.
pub fn assert_same(what: &str, left: &BTreeMap<SeriesKey, f64>, right: &BTreeMap<SeriesKey, f64>) {
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

/// A library config for the awkward fixture on `db` with a mapped opportunities query.
pub fn library_config(db: &TestDatabase, query: &str) -> Arc<Config> {
    let text = awkward::config(&db.url, Storage::Timestamp, Some(query));
    Arc::new(Config::from_toml(&text, Path::new("backends-test.toml")).expect("valid config"))
}
