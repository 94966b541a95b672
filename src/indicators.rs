//! Turns the database's aggregate rows into indicator values per scope (company, team, rep)
//! and window: sums are added up per scope, distinct customers are counted per scope, and a
//! ratio whose denominator is zero has no value at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;

use crate::catalogue::{Indicator, Measure, Scope};
use crate::config::Config;
use crate::model::SalesModel;
use crate::source::reps::Rep;
use crate::source::SalesData;

/// Which company, team or rep a value belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeKey {
    /// The company.
    Company,
    /// A team, by name.
    Team(String),
    /// A rep, by id.
    Rep(String),
}

impl ScopeKey {
    /// The scope level.
    pub fn scope(&self) -> Scope {
        match self {
            ScopeKey::Company => Scope::Company,
            ScopeKey::Team(_) => Scope::Team,
            ScopeKey::Rep(_) => Scope::Rep,
        }
    }
}

/// One indicator value.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What is measured.
    pub measure: Measure,
    /// Whose value it is.
    pub key: ScopeKey,
    /// Index into the refresh's windows; `None` for values of "now" (open pipeline).
    pub window: Option<usize>,
    /// The value, always finite.
    pub value: f64,
}

/// What a rep is known as, for the `sales_rep_info` series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepInfo {
    /// Display name (the id when the reps relation is not mapped).
    pub name: String,
    /// Team; empty when unknown.
    pub team: String,
}

/// Every value of one refresh, with what it needs to be labelled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Indicators {
    /// Values in scope order.
    pub values: Vec<Value>,
    /// Every rep that has series, by id.
    pub reps: BTreeMap<String, RepInfo>,
    /// Rows whose status, kind or category is not in the mapping, per relation and column.
    pub unmapped: BTreeMap<(&'static str, &'static str), UnmappedValues>,
}

/// Rows with values missing from a value mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnmappedValues {
    /// Rows affected.
    pub rows: u64,
    /// The distinct raw values.
    pub values: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
struct WindowTotals {
    created: u64,
    won: u64,
    lost: u64,
    revenue: Decimal,
    cycle_seconds: f64,
    cycle_count: u64,
    won_customers: u64,
    new_customers: u64,
    reps_seen: BTreeSet<String>,
    calls: u64,
    calls_on_closed: u64,
    costs: Decimal,
}

#[derive(Debug, Clone, Default)]
struct ScopeTotals {
    windows: Vec<WindowTotals>,
    open_count: u64,
    open_amount: Decimal,
    open_weighted_amount: Decimal,
    active_reps: u64,
}

struct Accumulator<'a> {
    window_count: usize,
    directory: BTreeMap<&'a str, &'a Rep>,
    totals: BTreeMap<ScopeKey, ScopeTotals>,
    reps: BTreeMap<String, RepInfo>,
}

impl<'a> Accumulator<'a> {
    fn new(window_count: usize, reps: Option<&'a [Rep]>) -> Self {
        let directory = reps
            .unwrap_or_default()
            .iter()
            .map(|r| (r.id.as_str(), r))
            .collect();
        let mut accumulator = Accumulator {
            window_count,
            directory,
            totals: BTreeMap::new(),
            reps: BTreeMap::new(),
        };
        accumulator.entry(ScopeKey::Company);
        for rep in reps.unwrap_or_default().iter().filter(|rep| rep.active) {
            for key in accumulator.scopes_of(Some(&rep.id)) {
                accumulator.entry(key).active_reps += 1;
            }
        }
        accumulator
    }

    fn entry(&mut self, key: ScopeKey) -> &mut ScopeTotals {
        let window_count = self.window_count;
        self.totals.entry(key).or_insert_with(|| ScopeTotals {
            windows: vec![WindowTotals::default(); window_count],
            ..ScopeTotals::default()
        })
    }

    /// The scopes a row of `rep` counts in: the company, the rep, and the rep's team.
    fn scopes_of(&mut self, rep: Option<&str>) -> Vec<ScopeKey> {
        let mut keys = vec![ScopeKey::Company];
        let Some(rep) = rep else { return keys };
        let known = self.directory.get(rep);
        let info = RepInfo {
            name: known.map_or_else(|| rep.to_owned(), |r| r.name.clone()),
            team: known.map(|r| r.team.clone()).unwrap_or_default(),
        };
        if !info.team.is_empty() {
            keys.push(ScopeKey::Team(info.team.clone()));
        }
        keys.push(ScopeKey::Rep(rep.to_owned()));
        self.reps.entry(rep.to_owned()).or_insert(info);
        keys
    }
}

/// Computes every configured indicator from one refresh's data.
pub fn compute(data: &SalesData, window_count: usize, config: &Config) -> Indicators {
    let mut acc = Accumulator::new(window_count, data.reps.as_deref());
    let mut unmapped = BTreeMap::new();
    add_opportunities(&mut acc, data, &mut unmapped);
    add_customer_wins(&mut acc, data);
    add_activities(&mut acc, data, &mut unmapped);
    add_costs(&mut acc, data, &mut unmapped);

    let mut values = Vec::new();
    for (key, totals) in &acc.totals {
        emit_scope(key, totals, data.reps.is_some(), config, &mut values);
    }
    Indicators {
        values,
        reps: acc.reps,
        unmapped,
    }
}

fn note_unmapped(
    unmapped: &mut BTreeMap<(&'static str, &'static str), UnmappedValues>,
    at: (&'static str, &'static str),
    value: &str,
    rows: u64,
) {
    let entry = unmapped.entry(at).or_default();
    entry.rows += rows;
    entry.values.insert(value.to_owned());
}

fn add_opportunities(
    acc: &mut Accumulator,
    data: &SalesData,
    unmapped: &mut BTreeMap<(&'static str, &'static str), UnmappedValues>,
) {
    for group in &data.opportunities {
        if let Some(status) = &group.unmapped_status {
            note_unmapped(unmapped, ("opportunities", "status"), status, group.rows);
            continue;
        }
        for key in acc.scopes_of(group.rep.as_deref()) {
            let totals = acc.entry(key);
            totals.open_count += group.open_count;
            totals.open_amount += group.open_amount;
            totals.open_weighted_amount += group.open_weighted_amount;
            for (window, sums) in totals.windows.iter_mut().zip(&group.windows) {
                window.created += sums.created;
                window.won += sums.won;
                window.lost += sums.lost;
                window.revenue += sums.revenue;
                window.cycle_seconds += sums.cycle_seconds;
                window.cycle_count += sums.cycle_count;
                if let (Some(rep), true) = (&group.rep, sums.created + sums.won + sums.lost > 0) {
                    window.reps_seen.insert(rep.clone());
                }
            }
        }
    }
}

/// Counts, per scope and window, the distinct customers won and those won for the first
/// time: a customer two reps of one team both won counts once for the team.
fn add_customer_wins(acc: &mut Accumulator, data: &SalesData) {
    let Some(wins) = &data.customer_wins else {
        return;
    };
    let mut per_scope: HashMap<ScopeKey, HashMap<&str, (u64, u64)>> = HashMap::new();
    for win in wins {
        for key in acc.scopes_of(win.rep.as_deref()) {
            let bits = per_scope
                .entry(key)
                .or_default()
                .entry(win.customer.as_str())
                .or_default();
            bits.0 |= win.won;
            bits.1 |= win.first_won;
        }
    }
    for (key, customers) in per_scope {
        let windows = &mut acc.entry(key).windows;
        for (won, first_won) in customers.into_values() {
            for (index, window) in windows.iter_mut().enumerate().take(u64::BITS as usize) {
                window.won_customers += (won >> index) & 1;
                window.new_customers += (first_won >> index) & 1;
            }
        }
    }
}

fn add_activities(
    acc: &mut Accumulator,
    data: &SalesData,
    unmapped: &mut BTreeMap<(&'static str, &'static str), UnmappedValues>,
) {
    for group in data.activities.iter().flatten() {
        if let Some(kind) = &group.unmapped_kind {
            note_unmapped(unmapped, ("activities", "kind"), kind, group.rows);
            continue;
        }
        for key in acc.scopes_of(group.rep.as_deref()) {
            for (window, sums) in acc.entry(key).windows.iter_mut().zip(&group.windows) {
                window.calls += sums.calls;
            }
        }
        for key in acc.scopes_of(group.opportunity_rep.as_deref()) {
            for (window, sums) in acc.entry(key).windows.iter_mut().zip(&group.windows) {
                window.calls_on_closed += sums.calls_on_closed;
            }
        }
    }
}

fn add_costs(
    acc: &mut Accumulator,
    data: &SalesData,
    unmapped: &mut BTreeMap<(&'static str, &'static str), UnmappedValues>,
) {
    for group in data.costs.iter().flatten() {
        if let Some(category) = &group.unmapped_category {
            note_unmapped(unmapped, ("costs", "category"), category, group.rows);
            continue;
        }
        let mut keys = vec![ScopeKey::Company];
        if let Some(team) = group.team.as_ref().filter(|team| !team.is_empty()) {
            keys.push(ScopeKey::Team(team.clone()));
        }
        for key in keys {
            for (window, cost) in acc.entry(key).windows.iter_mut().zip(&group.windows) {
                window.costs += cost;
            }
        }
    }
}

fn emit_scope(
    key: &ScopeKey,
    totals: &ScopeTotals,
    reps_mapped: bool,
    config: &Config,
    values: &mut Vec<Value>,
) {
    let model = &config.model;
    let mut push = |measure: Measure, window: Option<usize>, value: Option<f64>| {
        let indicator = match measure {
            Measure::Windowed(indicator) => indicator,
            _ => Indicator::OpenPipeline,
        };
        let wanted = config.indicators.contains(&indicator)
            && indicator.applies_to(key.scope())
            && is_available(indicator, model);
        if let Some(value) = value.filter(|v| wanted && v.is_finite()) {
            let key = key.clone();
            values.push(Value {
                measure,
                key,
                window,
                value,
            });
        }
    };

    for (index, w) in totals.windows.iter().enumerate() {
        let revenue = to_f64(w.revenue);
        let closed = w.won + w.lost;
        let new_customers = w.new_customers;
        let rep_count = match reps_mapped {
            true => totals.active_reps,
            false => w.reps_seen.len() as u64,
        };
        let window_values = [
            (Indicator::Revenue, Some(revenue)),
            (Indicator::OpportunitiesCreated, Some(w.created as f64)),
            (Indicator::OpportunitiesWon, Some(w.won as f64)),
            (Indicator::OpportunitiesLost, Some(w.lost as f64)),
            (Indicator::ConversionRatio, ratio(w.won as f64, closed)),
            (Indicator::RevenuePerRep, ratio(revenue, rep_count)),
            (Indicator::Calls, Some(w.calls as f64)),
            (
                Indicator::CallsPerOpportunity,
                ratio(w.calls_on_closed as f64, closed),
            ),
            (Indicator::AverageBasket, ratio(revenue, w.won_customers)),
            (Indicator::NewCustomers, Some(new_customers as f64)),
            (
                Indicator::AcquisitionCost,
                ratio(to_f64(w.costs), new_customers),
            ),
            (Indicator::AverageDealSize, ratio(revenue, w.won)),
            (Indicator::SalesCycle, ratio(w.cycle_seconds, w.cycle_count)),
        ];
        for (indicator, value) in window_values {
            push(Measure::Windowed(indicator), Some(index), value);
        }
    }
    push(Measure::OpenCount, None, Some(totals.open_count as f64));
    push(Measure::OpenAmount, None, Some(to_f64(totals.open_amount)));
    if model.opportunities.probability.is_some() {
        let weighted = to_f64(totals.open_weighted_amount);
        push(Measure::OpenWeightedAmount, None, Some(weighted));
    }
}

/// `numerator / denominator`, or no value when the denominator is zero.
fn ratio(numerator: f64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator / denominator as f64)
}

/// The nearest float to an exact amount (through its decimal text, which rounds correctly).
pub fn to_f64(amount: Decimal) -> f64 {
    amount.to_string().parse().unwrap_or(f64::NAN)
}

/// Whether `model` maps what `indicator` needs.
pub fn is_available(indicator: Indicator, model: &SalesModel) -> bool {
    let customers = model.opportunities.customer.is_some();
    match indicator {
        Indicator::Calls => model.activities.is_some(),
        Indicator::CallsPerOpportunity => model
            .activities
            .as_ref()
            .is_some_and(|a| a.opportunity.is_some()),
        Indicator::AverageBasket | Indicator::NewCustomers => customers,
        Indicator::AcquisitionCost => customers && model.costs.is_some(),
        _ => true,
    }
}
