//! Loads the public "CRM Sales Opportunities" CSV export into a SQLite database that
//! `examples/crm/crm.toml` maps: `cargo run --example load_crm -- CSV_DIR OUT.sqlite`.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

/// Creates (or replaces) the `sales_pipeline` and `sales_teams` tables in `database` from
/// the CSV files in `csv_dir`; empty CSV fields become NULL.
///
/// # Errors
///
/// A missing or malformed CSV file, or a database that cannot be written.
pub async fn load_crm(
    csv_dir: &Path,
    database: &Path,
) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(true);
    let mut connection = SqliteConnection::connect_with(&options).await?;
    let mut tx = connection.begin().await?;
    for statement in [
        "DROP TABLE IF EXISTS sales_pipeline",
        "DROP TABLE IF EXISTS sales_teams",
        "CREATE TABLE sales_pipeline (opportunity_id TEXT PRIMARY KEY, sales_agent TEXT, \
         product TEXT, account TEXT, deal_stage TEXT, engage_date TEXT, close_date TEXT, \
         close_value INTEGER)",
        "CREATE TABLE sales_teams (sales_agent TEXT PRIMARY KEY, manager TEXT, regional_office TEXT)",
        "CREATE INDEX sales_pipeline_engage_date ON sales_pipeline (engage_date)",
        "CREATE INDEX sales_pipeline_close_date ON sales_pipeline (close_date)",
    ] {
        sqlx::query(statement).execute(&mut *tx).await?;
    }

    let mut opportunities = 0;
    let mut reader = csv::Reader::from_path(csv_dir.join("sales_pipeline.csv"))?;
    for record in reader.records() {
        let record = record?;
        let field = |index: usize| record.get(index).filter(|value| !value.is_empty());
        let close_value: Option<i64> = field(7).map(str::parse).transpose()?;
        sqlx::query("INSERT INTO sales_pipeline VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(field(0))
            .bind(field(1))
            .bind(field(2))
            .bind(field(3))
            .bind(field(4))
            .bind(field(5))
            .bind(field(6))
            .bind(close_value)
            .execute(&mut *tx)
            .await?;
        opportunities += 1;
    }

    let mut reps = 0;
    let mut reader = csv::Reader::from_path(csv_dir.join("sales_teams.csv"))?;
    for record in reader.records() {
        let record = record?;
        sqlx::query("INSERT INTO sales_teams VALUES (?, ?, ?)")
            .bind(record.get(0))
            .bind(record.get(1))
            .bind(record.get(2))
            .execute(&mut *tx)
            .await?;
        reps += 1;
    }
    tx.commit().await?;
    connection.close().await?;
    Ok((opportunities, reps))
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, csv_dir, database] = args.as_slice() else {
        return Err("usage: load_crm CSV_DIR OUT.sqlite (CSV_DIR holds sales_pipeline.csv and sales_teams.csv)".into());
    };
    let (opportunities, reps) = load_crm(Path::new(csv_dir), Path::new(database)).await?;
    println!("loaded {opportunities} opportunities and {reps} reps into {database}");
    Ok(())
}
