//! The refresh loop: on every tick, read the database, compute the indicators, render a new
//! snapshot and swap it in; a failed refresh keeps the last good one, says so in
//! self-metrics and in the log, and is retried with a backoff. A reloaded config swaps in here.

mod reload;
mod self_metrics;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::backoff::{Backoff, FAILURES_BEFORE_ERROR};
use crate::catalogue::Scope;
use crate::config::{Config, ConfigError, DatabaseConfig};
use crate::indicators::{self, Indicators};
use crate::model::Relation;
use crate::snapshot;
use crate::source::{Dialect, RelationError, SalesSource};
use self_metrics::{mapped_relations, mapped_value_column, unix_seconds, SelfMetrics};

/// The instant windows are evaluated at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The current time, truncated to the second.
    Now,
    /// A fixed instant, for tests and back-fills.
    Fixed(Timestamp),
}

impl Clock {
    /// The instant to evaluate windows at.
    pub fn now(self) -> Timestamp {
        match self {
            Clock::Now => {
                Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::now())
            }
            Clock::Fixed(instant) => instant,
        }
    }
}

/// Why a refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The windows could not be computed for this instant.
    #[error("cannot compute the windows: {0}")]
    Calendar(#[from] crate::calendar::CalendarError),
    /// A relation's query failed.
    #[error(transparent)]
    Source(#[from] RelationError),
    /// The SQLite database file does not exist, so no query could open it. The driver only
    /// says "unable to open database file", which reads like a mapping mistake.
    #[error(
        "the {relation} query cannot open the SQLite database {}: the file does not exist; \
         check `database.url` (the exporter opens it read-only and never creates it)",
        path.display()
    )]
    MissingDatabase {
        /// The relation whose query found the file missing.
        relation: Relation,
        /// The database file, as the URL names it.
        path: PathBuf,
    },
    /// The exposition could not be rendered.
    #[error("cannot render the metrics: {0}")]
    Render(#[from] prometheus::Error),
}

impl RefreshError {
    /// The relation whose query failed, if a query failed.
    pub fn relation(&self) -> Option<Relation> {
        match self {
            RefreshError::Source(err) => Some(err.relation),
            RefreshError::MissingDatabase { relation, .. } => Some(*relation),
            RefreshError::Calendar(_) | RefreshError::Render(_) => None,
        }
    }
}

/// Names a missing SQLite file as the cause of a failed query.
pub fn explain(database: &DatabaseConfig, err: RelationError) -> RefreshError {
    let missing = (database.dialect == Dialect::Sqlite)
        .then(|| crate::source::sqlite_path(&database.url))
        .flatten()
        .filter(|path| !path.exists());
    match missing {
        Some(path) => RefreshError::MissingDatabase {
            relation: err.relation,
            path,
        },
        None => RefreshError::Source(err),
    }
}

/// What `/metrics` and the other endpoints read: the latest exposition and status.
#[derive(Debug, Default)]
pub struct Published {
    /// Indicator exposition followed by the self-metrics.
    pub exposition: bytes::Bytes,
    /// When the last successful refresh finished.
    pub last_success: Option<Timestamp>,
    /// When the last refresh, good or bad, finished.
    pub last_attempt: Option<Timestamp>,
    /// The error of the last refresh, when it failed.
    pub last_error: Option<String>,
}

/// Shared between the refresh loop (the only writer) and the HTTP handlers.
pub type SharedPublished = Arc<RwLock<Published>>;

/// Runs refreshes and publishes their results.
pub struct Refresher {
    config: Arc<Config>,
    source: SalesSource,
    clock: Clock,
    published: SharedPublished,
    metrics: SelfMetrics,
    indicators: Arc<Vec<u8>>,
    logged_once: Mutex<BTreeSet<(String, String, String)>>,
    backoff: Backoff,
    retry_delay: Duration,
    succeeded_once: bool,
}

impl Refresher {
    /// A refresher over `source`; nothing is published until the first refresh.
    ///
    /// # Errors
    ///
    /// Only if a self-metric cannot be registered, which would be a bug.
    pub fn new(
        config: Arc<Config>,
        source: SalesSource,
        clock: Clock,
    ) -> Result<Refresher, prometheus::Error> {
        let metrics = SelfMetrics::new(&config)?;
        let refresher = Refresher {
            backoff: Backoff::new(config.refresh_interval),
            retry_delay: config.refresh_interval,
            succeeded_once: false,
            config,
            source,
            clock,
            published: SharedPublished::default(),
            metrics,
            indicators: Arc::default(),
            logged_once: Mutex::default(),
        };
        refresher.publish(None, None);
        Ok(refresher)
    }

    /// The handle the HTTP server reads from.
    pub fn published(&self) -> SharedPublished {
        Arc::clone(&self.published)
    }

    /// Runs one refresh and publishes its result (or, on failure, the last good snapshot with
    /// updated self-metrics).
    ///
    /// # Errors
    ///
    /// Why the refresh failed; it has been logged and counted already.
    pub async fn refresh(&mut self) -> Result<(), RefreshError> {
        let started = Instant::now();
        let result = self.compute().await;
        crate::allocator::release_freed();
        let elapsed = started.elapsed();
        self.metrics.duration.set(elapsed.as_secs_f64());
        match result {
            Ok((bytes, rows)) => {
                let finished = Timestamp::now();
                self.indicators = Arc::new(bytes);
                self.metrics.success.set(1.0);
                self.metrics.last_success.set(unix_seconds(finished));
                self.metrics.refreshes.with_label_values(&["success"]).inc();
                self.log_success(elapsed, &rows);
                self.publish(Some(finished), None);
                Ok(())
            }
            Err(err) => {
                self.metrics.success.set(0.0);
                self.metrics.refreshes.with_label_values(&["failure"]).inc();
                if let Some(relation) = err.relation() {
                    self.metrics
                        .errors
                        .with_label_values(&[relation.name()])
                        .inc();
                }
                self.retry_delay = self.backoff.next_delay();
                self.log_failure(elapsed, &err);
                self.publish(None, Some(err.to_string()));
                Err(err)
            }
        }
    }

    /// INFO for the first success and for a recovery, DEBUG for the routine ones.
    fn log_success(&mut self, elapsed: Duration, rows: &str) {
        let duration_ms = elapsed.as_millis() as u64;
        let failures = self.backoff.failures();
        self.backoff.reset();
        if !self.succeeded_once {
            self.succeeded_once = true;
            tracing::info!(
                duration_ms,
                rows,
                "First refresh succeeded; serving sales indicators"
            );
        } else if failures > 0 {
            tracing::info!(
                duration_ms,
                failures,
                "Refresh succeeded again after failures"
            );
        } else {
            tracing::debug!(duration_ms, rows, "Refreshed sales indicators");
        }
    }

    /// WARN for every failure, and ERROR once when they have gone on long enough that
    /// waiting will not fix them.
    fn log_failure(&self, elapsed: Duration, err: &RefreshError) {
        let failures = self.backoff.failures();
        tracing::warn!(
            duration_ms = elapsed.as_millis() as u64,
            failures,
            retry_in_ms = self.retry_delay.as_millis() as u64,
            error = %err,
            "Refresh failed; the last good snapshot, if any, stays published"
        );
        if failures == FAILURES_BEFORE_ERROR {
            tracing::error!(
                failures,
                error = %err,
                "Refreshes keep failing; check the database and the mapping"
            );
        }
    }

    async fn compute(&self) -> Result<(Vec<u8>, String), RefreshError> {
        let config = &self.config;
        let now = self.clock.now();
        let windows = config
            .calendar
            .windows(now, &config.periods, &config.rolling_days)?;
        let data = (self.source.read(&config.queried_model(), &windows).await)
            .map_err(|err| explain(&config.database, err))?;
        let indicators = indicators::compute(&data, windows.len(), config);
        self.record_unmapped(&indicators);
        self.warn_unmatched_targets(&indicators);
        let bytes = snapshot::render(&indicators, &windows, config)?;
        for (relation, rows) in &data.rows_read {
            self.metrics
                .rows_read
                .with_label_values(&[relation.name()])
                .set(*rows as f64);
        }
        for (relation, seconds) in &data.query_seconds {
            self.metrics
                .query_duration
                .with_label_values(&[relation.name()])
                .set(*seconds);
        }
        let rows: Vec<String> = data
            .rows_read
            .iter()
            .map(|(r, n)| format!("{r}={n}"))
            .collect();
        Ok((bytes, rows.join(",")))
    }

    /// Warns once about each target whose team or rep has no series in this refresh: a typo
    /// in the config, or a rep who left; dashboards and alerts would never match it.
    fn warn_unmatched_targets(&self, indicators: &Indicators) {
        let teams: BTreeSet<&str> = (indicators.values.iter())
            .filter_map(|value| match &value.key {
                crate::indicators::ScopeKey::Team(team) => Some(team.as_str()),
                _ => None,
            })
            .collect();
        let mut logged = self
            .logged_once
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for target in &self.config.targets {
            let matched = match target.scope {
                Scope::Company => true,
                Scope::Team => teams.contains(target.name.as_str()),
                Scope::Rep => indicators.reps.contains_key(&target.name),
            };
            let key = (
                "targets".to_owned(),
                target.scope.name().to_owned(),
                target.name.clone(),
            );
            if !matched && logged.insert(key) {
                tracing::warn!(
                    scope = target.scope.name(),
                    name = %target.name,
                    indicator = %target.indicator,
                    "Target names a team or rep that has no series; check the name in the config"
                );
            }
        }
    }

    fn record_unmapped(&self, indicators: &Indicators) {
        self.metrics.unmapped.reset();
        for relation in mapped_relations(&self.config) {
            if let Some(column) = mapped_value_column(relation) {
                self.metrics
                    .unmapped
                    .with_label_values(&[relation.name(), column])
                    .set(0.0);
            }
        }
        let mut logged = self
            .logged_once
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for ((relation, column), unmapped) in &indicators.unmapped {
            self.metrics
                .unmapped
                .with_label_values(&[relation, column])
                .set(unmapped.rows as f64);
            for value in &unmapped.values {
                let key = (relation.to_string(), column.to_string(), value.clone());
                if logged.insert(key) {
                    tracing::warn!(
                        relation,
                        column,
                        value = %value,
                        "Value missing from the config's mapping; its rows are counted in no indicator"
                    );
                }
            }
        }
    }

    /// Publishes the exposition (last good indicators and current self-metrics) and, when
    /// a refresh was attempted, its outcome.
    fn publish(&self, success: Option<Timestamp>, error: Option<String>) {
        let mut exposition = Vec::with_capacity(self.indicators.len() + 4096);
        exposition.extend_from_slice(&self.indicators);
        if let Ok(own) = snapshot::encode(&self.metrics.registry) {
            exposition.extend_from_slice(&own);
        }
        let mut published = self
            .published
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        published.exposition = bytes::Bytes::from(exposition);
        if success.is_none() && error.is_none() {
            return;
        }
        published.last_attempt = Some(Timestamp::now());
        if success.is_some() {
            published.last_success = success;
        }
        published.last_error = error;
    }

    /// Refreshes on the configured interval until `shutdown` completes, retrying a failed
    /// refresh after a backoff rather than a whole interval. Each config that arrives on
    /// `reloads` is swapped in at once, abandoning a refresh that is running, and a refresh
    /// with it follows immediately. A refresh running when `shutdown` completes is abandoned.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
        mut reloads: mpsc::Receiver<Result<Config, ConfigError>>,
    ) {
        let mut next = tokio::time::Instant::now();
        tokio::pin!(shutdown);
        loop {
            let reload = tokio::select! {
                () = tokio::time::sleep_until(next) => {
                    let started = tokio::time::Instant::now();
                    tokio::select! {
                        result = self.refresh() => {
                            next = match result {
                                Ok(()) => started + self.config.refresh_interval,
                                Err(_) => tokio::time::Instant::now() + self.retry_delay,
                            };
                            continue;
                        }
                        Some(reload) = reloads.recv() => reload,
                        () = &mut shutdown => break,
                    }
                }
                Some(reload) = reloads.recv() => reload,
                () = &mut shutdown => break,
            };
            if self.reload(reload).await {
                next = tokio::time::Instant::now();
            }
        }
        self.source.close().await;
    }
}
