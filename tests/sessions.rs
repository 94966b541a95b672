//! Sessions on PostgreSQL and MariaDB: read-only, a query past the timeout cancelled on the
//! server while the last snapshot is served, TLS and URL options, passwords, binary strings.
//! These tests need `SALES_EXPORTER_TEST_DATABASES=1`.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor};

use common::awkward::{awkward_server, export, library_config};
use common::awkward_fixture::{self as awkward, Storage};
use common::db::{enabled, Server, TestDatabase};
use common::{run_once_at, write_config};
use sales_exporter::config::Config;
use sales_exporter::refresh::{Clock, RefreshError, Refresher};
use sales_exporter::source::{SalesSource, SourceError};

fn exposition_lines(refresher: &Refresher) -> (Vec<String>, Vec<String>) {
    let published = refresher.published();
    let published = published.read().expect("lock");
    let text = String::from_utf8(published.exposition.to_vec()).expect("utf-8");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .partition(|l| !l.starts_with("sales_exporter_"))
}

/// Statements still running in `db` that sleep, seen from another session.
async fn sleeping_statements(db: &TestDatabase) -> i64 {
    let sql = match db.server {
        Server::Postgres => format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{}' \
             AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
            db.name
        ),
        Server::MySql => format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{}' \
             AND INFO LIKE '%SLEEP(%' AND ID <> CONNECTION_ID()",
            db.name
        ),
    };
    db.scalar(&sql).await
}

/// A query past the timeout is cancelled on the server; the last snapshot is served.
#[tokio::test]
async fn slow_query_is_cancelled_on_the_server_and_the_last_snapshot_is_kept() {
    if !enabled() {
        return;
    }
    for server in Server::ALL {
        let db = awkward_server(server).await;
        let sleep = match server {
            Server::Postgres => "pg_sleep",
            Server::MySql => "SLEEP",
        };
        db.execute_all(&[
            "CREATE TABLE gate (seconds INTEGER)".to_owned(),
            "INSERT INTO gate VALUES (0)".to_owned(),
        ])
        .await;
        let query = format!(
            "SELECT o.* FROM opps_timestamp o CROSS JOIN gate g \
             WHERE {sleep}(g.seconds) IS NOT NULL"
        );
        let config = library_config(&db, &query);
        let source = SalesSource::connect_lazy(&config.database).expect("pool");
        let as_of = awkward::AS_OF.parse().expect("instant");
        let mut refresher =
            Refresher::new(Arc::clone(&config), source, Clock::Fixed(as_of)).expect("refresher");

        refresher.refresh().await.expect("first refresh");
        let (first, own) = exposition_lines(&refresher);
        assert!(first.len() > 100, "{server:?}: indicators published");
        assert!(own.contains(&"sales_exporter_refresh_success 1".to_owned()));

        db.execute_all(&["UPDATE gate SET seconds = 5".to_owned()])
            .await;
        let started = Instant::now();
        let Err(err) = refresher.refresh().await else {
            panic!("{server:?}: the second refresh must time out");
        };
        let elapsed = started.elapsed();
        assert!(
            matches!(&err, RefreshError::Source(e) if matches!(e.error, SourceError::Timeout { .. })),
            "{server:?}: {err}"
        );
        assert!(
            err.to_string().contains("query_timeout_secs (1 s)"),
            "{err}"
        );
        assert!(
            elapsed < Duration::from_secs(3),
            "{server:?}: took {elapsed:?}"
        );
        assert_eq!(
            sleeping_statements(&db).await,
            0,
            "{server:?}: still running"
        );

        let (second, own) = exposition_lines(&refresher);
        assert_eq!(first, second, "{server:?}: the last snapshot is kept");
        assert!(own.contains(&"sales_exporter_refresh_success 0".to_owned()));
        assert!(own
            .iter()
            .any(|l| l
                .starts_with("sales_exporter_refresh_errors_total{relation=\"opportunities\"} 1")));
    }
}

/// A mapped query that writes is refused by the read-only session, changing nothing.
#[tokio::test]
async fn writes_through_a_mapped_query_are_refused() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for server in Server::ALL {
        let db = awkward_server(server).await;
        // A write wrapped in a function, since a data-modifying WITH cannot be a subquery;
        // it deletes from another table, which MariaDB would refuse anyway (error 1442).
        let function = match server {
            Server::Postgres => {
                "CREATE FUNCTION wipe_opportunities() RETURNS INTEGER LANGUAGE sql VOLATILE \
                 AS 'DELETE FROM reps; SELECT 1'"
            }
            Server::MySql => {
                "CREATE FUNCTION wipe_opportunities() RETURNS INT MODIFIES SQL DATA \
                 BEGIN DELETE FROM reps; RETURN 1; END"
            }
        };
        db.execute_all(&[function.to_owned()]).await;
        let query = "SELECT o.* FROM opps_timestamp o WHERE wipe_opportunities() = 1";
        let config = awkward::config(&db.url, Storage::Timestamp, Some(query));
        let path = write_config(dir.path(), "write.toml", &config);
        let output = run_once_at(dir.path(), &path, awkward::AS_OF);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{server:?}: the write was refused"
        );
        assert!(
            stderr.contains("read-only transaction") || stderr.contains("READ ONLY"),
            "{server:?}: {stderr}"
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM reps").await,
            5,
            "{server:?}"
        );
    }
}

/// PostgreSQL URL options give a TLS session named by `application_name`.
#[tokio::test]
async fn postgres_url_options_give_a_named_tls_session() {
    if !enabled() {
        return;
    }
    let db = awkward_server(Server::Postgres).await;
    let url = format!(
        "{}?sslmode=require&application_name=sales_exporter_tls_test&connect_timeout=5",
        db.url
    );
    let text = awkward::config(&url, Storage::Timestamp, None);
    let config = Arc::new(Config::from_toml(&text, Path::new("tls.toml")).expect("config"));
    let source = SalesSource::connect_lazy(&config.database).expect("pool");
    let as_of = awkward::AS_OF.parse().expect("instant");
    let mut refresher =
        Refresher::new(Arc::clone(&config), source, Clock::Fixed(as_of)).expect("refresher");
    refresher.refresh().await.expect("refresh over TLS");
    let tls_sessions = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.datname = '{}' AND a.application_name = 'sales_exporter_tls_test' \
             AND s.ssl",
            db.name
        ))
        .await;
    assert!(tls_sessions >= 1, "no TLS session named by the URL");
}

/// On MariaDB, `password_env` supplies the password of a user whose URL holds none.
#[tokio::test]
async fn mariadb_password_comes_from_password_env() {
    if !enabled() {
        return;
    }
    let db = awkward_server(Server::MySql).await;
    let user = format!("u{}", &db.name[db.name.len() - 12..]);
    db.execute_all(&[
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-from-env'"),
        format!("GRANT SELECT ON {}.* TO '{user}'@'%'", db.name),
    ])
    .await;
    let _drop_user = DropUser(db.url.clone(), user.clone());
    let url = db.url.replacen("root@", &format!("{user}@"), 1);
    let variable = "SALES_EXPORTER_TEST_MARIADB_PASSWORD";
    std::env::set_var(variable, "pw-from-env");
    let text = awkward::config(&url, Storage::Timestamp, None).replace(
        "[database]\n",
        &format!("[database]\npassword_env = \"{variable}\"\n"),
    );
    let config = Arc::new(Config::from_toml(&text, Path::new("pw.toml")).expect("config"));
    let source = SalesSource::connect_lazy(&config.database).expect("pool");
    let as_of = awkward::AS_OF.parse().expect("instant");
    let mut refresher =
        Refresher::new(Arc::clone(&config), source, Clock::Fixed(as_of)).expect("refresher");
    refresher.refresh().await.expect("refresh as the new user");
}

/// Drops a MariaDB user when the test ends, however it ends.
struct DropUser(String, String);

impl Drop for DropUser {
    fn drop(&mut self) {
        let (url, user) = (self.0.clone(), self.1.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = sqlx::MySqlConnection::connect(&url).await.expect("connect");
                let _ = conn
                    .execute(format!("DROP USER '{user}'@'%'").as_str())
                    .await;
            });
        })
        .join();
    }
}

/// MariaDB columns in a binary character set (VARBINARY, BLOB) still decode as text.
#[tokio::test]
async fn mariadb_binary_strings_decode_as_text() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = awkward_server(Server::MySql).await;
    let config = awkward::config(&db.url, Storage::Timestamp, None).replace(
        "[reps]\ntable = \"reps\"",
        "[reps]\nquery = \"SELECT CAST(id AS BINARY) AS id, CAST(name AS BINARY) AS name, \
         CAST(team AS BINARY) AS team, active FROM reps\"",
    );
    assert!(config.contains("CAST(name AS BINARY)"));
    let samples = export(dir.path(), "binary", &config);
    let info = common::key(
        "sales_rep_info",
        &[("rep", "r3"), ("rep_name", "Bob Stone"), ("team", "South")],
    );
    assert_eq!(samples.get(&info), Some(&1.0));
}
