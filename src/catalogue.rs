//! The catalogue of exported indicators: their configuration names, metric names, help texts
//! and the scopes they exist at. Every metric name the exporter writes is built here.

use std::fmt;

/// Prefix of every indicator metric.
pub const INDICATOR_PREFIX: &str = "sales";
/// Prefix of every self-metric about the exporter itself.
pub const SELF_PREFIX: &str = "sales_exporter";

/// A level at which indicators are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The whole company.
    Company,
    /// One team (from the `reps` relation).
    Team,
    /// One sales rep.
    Rep,
}

impl Scope {
    /// Every scope, in the order series are written.
    pub const ALL: [Scope; 3] = [Scope::Company, Scope::Team, Scope::Rep];

    /// The scope's word in metric names and in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Company => "company",
            Scope::Team => "team",
            Scope::Rep => "rep",
        }
    }

    /// The identifying labels of a series at this scope.
    pub fn labels(self) -> &'static [&'static str] {
        match self {
            Scope::Company => &[],
            Scope::Team => &["team"],
            Scope::Rep => &["rep", "team"],
        }
    }
}

/// An indicator that a company can choose to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indicator {
    /// Sum of amounts won in the window.
    Revenue,
    /// Opportunities created in the window.
    OpportunitiesCreated,
    /// Opportunities won in the window.
    OpportunitiesWon,
    /// Opportunities lost in the window.
    OpportunitiesLost,
    /// Won / (won + lost).
    ConversionRatio,
    /// Revenue per rep in scope.
    RevenuePerRep,
    /// Calls in the window.
    Calls,
    /// Calls against the opportunities closed in the window, per such opportunity.
    CallsPerOpportunity,
    /// Revenue per distinct customer won in the window.
    AverageBasket,
    /// Customers whose first win closed in the window.
    NewCustomers,
    /// Marketing and sales costs per new customer.
    AcquisitionCost,
    /// Revenue per won opportunity.
    AverageDealSize,
    /// Mean time from creation to close of won opportunities.
    SalesCycle,
    /// Open opportunities now: count, amount and weighted amount.
    OpenPipeline,
}

impl Indicator {
    /// Every indicator, in the order they are written.
    pub const ALL: [Indicator; 14] = [
        Indicator::Revenue,
        Indicator::OpportunitiesCreated,
        Indicator::OpportunitiesWon,
        Indicator::OpportunitiesLost,
        Indicator::ConversionRatio,
        Indicator::RevenuePerRep,
        Indicator::Calls,
        Indicator::CallsPerOpportunity,
        Indicator::AverageBasket,
        Indicator::NewCustomers,
        Indicator::AcquisitionCost,
        Indicator::AverageDealSize,
        Indicator::SalesCycle,
        Indicator::OpenPipeline,
    ];

    /// The indicator's name in the configuration (`indicators.export`, `targets`).
    pub fn name(self) -> &'static str {
        match self {
            Indicator::Revenue => "revenue",
            Indicator::OpportunitiesCreated => "opportunities_created",
            Indicator::OpportunitiesWon => "opportunities_won",
            Indicator::OpportunitiesLost => "opportunities_lost",
            Indicator::ConversionRatio => "conversion_ratio",
            Indicator::RevenuePerRep => "revenue_per_rep",
            Indicator::Calls => "calls",
            Indicator::CallsPerOpportunity => "calls_per_opportunity",
            Indicator::AverageBasket => "average_basket",
            Indicator::NewCustomers => "new_customers",
            Indicator::AcquisitionCost => "acquisition_cost",
            Indicator::AverageDealSize => "average_deal_size",
            Indicator::SalesCycle => "sales_cycle",
            Indicator::OpenPipeline => "open_pipeline",
        }
    }

    /// Reads a configuration name such as `"conversion_ratio"`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.name() == name)
    }

    /// Whether the indicator exists at `scope`: revenue per rep and acquisition cost are
    /// not computed for a single rep (costs are booked per team).
    pub fn applies_to(self, scope: Scope) -> bool {
        !(scope == Scope::Rep
            && matches!(self, Indicator::RevenuePerRep | Indicator::AcquisitionCost))
    }

    /// Whether a lower value is better, so a target is a ceiling rather than a floor.
    pub fn lower_is_better(self) -> bool {
        matches!(self, Indicator::AcquisitionCost | Indicator::SalesCycle)
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One exported metric family of an indicator at one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// The indicator's value per window (every indicator but the open pipeline).
    Windowed(Indicator),
    /// Open opportunities now.
    OpenCount,
    /// Amount of the open opportunities now.
    OpenAmount,
    /// Amount of the open opportunities weighted by their probability.
    OpenWeightedAmount,
}

impl Measure {
    /// The metric name without prefix and scope, with its unit suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Measure::Windowed(Indicator::SalesCycle) => "sales_cycle_seconds",
            Measure::Windowed(indicator) => indicator.name(),
            Measure::OpenCount => "open_pipeline_opportunities",
            Measure::OpenAmount => "open_pipeline_amount",
            Measure::OpenWeightedAmount => "open_pipeline_weighted_amount",
        }
    }

    /// The full metric name at `scope`, e.g. `sales_team_conversion_ratio`.
    pub fn metric_name(self, scope: Scope) -> String {
        format!("{INDICATOR_PREFIX}_{}_{}", scope.name(), self.suffix())
    }

    /// Whether the series carries `period` and `window` labels.
    pub fn is_windowed(self) -> bool {
        matches!(self, Measure::Windowed(_))
    }

    /// HELP text of the metric.
    pub fn help(self) -> &'static str {
        match self {
            Measure::Windowed(indicator) => match indicator {
                Indicator::Revenue => "Sum of the amounts of opportunities won with a close time in the window",
                Indicator::OpportunitiesCreated => "Opportunities created in the window",
                Indicator::OpportunitiesWon => "Opportunities won with a close time in the window",
                Indicator::OpportunitiesLost => "Opportunities lost with a close time in the window",
                Indicator::ConversionRatio => "Won over won plus lost, of opportunities closed in the window",
                Indicator::RevenuePerRep => "Revenue over the reps in scope (active reps, else reps seen in the window)",
                Indicator::Calls => "Call activities in the window",
                Indicator::CallsPerOpportunity => "Calls logged against the opportunities closed in the window, per such opportunity",
                Indicator::AverageBasket => "Revenue over the distinct customers with a win closed in the window",
                Indicator::NewCustomers => "Customers whose first won opportunity closed in the window",
                Indicator::AcquisitionCost => "Marketing and sales costs in the window per new customer",
                Indicator::AverageDealSize => "Revenue over opportunities won in the window",
                Indicator::SalesCycle => "Mean time from creation to close of opportunities won in the window",
                Indicator::OpenPipeline => "Open pipeline",
            },
            Measure::OpenCount => "Open opportunities now",
            Measure::OpenAmount => "Sum of the amounts of the open opportunities now",
            Measure::OpenWeightedAmount => "Sum of the amounts of the open opportunities weighted by their win probability",
        }
    }
}

/// The metric name of a target for `indicator` at `scope`, e.g. `sales_rep_revenue_target`.
pub fn target_metric_name(indicator: Indicator, scope: Scope) -> String {
    let measure = match indicator {
        Indicator::OpenPipeline => Measure::OpenAmount,
        other => Measure::Windowed(other),
    };
    format!("{}_target", measure.metric_name(scope))
}

/// The metric name of the share of each period elapsed at the refresh, `sales_period_elapsed_ratio`.
pub fn elapsed_ratio_metric_name() -> String {
    format!("{INDICATOR_PREFIX}_period_elapsed_ratio")
}
