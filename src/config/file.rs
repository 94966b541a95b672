//! The configuration file as written: serde structures that mirror the TOML one to one.
//! Nothing here is validated; `config::Config::from_file` turns it into the typed config.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub database: DatabaseSection,
    #[serde(default)]
    pub web: WebSection,
    #[serde(default)]
    pub refresh: RefreshSection,
    #[serde(default)]
    pub calendar: CalendarSection,
    #[serde(default)]
    pub indicators: IndicatorsSection,
    pub opportunities: OpportunitiesSection,
    pub reps: Option<RepsSection>,
    pub activities: Option<ActivitiesSection>,
    pub costs: Option<CostsSection>,
    #[serde(default)]
    pub targets: Vec<TargetEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub url_file: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    #[serde(default = "default_query_timeout_secs")]
    pub query_timeout_secs: u64,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSection {
    #[serde(default = "default_listen_address")]
    pub listen_address: String,
}

impl Default for WebSection {
    fn default() -> Self {
        WebSection {
            listen_address: default_listen_address(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshSection {
    #[serde(default = "default_interval_secs")]
    pub interval_secs: u64,
}

impl Default for RefreshSection {
    fn default() -> Self {
        RefreshSection {
            interval_secs: default_interval_secs(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSection {
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    #[serde(default = "default_first_weekday")]
    pub first_weekday: String,
    #[serde(default = "default_fiscal_year_start_month")]
    pub fiscal_year_start_month: i64,
    #[serde(default = "default_periods")]
    pub periods: Vec<String>,
    #[serde(default = "default_rolling_days")]
    pub rolling_days: Vec<i64>,
}

impl Default for CalendarSection {
    fn default() -> Self {
        CalendarSection {
            time_zone: default_time_zone(),
            first_weekday: default_first_weekday(),
            fiscal_year_start_month: default_fiscal_year_start_month(),
            periods: default_periods(),
            rolling_days: default_rolling_days(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsSection {
    /// Absent means every indicator.
    pub export: Option<Vec<String>>,
    /// Absent means every scope.
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpportunitiesSection {
    pub table: Option<String>,
    pub query: Option<String>,
    pub columns: OpportunityColumns,
    #[serde(default)]
    pub time_types: BTreeMap<String, String>,
    pub status: StatusValues,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpportunityColumns {
    pub id: String,
    pub rep: String,
    pub created_at: String,
    pub status: String,
    pub closed_at: String,
    pub amount: String,
    pub customer: Option<String>,
    pub probability: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusValues {
    pub open: Vec<String>,
    pub won: Vec<String>,
    pub lost: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepsSection {
    pub table: Option<String>,
    pub query: Option<String>,
    pub columns: RepColumns,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepColumns {
    pub id: String,
    pub name: String,
    pub team: String,
    pub active: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivitiesSection {
    pub table: Option<String>,
    pub query: Option<String>,
    pub columns: ActivityColumns,
    #[serde(default)]
    pub time_types: BTreeMap<String, String>,
    pub kinds: KindValues,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityColumns {
    pub rep: String,
    pub occurred_at: String,
    pub kind: String,
    pub opportunity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindValues {
    #[serde(default)]
    pub call: Vec<String>,
    #[serde(default)]
    pub email: Vec<String>,
    #[serde(default)]
    pub meeting: Vec<String>,
    #[serde(default)]
    pub other: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostsSection {
    pub table: Option<String>,
    pub query: Option<String>,
    pub columns: CostColumns,
    #[serde(default)]
    pub time_types: BTreeMap<String, String>,
    pub categories: CategoryValues,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostColumns {
    pub incurred_at: String,
    pub category: String,
    pub amount: String,
    pub team: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryValues {
    #[serde(default)]
    pub marketing: Vec<String>,
    #[serde(default)]
    pub sales: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    pub scope: String,
    pub name: Option<String>,
    pub indicator: String,
    pub period: String,
    pub value: f64,
}

fn default_time_zone() -> String {
    "UTC".to_owned()
}

fn default_query_timeout_secs() -> u64 {
    30
}

fn default_max_connections() -> u32 {
    2
}

fn default_listen_address() -> String {
    "127.0.0.1:9745".to_owned()
}

fn default_interval_secs() -> u64 {
    60
}

fn default_first_weekday() -> String {
    "monday".to_owned()
}

fn default_fiscal_year_start_month() -> i64 {
    1
}

fn default_periods() -> Vec<String> {
    ["day", "week", "month", "quarter", "year"]
        .map(str::to_owned)
        .to_vec()
}

fn default_rolling_days() -> Vec<i64> {
    vec![7, 30, 90]
}
