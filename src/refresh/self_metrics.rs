//! The exporter's own metrics: refresh success, duration, last success, errors by relation,
//! rows read and unmapped values, kept across refreshes in a registry of their own.

use jiff::Timestamp;
use prometheus::{Gauge, GaugeVec, IntCounterVec, Opts, Registry};

use crate::catalogue::SELF_PREFIX;
use crate::config::Config;
use crate::model::Relation;

pub(super) struct SelfMetrics {
    pub(super) registry: Registry,
    pub(super) interval: Gauge,
    pub(super) reload_success: Gauge,
    pub(super) reload_timestamp: Gauge,
    pub(super) success: Gauge,
    pub(super) duration: Gauge,
    pub(super) last_success: Gauge,
    pub(super) refreshes: IntCounterVec,
    pub(super) errors: IntCounterVec,
    pub(super) rows_read: GaugeVec,
    pub(super) query_duration: GaugeVec,
    pub(super) unmapped: GaugeVec,
}

impl SelfMetrics {
    pub(super) fn new(config: &Config) -> Result<SelfMetrics, prometheus::Error> {
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
            interval,
            reload_success: Gauge::new(
                name("config_last_reload_successful"),
                "Whether the last configuration reload succeeded (1) or failed (0)",
            )?,
            reload_timestamp: Gauge::new(
                name("config_last_reload_success_timestamp_seconds"),
                "Unix time of the last successful configuration load, at start or on SIGHUP",
            )?,
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
            query_duration: GaugeVec::new(
                Opts::new(
                    name("query_duration_seconds"),
                    "Time the last successful refresh spent in each relation's queries, from sending them to the last row",
                ),
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
        let collectors: [Box<dyn prometheus::core::Collector>; 12] = [
            Box::new(build_info),
            Box::new(metrics.interval.clone()),
            Box::new(metrics.reload_success.clone()),
            Box::new(metrics.reload_timestamp.clone()),
            Box::new(metrics.success.clone()),
            Box::new(metrics.duration.clone()),
            Box::new(metrics.last_success.clone()),
            Box::new(metrics.refreshes.clone()),
            Box::new(metrics.errors.clone()),
            Box::new(metrics.rows_read.clone()),
            Box::new(metrics.query_duration.clone()),
            Box::new(metrics.unmapped.clone()),
        ];
        for collector in collectors {
            metrics.registry.register(collector)?;
        }
        for result in ["success", "failure"] {
            metrics.refreshes.with_label_values(&[result]);
        }
        metrics.reload_success.set(1.0);
        metrics.reload_timestamp.set(unix_seconds(Timestamp::now()));
        metrics.describe_config(config);
        Ok(metrics)
    }

    /// Sets what the self-metrics say about `config`, at start and after a reload.
    pub(super) fn describe_config(&self, config: &Config) {
        self.interval.set(config.refresh_interval.as_secs_f64());
        for relation in mapped_relations(config) {
            self.errors.with_label_values(&[relation.name()]);
        }
    }
}

pub(super) fn unix_seconds(instant: Timestamp) -> f64 {
    instant.as_millisecond() as f64 / 1000.0
}

pub(super) fn mapped_relations(config: &Config) -> Vec<Relation> {
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
pub(super) fn mapped_value_column(relation: Relation) -> Option<&'static str> {
    match relation {
        Relation::Opportunities => Some("status"),
        Relation::Activities => Some("kind"),
        Relation::Costs => Some("category"),
        Relation::Reps => None,
    }
}
