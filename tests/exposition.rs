//! The exposition text as Prometheus reads it: `promtool check metrics` finds nothing to say
//! about the demo output, nor about label values with quotes, backslashes, newlines and
//! non-ASCII text, which also round-trip through our own parser.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{
    assert_no_panic, example_config_for, key, parse_exposition, run_exporter, sqlite_exec,
    tool_available, write_config,
};

const AS_OF: &str = "2026-12-03T16:00:00Z";
const PROMTOOL: &str = "promtool";

/// Pipes `exposition` to `promtool check metrics` and asserts it succeeds in silence.
fn assert_promtool_quiet(exposition: &[u8]) {
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(exposition)
        .expect("the exposition reaches promtool");
    let output = child.wait_with_output().expect("promtool finishes");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool failed: {said}");
    assert!(said.trim().is_empty(), "promtool complains:\n{said}");
}

/// Runs `args` and returns stdout, asserting success and no panic.
fn exposition(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = run_exporter(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_panic(&stderr);
    assert!(output.status.success(), "{stderr}");
    output.stdout
}

/// `promtool check metrics` has no complaint about the demo's exposition.
#[test]
fn demo_exposition_passes_promtool() {
    if !tool_available(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let text = exposition(dir.path(), &["--demo", "--once", "--as-of", AS_OF]);
    assert!(text.len() > 10_000, "a full exposition");
    assert_promtool_quiet(&text);
}

const REP_ID: &str = "r13 \"q\\";
const REP_NAME: &str = "O\"Brien \\ Zoë\nsecond line";
const TEAM: &str = "Équipe \"Nord\\Est\"\n✓";

/// A rep whose id, name and team hold quotes, backslashes, newlines and non-ASCII text keeps
/// the exposition valid for promtool and round-trips through `parse_exposition`.
#[tokio::test]
async fn odd_label_values_stay_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    exposition(dir.path(), &["--demo", "--once", "--as-of", AS_OF]);
    let database = dir.path().join("sales_exporter-demo.sqlite");
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    sqlite_exec(
        &database,
        &format!(
            "INSERT INTO reps VALUES ({id}, {name}, {team}, 1);
             INSERT INTO opportunities (rep_id, customer, created_at, stage, closed_at, amount,
                 probability)
             VALUES ({id}, 'Zoë & Co', '2026-11-20 09:00:00', 'closed_won',
                 '2026-12-02 09:00:00', 1234.5, 1);",
            id = quote(REP_ID),
            name = quote(REP_NAME),
            team = quote(TEAM),
        ),
    )
    .await;
    let config = write_config(dir.path(), "sales.toml", &example_config_for(&database));
    let text = exposition(
        dir.path(),
        &["--config", &config, "--once", "--as-of", AS_OF],
    );

    let samples = parse_exposition(std::str::from_utf8(&text).expect("UTF-8 exposition"));
    let info = [("rep", REP_ID), ("rep_name", REP_NAME), ("team", TEAM)];
    assert_eq!(samples.get(&key("sales_rep_info", &info)), Some(&1.0));
    let month = [
        ("rep", REP_ID),
        ("team", TEAM),
        ("period", "month"),
        ("window", "current"),
    ];
    assert_eq!(
        samples.get(&key("sales_rep_revenue", &month)),
        Some(&1234.5)
    );
    let team = [("team", TEAM), ("period", "month"), ("window", "current")];
    assert_eq!(
        samples.get(&key("sales_team_revenue", &team)),
        Some(&1234.5)
    );

    if tool_available(PROMTOOL) {
        assert_promtool_quiet(&text);
    }
}
