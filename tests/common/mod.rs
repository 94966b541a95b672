//! Helpers shared by the integration tests: running the exporter binary and reading the
//! exposition text it prints into comparable samples.

#![allow(dead_code)]

pub mod awkward;
#[path = "../fixtures/awkward/fixture.rs"]
pub mod awkward_fixture;
pub mod crm;
pub mod db;

use std::collections::BTreeMap;
use std::path::Path;
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
