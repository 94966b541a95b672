//! Start-up and refresh failures with `--once` on a scratch SQLite database: each one exits
//! non-zero with a message naming the problem, never panics, and bad values are not guessed.

mod common;

use std::path::Path;

use common::{assert_no_panic, key, parse_exposition, run_exporter, sqlite_exec, write_config};

const AS_OF: &str = "2026-06-15T12:00:00Z";

const SCHEMA: &str = "
CREATE TABLE reps (id TEXT PRIMARY KEY, name TEXT, team TEXT, active);
CREATE TABLE opportunities (id INTEGER PRIMARY KEY, rep_id TEXT, customer TEXT,
    created_at TEXT, stage TEXT, closed_at TEXT, amount NUMERIC, probability REAL);
INSERT INTO reps VALUES ('r1', 'Ana', 'North', 1), ('r2', 'Ben', 'North', 1);
";

/// A config with only opportunities (and reps when `reps` is set) mapped, one calendar period
/// (month) and no rolling window. `source` is the `table = ...` or `query = ...` line.
fn config(database: &Path, source: &str, amount: &str, reps: bool) -> String {
    let reps = if reps {
        "[reps]\ntable = \"reps\"\n[reps.columns]\nid = \"id\"\nname = \"name\"\n\
         team = \"team\"\nactive = \"active\"\n"
    } else {
        ""
    };
    format!(
        r#"[database]
url = "sqlite:{database}"

[calendar]
periods = ["month"]
rolling_days = []

[opportunities]
{source}

[opportunities.columns]
id = "id"
rep = "rep_id"
created_at = "created_at"
status = "stage"
closed_at = "closed_at"
amount = {amount}
customer = "customer"
probability = "probability"

[opportunities.status]
open = ["prospecting"]
won = ["closed_won"]
lost = ["closed_lost"]

{reps}"#,
        database = database.display(),
        amount = toml_string(amount),
    )
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Writes `config_text` next to the database and runs `--once` at [`AS_OF`].
fn run_once(dir: &Path, config_text: &str) -> Run {
    let path = write_config(dir, "sales.toml", config_text);
    let output = run_exporter(
        dir,
        &[
            "--config",
            &path,
            "--once",
            "--as-of",
            AS_OF,
            "--log-level",
            "off",
        ],
    );
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_no_panic(&run.stderr);
    run
}

/// Runs `--once`, expects exit code 1 and nothing on stdout, and returns the `error:` line.
fn failure(dir: &Path, config_text: &str) -> String {
    let run = run_once(dir, config_text);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "no exposition on failure: {}",
        run.stdout
    );
    run.stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in {}", run.stderr))
        .to_owned()
}

/// A scratch database holding [`SCHEMA`] and `rows`, in a fresh temp dir.
async fn scratch(rows: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("sales.sqlite");
    sqlite_exec(&database, &format!("{SCHEMA}{rows}")).await;
    (dir, database)
}

const TABLE: &str = "table = \"opportunities\"";

/// A database file that does not exist fails the refresh, naming the file and the key to fix;
/// it is not created (the session is read-only).
#[test]
fn missing_database_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("nowhere.sqlite");
    let error = failure(dir.path(), &config(&database, TABLE, "amount", false));
    assert!(
        error.contains(&format!(
            "the opportunities query cannot open the SQLite database {}: the file does not exist; \
             check `database.url`",
            database.display()
        )),
        "{error}"
    );
    assert!(!database.exists(), "the exporter created the database file");
}

/// A mapped table that does not exist fails the refresh, naming the relation and the table.
#[tokio::test]
async fn missing_table_is_named() {
    let (dir, database) = scratch("").await;
    let source = "table = \"deals\"";
    let error = failure(dir.path(), &config(&database, source, "amount", false));
    assert!(
        error.contains("the opportunities query failed: ")
            && error.contains("no such table: deals"),
        "{error}"
    );
    assert!(
        error.contains("check the mapping of `opportunities`"),
        "{error}"
    );
}

/// A mapped column that does not exist fails the refresh, naming the column.
#[tokio::test]
async fn missing_column_is_named() {
    let (dir, database) = scratch("").await;
    let error = failure(dir.path(), &config(&database, TABLE, "value_eur", false));
    assert!(
        error.contains("the opportunities query failed: ")
            && error.contains("no such column: m.value_eur"),
        "{error}"
    );
}

/// A mapped `query` with a syntax error fails the refresh with the database's syntax message.
#[tokio::test]
async fn query_syntax_error_is_reported() {
    let (dir, database) = scratch("").await;
    let source = "query = \"SELEC * FROM opportunities\"";
    let error = failure(dir.path(), &config(&database, source, "amount", false));
    assert!(
        error.contains("the opportunities query failed: ") && error.contains("syntax error"),
        "{error}"
    );
}

/// A mapped `query` that prepares but fails while it runs (integer overflow) fails the
/// refresh with the database's message.
#[tokio::test]
async fn query_failing_at_run_time_is_reported() {
    let rows = "INSERT INTO opportunities VALUES
        (1, 'r1', 'Acme', '2026-06-01 10:00:00', 'closed_won', '2026-06-02 10:00:00', 10, 1);";
    let (dir, database) = scratch(rows).await;
    let source =
        "query = \"SELECT *, abs(id - 9223372036854775807 - 2) AS boom FROM opportunities \
                  WHERE abs(id - 9223372036854775807 - 2) > 0\"";
    let error = failure(dir.path(), &config(&database, source, "amount", false));
    assert!(
        error.contains("the opportunities query failed: ") && error.contains("integer overflow"),
        "{error}"
    );
}

/// Text in the amount column (SQLite stores anything) fails the refresh, naming the relation,
/// the column and how many rows.
#[tokio::test]
async fn non_numeric_amount_fails_the_refresh() {
    let rows = "INSERT INTO opportunities VALUES
        (1, 'r1', 'Acme', '2026-06-01 10:00:00', 'closed_won', '2026-06-02 10:00:00', 'lots', 1),
        (2, 'r1', 'Acme', '2026-06-01 10:00:00', 'closed_won', '2026-06-03 10:00:00', 20, 1);";
    let (dir, database) = scratch(rows).await;
    let error = failure(dir.path(), &config(&database, TABLE, "amount", false));
    assert!(
        error.contains("1 rows of opportunities hold a value in `opportunities.columns.amount` that is not a number"),
        "{error}"
    );
}

/// An active flag that is neither true nor false fails the refresh, naming the value.
#[tokio::test]
async fn active_flag_neither_true_nor_false_fails() {
    let rows = "INSERT INTO reps VALUES ('r3', 'Cleo', 'South', 'maybe');";
    let (dir, database) = scratch(rows).await;
    let error = failure(dir.path(), &config(&database, TABLE, "amount", true));
    assert!(
        error.contains(
            "reps holds \"maybe\" in `active`, which is neither true nor false (use 1/0, true/false, yes/no)"
        ),
        "{error}"
    );
}

/// Status values missing from the mapping are counted in
/// `sales_exporter_unmapped_value_rows` and folded into none of won, lost or open.
#[tokio::test]
async fn unmapped_status_is_counted_not_guessed() {
    // Month current is [2026-06-01, 2026-06-15T12:00), month previous is May.
    let rows = "INSERT INTO opportunities VALUES
        (1, 'r1', 'Acme', '2026-05-20 10:00:00', 'closed_won',  '2026-06-10 10:00:00', 100, 1),
        (2, 'r1', 'Bolt', '2026-05-20 10:00:00', 'closed_won',  '2026-06-12 10:00:00', 50, 1),
        (3, 'r2', 'Acme', '2026-05-20 10:00:00', 'closed_lost', '2026-06-11 10:00:00', 70, 0),
        (4, 'r2', 'Core', '2026-05-20 10:00:00', 'Closed Won',  '2026-06-11 10:00:00', 1000, 1),
        (5, 'r1', 'Core', '2026-06-14 10:00:00', 'on_hold',     NULL, 7, 0.5),
        (6, 'r2', 'Dune', '2026-06-01 10:00:00', 'prospecting', NULL, 30, 0.1),
        (7, 'r1', 'Dune', '2026-05-02 10:00:00', 'on_hold',     NULL, 9, 0.5);";
    let (dir, database) = scratch(rows).await;
    let run = run_once(dir.path(), &config(&database, TABLE, "amount", true));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let samples = parse_exposition(&run.stdout);
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        samples.get(&key(name, labels)).copied()
    };
    let month = |window| [("period", "month"), ("window", window)];

    let unmapped = [("column", "status"), ("relation", "opportunities")];
    assert_eq!(
        value("sales_exporter_unmapped_value_rows", &unmapped),
        Some(3.0)
    );
    assert_eq!(value("sales_exporter_refresh_success", &[]), Some(1.0));

    // Only rows 1-3 and 6 count: won 2 (150), lost 1, open 1 (30).
    let current = month("current");
    assert_eq!(
        value("sales_company_opportunities_won", &current),
        Some(2.0)
    );
    assert_eq!(
        value("sales_company_opportunities_lost", &current),
        Some(1.0)
    );
    assert_eq!(value("sales_company_revenue", &current), Some(150.0));
    assert_eq!(
        value("sales_company_conversion_ratio", &current),
        Some(2.0 / 3.0)
    );
    assert_eq!(
        value("sales_company_opportunities_created", &current),
        Some(1.0)
    );
    assert_eq!(
        value("sales_company_open_pipeline_opportunities", &[]),
        Some(1.0)
    );
    assert_eq!(value("sales_company_open_pipeline_amount", &[]), Some(30.0));
    assert_eq!(
        value("sales_company_open_pipeline_weighted_amount", &[]),
        Some(3.0)
    );
    let previous = month("previous");
    assert_eq!(
        value("sales_company_opportunities_created", &previous),
        Some(3.0)
    );
    let r2 = [
        ("rep", "r2"),
        ("team", "North"),
        ("period", "month"),
        ("window", "current"),
    ];
    assert_eq!(value("sales_rep_revenue", &r2), Some(0.0));
    assert_eq!(value("sales_rep_opportunities_won", &r2), Some(0.0));
    assert_eq!(value("sales_rep_opportunities_lost", &r2), Some(1.0));
}

/// A mapped column name holding a quote and SQL is quoted as an identifier, never run: the
/// error names the whole odd column and the table it tried to drop still exists.
#[tokio::test]
async fn column_name_with_sql_is_quoted_not_executed() {
    let rows = "CREATE TABLE x (keep INTEGER); INSERT INTO x VALUES (42);";
    let (dir, database) = scratch(rows).await;
    let evil = "amount\"; DROP TABLE x; --";
    let error = failure(dir.path(), &config(&database, TABLE, evil, false));
    assert!(
        error.contains("no such column: m.amount\"; DROP TABLE x; --"),
        "{error}"
    );

    use sqlx::{Connection, Row};
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&database);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("the scratch database opens");
    let kept: i64 = sqlx::query("SELECT keep FROM x")
        .fetch_one(&mut conn)
        .await
        .expect("table x still exists")
        .get(0);
    assert_eq!(kept, 42);
}
