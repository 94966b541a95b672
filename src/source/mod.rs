//! Reads the sales database: one aggregate query per relation, written in the backend's
//! dialect and run through sqlx's driver for that backend, never through the `Any` driver.

pub mod activities;
pub mod costs;
mod dialect;
pub mod opportunities;
pub mod reps;
pub mod rows;
mod session;
pub mod sql;

use std::collections::BTreeMap;

use sqlx::Row;

pub use dialect::{Dialect, SqlParam};
pub use rows::SourceError;
pub use session::sqlite_path;

use crate::calendar::Window;
use crate::config::DatabaseConfig;
use crate::model::{Relation, SalesModel};
use activities::ActivityGroup;
use costs::CostGroup;
use opportunities::OpportunityGroup;
use reps::Rep;
use rows::RowReader;
use session::{Pool, CLIENT_TIMEOUT_GRACE};
use sql::{Query, QueryBuilder};

/// Everything one refresh read from the database, already aggregated by it.
#[derive(Debug, Clone, Default)]
pub struct SalesData {
    /// The reps relation, when mapped.
    pub reps: Option<Vec<Rep>>,
    /// Opportunity sums per (rep, customer).
    pub opportunities: Vec<OpportunityGroup>,
    /// Call sums per (rep, opportunity rep), when activities are mapped.
    pub activities: Option<Vec<ActivityGroup>>,
    /// Cost sums per team, when costs are mapped.
    pub costs: Option<Vec<CostGroup>>,
    /// Result rows read per relation.
    pub rows_read: BTreeMap<Relation, u64>,
}

/// A failed refresh query and the relation it was for.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RelationError {
    /// The relation whose query failed.
    pub relation: Relation,
    /// What went wrong; its message is this error's whole message.
    pub error: SourceError,
}

/// A connection pool to the sales database and the settings to query it.
#[derive(Debug, Clone)]
pub struct SalesSource {
    pool: Pool,
    config: DatabaseConfig,
}

impl SalesSource {
    /// Prepares a pool; connections are opened when the first query needs one, so the
    /// exporter starts (and reports not ready) while the database is down. PostgreSQL and
    /// MySQL sessions are read-only and cancel a statement past the query timeout on the
    /// server.
    ///
    /// # Errors
    ///
    /// A URL the driver cannot parse.
    pub fn connect_lazy(config: &DatabaseConfig) -> Result<SalesSource, SourceError> {
        let pool = session::pool(config).map_err(|cause| SourceError::Connect {
            backend: config.dialect.name(),
            cause,
        })?;
        Ok(SalesSource {
            pool,
            config: config.clone(),
        })
    }

    /// Runs the aggregate query of every mapped relation for `windows`.
    ///
    /// # Errors
    ///
    /// The first relation whose query fails or returns values that do not decode.
    pub async fn read(
        &self,
        model: &SalesModel,
        windows: &[Window],
    ) -> Result<SalesData, RelationError> {
        let dialect = self.config.dialect;
        let reader = RowReader::new(dialect);
        let count = windows.len();
        let mut data = SalesData::default();

        if let Some(mapping) = &model.reps {
            let rows = self
                .relation_rows(Relation::Reps, |b| reps::query(mapping, b))
                .await?;
            data.rows_read.insert(Relation::Reps, rows.len() as u64);
            data.reps = Some(reps::decode(&rows, &reader).map_err(in_relation(Relation::Reps))?);
        }

        let rows = self
            .relation_rows(Relation::Opportunities, |b| {
                opportunities::query(&model.opportunities, windows, b)
            })
            .await?;
        data.rows_read
            .insert(Relation::Opportunities, rows.len() as u64);
        data.opportunities = opportunities::decode(&rows, count, &reader)
            .map_err(in_relation(Relation::Opportunities))?;

        if let Some(mapping) = &model.activities {
            let rows = self
                .relation_rows(Relation::Activities, |b| {
                    activities::query(mapping, &model.opportunities, windows, b)
                })
                .await?;
            data.rows_read
                .insert(Relation::Activities, rows.len() as u64);
            data.activities = Some(
                activities::decode(&rows, count, &reader)
                    .map_err(in_relation(Relation::Activities))?,
            );
        }

        if let Some(mapping) = &model.costs {
            let rows = self
                .relation_rows(Relation::Costs, |b| costs::query(mapping, windows, b))
                .await?;
            data.rows_read.insert(Relation::Costs, rows.len() as u64);
            data.costs =
                Some(costs::decode(&rows, count, &reader).map_err(in_relation(Relation::Costs))?);
        }
        Ok(data)
    }

    /// The SQL and parameters a relation's query would run with, for logs and tests.
    pub fn build_query(&self, build: impl FnOnce(&mut QueryBuilder) -> String) -> Query {
        let mut builder = QueryBuilder::new(self.config.dialect, &self.config.time_zone);
        let sql = build(&mut builder);
        builder.finish(&sql)
    }

    async fn relation_rows(
        &self,
        relation: Relation,
        build: impl FnOnce(&mut QueryBuilder) -> String,
    ) -> Result<Vec<Vec<Option<String>>>, RelationError> {
        let query = self.build_query(build);
        tracing::trace!(relation = %relation, sql = %query.sql, "Running aggregate query");
        let timeout = self.config.query_timeout;
        // The server cancels first; the client gives up a little later in case the server
        // cannot answer at all (SQLite has no server, so it gets no grace).
        let client_timeout = match self.config.dialect {
            Dialect::Sqlite => timeout,
            Dialect::Postgres | Dialect::MySql => timeout + CLIENT_TIMEOUT_GRACE,
        };
        let timed_out = || RelationError {
            relation,
            error: SourceError::Timeout {
                relation,
                seconds: timeout.as_secs(),
            },
        };
        let fetched = match &self.pool {
            Pool::Sqlite(pool) => fetch_text_rows!(pool, query, client_timeout),
            Pool::Postgres(pool) => fetch_text_rows!(pool, query, client_timeout),
            Pool::MySql(pool) => fetch_text_rows!(pool, query, client_timeout),
        };
        match fetched {
            Fetched::Rows(rows) => Ok(rows),
            Fetched::NoConnection(cause) => Err(RelationError {
                relation,
                error: SourceError::Connect {
                    backend: self.config.dialect.name(),
                    cause,
                },
            }),
            Fetched::Failed(source) if is_server_timeout(&source) => Err(timed_out()),
            Fetched::Failed(cause) => Err(RelationError {
                relation,
                error: SourceError::Query { relation, cause },
            }),
            Fetched::TimedOut => Err(timed_out()),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
            Pool::MySql(pool) => pool.close().await,
        }
    }
}

/// Whether the server cancelled the statement for running past its timeout: PostgreSQL's
/// query_canceled (57014), MariaDB's ER_STATEMENT_TIMEOUT (1969), MySQL's
/// ER_QUERY_TIMEOUT (3024).
fn is_server_timeout(err: &sqlx::Error) -> bool {
    let Some(db) = err.as_database_error() else {
        return false;
    };
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return matches!(mysql.number(), 1969 | 3024);
    }
    db.code().as_deref() == Some("57014")
}

fn in_relation(relation: Relation) -> impl Fn(SourceError) -> RelationError {
    move |error| RelationError { relation, error }
}

/// How one query ended, from taking a connection to decoding the rows.
enum Fetched {
    /// Every row, every cell as optional text.
    Rows(Vec<Vec<Option<String>>>),
    /// No connection within the connect timeout.
    NoConnection(sqlx::Error),
    /// The server refused or failed the query, or a cell did not decode.
    Failed(sqlx::Error),
    /// The client stopped waiting.
    TimedOut,
}

/// Takes a connection from `$pool` (bounded by the connect timeout), then binds `$query`'s
/// parameters and runs it within `$timeout`, reading every cell as optional text.
macro_rules! fetch_text_rows {
    ($pool:expr, $query:expr, $timeout:expr) => {{
        match $pool.acquire().await {
            Err(err) => Fetched::NoConnection(err),
            Ok(mut connection) => {
                let mut statement = sqlx::query(&$query.sql);
                for param in &$query.params {
                    statement = match param {
                        SqlParam::Text(text) => statement.bind(text.clone()),
                        SqlParam::Int(value) => statement.bind(*value),
                    };
                }
                match tokio::time::timeout($timeout, statement.fetch_all(&mut *connection)).await {
                    Err(_) => Fetched::TimedOut,
                    Ok(Err(err)) => Fetched::Failed(err),
                    Ok(Ok(rows)) => rows
                        .iter()
                        .map(|row| {
                            (0..row.len())
                                .map(|index| text_cell(row, index))
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()
                        .map_or_else(Fetched::Failed, Fetched::Rows),
                }
            }
        }
    }};
}
use fetch_text_rows;

/// Reads a cell as text. A server may label a cast to text as binary (MySQL does with a
/// binary collation), so UTF-8 bytes are accepted too.
fn text_cell<R>(row: &R, index: usize) -> Result<Option<String>, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row.try_get::<Option<String>, _>(index) {
        Ok(text) => Ok(text),
        Err(err @ sqlx::Error::ColumnDecode { .. }) => {
            match row.try_get::<Option<Vec<u8>>, _>(index) {
                Ok(bytes) => bytes.map(String::from_utf8).transpose().map_err(|utf8| {
                    sqlx::Error::ColumnDecode {
                        index: index.to_string(),
                        source: Box::new(utf8),
                    }
                }),
                Err(_) => Err(err),
            }
        }
        Err(err) => Err(err),
    }
}
