//! The refresh loop: on every tick, read the database, compute the indicators, render a new
//! snapshot and swap it in; a failed refresh keeps the last good one and says so in
//! self-metrics and in the log.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use prometheus::{Gauge, GaugeVec, IntCounterVec, Opts, Registry};
use tokio::time::MissedTickBehavior;

use crate::catalogue::SELF_PREFIX;
use crate::config::Config;
use crate::indicators::{self, Indicators};
use crate::model::Relation;
use crate::snapshot;
use crate::source::{Dialect, RelationError, SalesSource};

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

struct SelfMetrics {
    registry: Registry,
    success: Gauge,
    duration: Gauge,
    last_success: Gauge,
    refreshes: IntCounterVec,
    errors: IntCounterVec,
    rows_read: GaugeVec,
    unmapped: GaugeVec,
}

impl SelfMetrics {
    fn new(config: &Config) -> Result<SelfMetrics, prometheus::Error> {
        let registry = Registry::new();
        let name = |suffix: &str| format!("{SELF_PREFIX}_{suffix}");
        let build_info = GaugeVec::new(
            Opts::new(name("build_info"), "Version of the running exporter"),
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1.0);
        let interval = Gauge::new(
            name("refresh_interval_seconds"),
            "Configured time between the starts of two refreshes",
        )?;
        interval.set(config.refresh_interval.as_secs_f64());
        let metrics = SelfMetrics {
            success: Gauge::new(name("refresh_success"), "Whether the last refresh succeeded (1) or failed (0)")?,
            duration: Gauge::new(name("refresh_duration_seconds"), "Duration of the last refresh")?,
            last_success: Gauge::new(
                name("last_refresh_success_timestamp_seconds"),
                "Unix time the last successful refresh finished; indicators are cached from it",
            )?,
            refreshes: IntCounterVec::new(
                Opts::new(name("refreshes_total"), "Refreshes attempted, by result"),
                &["result"],
            )?,
            errors: IntCounterVec::new(
                Opts::new(name("refresh_errors_total"), "Failed refresh queries, by relation"),
                &["relation"],
            )?,
            rows_read: GaugeVec::new(
                Opts::new(name("rows_read"), "Aggregate rows read per relation by the last successful refresh"),
                &["relation"],
            )?,
            unmapped: GaugeVec::new(
                Opts::new(
                    name("unmapped_value_rows"),
                    "Rows in the exported windows whose value is missing from the config's value mapping",
                ),
                &["relation", "column"],
            )?,
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 9] = [
            Box::new(build_info),
            Box::new(interval),
            Box::new(metrics.success.clone()),
            Box::new(metrics.duration.clone()),
            Box::new(metrics.last_success.clone()),
            Box::new(metrics.refreshes.clone()),
            Box::new(metrics.errors.clone()),
            Box::new(metrics.rows_read.clone()),
            Box::new(metrics.unmapped.clone()),
        ];
        for collector in collectors {
            metrics.registry.register(collector)?;
        }
        for result in ["success", "failure"] {
            metrics.refreshes.with_label_values(&[result]);
        }
        for relation in mapped_relations(config) {
            metrics.errors.with_label_values(&[relation.name()]);
        }
        Ok(metrics)
    }
}

fn mapped_relations(config: &Config) -> Vec<Relation> {
    let model = &config.model;
    Relation::ALL
        .into_iter()
        .filter(|relation| match relation {
            Relation::Opportunities => true,
            Relation::Reps => model.reps.is_some(),
            Relation::Activities => model.activities.is_some(),
            Relation::Costs => model.costs.is_some(),
        })
        .collect()
}

/// The column of `relation` whose values go through a value mapping.
fn mapped_value_column(relation: Relation) -> Option<&'static str> {
    match relation {
        Relation::Opportunities => Some("status"),
        Relation::Activities => Some("kind"),
        Relation::Costs => Some("category"),
        Relation::Reps => None,
    }
}

/// Runs refreshes and publishes their results.
pub struct Refresher {
    config: Arc<Config>,
    source: SalesSource,
    clock: Clock,
    published: SharedPublished,
    metrics: SelfMetrics,
    indicators: Arc<Vec<u8>>,
    logged_unmapped: Mutex<BTreeSet<(String, String, String)>>,
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
            config,
            source,
            clock,
            published: SharedPublished::default(),
            metrics,
            indicators: Arc::default(),
            logged_unmapped: Mutex::default(),
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
        let elapsed = started.elapsed();
        self.metrics.duration.set(elapsed.as_secs_f64());
        match result {
            Ok((bytes, rows)) => {
                let finished = Timestamp::now();
                self.indicators = Arc::new(bytes);
                self.metrics.success.set(1.0);
                self.metrics
                    .last_success
                    .set(finished.as_millisecond() as f64 / 1000.0);
                self.metrics.refreshes.with_label_values(&["success"]).inc();
                tracing::info!(duration_ms = elapsed.as_millis() as u64, rows = %rows, "Refreshed sales indicators");
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
                tracing::warn!(
                    duration_ms = elapsed.as_millis() as u64,
                    error = %err,
                    "Refresh failed; serving the last good snapshot"
                );
                self.publish(None, Some(err.to_string()));
                Err(err)
            }
        }
    }

    async fn compute(&self) -> Result<(Vec<u8>, String), RefreshError> {
        let config = &self.config;
        let now = self.clock.now();
        let windows = config
            .calendar
            .windows(now, &config.periods, &config.rolling_days)?;
        let data =
            (self.source.read(&config.model, &windows).await).map_err(|err| self.explain(err))?;
        let indicators = indicators::compute(&data, windows.len(), config);
        self.record_unmapped(&indicators);
        let bytes = snapshot::render(&indicators, &windows, config)?;
        for (relation, rows) in &data.rows_read {
            self.metrics
                .rows_read
                .with_label_values(&[relation.name()])
                .set(*rows as f64);
        }
        let rows: Vec<String> = data
            .rows_read
            .iter()
            .map(|(r, n)| format!("{r}={n}"))
            .collect();
        Ok((bytes, rows.join(",")))
    }

    /// Names a missing SQLite file as the cause of a failed query.
    fn explain(&self, err: RelationError) -> RefreshError {
        let database = &self.config.database;
        let missing = (database.dialect == Dialect::Sqlite)
            .then(|| crate::demo::sqlite_path(&database.url))
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
            .logged_unmapped
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
        published.last_attempt =
            Some(Timestamp::now()).filter(|_| success.is_some() || error.is_some());
        if success.is_some() {
            published.last_success = success;
        }
        published.last_error = error;
    }

    /// Refreshes on the configured interval until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let mut ticks = tokio::time::interval(self.config.refresh_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = ticks.tick() => { let _ = self.refresh().await; }
                () = &mut shutdown => break,
            }
        }
        self.source.close().await;
    }

    /// The configured refresh interval.
    pub fn interval(&self) -> Duration {
        self.config.refresh_interval
    }
}
