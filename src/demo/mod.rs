//! Demo sales database: fifteen months of deterministic reps, opportunities, activities and costs,
//! dated relative to a given "now" so that every current and previous window has sensible numbers.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, QueryBuilder};

mod data;
#[cfg(test)]
mod tests;

use self::data::{
    plan,
    Cell::{Int, Null, Real, Text},
    Rows, TABLES,
};

/// How many rows of each table [`write_demo_database`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    /// Rows in `reps`.
    pub reps: usize,
    /// Rows in `opportunities`.
    pub opportunities: usize,
    /// Rows in `activities`.
    pub activities: usize,
    /// Rows in `costs`.
    pub costs: usize,
}

/// Why the demo database could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A statement against the database failed; `step` says which one.
    #[error("cannot write demo database {}: {step} failed: {source}", path.display())]
    Sql {
        /// The demo database file.
        path: PathBuf,
        /// The statement that failed.
        step: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The file holds tables that the demo did not write; they are left untouched.
    #[error(
        "refusing to write demo data into {}: it holds tables the demo did not write ({tables}); \
         point --demo at a new file",
        path.display()
    )]
    NotADemo {
        /// The database file.
        path: PathBuf,
        /// The tables found, comma-separated.
        tables: String,
    },
    /// `now` is too close to the limits of the calendar to hold fifteen months of history.
    #[error("cannot write demo database {}: no history fits before {now}: {source}", path.display())]
    Date {
        /// The demo database file.
        path: PathBuf,
        /// The instant the history ends at.
        now: Timestamp,
        /// The calendar arithmetic that overflowed.
        source: jiff::Error,
    },
}

/// Replaces (drops and recreates) the demo tables in the SQLite database at `path` (creating the
/// file if needed) with about fifteen months of sales data, every event strictly before `now`.
///
/// The same `now` always gives the same rows. All rows are written in one transaction.
pub async fn write_demo_database(path: &Path, now: Timestamp) -> Result<DemoSummary, DemoError> {
    let date = |source| DemoError::Date {
        path: path.to_path_buf(),
        now,
        source,
    };
    let tables = plan(now).map_err(date)?;
    let sql = |(step, source)| DemoError::Sql {
        path: path.to_path_buf(),
        step,
        source,
    };
    let foreign = foreign_tables(path).await.map_err(sql)?;
    if !foreign.is_empty() {
        let tables = foreign.join(", ");
        return Err(DemoError::NotADemo {
            path: path.to_path_buf(),
            tables,
        });
    }
    write(path, &tables).await.map_err(sql)?;
    let [reps, opportunities, activities, costs] = tables.each_ref().map(Vec::len);
    Ok(DemoSummary {
        reps,
        opportunities,
        activities,
        costs,
    })
}

type SqlFailure = (String, sqlx::Error);

fn step(step: impl Into<String>) -> impl FnOnce(sqlx::Error) -> SqlFailure {
    move |source| (step.into(), source)
}

/// The table that marks a file as written by the demo, so that a rerun may replace it.
const MARKER_TABLE: &str = "sales_exporter_demo";

/// The tables of an existing file at `path` that the demo did not write: all of them unless
/// the file carries the demo's marker table. A missing or empty file has none.
async fn foreign_tables(path: &Path) -> Result<Vec<String>, SqlFailure> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(step("open"))?;
    let listed = sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(step("list tables"))?;
    conn.close().await.map_err(step("close"))?;
    match listed.iter().any(|name| name == MARKER_TABLE) {
        true => Ok(Vec::new()),
        false => Ok(listed),
    }
}

const SCHEMA: &str = "
DROP TABLE IF EXISTS sales_exporter_demo;
CREATE TABLE sales_exporter_demo (note TEXT NOT NULL);
INSERT INTO sales_exporter_demo VALUES ('written by sales_exporter --demo; rerunning --demo replaces these tables');
DROP TABLE IF EXISTS reps;
DROP TABLE IF EXISTS opportunities;
DROP TABLE IF EXISTS activities;
DROP TABLE IF EXISTS costs;
CREATE TABLE reps (id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, active INTEGER NOT NULL);
CREATE TABLE opportunities (id INTEGER PRIMARY KEY, rep_id TEXT, customer TEXT, created_at TEXT NOT NULL, stage TEXT NOT NULL, closed_at TEXT, amount NUMERIC, probability REAL);
CREATE TABLE activities (id INTEGER PRIMARY KEY, rep_id TEXT NOT NULL, occurred_at TEXT NOT NULL, kind TEXT NOT NULL, opportunity_id INTEGER);
CREATE TABLE costs (id INTEGER PRIMARY KEY, incurred_at TEXT NOT NULL, category TEXT NOT NULL, amount NUMERIC NOT NULL, team TEXT);
CREATE INDEX opportunities_created_at ON opportunities (datetime(created_at));
CREATE INDEX opportunities_closed_at ON opportunities (datetime(closed_at));
CREATE INDEX opportunities_stage ON opportunities (stage);
CREATE INDEX opportunities_first_win ON opportunities (customer, stage, datetime(closed_at));
CREATE INDEX activities_occurred_at ON activities (datetime(occurred_at));
CREATE INDEX activities_opportunity ON activities (opportunity_id);
CREATE INDEX costs_incurred_at ON costs (datetime(incurred_at));
";

async fn write(path: &Path, tables: &[Rows; 4]) -> Result<(), SqlFailure> {
    let options = SqliteConnectOptions::new().filename(path);
    let options = options.create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(step("open"))?;
    let mut tx = conn.begin().await.map_err(step("begin transaction"))?;
    let schema = sqlx::raw_sql(SCHEMA).execute(&mut *tx).await;
    schema.map_err(step("create tables"))?;
    for ((name, columns), rows) in TABLES.iter().zip(tables) {
        insert(&mut tx, name, columns, rows).await?;
    }
    tx.commit().await.map_err(step("commit"))?;
    conn.close().await.map_err(step("close"))
}

const BATCH: usize = 200;

/// Inserts `rows` with one multi-row statement per [`BATCH`] rows, prepared once and cached.
async fn insert(
    conn: &mut SqliteConnection,
    name: &str,
    columns: &str,
    rows: &Rows,
) -> Result<(), SqlFailure> {
    for chunk in rows.chunks(BATCH) {
        let mut builder = QueryBuilder::new(format!("INSERT INTO {name} ({columns}) "));
        builder.push_values(chunk, |mut row, cells| {
            for cell in cells {
                match cell {
                    Int(value) => row.push_bind(*value),
                    Real(value) => row.push_bind(*value),
                    Text(value) => row.push_bind(value.as_str()),
                    Null => row.push_bind(None::<i64>),
                };
            }
        });
        let inserted = builder.build().execute(&mut *conn).await;
        inserted.map_err(step(format!("insert into {name}")))?;
    }
    Ok(())
}
