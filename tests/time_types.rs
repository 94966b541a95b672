//! Time columns of different storage types in one relation: windows and the sales cycle
//! agree whatever mix of unix seconds, text and dates the operator's schema uses.

mod common;

use common::{assert_no_panic, key, parse_exposition, run_once_at, sqlite_exec, write_config};

/// Created as unix seconds, closed as text: the sales cycle is the real elapsed time.
/// Worked out by hand: created 2026-06-01T00:00:00Z (unix 1780272000), closed
/// 2026-06-11 12:00:00 UTC, so 10.5 days = 907,200 s; the second win, created
/// 2026-06-05T00:00:00Z (1780617600) and closed 2026-06-06 06:00:00, adds 1.25 days =
/// 108,000 s; the mean is (907,200 + 108,000) / 2 = 507,600 s.
#[tokio::test]
async fn sales_cycle_subtracts_unix_seconds_from_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("mixed.sqlite");
    sqlite_exec(
        &database,
        "CREATE TABLE deals (id INTEGER, rep TEXT, created INTEGER, stage TEXT, closed TEXT, value REAL);
         INSERT INTO deals VALUES
           (1, 'r1', 1780272000, 'won', '2026-06-11 12:00:00', 100),
           (2, 'r1', 1780617600, 'won', '2026-06-06T06:00:00', 50),
           (3, 'r1', 1780617600, 'lost', '2026-05-31 23:59:59', 0);",
    )
    .await;
    let config = format!(
        r#"[database]
url = "sqlite:{}"
[calendar]
periods = ["month"]
rolling_days = []
[opportunities]
table = "deals"
[opportunities.columns]
id = "id"
rep = "rep"
created_at = "created"
status = "stage"
closed_at = "closed"
amount = "value"
[opportunities.time_types]
created_at = "unix_seconds"
closed_at = "text"
[opportunities.status]
open = []
won = ["won"]
lost = ["lost"]
"#,
        database.display()
    );
    let config = write_config(dir.path(), "mixed.toml", &config);

    let output = run_once_at(dir.path(), &config, "2026-06-15T00:00:00Z");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr);
    assert!(output.status.success(), "{stderr}");
    let samples = parse_exposition(&String::from_utf8_lossy(&output.stdout));

    let month = [("period", "month"), ("window", "current")];
    let previous = [("period", "month"), ("window", "previous")];
    assert_eq!(
        samples[&key("sales_company_sales_cycle_seconds", &month)],
        507_600.0
    );
    assert_eq!(
        samples[&key("sales_company_opportunities_won", &month)],
        2.0
    );
    assert_eq!(samples[&key("sales_company_revenue", &month)], 150.0);
    // The loss closed one second before June: it belongs to May.
    assert_eq!(
        samples[&key("sales_company_opportunities_lost", &month)],
        0.0
    );
    assert_eq!(
        samples[&key("sales_company_opportunities_lost", &previous)],
        1.0
    );
}
