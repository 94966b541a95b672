//! Reads the sales database: one or two aggregate queries per relation, in the backend's
//! dialect, run through sqlx's driver for that backend, never through the `Any` driver.

pub mod activities;
pub mod costs;
mod dialect;
pub mod opportunities;
mod opportunity_match;
pub mod reps;
pub mod rows;
mod session;
pub mod sql;

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::Row;
use tokio::sync::Semaphore;

pub use dialect::{Dialect, SqlParam};
pub use rows::SourceError;
pub use session::sqlite_path;

use crate::calendar::Window;
use crate::config::DatabaseConfig;
use crate::model::{ActivityMapping, Relation, SalesModel};
use activities::{ActivityGroup, CallAggregate};
use costs::CostGroup;
use opportunities::{CustomerWins, OpportunityGroup};
use opportunity_match::OpportunityMatch;
use reps::Rep;
use rows::RowReader;
use session::{Pool, CLIENT_TIMEOUT_GRACE};
use sql::{Query, QueryBuilder};

/// Everything one refresh read from the database, already aggregated by it.
#[derive(Debug, Clone, Default)]
pub struct SalesData {
    /// The reps relation, when mapped.
    pub reps: Option<Vec<Rep>>,
    /// Opportunity sums per rep.
    pub opportunities: Vec<OpportunityGroup>,
    /// The windows each rep won each customer in, when customers are mapped.
    pub customer_wins: Option<Vec<CustomerWins>>,
    /// Call sums per rep and kind, and calls on closed opportunities per opportunity rep,
    /// when activities are mapped.
    pub activities: Option<Vec<ActivityGroup>>,
    /// Cost sums per team, when costs are mapped.
    pub costs: Option<Vec<CostGroup>>,
    /// Result rows read per relation (both opportunity queries count as opportunities, both
    /// activity queries as activities).
    pub rows_read: BTreeMap<Relation, u64>,
    /// Seconds spent in each relation's queries, from sending them to the last row.
    pub query_seconds: BTreeMap<Relation, f64>,
}

/// Seconds each relation's queries took, added up as they finish side by side.
type QueryTimings = std::sync::Mutex<BTreeMap<Relation, f64>>;

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
    /// One permit per pooled connection: a refresh's queries wait here for their turn, so
    /// that only a database that does not answer makes taking a connection time out.
    turns: Arc<Semaphore>,
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
            turns: Arc::new(Semaphore::new(config.max_connections as usize)),
            config: config.clone(),
        })
    }

    /// Runs the aggregate query of every mapped relation for `windows`. The queries run
    /// side by side, on as many connections as the pool allows.
    ///
    /// # Errors
    ///
    /// The first relation, in the order reps, opportunities, activities, costs, whose query
    /// failed or returned values that do not decode.
    pub async fn read(
        &self,
        model: &SalesModel,
        windows: &[Window],
    ) -> Result<SalesData, RelationError> {
        let reader = RowReader::new(self.config.dialect);
        let count = windows.len();
        let timings = QueryTimings::default();
        // Asked before any query starts, so that it takes no connection out of their order.
        // Without a connection the refresh fails at once, against the first relation as the
        // queries would; should the question itself fail, the ids are compared as text and
        // the queries report what is wrong against their own relation.
        let ids = match closed_calls_mapping(model) {
            Some((mapping, column)) => {
                Some(match self.opportunity_match(mapping, column, model).await {
                    Ok(ids) => ids,
                    Err(error @ SourceError::Connect { .. }) => {
                        let relation = if model.reps.is_some() {
                            Relation::Reps
                        } else {
                            Relation::Opportunities
                        };
                        return Err(RelationError { relation, error });
                    }
                    Err(error) => {
                        tracing::debug!(%error, "Comparing opportunity ids as text");
                        OpportunityMatch::AsText
                    }
                })
            }
            None => None,
        };

        let reps = async {
            let Some(mapping) = &model.reps else {
                return Ok(None);
            };
            let rows = self
                .relation_rows(&timings, Relation::Reps, |b| reps::query(mapping, b))
                .await?;
            let decoded = reps::decode(&rows, &reader).map_err(in_relation(Relation::Reps))?;
            Ok(Some((decoded, rows.len())))
        };
        let opportunities = async {
            let rows = self
                .relation_rows(&timings, Relation::Opportunities, |b| {
                    opportunities::query(&model.opportunities, windows, b)
                })
                .await?;
            let decoded = opportunities::decode(&rows, count, &reader)
                .map_err(in_relation(Relation::Opportunities))?;
            Ok((decoded, rows.len()))
        };
        let customer_wins = async {
            let Some(customer) = &model.opportunities.customer else {
                return Ok(None);
            };
            let rows = self
                .relation_rows(&timings, Relation::Opportunities, |b| {
                    opportunities::wins_query(&model.opportunities, customer, windows, b)
                })
                .await?;
            let decoded = opportunities::decode_wins(&rows, &reader)
                .map_err(in_relation(Relation::Opportunities))?;
            Ok(Some((decoded, rows.len())))
        };
        let calls = async {
            let Some(mapping) = &model.activities else {
                return Ok(None);
            };
            let rows = self
                .relation_rows(&timings, Relation::Activities, |b| {
                    activities::calls_query(mapping, windows, b)
                })
                .await?;
            let decoded = activities::decode(&rows, CallAggregate::Calls, count, &reader)
                .map_err(in_relation(Relation::Activities))?;
            Ok(Some((decoded, rows.len())))
        };
        let closed_calls = async {
            let (Some((mapping, column)), Some(ids)) = (closed_calls_mapping(model), ids) else {
                return Ok(None);
            };
            let rows = self
                .relation_rows(&timings, Relation::Activities, |b| {
                    activities::closed_calls_query(
                        mapping,
                        column,
                        ids,
                        &model.opportunities,
                        windows,
                        b,
                    )
                })
                .await?;
            let decoded =
                activities::decode(&rows, CallAggregate::OnClosedOpportunities, count, &reader)
                    .map_err(in_relation(Relation::Activities))?;
            Ok(Some((decoded, rows.len())))
        };
        let costs = async {
            let Some(mapping) = &model.costs else {
                return Ok(None);
            };
            let rows = self
                .relation_rows(&timings, Relation::Costs, |b| {
                    costs::query(mapping, windows, b)
                })
                .await?;
            let decoded =
                costs::decode(&rows, count, &reader).map_err(in_relation(Relation::Costs))?;
            Ok(Some((decoded, rows.len())))
        };
        // Every query is let finish (each has its own timeout) before an error is returned,
        // so that a failed refresh leaves no statement running on the server.
        // Polled in this order (biased), they take connections in it: the long queries
        // first, so that the short ones fill in beside the last of them.
        let (opportunities, customer_wins, closed_calls, calls, reps, costs) = tokio::join!(
            biased;
            opportunities,
            customer_wins,
            closed_calls,
            calls,
            reps,
            costs
        );
        let (reps, opportunities, customer_wins, closed_calls, calls, costs) = (
            reps?,
            opportunities?,
            customer_wins?,
            closed_calls?,
            calls?,
            costs?,
        );
        let activities = calls.map(|(mut groups, rows)| {
            let (closed, closed_rows) = closed_calls.unwrap_or_default();
            groups.extend(closed);
            (groups, rows + closed_rows)
        });

        let mut rows_read = BTreeMap::from([(Relation::Opportunities, opportunities.1 as u64)]);
        let customer_wins = customer_wins.map(|(decoded, rows)| {
            *rows_read.entry(Relation::Opportunities).or_default() += rows as u64;
            decoded
        });
        let reps = counted(Relation::Reps, reps, &mut rows_read);
        let activities = counted(Relation::Activities, activities, &mut rows_read);
        let costs = counted(Relation::Costs, costs, &mut rows_read);
        let data = SalesData {
            reps,
            opportunities: opportunities.0,
            customer_wins,
            activities,
            costs,
            rows_read,
            query_seconds: timings.into_inner().unwrap_or_default(),
        };
        Ok(data)
    }

    /// The aggregate query of every mapped relation for `windows`, parameters written as
    /// literals: what a refresh sends, for a DBA to read, EXPLAIN or time.
    ///
    /// # Errors
    ///
    /// On PostgreSQL, when the types of the activity's opportunity and of the opportunity
    /// id cannot be read (see [`SalesSource::opportunity_match`]).
    pub async fn statements(
        &self,
        model: &SalesModel,
        windows: &[Window],
    ) -> Result<Vec<(&'static str, String)>, RelationError> {
        let literal = |build: &dyn Fn(&mut QueryBuilder) -> String| {
            let mut builder = QueryBuilder::new(self.config.dialect, &self.config.time_zone);
            let sql = build(&mut builder);
            builder.finish_with_literals(&sql)
        };
        let mut statements = Vec::new();
        if let Some(mapping) = &model.reps {
            statements.push((Relation::Reps.name(), literal(&|b| reps::query(mapping, b))));
        }
        statements.push((
            Relation::Opportunities.name(),
            literal(&|b| opportunities::query(&model.opportunities, windows, b)),
        ));
        if let Some(customer) = &model.opportunities.customer {
            statements.push((
                "opportunities (customers' wins)",
                literal(&|b| opportunities::wins_query(&model.opportunities, customer, windows, b)),
            ));
        }
        if let Some(mapping) = &model.activities {
            statements.push((
                Relation::Activities.name(),
                literal(&|b| activities::calls_query(mapping, windows, b)),
            ));
        }
        if let Some((mapping, column)) = closed_calls_mapping(model) {
            let ids = self
                .opportunity_match(mapping, column, model)
                .await
                .map_err(in_relation(Relation::Activities))?;
            statements.push((
                "activities (calls on closed opportunities)",
                literal(&|b| {
                    activities::closed_calls_query(
                        mapping,
                        column,
                        ids,
                        &model.opportunities,
                        windows,
                        b,
                    )
                }),
            ));
        }
        if let Some(mapping) = &model.costs {
            statements.push((
                Relation::Costs.name(),
                literal(&|b| costs::query(mapping, windows, b)),
            ));
        }
        Ok(statements)
    }

    /// How the activity's opportunity `column` is compared with the opportunity id. On
    /// PostgreSQL the server is asked the two columns' types by a statement that reads no
    /// row (sent unnamed, like every statement, so it suits a transaction pooler); SQLite
    /// and MySQL compare mixed types themselves.
    ///
    /// # Errors
    ///
    /// No connection, or the server cannot read the two columns (a relation or column the
    /// config names does not exist, or may not be read).
    pub async fn opportunity_match(
        &self,
        mapping: &ActivityMapping,
        column: &str,
        model: &SalesModel,
    ) -> Result<OpportunityMatch, SourceError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(OpportunityMatch::Native);
        };
        let query = self.build_query(|b| {
            format!(
                "SELECT CAST(pg_typeof(x.reference) AS TEXT), CAST(pg_typeof(x.id) AS TEXT) \
                 FROM (SELECT 1) AS one LEFT JOIN \
                 (SELECT {} AS reference, {} AS id FROM {}, {} LIMIT 0) AS x ON TRUE",
                b.column_of("a", column),
                b.column_of("o", &model.opportunities.id),
                b.relation(&mapping.source, "a"),
                b.relation(&model.opportunities.source, "o"),
            )
        });
        let mut connection = pool.acquire().await.map_err(|cause| SourceError::Connect {
            backend: self.config.dialect.name(),
            cause,
        })?;
        let statement = sqlx::query_as::<_, (Option<String>, Option<String>)>(&query.sql)
            .persistent(false)
            .fetch_one(&mut *connection);
        let timeout = self.config.query_timeout + CLIENT_TIMEOUT_GRACE;
        let types = tokio::time::timeout(timeout, statement)
            .await
            .map_err(|_| SourceError::Timeout {
                relation: Relation::Activities,
                seconds: self.config.query_timeout.as_secs(),
            })?
            .map_err(|cause| SourceError::OpportunityTypes { cause })?;
        Ok(match types {
            (Some(reference), Some(id)) => OpportunityMatch::for_postgres_types(&reference, &id),
            _ => OpportunityMatch::AsText,
        })
    }

    /// The SQL and parameters a relation's query would run with, for logs and tests.
    pub fn build_query(&self, build: impl FnOnce(&mut QueryBuilder) -> String) -> Query {
        let mut builder = QueryBuilder::new(self.config.dialect, &self.config.time_zone);
        let sql = build(&mut builder);
        builder.finish(&sql)
    }

    async fn relation_rows(
        &self,
        timings: &QueryTimings,
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
        // The semaphore is never closed, so this always yields a permit.
        let _turn = self.turns.acquire().await.ok();
        let started = std::time::Instant::now();
        let fetched = match &self.pool {
            Pool::Sqlite(pool) => fetch_text_rows!(pool, query, client_timeout),
            Pool::Postgres(pool) => fetch_text_rows!(pool, query, client_timeout),
            Pool::MySql(pool) => fetch_text_rows!(pool, query, client_timeout),
        };
        if let Ok(mut timings) = timings.lock() {
            *timings.entry(relation).or_default() += started.elapsed().as_secs_f64();
        }
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

/// The activity mapping and its opportunity column, when activities name their opportunity
/// (calls per opportunity needs it).
fn closed_calls_mapping(model: &SalesModel) -> Option<(&ActivityMapping, &str)> {
    let mapping = model.activities.as_ref()?;
    Some((mapping, mapping.opportunity.as_deref()?))
}

/// The decoded rows of an optional relation, noting how many result rows it read.
fn counted<T>(
    relation: Relation,
    part: Option<(T, usize)>,
    rows_read: &mut BTreeMap<Relation, u64>,
) -> Option<T> {
    part.map(|(decoded, rows)| {
        rows_read.insert(relation, rows as u64);
        decoded
    })
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
                // Not kept as a prepared statement: it runs once a refresh, and a cached
                // PostgreSQL statement may switch to a generic plan that ignores the window
                // bounds and scans the whole history.
                let mut statement = sqlx::query(&$query.sql).persistent(false);
                for param in &$query.params {
                    statement = match param {
                        SqlParam::Text(text) | SqlParam::Time(text) => statement.bind(text.clone()),
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
