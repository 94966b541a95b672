//! The exporter on the real public CRM dataset, as of a fixed instant, against values that
//! `tests/fixtures/crm/expected.py` computed straight from the CSV files.

mod common;

#[path = "../examples/crm/load.rs"]
#[allow(dead_code)]
mod load;

use std::collections::BTreeMap;
use std::path::Path;

use common::{close, key, parse_exposition, run_exporter, SeriesKey};

const AS_OF: &str = "2017-12-15T12:00:00Z";

/// The exporter's metric for an indicator name of the expected table, and the factor that
/// turns the table's unit into the metric's.
fn metric(scope: &str, indicator: &str) -> (String, f64) {
    let (suffix, factor) = match indicator {
        "won" => ("opportunities_won", 1.0),
        "lost" => ("opportunities_lost", 1.0),
        "created" => ("opportunities_created", 1.0),
        "open_count" => ("open_pipeline_opportunities", 1.0),
        "open_amount" => ("open_pipeline_amount", 1.0),
        "sales_cycle_days" => ("sales_cycle_seconds", 86_400.0),
        other => (other, 1.0),
    };
    (format!("sales_{scope}_{suffix}"), factor)
}

fn series(fields: &[&str], teams: &BTreeMap<String, String>) -> (SeriesKey, f64) {
    let (scope, name, period, window, indicator) =
        (fields[0], fields[1], fields[2], fields[3], fields[4]);
    let (metric, factor) = metric(scope, indicator);
    let mut labels = Vec::new();
    match scope {
        "team" => labels.push(("team", name)),
        "rep" => {
            labels.push(("rep", name));
            labels.push(("team", teams[name].as_str()));
        }
        _ => {}
    }
    if period != "-" {
        labels.push(("period", period));
        labels.push(("window", window));
    }
    (key(&metric, &labels), factor)
}

fn table(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .skip(1)
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

fn rep_teams(fixtures: &Path) -> BTreeMap<String, String> {
    let mut reader = csv::Reader::from_path(fixtures.join("sales_teams.csv")).expect("teams csv");
    reader
        .records()
        .map(|r| r.expect("teams row"))
        .map(|r| (r[0].to_owned(), r[2].to_owned()))
        .collect()
}

/// Every value of the independent table matches, and every series it lists as absent is.
#[tokio::test]
async fn crm_indicators_match_the_independent_oracle() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm");
    let dir = tempfile::tempdir().expect("temp dir");
    let (opportunities, reps) = load::load_crm(&fixtures, &dir.path().join("crm.sqlite"))
        .await
        .expect("load");
    assert_eq!((opportunities, reps), (8800, 35));
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/crm/crm.toml");

    let output = run_exporter(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--once",
            "--as-of",
            AS_OF,
        ],
    );
    assert!(
        output.status.success(),
        "exporter failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let samples = parse_exposition(&String::from_utf8(output.stdout).expect("utf-8"));
    let teams = rep_teams(&fixtures);

    let expected = table(&fixtures.join("expected-2017-12-15.tsv"));
    assert!(expected.len() > 3000, "the oracle table is complete");
    let mut mismatches = Vec::new();
    for row in &expected {
        let fields: Vec<&str> = row.iter().map(String::as_str).collect();
        let (series, factor) = series(&fields, &teams);
        let want: f64 = fields[5].parse().expect("expected value");
        match samples.get(&series) {
            Some(got) if close(*got, want * factor) => {}
            got => mismatches.push(format!(
                "{series:?}: expected {}, got {got:?}",
                want * factor
            )),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );

    let absent = table(&fixtures.join("expected-2017-12-15-absent.tsv"));
    assert!(!absent.is_empty());
    for row in &absent {
        let fields: Vec<&str> = row.iter().map(String::as_str).collect();
        let (series, _) = series(&fields, &teams);
        assert!(
            !samples.contains_key(&series),
            "{series:?} must be absent, got {:?}",
            samples[&series]
        );
    }
}

/// A few figures checked by hand against the CSV, so that a wrong oracle cannot pass alone:
/// Darcel Schlecht closed 14 won and 6 lost deals from 2017-12-01 to the instant, for 61,637.
#[test]
fn darcel_schlecht_december_by_hand() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm");
    let mut reader = csv::Reader::from_path(fixtures.join("sales_pipeline.csv")).expect("csv");
    let (mut won, mut lost, mut revenue) = (0, 0, 0_i64);
    for record in reader.records().map(|r| r.expect("row")) {
        let in_december = ("2017-12-01".."2017-12-16").contains(&&record[6]);
        if &record[1] == "Darcel Schlecht" && in_december {
            match &record[4] {
                "Won" => {
                    won += 1;
                    revenue += record[7].parse::<i64>().expect("amount");
                }
                "Lost" => lost += 1,
                _ => {}
            }
        }
    }
    assert_eq!((won, lost, revenue), (14, 6, 61_637));
}
