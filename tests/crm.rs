//! The exporter on the real public CRM dataset, as of a fixed instant, against values that
//! `tests/fixtures/crm/expected.py` computed straight from the CSV files.

mod common;

#[path = "../examples/crm/load.rs"]
#[allow(dead_code)]
mod load;

use std::path::Path;

use common::crm::{self, AS_OF};
use common::run_once_at;

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

    let output = run_once_at(dir.path(), config.to_str().unwrap(), AS_OF);
    assert!(
        output.status.success(),
        "exporter failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    crm::check_against_oracle(&String::from_utf8(output.stdout).expect("utf-8"));
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
