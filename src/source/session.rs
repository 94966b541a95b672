//! Opens the pool of each backend: connect options from the URL and the password, and a
//! session that is read-only and cancels any statement past the timeout on the server.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Executor, MySqlPool, PgPool, SqlitePool};

use super::dialect::Dialect;
use crate::config::DatabaseConfig;

/// The URL query parameter, as libpq spells it, that bounds opening a connection (seconds).
const CONNECT_TIMEOUT_PARAM: &str = "connect_timeout";

/// Longest wait for a connection when the URL sets no `connect_timeout`, unless the query
/// timeout is shorter.
const MAX_DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How much longer than the server the client waits before it abandons a query, so that
/// the server's cancellation normally comes first and the connection stays usable.
pub const CLIENT_TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// The session time zone on MySQL/MariaDB: TIMESTAMP columns are then read as UTC, which
/// is what makes them behave as `timestamptz`.
const MYSQL_SESSION_TIME_ZONE: &str = "+00:00";

/// A pool of one of the three backends.
#[derive(Debug, Clone)]
pub enum Pool {
    /// SQLite, opened read-only.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL or MariaDB.
    MySql(MySqlPool),
}

/// Moves sqlx's statement logs out of the way: every statement at TRACE, and a slow one
/// at DEBUG rather than WARN, which the exporter keeps for failed refreshes.
fn quiet<O: sqlx::ConnectOptions>(options: O) -> O {
    options
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Debug, std::time::Duration::from_secs(1))
}

/// Builds a lazy pool for `config`; nothing connects until the first query.
///
/// # Errors
///
/// A URL the driver cannot parse, or a `connect_timeout` that is not a number of seconds.
pub fn pool(config: &DatabaseConfig) -> Result<Pool, sqlx::Error> {
    let (url, connect_timeout) = split_connect_timeout(&config.url)?;
    let timeout = config.query_timeout;
    let acquire_timeout = connect_timeout.unwrap_or(timeout.min(MAX_DEFAULT_CONNECT_TIMEOUT));
    let password = config.password.as_ref().map(|p| p.expose().to_owned());
    Ok(match config.dialect {
        Dialect::Sqlite => {
            let options = quiet(SqliteConnectOptions::from_str(&url)?.read_only(true));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(config.max_connections)
                    .acquire_timeout(acquire_timeout)
                    .acquire_slow_level(log::LevelFilter::Debug)
                    .connect_lazy_with(options),
            )
        }
        Dialect::Postgres => {
            let mut options = quiet(PgConnectOptions::from_str(&url)?);
            if let Some(password) = &password {
                options = options.password(password);
            }
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(config.max_connections)
                    .acquire_timeout(acquire_timeout)
                    .acquire_slow_level(log::LevelFilter::Debug)
                    .after_connect(move |conn, _| Box::pin(prepare_postgres(conn, timeout)))
                    .connect_lazy_with(options),
            )
        }
        Dialect::MySql => {
            let mut options = quiet(MySqlConnectOptions::from_str(&url)?)
                .timezone(Some(MYSQL_SESSION_TIME_ZONE.to_owned()));
            if let Some(password) = &password {
                options = options.password(password);
            }
            Pool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(config.max_connections)
                    .acquire_timeout(acquire_timeout)
                    .acquire_slow_level(log::LevelFilter::Debug)
                    .after_connect(move |conn, _| Box::pin(prepare_mysql(conn, timeout)))
                    .connect_lazy_with(options),
            )
        }
    })
}

/// Makes a new PostgreSQL session read-only with a server-side statement timeout.
async fn prepare_postgres(conn: &mut PgConnection, timeout: Duration) -> Result<(), sqlx::Error> {
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .await?;
    let millis = timeout.as_millis();
    conn.execute(format!("SET statement_timeout = {millis}").as_str())
        .await?;
    tracing::debug!(
        statement_timeout_ms = millis as u64,
        "Prepared PostgreSQL session"
    );
    Ok(())
}

/// Makes a new MySQL/MariaDB session read-only with a server-side statement timeout:
/// MariaDB's `max_statement_time` is in seconds, MySQL's `max_execution_time` in ms.
async fn prepare_mysql(conn: &mut MySqlConnection, timeout: Duration) -> Result<(), sqlx::Error> {
    conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
    let version: String =
        sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR CHARACTER SET utf8mb4)")
            .fetch_one(&mut *conn)
            .await?;
    let mariadb = version.to_ascii_lowercase().contains("mariadb");
    let statement = if mariadb {
        format!("SET SESSION max_statement_time = {}", timeout.as_secs_f64())
    } else {
        format!("SET SESSION max_execution_time = {}", timeout.as_millis())
    };
    conn.execute(statement.as_str()).await?;
    tracing::debug!(version = %version, mariadb, "Prepared MySQL session");
    Ok(())
}

/// Removes `connect_timeout=SECONDS` from the URL's query, which sqlx does not read, and
/// returns it as the pool's acquire timeout.
fn split_connect_timeout(url: &str) -> Result<(String, Option<Duration>), sqlx::Error> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut timeout = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((CONNECT_TIMEOUT_PARAM, value)) => {
                let seconds: u64 = value.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    sqlx::Error::Configuration(
                        format!(
                            "{CONNECT_TIMEOUT_PARAM}={value} in the database URL is not a \
                             whole number of seconds above 0"
                        )
                        .into(),
                    )
                })?;
                timeout = Some(Duration::from_secs(seconds));
            }
            _ => kept.push(pair),
        }
    }
    let url = match kept.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", kept.join("&")),
    };
    Ok((url, timeout))
}

/// The file path of a `sqlite:` URL such as `sqlite:demo.sqlite` or `sqlite://demo.sqlite?mode=ro`.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `connect_timeout` is taken out of the URL and the other options are kept in order.
    #[test]
    fn connect_timeout_is_split_from_the_url() {
        let (url, timeout) =
            split_connect_timeout("postgres://u@h/db?sslmode=require&connect_timeout=5&x=1")
                .unwrap();
        assert_eq!(url, "postgres://u@h/db?sslmode=require&x=1");
        assert_eq!(timeout, Some(Duration::from_secs(5)));
        let (url, timeout) = split_connect_timeout("mysql://u@h/db").unwrap();
        assert_eq!((url.as_str(), timeout), ("mysql://u@h/db", None));
        assert!(split_connect_timeout("mysql://u@h/db?connect_timeout=soon").is_err());
    }
}
