//! The exporter on SQLite, PostgreSQL and MariaDB with the same data: the awkward fixture
//! and the CRM dataset give the same series everywhere, and the values worked out by hand.
//! The server tests need `SALES_EXPORTER_TEST_DATABASES=1`.

mod common;

use std::path::Path;

use common::awkward::{assert_hand_worked, assert_same, awkward_server, awkward_sqlite, export};
use common::awkward_fixture::{self as awkward, Storage};
use common::db::{enabled, Server, TestDatabase};
use common::{run_once_at, write_config};

/// On SQLite the awkward fixture gives the hand-worked values for every time type.
#[tokio::test]
async fn awkward_fixture_on_sqlite_gives_the_hand_worked_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = awkward_sqlite(dir.path()).await;
    let reference = export(
        dir.path(),
        "ts",
        &awkward::config(&url, Storage::Timestamp, None),
    );
    assert_hand_worked("sqlite timestamp", "timestamp", &reference);
    for storage in [Storage::Text, Storage::TimestampTz, Storage::Unix] {
        let samples = export(dir.path(), "other", &awkward::config(&url, storage, None));
        assert_same(&format!("sqlite {storage:?}"), &reference, &samples);
    }
    let dates = export(
        dir.path(),
        "date",
        &awkward::config(&url, Storage::Date, None),
    );
    assert_hand_worked("sqlite date", "date", &dates);
}

/// SQLite, PostgreSQL and MariaDB export identical series from the awkward fixture.
#[tokio::test]
async fn awkward_fixture_is_identical_on_every_backend() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = awkward_sqlite(dir.path()).await;
    let postgres = awkward_server(Server::Postgres).await;
    let mysql = awkward_server(Server::MySql).await;
    for storage in Storage::ALL {
        let reference = export(
            dir.path(),
            "sqlite",
            &awkward::config(&sqlite, storage, None),
        );
        for db in [&postgres, &mysql] {
            let samples = export(
                dir.path(),
                "server",
                &awkward::config(&db.url, storage, None),
            );
            assert_same(
                &format!("{:?} {storage:?}", db.server),
                &reference,
                &samples,
            );
        }
        match storage {
            Storage::Timestamp => assert_hand_worked("all", "timestamp", &reference),
            Storage::Date => assert_hand_worked("all", "date", &reference),
            _ => {}
        }
    }
}

/// The CRM dataset in PostgreSQL and MariaDB (DATE columns) matches the oracle.
#[tokio::test]
async fn crm_dataset_matches_the_oracle_on_postgres_and_mariadb() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/crm/crm.toml"),
    )
    .expect("crm.toml");
    assert!(template.contains("url = \"sqlite:crm.sqlite\""));
    for server in Server::ALL {
        let db = TestDatabase::create(server, "crm").await;
        db.execute_all(&crm_statements()).await;
        assert_eq!(db.scalar("SELECT COUNT(*) FROM sales_pipeline").await, 8800);
        let config = template.replace("sqlite:crm.sqlite", &db.url);
        let path = write_config(dir.path(), "crm.toml", &config);
        let output = run_once_at(dir.path(), &path, common::crm::AS_OF);
        assert!(
            output.status.success(),
            "{server:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        common::crm::check_against_oracle(&String::from_utf8(output.stdout).expect("utf-8"));
    }
}

/// The CRM CSV files as portable SQL: DATE columns, indexes on both dates, and multi-row
/// inserts; empty fields become NULL.
fn crm_statements() -> Vec<String> {
    let fixtures = common::crm::fixtures();
    let mut sql = vec![
        "CREATE TABLE sales_pipeline (opportunity_id VARCHAR(16) PRIMARY KEY, \
         sales_agent VARCHAR(64), product VARCHAR(64), account VARCHAR(64), \
         deal_stage VARCHAR(16), engage_date DATE, close_date DATE, close_value BIGINT)"
            .to_owned(),
        "CREATE TABLE sales_teams (sales_agent VARCHAR(64) PRIMARY KEY, manager VARCHAR(64), \
         regional_office VARCHAR(64))"
            .to_owned(),
        "CREATE INDEX sales_pipeline_engage_date ON sales_pipeline (engage_date)".to_owned(),
        "CREATE INDEX sales_pipeline_close_date ON sales_pipeline (close_date)".to_owned(),
    ];
    for (file, table) in [
        ("sales_pipeline.csv", "sales_pipeline"),
        ("sales_teams.csv", "sales_teams"),
    ] {
        let mut reader = csv::Reader::from_path(fixtures.join(file)).expect("csv");
        let rows: Vec<String> = reader
            .records()
            .map(|record| {
                let record = record.expect("csv row");
                let values: Vec<String> = record
                    .iter()
                    .map(|field| match field {
                        "" => "NULL".to_owned(),
                        field => format!("'{}'", field.replace('\'', "''")),
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        for chunk in rows.chunks(500) {
            sql.push(format!("INSERT INTO {table} VALUES {}", chunk.join(", ")));
        }
    }
    sql
}

/// On PostgreSQL an integer opportunity reference is matched with the integer id by the
/// server's own `=`, a text one through text casts, and both give the hand-worked values.
#[tokio::test]
async fn postgres_matches_opportunity_references_of_either_type() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = awkward_server(Server::Postgres).await;
    let config = awkward::config(&db.url, Storage::Timestamp, None);
    let config_path = write_config(dir.path(), "pg.toml", &config);
    let join = |label: &str| {
        let output = common::run_exporter(
            dir.path(),
            &[
                "--config",
                &config_path,
                "--print-sql",
                "--as-of",
                awkward::AS_OF,
            ],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let block = stdout
            .split("-- activities (calls on closed opportunities)\n")
            .nth(1)
            .expect("the statement of the calls on closed opportunities");
        let start = block.find(" ON ").expect("a join") + 4;
        let end = start
            + block[start..]
                .find(" WHERE ")
                .expect("a WHERE after the join");
        block[start..end].to_owned()
    };

    // The fixture stores the reference as text and the id as an integer.
    assert_eq!(
        join("text reference"),
        r#"CAST(a."opportunity" AS TEXT) = CAST(o."id" AS TEXT)"#
    );
    let as_text = export(dir.path(), "text", &config);
    assert_hand_worked("all", "timestamp", &as_text);

    db.execute_all(&[
        "ALTER TABLE activities ALTER COLUMN opportunity TYPE bigint USING CAST(opportunity AS bigint)"
            .to_owned(),
    ])
    .await;
    assert_eq!(join("integer reference"), r#"a."opportunity" = o."id""#);
    let native = export(dir.path(), "native", &config);
    assert_same("integer reference", &as_text, &native);
}
