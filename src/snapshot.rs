//! One refresh's complete result rendered once into Prometheus exposition text: indicator
//! values, targets, rep names and the share of each period elapsed. A scrape serves these
//! bytes as they are.

use std::collections::BTreeMap;

use prometheus::{Encoder, GaugeVec, Opts, Registry, TextEncoder};

use crate::calendar::{Window, WindowPosition};
use crate::catalogue::{
    elapsed_ratio_metric_name, target_metric_name, Measure, Scope, INDICATOR_PREFIX,
};
use crate::config::Config;
use crate::indicators::{Indicators, ScopeKey};

/// Renders the indicators of one refresh, with the targets, the rep info series and the
/// share of each period elapsed.
///
/// # Errors
///
/// Only if the metrics library rejects a name or label, which would be a bug in the
/// catalogue; the caller keeps the last good snapshot then.
pub fn render(
    indicators: &Indicators,
    windows: &[Window],
    config: &Config,
) -> Result<Vec<u8>, prometheus::Error> {
    let registry = Registry::new();
    let mut families: BTreeMap<(Measure, Scope), GaugeVec> = BTreeMap::new();

    for value in &indicators.values {
        let scope = value.key.scope();
        if !config.scopes.contains(&scope) {
            continue;
        }
        let family = match families.entry((value.measure, scope)) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let gauge = gauge_family(&registry, value.measure, scope)?;
                entry.insert(gauge)
            }
        };
        let mut labels = scope_labels(&value.key, indicators);
        if let Some(window) = value.window.and_then(|index| windows.get(index)) {
            let (period, position) = window.label();
            labels.push(period.into_owned());
            labels.push(position.to_owned());
        }
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        family
            .get_metric_with_label_values(&labels)?
            .set(value.value);
    }

    render_targets(&registry, config, indicators)?;
    if config.scopes.contains(&Scope::Rep) {
        render_rep_info(&registry, indicators)?;
    }
    render_elapsed(&registry, windows, config)?;
    encode(&registry)
}

/// `sales_period_elapsed_ratio{period}`: how much of each period's current window has
/// elapsed (see [`BusinessCalendar::elapsed_ratio`](crate::calendar::BusinessCalendar::elapsed_ratio)).
/// A period whose end is past the last representable instant (year 9999) has no series:
/// its share is unknown, not 0 or 1.
fn render_elapsed(
    registry: &Registry,
    windows: &[Window],
    config: &Config,
) -> Result<(), prometheus::Error> {
    let current: Vec<&Window> = windows
        .iter()
        .filter(|w| w.position == WindowPosition::Current)
        .collect();
    if current.is_empty() {
        return Ok(());
    }
    let opts = Opts::new(
        elapsed_ratio_metric_name(),
        "Share of each period elapsed at the refresh: 1 for rolling periods; revenue on pace is target times this",
    );
    let elapsed = GaugeVec::new(opts, &["period"])?;
    registry.register(Box::new(elapsed.clone()))?;
    for window in current {
        if let Ok(ratio) = config.calendar.elapsed_ratio(window) {
            elapsed
                .get_metric_with_label_values(&[&window.period.label()])?
                .set(ratio);
        }
    }
    Ok(())
}

fn gauge_family(
    registry: &Registry,
    measure: Measure,
    scope: Scope,
) -> Result<GaugeVec, prometheus::Error> {
    let mut labels: Vec<&str> = scope.labels().to_vec();
    if measure.is_windowed() {
        labels.extend(["period", "window"]);
    }
    let gauge = GaugeVec::new(
        Opts::new(measure.metric_name(scope), measure.help()),
        &labels,
    )?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

fn scope_labels(key: &ScopeKey, indicators: &Indicators) -> Vec<String> {
    match key {
        ScopeKey::Company => Vec::new(),
        ScopeKey::Team(team) => vec![team.clone()],
        ScopeKey::Rep(rep) => {
            let team = indicators
                .reps
                .get(rep)
                .map(|info| info.team.clone())
                .unwrap_or_default();
            vec![rep.clone(), team]
        }
    }
}

fn render_targets(
    registry: &Registry,
    config: &Config,
    indicators: &Indicators,
) -> Result<(), prometheus::Error> {
    let mut families: BTreeMap<String, GaugeVec> = BTreeMap::new();
    for target in &config.targets {
        let name = target_metric_name(target.indicator, target.scope);
        let family = match families.get(&name) {
            Some(family) => family.clone(),
            None => {
                let mut labels: Vec<&str> = target.scope.labels().to_vec();
                labels.push("period");
                let help = format!(
                    "Target of {} from the configuration ({} is better)",
                    target.indicator,
                    if target.indicator.lower_is_better() {
                        "lower"
                    } else {
                        "higher"
                    }
                );
                let family = GaugeVec::new(Opts::new(name.clone(), help), &labels)?;
                registry.register(Box::new(family.clone()))?;
                families.insert(name, family.clone());
                family
            }
        };
        let key = match target.scope {
            Scope::Company => ScopeKey::Company,
            Scope::Team => ScopeKey::Team(target.name.clone()),
            Scope::Rep => ScopeKey::Rep(target.name.clone()),
        };
        let mut labels = scope_labels(&key, indicators);
        labels.push(target.period.clone());
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        family
            .get_metric_with_label_values(&labels)?
            .set(target.value);
    }
    Ok(())
}

fn render_rep_info(registry: &Registry, indicators: &Indicators) -> Result<(), prometheus::Error> {
    if indicators.reps.is_empty() {
        return Ok(());
    }
    let opts = Opts::new(
        format!("{INDICATOR_PREFIX}_rep_info"),
        "Display name and team of each rep with series; join on the rep label",
    );
    let info = GaugeVec::new(opts, &["rep", "rep_name", "team"])?;
    registry.register(Box::new(info.clone()))?;
    for (rep, details) in &indicators.reps {
        info.get_metric_with_label_values(&[rep, &details.name, &details.team])?
            .set(1.0);
    }
    Ok(())
}

/// Encodes every family of `registry` in the text format.
pub fn encode(registry: &Registry) -> Result<Vec<u8>, prometheus::Error> {
    let mut bytes = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut bytes)?;
    Ok(bytes)
}
