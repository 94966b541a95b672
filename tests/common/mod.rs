//! Helpers shared by the integration tests: running the exporter binary and reading the
//! exposition text it prints into comparable samples.

#![allow(dead_code)]

pub mod awkward;
#[path = "../fixtures/awkward/fixture.rs"]
pub mod awkward_fixture;
pub mod crm;
pub mod db;
pub mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A sample's identity: metric name and sorted labels.
pub type SeriesKey = (String, BTreeMap<String, String>);

/// Runs the exporter binary with `args` in `dir` and returns what it printed.
pub fn run_exporter(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sales_exporter"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the exporter binary runs")
}

/// Runs the exporter once on the config file at `config`, as of the instant `as_of`.
pub fn run_once_at(dir: &Path, config: &str, as_of: &str) -> Output {
    run_exporter(dir, &["--config", config, "--once", "--as-of", as_of])
}

/// Writes the demo database into `dir` with `--demo --once` and returns its path.
pub fn demo_database(dir: &Path) -> PathBuf {
    let output = run_exporter(dir, &["--demo", "--once"]);
    assert!(output.status.success(), "{output:?}");
    dir.join("sales_exporter-demo.sqlite")
}

/// Writes the demo database into `dir` and a config pointing at it; returns the config path.
pub fn demo_config(dir: &Path) -> String {
    let database = demo_database(dir);
    write_config(dir, "sales.toml", &example_config_for(&database))
}

/// Parses exposition text into samples. Panics, naming the line, on anything malformed,
/// since the exporter must never write such a line.
pub fn parse_exposition(text: &str) -> BTreeMap<SeriesKey, f64> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("bad labels: {line}"));
                (name.to_owned(), parse_labels(body))
            }
        };
        let previous = samples.insert((name, labels), value);
        assert!(previous.is_none(), "duplicate series: {line}");
    }
    samples
}

fn parse_labels(body: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(
            chars.next(),
            Some('"'),
            "label {name} is not quoted in {body}"
        );
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("dangling escape in {body}"),
                },
                '"' => break,
                other => value.push(other),
            }
        }
        labels.insert(name.trim_start_matches(',').to_owned(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

/// A series key from a name and label pairs.
pub fn key(name: &str, labels: &[(&str, &str)]) -> SeriesKey {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (name.to_owned(), labels)
}

/// Whether `actual` equals `expected` to within the last bits of a double.
pub fn close(actual: f64, expected: f64) -> bool {
    actual == expected || (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0)
}

/// Whether a child process's stderr shows a panic; the exporter must report, never panic.
pub fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked"),
        "the exporter panicked:\n{stderr}"
    );
}

/// Writes `text` as a config file `name` in `dir` and returns its path as a string.
pub fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the config file is written");
    path.to_str().expect("a UTF-8 temp path").to_owned()
}

/// The bundled example config with its database URL pointed at `database`.
pub fn example_config_for(database: &Path) -> String {
    let example = include_str!("../../config.example.toml");
    let url = format!("url = \"sqlite:{}\"", database.display());
    let replaced = example.replacen("url = \"sqlite:sales_exporter-demo.sqlite\"", &url, 1);
    assert_ne!(
        replaced, example,
        "the example config names the demo database"
    );
    replaced
}

/// Runs `statements` on the SQLite file at `path`, creating it if needed.
pub async fn sqlite_exec(path: &Path, statements: &str) {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("the scratch database opens");
    sqlx::raw_sql(statements)
        .execute(&mut conn)
        .await
        .expect("the scratch statements run");
    conn.close().await.expect("the scratch database closes");
}

/// Whether the command-line `tool` (promtool, prometheus) runs. Without it the caller skips
/// its test after one line saying what to install, unless `SALES_EXPORTER_REQUIRE_TOOLS=1`
/// (CI) makes the absence a failure.
pub fn tool_available(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("SALES_EXPORTER_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{tool} not found and SALES_EXPORTER_REQUIRE_TOOLS=1; install Debian's prometheus package"
        );
        println!(
            "skipping: {tool} not found; install Debian's prometheus package \
             (or set SALES_EXPORTER_REQUIRE_TOOLS=1 to make this a failure)"
        );
    }
    found
}

/// Runs `tool` with `args` in `dir`; whether it succeeded, and its stdout then its stderr.
pub fn run_tool(tool: &str, dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
