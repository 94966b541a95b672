//! Tests of the demo database: determinism, ordering of events, populated windows.

use super::*;
use sqlx::Row;

const NOW: &str = "2026-12-03T16:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

async fn demo_at(now: Timestamp) -> (tempfile::TempDir, PathBuf, DemoSummary) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    let summary = write_demo_database(&path, now).await.unwrap();
    (dir, path, summary)
}

async fn connect(path: &Path) -> SqliteConnection {
    let options = SqliteConnectOptions::new().filename(path);
    SqliteConnection::connect_with(&options).await.unwrap()
}

async fn count(conn: &mut SqliteConnection, rows: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {rows}");
    sqlx::query(&sql).fetch_one(conn).await.unwrap().get(0)
}

/// Won deals, lost deals and calls in `[start, end)`, each as the rest of a `FROM` clause.
fn won_lost_calls(start: &str, end: &str) -> [String; 3] {
    let within = |column| format!("{column} >= '{start}' AND {column} < '{end}'");
    [
        format!(
            "opportunities WHERE stage = 'closed_won' AND {}",
            within("closed_at")
        ),
        format!(
            "opportunities WHERE stage = 'closed_lost' AND {}",
            within("closed_at")
        ),
        format!(
            "activities WHERE kind = 'call' AND {}",
            within("occurred_at")
        ),
    ]
}

async fn dump(path: &Path) -> Vec<String> {
    let mut conn = connect(path).await;
    let mut rows = Vec::new();
    for (table, columns) in TABLES {
        let quoted: Vec<_> = columns.split(", ").map(|c| format!("quote({c})")).collect();
        let row = quoted.join(" || '|' || ");
        let sql = format!("SELECT {row} FROM {table} ORDER BY id");
        for row in sqlx::query(&sql).fetch_all(&mut conn).await.unwrap() {
            rows.push(format!("{table}|{}", row.get::<String, _>(0)));
        }
    }
    rows
}

/// The same `now` writes the same rows, byte for byte.
#[tokio::test]
async fn same_now_gives_identical_rows() {
    let (_first_dir, first, _) = demo_at(now()).await;
    let (_second_dir, second, _) = demo_at(now()).await;
    let (first, second) = (dump(&first).await, dump(&second).await);
    assert!(first.len() > 10_000, "{}", first.len());
    assert_eq!(first, second);
}

/// Every event is before now, closes follow creation, only open deals lack a close, and
/// linked activities fall in their deal's life and belong to its rep.
#[tokio::test]
async fn events_are_ordered_and_before_now() {
    let (_dir, path, _) = demo_at(now()).await;
    let mut conn = connect(&path).await;
    let now = "'2026-12-03 16:00:00'";
    let violations = [
        format!("opportunities WHERE created_at >= {now} OR closed_at >= {now}"),
        format!("activities WHERE occurred_at >= {now}"),
        format!("costs WHERE incurred_at >= {now}"),
        "opportunities WHERE closed_at < created_at".into(),
        "opportunities WHERE stage IN ('prospecting', 'negotiation') = (closed_at NOT NULL)".into(),
        "activities a JOIN opportunities o ON o.id = a.opportunity_id WHERE a.rep_id <> o.rep_id \
         OR a.occurred_at < o.created_at OR a.occurred_at > coalesce(o.closed_at, a.occurred_at)"
            .into(),
    ];
    for rows in violations {
        assert_eq!(count(&mut conn, &rows).await, 0, "{rows}");
    }
}

/// Today, the last 7 days and this month each hold won and lost deals and calls; the inactive
/// rep got no deal in the last 60 days; two rep ids share the name 'Alex Kim'.
#[tokio::test]
async fn current_windows_are_populated() {
    let (_dir, path, _) = demo_at(now()).await;
    let mut conn = connect(&path).await;
    for start in [
        "2026-12-03 00:00:00",
        "2026-11-26 16:00:00",
        "2026-12-01 00:00:00",
    ] {
        for rows in won_lost_calls(start, "2026-12-03 16:00:00") {
            assert!(count(&mut conn, &rows).await >= 2, "{rows}");
        }
    }
    assert_eq!(count(&mut conn, "reps WHERE active = 0").await, 1);
    let recent = "opportunities JOIN reps ON reps.id = rep_id \
                  WHERE active = 0 AND created_at >= '2026-10-04 16:00:00'";
    assert_eq!(count(&mut conn, recent).await, 0);
    let alex = "(SELECT DISTINCT id FROM reps WHERE name = 'Alex Kim')";
    assert_eq!(count(&mut conn, alex).await, 2);
}

/// A `now` a few seconds after midnight still gets won and lost deals and a call today.
#[tokio::test]
async fn early_now_squeezes_today_into_seconds() {
    let (_dir, path, _) = demo_at("2026-12-03T00:00:05Z".parse().unwrap()).await;
    let mut conn = connect(&path).await;
    for rows in won_lost_calls("2026-12-03 00:00:00", "2026-12-03 00:00:05") {
        assert!(count(&mut conn, &rows).await >= 1, "{rows}");
    }
}

/// Writing again into an existing file replaces the rows instead of adding to them.
#[tokio::test]
async fn rerun_replaces_existing_data() {
    let (_dir, path, first) = demo_at(now()).await;
    let second = write_demo_database(&path, now()).await.unwrap();
    assert_eq!(first, second);
    let mut conn = connect(&path).await;
    let opportunities = count(&mut conn, "opportunities").await;
    assert_eq!(opportunities as usize, first.opportunities);
    assert_eq!(count(&mut conn, "reps").await, 12);
}

/// A database the demo did not write is refused and left as it was: an operator's CRM
/// copy is never replaced by demo rows.
#[tokio::test]
async fn foreign_database_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.sqlite");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::raw_sql("CREATE TABLE reps (id TEXT); INSERT INTO reps VALUES ('mine');")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let error = write_demo_database(&path, now()).await.unwrap_err();
    assert!(
        matches!(&error, DemoError::NotADemo { tables, .. } if tables == "reps"),
        "{error}"
    );
    let mut conn = connect(&path).await;
    assert_eq!(count(&mut conn, "reps").await, 1);
}

/// A file that cannot be created gives an error naming the path and the failed step.
#[tokio::test]
async fn unwritable_path_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("demo.sqlite");
    let error = write_demo_database(&path, now()).await.unwrap_err();
    let expected = format!("cannot write demo database {}: open failed", path.display());
    assert!(error.to_string().starts_with(&expected), "{error}");
}

/// The customer base keeps growing: the last 30 days and the 30 before each see at least five
/// customers win their first deal, and the last 90 days at least fifteen.
#[tokio::test]
async fn new_customers_keep_coming() {
    let (_dir, path, _) = demo_at(now()).await;
    let mut conn = connect(&path).await;
    let first_wins = "(SELECT customer, min(closed_at) AS first_win FROM opportunities \
                      WHERE stage = 'closed_won' GROUP BY customer)";
    for (start, end, least) in [
        ("2026-11-03 16:00:00", "2026-12-03 16:00:00", 5),
        ("2026-10-04 16:00:00", "2026-11-03 16:00:00", 5),
        ("2026-09-04 16:00:00", "2026-12-03 16:00:00", 15),
    ] {
        let rows = format!("{first_wins} WHERE first_win >= '{start}' AND first_win < '{end}'");
        let new = count(&mut conn, &rows).await;
        assert!(new >= least, "{new} new customers in [{start}, {end})");
    }
}
