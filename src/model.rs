//! The canonical sales model (opportunities, reps, activities, costs) and how each relation
//! maps onto the operator's schema: a table or a SELECT, column names and value mappings.

use std::fmt;

/// Where a relation's rows come from: a table, or a SELECT the operator wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelationSource {
    /// A table (optionally `schema.table`), reached only through quoted identifiers.
    Table(Vec<String>),
    /// A SELECT used as a subquery, so that aggregation still runs in the database.
    Query(String),
}

/// How a time column is stored, which decides how window bounds are compared with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeType {
    /// ISO-8601 text (`2024-05-01 13:45:00`, `2024-05-01T13:45:00`, `2024-05-01`), naive
    /// values read in the database time zone.
    Text,
    /// A calendar date; a date is inside a window when its midnight is.
    Date,
    /// A timestamp without time zone, read in the database time zone.
    Timestamp,
    /// A timestamp with time zone; its instant is kept as it is.
    TimestampTz,
    /// Seconds since the unix epoch, as an integer.
    UnixSeconds,
}

impl TimeType {
    /// Every accepted spelling in the configuration, for error messages.
    pub const NAMES: &'static str = "text, date, timestamp, timestamptz, unix_seconds";

    /// Reads a configuration value such as `"timestamptz"`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "text" => Self::Text,
            "date" => Self::Date,
            "timestamp" => Self::Timestamp,
            "timestamptz" => Self::TimestampTz,
            "unix_seconds" => Self::UnixSeconds,
            _ => return None,
        })
    }
}

/// A mapped time column: its name in the operator's schema and how it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeColumn {
    /// Column name in the mapped relation.
    pub name: String,
    /// Storage type of the column.
    pub time_type: TimeType,
}

/// The operator's values for each canonical class of a categorical column
/// (opportunity status, activity kind, cost category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueMapping<C> {
    /// Each class with the raw values that mean it.
    pub classes: Vec<(C, Vec<String>)>,
}

impl<C: Copy> ValueMapping<C> {
    /// The raw values mapped to `class`, empty when the class is not mapped.
    pub fn values_of(&self, class: C) -> &[String]
    where
        C: PartialEq,
    {
        self.classes
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(&[][..], |(_, values)| values.as_slice())
    }

    /// Every raw value that is mapped to some class.
    pub fn all_values(&self) -> Vec<&str> {
        self.classes
            .iter()
            .flat_map(|(_, values)| values.iter().map(String::as_str))
            .collect()
    }
}

/// Canonical status of an opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Still in the pipeline.
    Open,
    /// Closed and won.
    Won,
    /// Closed and lost.
    Lost,
}

/// Canonical kind of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// A phone call.
    Call,
    /// An email.
    Email,
    /// A meeting.
    Meeting,
    /// Any other mapped activity.
    Other,
}

/// Canonical category of a cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostCategory {
    /// Marketing spend.
    Marketing,
    /// Sales spend (salaries, commissions, travel).
    Sales,
}

/// The mapping of the `opportunities` relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityMapping {
    /// Table or SELECT.
    pub source: RelationSource,
    /// Opportunity id column.
    pub id: String,
    /// Column holding the rep's id.
    pub rep: String,
    /// Creation time.
    pub created_at: TimeColumn,
    /// Status column, mapped through `statuses`.
    pub status: String,
    /// Close time.
    pub closed_at: TimeColumn,
    /// Amount column (NULL amounts are left out of sums).
    pub amount: String,
    /// Customer column, when mapped.
    pub customer: Option<String>,
    /// Win probability column (0 to 1), when mapped.
    pub probability: Option<String>,
    /// Raw status values for open, won and lost.
    pub statuses: ValueMapping<Status>,
}

/// The mapping of the optional `reps` relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepMapping {
    /// Table or SELECT.
    pub source: RelationSource,
    /// Rep id column, matching `opportunities.rep`.
    pub id: String,
    /// Display name column.
    pub name: String,
    /// Team column.
    pub team: String,
    /// Active flag column; without it every rep is active.
    pub active: Option<String>,
}

/// The mapping of the optional `activities` relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityMapping {
    /// Table or SELECT.
    pub source: RelationSource,
    /// Rep who logged the activity.
    pub rep: String,
    /// When it happened.
    pub occurred_at: TimeColumn,
    /// Kind column, mapped through `kinds`.
    pub kind: String,
    /// Opportunity the activity was logged against, when mapped.
    pub opportunity: Option<String>,
    /// Raw kind values for each activity kind.
    pub kinds: ValueMapping<ActivityKind>,
}

/// The mapping of the optional `costs` relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostMapping {
    /// Table or SELECT.
    pub source: RelationSource,
    /// When the cost was incurred.
    pub incurred_at: TimeColumn,
    /// Category column, mapped through `categories`.
    pub category: String,
    /// Amount column.
    pub amount: String,
    /// Team the cost belongs to, when mapped; costs without a team count for the company only.
    pub team: Option<String>,
    /// Raw category values for marketing and sales.
    pub categories: ValueMapping<CostCategory>,
}

/// The whole sales model as mapped by the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesModel {
    /// Required.
    pub opportunities: OpportunityMapping,
    /// Optional: without it reps are the distinct rep values seen and there are no teams.
    pub reps: Option<RepMapping>,
    /// Optional: without it there are no call indicators.
    pub activities: Option<ActivityMapping>,
    /// Optional: without it there is no acquisition cost.
    pub costs: Option<CostMapping>,
}

/// The relations of the sales model, as named in the configuration and in self-metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// `opportunities`
    Opportunities,
    /// `reps`
    Reps,
    /// `activities`
    Activities,
    /// `costs`
    Costs,
}

impl Relation {
    /// Every relation, in refresh order.
    pub const ALL: [Relation; 4] = [
        Relation::Reps,
        Relation::Opportunities,
        Relation::Activities,
        Relation::Costs,
    ];

    /// The relation's name in the configuration and in metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Opportunities => "opportunities",
            Relation::Reps => "reps",
            Relation::Activities => "activities",
            Relation::Costs => "costs",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
