//! The CRM dataset's independent oracle: reads `tests/fixtures/crm/expected-*.tsv` and
//! checks an exposition against it, whichever backend produced it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{close, key, parse_exposition, SeriesKey};

/// The instant the oracle table was computed for.
pub const AS_OF: &str = "2017-12-15T12:00:00Z";

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

/// The CRM fixture directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm")
}

/// Asserts that every value of the independent table is in `exposition`, and that every
/// series it lists as absent is absent.
pub fn check_against_oracle(exposition: &str) {
    let fixtures = fixtures();
    let samples = parse_exposition(exposition);
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
