//! Reads the sales database: one aggregate query per relation, written in the backend's
//! dialect and run through sqlx's driver for that backend, never through the `Any` driver.

pub mod activities;
pub mod costs;
mod dialect;
pub mod opportunities;
pub mod reps;
pub mod rows;
pub mod sql;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{MySqlPool, PgPool, Row, SqlitePool};

pub use dialect::{Dialect, SqlParam};
pub use rows::SourceError;

use crate::calendar::Window;
use crate::config::DatabaseConfig;
use crate::model::{Relation, SalesModel};
use activities::ActivityGroup;
use costs::CostGroup;
use opportunities::OpportunityGroup;
use reps::Rep;
use rows::RowReader;
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
#[error("{source}")]
pub struct RelationError {
    /// The relation whose query failed.
    pub relation: Relation,
    /// What went wrong.
    #[source]
    pub source: SourceError,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// A connection pool to the sales database and the settings to query it.
#[derive(Debug, Clone)]
pub struct SalesSource {
    pool: Pool,
    config: DatabaseConfig,
}

impl SalesSource {
    /// Prepares a pool; connections are opened when the first query needs one, so the
    /// exporter starts (and reports not ready) while the database is down.
    ///
    /// # Errors
    ///
    /// A URL the driver cannot parse.
    pub fn connect_lazy(config: &DatabaseConfig) -> Result<SalesSource, SourceError> {
        let connect_error = |source| SourceError::Connect {
            backend: config.dialect.name(),
            source,
        };
        let acquire_timeout = config.query_timeout.min(Duration::from_secs(30));
        let pool = match config.dialect {
            Dialect::Sqlite => {
                let options = SqliteConnectOptions::from_str(&config.url)
                    .map_err(connect_error)?
                    .read_only(true);
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(config.max_connections)
                        .acquire_timeout(acquire_timeout)
                        .connect_lazy_with(options),
                )
            }
            Dialect::Postgres => {
                let options = PgConnectOptions::from_str(&config.url).map_err(connect_error)?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(config.max_connections)
                        .acquire_timeout(acquire_timeout)
                        .connect_lazy_with(options),
                )
            }
            Dialect::MySql => {
                let options = MySqlConnectOptions::from_str(&config.url).map_err(connect_error)?;
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(config.max_connections)
                        .acquire_timeout(acquire_timeout)
                        .connect_lazy_with(options),
                )
            }
        };
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
        let zone = &self.config.time_zone;
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
        let _ = zone;
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
        let fetch = async {
            match &self.pool {
                Pool::Sqlite(pool) => fetch_text_rows!(pool, query),
                Pool::Postgres(pool) => fetch_text_rows!(pool, query),
                Pool::MySql(pool) => fetch_text_rows!(pool, query),
            }
        };
        match tokio::time::timeout(timeout, fetch).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(source)) => Err(RelationError {
                relation,
                source: SourceError::Query { relation, source },
            }),
            Err(_) => Err(RelationError {
                relation,
                source: SourceError::Timeout {
                    relation,
                    seconds: timeout.as_secs(),
                },
            }),
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

fn in_relation(relation: Relation) -> impl Fn(SourceError) -> RelationError {
    move |source| RelationError { relation, source }
}

/// Binds `$query`'s parameters, runs it on `$pool` and reads every cell as optional text.
macro_rules! fetch_text_rows {
    ($pool:expr, $query:expr) => {{
        let mut statement = sqlx::query(&$query.sql);
        for param in &$query.params {
            statement = match param {
                SqlParam::Text(text) => statement.bind(text.clone()),
                SqlParam::Int(value) => statement.bind(*value),
            };
        }
        match statement.fetch_all($pool).await {
            Ok(rows) => rows
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|index| row.try_get::<Option<String>, _>(index))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, sqlx::Error>>(),
            Err(err) => Err(err),
        }
    }};
}
use fetch_text_rows;
