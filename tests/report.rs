//! `--report` on the public CRM dataset as of a fixed instant: the table's figures agree
//! with the independent oracle's (`tests/fixtures/crm/expected-2017-12-15.tsv`).

mod common;

#[path = "../examples/crm/load.rs"]
#[allow(dead_code)]
mod load;

use std::collections::BTreeMap;
use std::path::Path;

use common::run_exporter;

const AS_OF: &str = "2017-12-15T12:00:00Z";

/// An oracle row's key: (scope, name, period, window, indicator).
type OracleKey = (String, String, String, String, String);

/// The key of the oracle row for `scope`, `name`, `period`, `window` and `indicator`.
fn oracle_key(scope: &str, name: &str, period: &str, window: &str, indicator: &str) -> OracleKey {
    (
        scope.into(),
        name.into(),
        period.into(),
        window.into(),
        indicator.into(),
    )
}

/// The oracle's values by (scope, name, period, window, indicator).
fn oracle() -> BTreeMap<OracleKey, f64> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm/expected-2017-12-15.tsv");
    let text = std::fs::read_to_string(path).expect("the oracle table");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let key = oracle_key(f[0], f[1], f[2], f[3], f[4]);
            (key, f[5].parse().expect("a number"))
        })
        .collect()
}

/// A number as the report writes it: thousands separators, and a percent for ratios.
/// Values are rounded to the printed digits, so comparisons allow half a last digit.
fn number(cell: &str) -> Option<f64> {
    let cell = cell.replace(',', "");
    match cell.strip_suffix('%') {
        Some(percent) => percent.parse::<f64>().ok().map(|p| p / 100.0),
        None => cell.parse().ok(),
    }
}

/// The report's rows for the CRM agents, company and offices match the oracle on revenue,
/// won, lost, conversion (to the printed 0.1%), average deal size (to the cent) and the
/// open pipeline, and show rep name, id, team and the window's bounds.
#[tokio::test]
async fn crm_report_matches_the_oracle() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm");
    let dir = tempfile::tempdir().expect("temp dir");
    load::load_crm(&fixtures, &dir.path().join("crm.sqlite"))
        .await
        .expect("load");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/crm/crm.toml");
    let config = config.to_str().expect("a UTF-8 path");
    let output = run_exporter(
        dir.path(),
        &["--config", config, "--report", "--as-of", AS_OF],
    );
    assert!(output.status.success(), "{output:?}");
    let report = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        report.starts_with("Sales indicators as of 2017-12-15T12:00:00Z"),
        "{report}"
    );

    let darcel = report
        .lines()
        .find(|l| l.starts_with("rep ") && l.contains("Darcel Schlecht") && l.contains(" month "))
        .expect("Darcel Schlecht's month row");
    let cells: Vec<&str> = darcel
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "rep",
            "Darcel Schlecht",
            "Darcel Schlecht",
            "Central",
            "month",
            "current",
            "2017-12-01 00:00",
            "2017-12-15 12:00",
            "61,637.00",
            "14",
            "6",
            "70.0%",
            "4,402.64",
            "2"
        ],
        "{darcel}"
    );

    let oracle = oracle();
    let mut checked = 0;
    let (mut windowed, mut open) = (true, false);
    for line in report.lines() {
        if line.starts_with("Open pipeline now") {
            (windowed, open) = (false, true);
        }
        let cells: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let Some(scope) = cells.first().copied() else {
            continue;
        };
        if !["company", "team", "rep"].contains(&scope) {
            continue;
        }
        let name = match scope {
            "company" => "",
            "team" => cells[3],
            _ => cells[2],
        };
        let want = |period: &str, window: &str, indicator: &str| {
            let key = oracle_key(scope, name, period, window, indicator);
            oracle.get(&key).copied()
        };
        if windowed {
            let (period, window) = (cells[4], cells[5]);
            let columns = [("revenue", 8, 0.0051), ("won", 9, 0.0), ("lost", 10, 0.0)];
            let ratios = [
                ("conversion_ratio", 11, 0.00051),
                ("average_deal_size", 12, 0.0051),
            ];
            for (indicator, column, tolerance) in columns.into_iter().chain(ratios) {
                let got = number(cells[column]);
                match (want(period, window, indicator), got) {
                    (Some(want), Some(got)) => {
                        assert!(
                            (want - got).abs() <= tolerance,
                            "{indicator}: {want} vs {line}"
                        );
                        checked += 1;
                    }
                    (None, None) => {}
                    (want, _) => {
                        assert!(want.is_none(), "{indicator} {want:?} missing from {line}")
                    }
                }
            }
        }
        if open && cells.len() >= 7 {
            let count = want("-", "-", "open_count").expect("an open count");
            assert_eq!(number(cells[4]), Some(count), "{line}");
            checked += 1;
        }
    }
    assert!(checked > 2000, "only {checked} figures checked");
}
