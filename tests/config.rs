//! Configuration validation through the binary's `--check-config`: every refused config exits
//! with 78 (EX_CONFIG) and a message naming the key, and where the parser knows it, the line.

mod common;

use std::path::Path;

use common::{assert_no_panic, run_exporter, write_config};
use sales_exporter::config::Config;

/// EX_CONFIG from sysexits.h, the exit code of an unusable configuration.
const EXIT_CONFIG: i32 = 78;

const EXAMPLE: &str = include_str!("../config.example.toml");

/// The example config with the first line equal to `line` replaced by `with`.
fn example_with(line: &str, with: &str) -> String {
    let mut found = false;
    let lines: Vec<&str> = EXAMPLE
        .lines()
        .map(|l| {
            if !found && l == line {
                found = true;
                with
            } else {
                l
            }
        })
        .collect();
    assert!(found, "the example config has the line {line:?}");
    lines.join("\n") + "\n"
}

/// The 1-based line of the example config that is exactly `line`.
fn line_of(text: &str, line: &str) -> usize {
    1 + text
        .lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no line {line:?}"))
}

/// Runs `--check-config` on `text` and returns the exit code and the stderr text.
fn check(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_config(dir.path(), "sales.toml", text);
    let output = run_exporter(dir.path(), &["--config", &path, "--check-config"]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_no_panic(&stderr);
    (output.status.code().expect("an exit code"), stdout, stderr)
}

/// Runs `--check-config` on `text`, expects exit code 78, and returns the `error:` line(s).
fn refused(text: &str) -> String {
    let (code, stdout, stderr) = check(text);
    assert_eq!(code, EXIT_CONFIG, "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stdout.contains("config OK"), "{stdout}");
    let error = stderr
        .find("error: ")
        .map(|at| stderr[at..].to_owned())
        .unwrap_or_else(|| panic!("no `error:` line in {stderr}"));
    assert!(error.contains("sales.toml"), "names the file: {error}");
    error
}

/// The bundled example config passes `--check-config` and says `config OK`.
#[test]
fn example_config_passes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let output = run_exporter(
        dir.path(),
        &["--config", example.to_str().unwrap(), "--check-config"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stdout.contains("config OK: SQLite database, 16 windows, 14 indicators, 4 targets"),
        "{stdout}"
    );
}

/// Malformed TOML is refused with the line and column of the fault.
#[test]
fn malformed_toml_names_line_and_column() {
    let bad = "listen_address = \"127.0.0.1:9745";
    let text = example_with("listen_address = \"127.0.0.1:9745\"", bad);
    let line = line_of(&text, bad);
    let error = refused(&text);
    assert!(
        error.contains(&format!("at line {line}, column ")),
        "{error}"
    );
    assert!(error.contains("invalid basic string"), "{error}");
}

/// An unknown key is refused, naming the key and its line.
#[test]
fn unknown_key_names_key_and_line() {
    let text = example_with(
        "max_connections = 2",
        "max_connections = 2\nmax_conections = 3",
    );
    let line = line_of(&text, "max_conections = 3");
    let error = refused(&text);
    assert!(error.contains("unknown field `max_conections`"), "{error}");
    assert!(
        error.contains(&format!("at line {line}, column 1")),
        "{error}"
    );
}

/// A value of the wrong type is refused, naming what was found and what was expected.
#[test]
fn wrong_type_is_refused() {
    let text = example_with("interval_secs = 60", "interval_secs = \"sixty\"");
    let line = line_of(&text, "interval_secs = \"sixty\"");
    let error = refused(&text);
    assert!(
        error.contains("invalid type: string \"sixty\", expected u64"),
        "{error}"
    );
    assert!(error.contains(&format!("at line {line}")), "{error}");
}

/// A config without the required `[opportunities]` section is refused, naming it.
#[test]
fn missing_required_section_is_named() {
    let cut = EXAMPLE.find("[opportunities]").expect("the section exists");
    let error = refused(&EXAMPLE[..cut]);
    assert!(error.contains("missing field `opportunities`"), "{error}");
}

/// An unknown indicator in `indicators.export` is refused, listing the known ones.
#[test]
fn unknown_indicator_is_refused() {
    let text = example_with(
        "  \"revenue\", \"opportunities_created\", \"opportunities_won\", \"opportunities_lost\",",
        "  \"revenue\", \"profit\",",
    );
    let error = refused(&text);
    assert!(
        error.contains("`indicators.export` names an unknown indicator \"profit\""),
        "{error}"
    );
    assert!(error.contains("known ones are revenue, "), "{error}");
}

/// An unknown business time zone is refused, naming the key and the zone.
#[test]
fn unknown_time_zone_is_refused() {
    let text = EXAMPLE.replacen(
        "# Business time zone: every window is computed in it, never in the server's zone.\n\
         time_zone = \"UTC\"",
        "time_zone = \"Europe/Atlantis\"",
        1,
    );
    assert_ne!(text, EXAMPLE);
    let error = refused(&text);
    assert!(
        error.contains("`calendar.time_zone` names an unknown time zone \"Europe/Atlantis\""),
        "{error}"
    );
}

/// Fiscal year start month 13 is refused with the allowed range.
#[test]
fn fiscal_month_13_is_refused() {
    let text = example_with(
        "fiscal_year_start_month = 1",
        "fiscal_year_start_month = 13",
    );
    let error = refused(&text);
    assert!(
        error.contains("`calendar.fiscal_year_start_month` must be a month from 1 to 12"),
        "{error}"
    );
}

/// A target for a period that is not exported is refused, listing the exported periods.
#[test]
fn target_for_unknown_period_is_refused() {
    let text = example_with("period = \"30d\"", "period = \"14d\"");
    let error = refused(&text);
    assert!(
        error.contains("`targets[1].period` is \"14d\"; exported periods are day, week, month, quarter, year, 7d, 30d, 90d"),
        "{error}"
    );
}

/// A `url` holding a password is refused and the secret is not echoed back.
#[test]
fn url_with_password_is_refused() {
    let text = example_with(
        "url = \"sqlite:sales_exporter-demo.sqlite\"",
        "url = \"postgres://sales:hunter2@db.example:5432/crm\"",
    );
    let error = refused(&text);
    assert!(
        error.contains("`database.url` holds a password; move the URL to `url_env` or `url_file`"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "the secret leaks: {error}");
}

/// A `url` with a user but no password is fine: only passwords are secrets.
#[test]
fn url_with_user_only_is_accepted() {
    let text = example_with(
        "url = \"sqlite:sales_exporter-demo.sqlite\"",
        "url = \"postgres://sales@db.example:5432/crm\"",
    );
    let config = Config::from_toml(&text, Path::new("sales.toml")).expect("accepted");
    assert_eq!(config.database.url, "postgres://sales@db.example:5432/crm");
}

/// `url_env` naming an unset variable is refused, naming the variable.
#[test]
fn url_env_unset_is_refused() {
    let text = example_with(
        "url = \"sqlite:sales_exporter-demo.sqlite\"",
        "url_env = \"SALES_EXPORTER_TEST_SURELY_UNSET\"",
    );
    let error = refused(&text);
    assert!(
        error.contains(
            "`database.url_env` names the environment variable \
             SALES_EXPORTER_TEST_SURELY_UNSET, which is not set"
        ),
        "{error}"
    );
}

/// `url_file` naming a missing file is refused, naming the file and the system's reason.
#[test]
fn url_file_missing_is_refused() {
    let text = example_with(
        "url = \"sqlite:sales_exporter-demo.sqlite\"",
        "url_file = \"/nonexistent/sales_exporter/database-url\"",
    );
    let error = refused(&text);
    assert!(
        error.contains(
            "`database.url_file` names /nonexistent/sales_exporter/database-url, \
             which cannot be read: No such file or directory"
        ),
        "{error}"
    );
}

/// `url_file` is read with its trailing newline ignored.
#[test]
fn url_file_is_read_and_trimmed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("database-url");
    std::fs::write(&secret, "postgres://sales:hunter2@db/crm\n").expect("secret written");
    let text = example_with(
        "url = \"sqlite:sales_exporter-demo.sqlite\"",
        &format!("url_file = \"{}\"", secret.display()),
    );
    let config = Config::from_toml(&text, Path::new("sales.toml")).expect("accepted");
    assert_eq!(config.database.url, "postgres://sales:hunter2@db/crm");
}

/// Exactly one of `url`, `url_env` and `url_file`: two, or none, are refused.
#[test]
fn exactly_one_database_url_source() {
    let message = "`database` needs exactly one of `url`, `url_env` or `url_file`";
    let both = example_with(
        "url = \"sqlite:sales_exporter-demo.sqlite\"",
        "url = \"sqlite:a.sqlite\"\nurl_env = \"PATH\"",
    );
    let error = refused(&both);
    assert!(error.contains(message), "{error}");

    let none = example_with("url = \"sqlite:sales_exporter-demo.sqlite\"", "");
    let error = refused(&none);
    assert!(error.contains(message), "{error}");
}

/// A config file that does not exist exits with 78 and names the path once.
#[test]
fn missing_config_file_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run_exporter(
        dir.path(),
        &["--config", "/nonexistent/sales.toml", "--check-config"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{stderr}");
    assert!(
        stderr.contains("error: cannot read config file /nonexistent/sales.toml: No such file"),
        "{stderr}"
    );
    let line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
}

/// A SQLite URL that names no file (in-memory, empty) is refused before any query runs.
#[test]
fn sqlite_url_without_a_file_is_refused() {
    for url in ["sqlite::memory:", "sqlite:", "sqlite://"] {
        let text = example_with(
            "url = \"sqlite:sales_exporter-demo.sqlite\"",
            &format!("url = \"{url}\""),
        );
        let error = refused(&text);
        assert!(
            error.contains("`database.url` names no SQLite file"),
            "{url}: {error}"
        );
    }
}

/// A target for an indicator that `indicators.export` leaves out is refused, as it could
/// never be compared with a value.
#[test]
fn target_for_an_unexported_indicator_is_refused() {
    let text = example_with(
        "  \"sales_cycle\", \"open_pipeline\",",
        "  \"open_pipeline\",",
    );
    let error = refused(&text.replace(
        "indicator = \"revenue\"\nperiod = \"month\"\nvalue = 400000",
        "indicator = \"sales_cycle\"\nperiod = \"month\"\nvalue = 400000",
    ));
    assert!(
        error.contains("is sales_cycle, which `indicators.export` leaves out"),
        "{error}"
    );
}

/// `indicators.scopes` names only company, team and rep, at least one; a target at a scope
/// it leaves out is refused with the target's key.
#[test]
fn scopes_are_checked() {
    let scopes = r#"scopes = ["company", "team", "rep"]"#;
    let error = refused(&example_with(scopes, r#"scopes = ["company", "region"]"#));
    assert!(error.contains("indicators.scopes"), "{error}");
    assert!(error.contains("\"region\""), "{error}");

    let error = refused(&example_with(scopes, r#"scopes = ["company"]"#));
    assert!(error.contains("targets[2].scope"), "{error}");
    assert!(error.contains("leaves out"), "{error}");

    let error = refused(&example_with(scopes, "scopes = []"));
    assert!(error.contains("indicators.scopes"), "{error}");
    assert!(error.contains("is empty"), "{error}");
}
