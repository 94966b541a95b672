//! `--demo --once` at a fixed instant: every window of the example config has company
//! figures, reps are told apart by id, a rep who left keeps only what the windows hold, and
//! one figure is checked against our own SQL on the demo file.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{assert_no_panic, key, parse_exposition, run_exporter, SeriesKey};
use sqlx::{Connection, Row};

const AS_OF: &str = "2026-12-03T16:00:00Z";
const PERIODS: [&str; 8] = [
    "day", "week", "month", "quarter", "year", "7d", "30d", "90d",
];

/// Runs `--demo --once` at [`AS_OF`] in `dir` and returns the samples.
fn demo_samples(dir: &Path) -> BTreeMap<SeriesKey, f64> {
    let output = run_exporter(dir, &["--demo", "--once", "--as-of", AS_OF]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr);
    assert!(output.status.success(), "{stderr}");
    parse_exposition(&String::from_utf8(output.stdout).expect("UTF-8 exposition"))
}

fn window(period: &'static str, window: &'static str) -> [(&'static str, &'static str); 2] {
    [("period", period), ("window", window)]
}

/// Every period and window of the example config has a company revenue, and every current
/// window has won opportunities.
#[test]
fn company_has_every_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = demo_samples(dir.path());
    for period in PERIODS {
        for position in ["current", "previous"] {
            let revenue = key("sales_company_revenue", &window(period, position));
            assert!(samples.contains_key(&revenue), "missing {revenue:?}");
        }
        let won = key(
            "sales_company_opportunities_won",
            &window(period, "current"),
        );
        assert!(samples[&won] > 0.0, "{won:?} is {}", samples[&won]);
    }
    let company_revenue = samples
        .keys()
        .filter(|(name, _)| name == "sales_company_revenue")
        .count();
    assert_eq!(company_revenue, 2 * PERIODS.len());
}

/// The two reps named "Alex Kim" are two `rep` label values, one per team.
#[test]
fn namesakes_are_two_reps() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = demo_samples(dir.path());
    let alex: Vec<(&str, &str)> = samples
        .keys()
        .filter(|(name, labels)| name == "sales_rep_info" && labels["rep_name"] == "Alex Kim")
        .map(|(_, labels)| (labels["rep"].as_str(), labels["team"].as_str()))
        .collect();
    assert_eq!(alex, [("r03", "North"), ("r08", "South")]);
    for rep in ["r03", "r08"] {
        let team = if rep == "r03" { "North" } else { "South" };
        let labels = [
            ("rep", rep),
            ("team", team),
            ("period", "year"),
            ("window", "current"),
        ];
        assert!(samples.contains_key(&key("sales_rep_revenue", &labels)));
    }
}

/// Rep r11 left 61 days before the instant: their deals still count where the windows hold
/// them (so they keep series and rep sums add up to the team), they create nothing after
/// leaving, and they are not counted in revenue per rep, which uses active reps only.
#[test]
fn departed_rep_counts_only_where_the_windows_hold_their_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = demo_samples(dir.path());
    let get = |name: &str, labels: &[(&str, &str)]| samples.get(&key(name, labels)).copied();

    let info = [
        ("rep", "r11"),
        ("rep_name", "Emma Johansson"),
        ("team", "West"),
    ];
    assert_eq!(get("sales_rep_info", &info), Some(1.0));
    for period in ["day", "week", "month", "7d", "30d"] {
        let labels = [
            ("rep", "r11"),
            ("team", "West"),
            ("period", period),
            ("window", "current"),
        ];
        assert_eq!(
            get("sales_rep_opportunities_created", &labels),
            Some(0.0),
            "r11 created deals in {period} after leaving"
        );
    }
    let year = [
        ("rep", "r11"),
        ("team", "West"),
        ("period", "year"),
        ("window", "current"),
    ];
    assert!(get("sales_rep_opportunities_created", &year) > Some(0.0));

    // Rep sums add up to their team, r11 included.
    let month = window("month", "current");
    let west_reps: f64 = samples
        .iter()
        .filter(|((name, labels), _)| {
            name == "sales_rep_revenue"
                && labels["team"] == "West"
                && labels["period"] == "month"
                && labels["window"] == "current"
        })
        .map(|(_, value)| value)
        .sum();
    let west = [("team", "West"), month[0], month[1]];
    let west_revenue = get("sales_team_revenue", &west).expect("West revenue");
    assert!((west_reps - west_revenue).abs() < 1e-6 * west_revenue.max(1.0));

    // Three active reps in West, eleven in the company.
    for period in PERIODS {
        let at = window(period, "current");
        let west = [("team", "West"), at[0], at[1]];
        let revenue = get("sales_team_revenue", &west).expect("West revenue");
        let per_rep = get("sales_team_revenue_per_rep", &west).expect("West per rep");
        assert!(
            (per_rep - revenue / 3.0).abs() < 1e-9 * revenue.max(1.0),
            "{period}"
        );
        let revenue = get("sales_company_revenue", &at).expect("company revenue");
        let per_rep = get("sales_company_revenue_per_rep", &at).expect("company per rep");
        assert!(
            (per_rep - revenue / 11.0).abs() < 1e-9 * revenue.max(1.0),
            "{period}"
        );
    }
}

/// Company revenue for the current month equals our own SQL on the demo file, with the month
/// bounds from SQLite's date functions.
#[tokio::test]
async fn month_revenue_matches_our_own_sql() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = demo_samples(dir.path());
    let exported = samples[&key("sales_company_revenue", &window("month", "current"))];

    let database = dir.path().join("sales_exporter-demo.sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&database)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("the demo database opens");
    let row = sqlx::query(
        "SELECT COUNT(*), SUM(CAST(ROUND(amount * 100) AS INTEGER)) FROM opportunities \
         WHERE stage = 'closed_won' \
         AND closed_at >= datetime(?1, 'start of month') AND closed_at < datetime(?1)",
    )
    .bind("2026-12-03 16:00:00")
    .fetch_one(&mut conn)
    .await
    .expect("the check query runs");
    let (won, cents): (i64, i64) = (row.get(0), row.get(1));

    assert!(won > 0);
    let won_exported = samples[&key(
        "sales_company_opportunities_won",
        &window("month", "current"),
    )];
    assert_eq!(won_exported, won as f64);
    assert_eq!(
        (exported * 100.0).round() as i64,
        cents,
        "exported {exported}"
    );
}

/// A target naming a team that has no series (a typo) is exported as configured but
/// warned about once in the log, naming the scope and the name.
#[test]
fn target_for_an_unknown_team_is_warned_about() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = common::demo_database(dir.path());
    let config =
        common::example_config_for(&database).replace("name = \"North\"", "name = \"Nort\"");
    let config = common::write_config(dir.path(), "typo.toml", &config);
    let output = run_exporter(
        dir.path(),
        &[
            "--config",
            &config,
            "--once",
            "--as-of",
            "2026-12-03T16:00:00Z",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr);
    assert!(output.status.success(), "{stderr}");
    let warnings: Vec<&str> = (stderr.lines())
        .filter(|line| line.contains("Target names a team or rep that has no series"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("scope=\"team\"") && warnings[0].contains("name=Nort"),
        "{stderr}"
    );
    let samples = parse_exposition(&String::from_utf8_lossy(&output.stdout));
    let target = key(
        "sales_team_revenue_target",
        &[("period", "month"), ("team", "Nort")],
    );
    assert_eq!(samples.get(&target), Some(&150_000.0));
}

/// `--print-sql` prints what a refresh sends: run by a plain SQLite connection, each
/// statement returns as many aggregate rows as the refresh at the same instant read.
#[tokio::test]
async fn printed_sql_reads_what_a_refresh_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = demo_samples(dir.path());
    let database = dir.path().join("sales_exporter-demo.sqlite");
    let config = common::write_config(
        dir.path(),
        "sales.toml",
        &common::example_config_for(&database),
    );
    let output = run_exporter(
        dir.path(),
        &["--config", &config, "--print-sql", "--as-of", AS_OF],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let printed = String::from_utf8(output.stdout).expect("UTF-8 SQL");

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", database.display()))
        .await
        .expect("open the demo database");
    let mut rows_by_relation: Vec<(String, usize)> = Vec::new();
    for block in printed.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let (comment, sql) = block.split_once('\n').expect("a comment line, then SQL");
        let label = comment.strip_prefix("-- ").expect("relation comment");
        let rows = sqlx::query(sql.trim_end_matches(';'))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|err| panic!("{label}: {err}\n{sql}"));
        // "opportunities (customers' wins)" is the second query over opportunities.
        let relation = label.split(' ').next().expect("a relation name").to_owned();
        match rows_by_relation.last_mut() {
            Some((last, count)) if *last == relation => *count += rows.len(),
            _ => rows_by_relation.push((relation, rows.len())),
        }
    }
    let relations: Vec<&str> = rows_by_relation.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(relations, ["reps", "opportunities", "activities", "costs"]);
    for (relation, rows) in &rows_by_relation {
        let read = key("sales_exporter_rows_read", &[("relation", relation)]);
        assert_eq!(*rows as f64, samples[&read], "{relation}");
    }
}

/// Leaving `rep` out of `indicators.scopes` drops every rep series (and `sales_rep_info`)
/// and changes no team or company value.
#[test]
fn scopes_bound_the_series() {
    let dir = tempfile::tempdir().expect("temp dir");
    let all = demo_samples(dir.path());
    let database = dir.path().join("sales_exporter-demo.sqlite");
    let config = common::example_config_for(&database).replace(
        r#"scopes = ["company", "team", "rep"]"#,
        r#"scopes = ["company", "team"]"#,
    );
    let config = common::write_config(dir.path(), "teams.toml", &config);
    let output = common::run_once_at(dir.path(), &config, AS_OF);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let teams = parse_exposition(&String::from_utf8(output.stdout).expect("UTF-8"));

    let is_rep = |name: &str| name.starts_with("sales_rep_");
    assert!(all.keys().filter(|(name, _)| is_rep(name)).count() > 1000);
    assert!(!teams.keys().any(|(name, _)| is_rep(name)));
    let not_rep: Vec<_> = all
        .iter()
        .filter(|((name, _), _)| !is_rep(name) && !name.starts_with("sales_exporter_"))
        .collect();
    assert!(not_rep.len() > 500);
    for (key, value) in not_rep {
        assert_eq!(teams.get(key), Some(value), "{key:?}");
    }
}

/// Without calls per opportunity among the exported indicators the calls on closed
/// opportunities are not queried, and the calls keep their values.
#[test]
fn calls_alone_leave_out_the_closed_opportunities_statement() {
    let dir = tempfile::tempdir().expect("temp dir");
    let all = demo_samples(dir.path());
    let database = dir.path().join("sales_exporter-demo.sqlite");
    let everything = common::example_config_for(&database);
    let calls_only = everything.replace(r#""calls", "calls_per_opportunity","#, r#""calls","#);
    assert_ne!(calls_only, everything, "the example config exports both");
    let config = common::write_config(dir.path(), "calls.toml", &calls_only);

    let printed = run_exporter(
        dir.path(),
        &["--config", &config, "--print-sql", "--as-of", AS_OF],
    );
    assert!(printed.status.success(), "{printed:?}");
    let sql = String::from_utf8(printed.stdout).expect("UTF-8 SQL");
    assert!(sql.contains("-- activities\n"), "{sql}");
    assert!(!sql.contains("calls on closed opportunities"), "{sql}");

    let output = common::run_once_at(dir.path(), &config, AS_OF);
    assert!(output.status.success(), "{output:?}");
    let samples = parse_exposition(&String::from_utf8(output.stdout).expect("UTF-8"));
    let calls: Vec<_> = all
        .iter()
        .filter(|((name, _), _)| name.ends_with("_calls"))
        .collect();
    assert!(calls.len() > 100, "{}", calls.len());
    for (key, value) in calls {
        assert_eq!(samples.get(key), Some(value), "{key:?}");
    }
    assert!(!samples
        .keys()
        .any(|(name, _)| name.ends_with("calls_per_opportunity")));
}
