//! The exporter's configuration: TOML read from a file, validated into typed settings.
//! Every error names the file, the key and what to change; secrets are read here too.

mod file;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use crate::calendar::{BusinessCalendar, CalendarPeriod};
use crate::catalogue::{Indicator, Scope};
use crate::model::{
    ActivityKind, ActivityMapping, CostCategory, CostMapping, OpportunityMapping, RelationSource,
    RepMapping, SalesModel, Status, TimeColumn, TimeType, ValueMapping,
};
use crate::source::Dialect;
use file::ConfigFile;

/// The demo configuration, the same text as `config.example.toml`.
pub const EXAMPLE_CONFIG: &str = include_str!("../../config.example.toml");

/// A configuration that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the expected keys and types.
    #[error("config file {path} is invalid: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key holds a value the exporter cannot use.
    #[error("config file {path}: `{key}` {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The dotted key, e.g. `calendar.time_zone`.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Where the sales database is and how to query it.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Connection URL, secrets already resolved from the environment or a file.
    pub url: String,
    /// Password set on the connect options, from `password_env` or `password_file`; it
    /// replaces any password in the URL.
    pub password: Option<Secret>,
    /// SQL dialect, from the URL's scheme.
    pub dialect: Dialect,
    /// Zone in which naive timestamps of the database are read.
    pub time_zone: TimeZone,
    /// Longest time one aggregate query may run.
    pub query_timeout: Duration,
    /// Connections the exporter may hold open.
    pub max_connections: u32,
}

/// A secret read from the environment or a file; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A target value for an indicator at one scope and period.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Company, team or rep.
    pub scope: Scope,
    /// The team name or rep id; empty for the company.
    pub name: String,
    /// The indicator the target is for.
    pub indicator: Indicator,
    /// Period label, e.g. `month` or `30d`.
    pub period: String,
    /// Target value, in the indicator's unit.
    pub value: f64,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The sales database.
    pub database: DatabaseConfig,
    /// Address `/metrics` is served on.
    pub listen_address: SocketAddr,
    /// Time between the starts of two refreshes.
    pub refresh_interval: Duration,
    /// Business calendar: time zone, first weekday, fiscal year start.
    pub calendar: BusinessCalendar,
    /// Calendar periods to export.
    pub periods: Vec<CalendarPeriod>,
    /// Lengths of the rolling windows to export, in days.
    pub rolling_days: Vec<u16>,
    /// Indicators to export.
    pub indicators: BTreeSet<Indicator>,
    /// How the sales model maps onto the database.
    pub model: SalesModel,
    /// Targets exported beside the values.
    pub targets: Vec<Target>,
}

impl Config {
    /// Reads and validates the configuration file at `path`.
    ///
    /// # Errors
    ///
    /// Any unreadable file, TOML error, unknown key, invalid value or missing secret.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// Validates configuration text; `path` is only used in error messages.
    ///
    /// # Errors
    ///
    /// As [`Config::from_file`], without the read error.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        Validator { path }.config(file)
    }

    /// The sales model as it is queried: an optional relation whose indicators are all
    /// left out of `indicators.export` is not read at all.
    pub fn queried_model(&self) -> SalesModel {
        let wants =
            |indicators: &[Indicator]| indicators.iter().any(|i| self.indicators.contains(i));
        let mut model = self.model.clone();
        if !wants(&[Indicator::Calls, Indicator::CallsPerOpportunity]) {
            model.activities = None;
        }
        if !wants(&[Indicator::AcquisitionCost]) {
            model.costs = None;
        }
        model
    }

    /// Every period label exported, calendar periods first, e.g. `month` or `30d`.
    pub fn period_labels(&self) -> Vec<String> {
        let calendar = self.periods.iter().map(|p| p.label().to_owned());
        let rolling = self.rolling_days.iter().map(|days| format!("{days}d"));
        calendar.chain(rolling).collect()
    }
}

struct Validator<'a> {
    path: &'a Path,
}

impl Validator<'_> {
    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn config(&self, file: ConfigFile) -> Result<Config, ConfigError> {
        let database = self.database(&file.database)?;
        let calendar = self.calendar(&file.calendar)?;
        let periods = self.periods(&file.calendar.periods)?;
        let rolling_days = self.rolling_days(&file.calendar.rolling_days)?;
        let indicators = self.indicators(file.indicators.export.as_deref())?;
        let default_time = default_time_type(database.dialect);
        let model = SalesModel {
            opportunities: self.opportunities(&file.opportunities, default_time)?,
            reps: file.reps.as_ref().map(|reps| self.reps(reps)).transpose()?,
            activities: (file.activities.as_ref())
                .map(|section| self.activities(section, default_time))
                .transpose()?,
            costs: (file.costs.as_ref())
                .map(|section| self.costs(section, default_time))
                .transpose()?,
        };
        let listen_address = self.listen_address(&file.web.listen_address)?;
        if file.refresh.interval_secs == 0 {
            return Err(self.invalid("refresh.interval_secs", "must be at least 1"));
        }
        let mut config = Config {
            database,
            listen_address,
            refresh_interval: Duration::from_secs(file.refresh.interval_secs),
            calendar,
            periods,
            rolling_days,
            indicators,
            model,
            targets: Vec::new(),
        };
        config.targets = self.targets(&file.targets, &config)?;
        Ok(config)
    }

    fn database(&self, section: &file::DatabaseSection) -> Result<DatabaseConfig, ConfigError> {
        let url = self.database_url(section)?;
        let dialect = Dialect::from_url(&url).ok_or_else(|| {
            self.invalid(
                "database.url",
                "must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://",
            )
        })?;
        if dialect == Dialect::Sqlite && crate::source::sqlite_path(&url).is_none() {
            return Err(self.invalid(
                "database.url",
                "names no SQLite file; use sqlite:/absolute/path.sqlite (the exporter reads \
                 an existing file, never an in-memory database)",
            ));
        }
        if section.query_timeout_secs == 0 {
            return Err(self.invalid("database.query_timeout_secs", "must be at least 1"));
        }
        if section.max_connections == 0 {
            return Err(self.invalid("database.max_connections", "must be at least 1"));
        }
        if dialect != Dialect::Sqlite && section.max_connections < 2 {
            return Err(self.invalid(
                "database.max_connections",
                "must be at least 2 for a database server: a refresh holds one connection \
                 and the other stays free while one whose query timed out is checked",
            ));
        }
        let password = self.database_password(section, &url, dialect)?;
        Ok(DatabaseConfig {
            url,
            password,
            dialect,
            time_zone: self.time_zone("database.time_zone", &section.time_zone)?,
            query_timeout: Duration::from_secs(section.query_timeout_secs),
            max_connections: section.max_connections,
        })
    }

    fn database_url(&self, section: &file::DatabaseSection) -> Result<String, ConfigError> {
        let url = match (&section.url, &section.url_env, &section.url_file) {
            (Some(url), None, None) => {
                if url_has_password(url) {
                    return Err(self.invalid(
                        "database.url",
                        "holds a password; move the URL to `url_env` or `url_file` so that \
                         no secret sits in the TOML",
                    ));
                }
                url.clone()
            }
            (None, Some(var), None) => self.secret_from_env("database.url_env", var)?,
            (None, None, Some(secret_path)) => self
                .secret_from_file("database.url_file", secret_path)?
                .trim()
                .to_owned(),
            _ => {
                return Err(self.invalid(
                    "database",
                    "needs exactly one of `url`, `url_env` or `url_file`",
                ))
            }
        };
        if url.is_empty() {
            return Err(self.invalid("database.url", "is empty"));
        }
        Ok(url)
    }

    /// The value of the environment variable `var`, named by `key`.
    fn secret_from_env(&self, key: &str, var: &str) -> Result<String, ConfigError> {
        std::env::var(var).map_err(|_| {
            self.invalid(
                key,
                format!("names the environment variable {var}, which is not set"),
            )
        })
    }

    /// The contents of the file `path` (which may start with `$CREDENTIALS_DIRECTORY`),
    /// named by `key`.
    fn secret_from_file(&self, key: &str, path: &str) -> Result<String, ConfigError> {
        let resolved = credentials_path(path).map_err(|message| self.invalid(key, message))?;
        std::fs::read_to_string(resolved)
            .map_err(|err| self.invalid(key, format!("names {path}, which cannot be read: {err}")))
    }

    fn database_password(
        &self,
        section: &file::DatabaseSection,
        url: &str,
        dialect: Dialect,
    ) -> Result<Option<Secret>, ConfigError> {
        let (key, password) = match (&section.password_env, &section.password_file) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    "database",
                    "sets both `password_env` and `password_file`; keep one",
                ))
            }
            (Some(var), None) => (
                "database.password_env",
                self.secret_from_env("database.password_env", var)?,
            ),
            (None, Some(secret_path)) => (
                "database.password_file",
                (self.secret_from_file("database.password_file", secret_path)?)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
        };
        if dialect == Dialect::Sqlite {
            return Err(self.invalid(key, "is set, but SQLite takes no password; remove it"));
        }
        if url_has_password(url) {
            return Err(self.invalid(
                key,
                "is set, but the database URL holds a password too; keep one of them",
            ));
        }
        if password.is_empty() {
            return Err(self.invalid(key, "gives an empty password"));
        }
        Ok(Some(Secret(password)))
    }

    fn time_zone(&self, key: &str, name: &str) -> Result<TimeZone, ConfigError> {
        TimeZone::get(name)
            .map_err(|err| self.invalid(key, format!("names an unknown time zone {name:?}: {err}")))
    }

    fn calendar(&self, section: &file::CalendarSection) -> Result<BusinessCalendar, ConfigError> {
        let time_zone = self.time_zone("calendar.time_zone", &section.time_zone)?;
        let first_weekday = parse_weekday(&section.first_weekday).ok_or_else(|| {
            self.invalid(
                "calendar.first_weekday",
                format!(
                    "is {:?}; use a weekday name such as \"monday\"",
                    section.first_weekday
                ),
            )
        })?;
        let month = i8::try_from(section.fiscal_year_start_month)
            .ok()
            .filter(|month| (1..=12).contains(month))
            .ok_or_else(|| {
                self.invalid(
                    "calendar.fiscal_year_start_month",
                    "must be a month from 1 to 12",
                )
            })?;
        BusinessCalendar::new(time_zone, first_weekday, month)
            .map_err(|err| self.invalid("calendar", err.to_string()))
    }

    fn periods(&self, names: &[String]) -> Result<Vec<CalendarPeriod>, ConfigError> {
        let mut periods = Vec::new();
        for name in names {
            let period: CalendarPeriod =
                name.parse()
                    .map_err(|err: crate::calendar::CalendarError| {
                        self.invalid("calendar.periods", err.to_string())
                    })?;
            if periods.contains(&period) {
                return Err(self.invalid("calendar.periods", format!("lists {name:?} twice")));
            }
            periods.push(period);
        }
        Ok(periods)
    }

    fn rolling_days(&self, days: &[i64]) -> Result<Vec<u16>, ConfigError> {
        let mut checked = Vec::new();
        for &day_count in days {
            let value = u16::try_from(day_count)
                .ok()
                .filter(|d| (1..=3660).contains(d))
                .ok_or_else(|| {
                    self.invalid(
                        "calendar.rolling_days",
                        format!("holds {day_count}; each length must be 1 to 3660 days"),
                    )
                })?;
            if checked.contains(&value) {
                return Err(self.invalid("calendar.rolling_days", format!("lists {value} twice")));
            }
            checked.push(value);
        }
        Ok(checked)
    }

    fn indicators(&self, names: Option<&[String]>) -> Result<BTreeSet<Indicator>, ConfigError> {
        let Some(names) = names else {
            return Ok(Indicator::ALL.into_iter().collect());
        };
        names
            .iter()
            .map(|name| {
                Indicator::parse(name).ok_or_else(|| {
                    self.invalid("indicators.export", unknown_indicator_message(name))
                })
            })
            .collect()
    }

    fn listen_address(&self, text: &str) -> Result<SocketAddr, ConfigError> {
        text.parse().map_err(|_| {
            self.invalid(
                "web.listen_address",
                format!("is {text:?}; use an IP address and port such as \"127.0.0.1:9745\""),
            )
        })
    }

    fn source(
        &self,
        relation: &str,
        table: &Option<String>,
        query: &Option<String>,
    ) -> Result<RelationSource, ConfigError> {
        match (table, query) {
            (Some(table), None) => {
                let parts: Vec<String> = table.split('.').map(str::to_owned).collect();
                if parts
                    .iter()
                    .any(|part| part.is_empty() || part.contains('\0'))
                {
                    return Err(self.invalid(
                        format!("{relation}.table"),
                        format!("is {table:?}; use `table` or `schema.table`"),
                    ));
                }
                Ok(RelationSource::Table(parts))
            }
            (None, Some(query)) if !query.trim().is_empty() => {
                let query = query.trim().trim_end_matches(';').to_owned();
                Ok(RelationSource::Query(query))
            }
            _ => Err(self.invalid(relation, "needs exactly one of `table` or `query`")),
        }
    }

    fn column(&self, key: String, name: &str) -> Result<String, ConfigError> {
        if name.is_empty() || name.contains('\0') {
            return Err(self.invalid(key, "must be a non-empty column name"));
        }
        Ok(name.to_owned())
    }

    fn time_column(
        &self,
        relation: &str,
        column: &str,
        name: &str,
        types: &BTreeMap<String, String>,
        default: TimeType,
    ) -> Result<TimeColumn, ConfigError> {
        let name = self.column(format!("{relation}.columns.{column}"), name)?;
        let time_type = match types.get(column) {
            None => default,
            Some(type_name) => TimeType::parse(type_name).ok_or_else(|| {
                self.invalid(
                    format!("{relation}.time_types.{column}"),
                    format!("is {type_name:?}; use one of {}", TimeType::NAMES),
                )
            })?,
        };
        Ok(TimeColumn { name, time_type })
    }

    fn time_type_keys(
        &self,
        relation: &str,
        types: &BTreeMap<String, String>,
        allowed: &[&str],
    ) -> Result<(), ConfigError> {
        match types.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(self.invalid(
                format!("{relation}.time_types.{key}"),
                format!(
                    "is not a time column; the time columns are {}",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    fn value_mapping<C: Copy>(
        &self,
        key: &str,
        classes: Vec<(C, &Vec<String>)>,
    ) -> Result<ValueMapping<C>, ConfigError> {
        let mut seen = BTreeSet::new();
        for value in classes.iter().flat_map(|(_, values)| values.iter()) {
            if !seen.insert(value.as_str()) {
                return Err(self.invalid(key, format!("maps the value {value:?} twice")));
            }
        }
        Ok(ValueMapping {
            classes: classes.into_iter().map(|(c, v)| (c, v.clone())).collect(),
        })
    }

    fn opportunities(
        &self,
        section: &file::OpportunitiesSection,
        default_time: TimeType,
    ) -> Result<OpportunityMapping, ConfigError> {
        let rel = "opportunities";
        let columns = &section.columns;
        let types = &section.time_types;
        self.time_type_keys(rel, types, &["created_at", "closed_at"])?;
        let status = &section.status;
        if status.won.is_empty() || status.lost.is_empty() {
            return Err(self.invalid(
                "opportunities.status",
                "needs at least one value for `won` and one for `lost`",
            ));
        }
        Ok(OpportunityMapping {
            source: self.source(rel, &section.table, &section.query)?,
            id: self.column(format!("{rel}.columns.id"), &columns.id)?,
            rep: self.column(format!("{rel}.columns.rep"), &columns.rep)?,
            created_at: self.time_column(
                rel,
                "created_at",
                &columns.created_at,
                types,
                default_time,
            )?,
            status: self.column(format!("{rel}.columns.status"), &columns.status)?,
            closed_at: self.time_column(
                rel,
                "closed_at",
                &columns.closed_at,
                types,
                default_time,
            )?,
            amount: self.column(format!("{rel}.columns.amount"), &columns.amount)?,
            customer: (columns.customer.as_deref())
                .map(|c| self.column(format!("{rel}.columns.customer"), c))
                .transpose()?,
            probability: (columns.probability.as_deref())
                .map(|c| self.column(format!("{rel}.columns.probability"), c))
                .transpose()?,
            statuses: self.value_mapping(
                "opportunities.status",
                vec![
                    (Status::Open, &status.open),
                    (Status::Won, &status.won),
                    (Status::Lost, &status.lost),
                ],
            )?,
        })
    }

    fn reps(&self, section: &file::RepsSection) -> Result<RepMapping, ConfigError> {
        let columns = &section.columns;
        Ok(RepMapping {
            source: self.source("reps", &section.table, &section.query)?,
            id: self.column("reps.columns.id".into(), &columns.id)?,
            name: self.column("reps.columns.name".into(), &columns.name)?,
            team: self.column("reps.columns.team".into(), &columns.team)?,
            active: (columns.active.as_deref())
                .map(|c| self.column("reps.columns.active".into(), c))
                .transpose()?,
        })
    }

    fn activities(
        &self,
        section: &file::ActivitiesSection,
        default_time: TimeType,
    ) -> Result<ActivityMapping, ConfigError> {
        let rel = "activities";
        let columns = &section.columns;
        self.time_type_keys(rel, &section.time_types, &["occurred_at"])?;
        let kinds = &section.kinds;
        if kinds.call.is_empty() {
            return Err(self.invalid("activities.kinds.call", "needs at least one value"));
        }
        Ok(ActivityMapping {
            source: self.source(rel, &section.table, &section.query)?,
            rep: self.column(format!("{rel}.columns.rep"), &columns.rep)?,
            occurred_at: self.time_column(
                rel,
                "occurred_at",
                &columns.occurred_at,
                &section.time_types,
                default_time,
            )?,
            kind: self.column(format!("{rel}.columns.kind"), &columns.kind)?,
            opportunity: (columns.opportunity.as_deref())
                .map(|c| self.column(format!("{rel}.columns.opportunity"), c))
                .transpose()?,
            kinds: self.value_mapping(
                "activities.kinds",
                vec![
                    (ActivityKind::Call, &kinds.call),
                    (ActivityKind::Email, &kinds.email),
                    (ActivityKind::Meeting, &kinds.meeting),
                    (ActivityKind::Other, &kinds.other),
                ],
            )?,
        })
    }

    fn costs(
        &self,
        section: &file::CostsSection,
        default_time: TimeType,
    ) -> Result<CostMapping, ConfigError> {
        let rel = "costs";
        let columns = &section.columns;
        self.time_type_keys(rel, &section.time_types, &["incurred_at"])?;
        let categories = &section.categories;
        if categories.marketing.is_empty() && categories.sales.is_empty() {
            return Err(self.invalid("costs.categories", "needs `marketing` or `sales` values"));
        }
        Ok(CostMapping {
            source: self.source(rel, &section.table, &section.query)?,
            incurred_at: self.time_column(
                rel,
                "incurred_at",
                &columns.incurred_at,
                &section.time_types,
                default_time,
            )?,
            category: self.column(format!("{rel}.columns.category"), &columns.category)?,
            amount: self.column(format!("{rel}.columns.amount"), &columns.amount)?,
            team: (columns.team.as_deref())
                .map(|c| self.column(format!("{rel}.columns.team"), c))
                .transpose()?,
            categories: self.value_mapping(
                "costs.categories",
                vec![
                    (CostCategory::Marketing, &categories.marketing),
                    (CostCategory::Sales, &categories.sales),
                ],
            )?,
        })
    }

    fn targets(
        &self,
        entries: &[file::TargetEntry],
        config: &Config,
    ) -> Result<Vec<Target>, ConfigError> {
        let periods = config.period_labels();
        let mut seen = BTreeSet::new();
        let mut targets = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let key = format!("targets[{index}]");
            let target = self.target(&key, entry, &periods)?;
            if !config.indicators.contains(&target.indicator) {
                return Err(self.invalid(
                    format!("{key}.indicator"),
                    format!(
                        "is {}, which `indicators.export` leaves out; export it or drop the target",
                        target.indicator
                    ),
                ));
            }
            let identity = (
                target.scope,
                target.name.clone(),
                target.indicator,
                target.period.clone(),
            );
            if !seen.insert(identity) {
                return Err(self.invalid(
                    key,
                    "repeats an earlier target for the same scope, name, indicator and period",
                ));
            }
            targets.push(target);
        }
        Ok(targets)
    }

    fn target(
        &self,
        key: &str,
        entry: &file::TargetEntry,
        periods: &[String],
    ) -> Result<Target, ConfigError> {
        let scope = Scope::ALL
            .into_iter()
            .find(|s| s.name() == entry.scope)
            .ok_or_else(|| {
                self.invalid(
                    format!("{key}.scope"),
                    format!("is {:?}; use company, team or rep", entry.scope),
                )
            })?;
        let name = match (scope, &entry.name) {
            (Scope::Company, None) => String::new(),
            (Scope::Company, Some(_)) => {
                return Err(self.invalid(format!("{key}.name"), "is not used for the company scope"))
            }
            (_, Some(name)) if !name.is_empty() => name.clone(),
            _ => {
                return Err(self.invalid(
                    format!("{key}.name"),
                    "is required: the team name or the rep id",
                ))
            }
        };
        let indicator = Indicator::parse(&entry.indicator).ok_or_else(|| {
            self.invalid(
                format!("{key}.indicator"),
                unknown_indicator_message(&entry.indicator),
            )
        })?;
        if !indicator.applies_to(scope) {
            return Err(self.invalid(
                format!("{key}.indicator"),
                format!("{indicator} is not computed at {} scope", scope.name()),
            ));
        }
        if !periods.contains(&entry.period) {
            return Err(self.invalid(
                format!("{key}.period"),
                format!(
                    "is {:?}; exported periods are {}",
                    entry.period,
                    periods.join(", ")
                ),
            ));
        }
        if !entry.value.is_finite() {
            return Err(self.invalid(format!("{key}.value"), "must be a finite number"));
        }
        Ok(Target {
            scope,
            name,
            indicator,
            period: entry.period.clone(),
            value: entry.value,
        })
    }
}

fn unknown_indicator_message(name: &str) -> String {
    let known: Vec<&str> = Indicator::ALL.iter().map(|i| i.name()).collect();
    format!(
        "names an unknown indicator {name:?}; known ones are {}",
        known.join(", ")
    )
}

fn default_time_type(dialect: Dialect) -> TimeType {
    match dialect {
        Dialect::Sqlite => TimeType::Text,
        Dialect::Postgres | Dialect::MySql => TimeType::Timestamp,
    }
}

fn parse_weekday(name: &str) -> Option<Weekday> {
    Some(match name.to_ascii_lowercase().as_str() {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// The variable systemd sets to the folder of the credentials given with `LoadCredential=`.
const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// `path` with a leading `$CREDENTIALS_DIRECTORY` (or `${CREDENTIALS_DIRECTORY}`) replaced by that variable's value, so a
/// secret file can name a systemd credential without knowing where systemd puts it.
fn credentials_path(path: &str) -> Result<PathBuf, String> {
    let prefixes = ["${CREDENTIALS_DIRECTORY}", "$CREDENTIALS_DIRECTORY"];
    let rest = prefixes.iter().find_map(|prefix| path.strip_prefix(prefix));
    let Some(rest) = rest.filter(|rest| rest.is_empty() || rest.starts_with('/')) else {
        return Ok(PathBuf::from(path));
    };
    match std::env::var_os(CREDENTIALS_DIRECTORY) {
        Some(directory) => Ok(PathBuf::from(directory).join(rest.trim_start_matches('/'))),
        None => Err(format!(
            "names {path}, but {CREDENTIALS_DIRECTORY} is not set; run under systemd with \
             `LoadCredential=` or give the file's full path"
        )),
    }
}

/// Whether a URL such as `postgres://user:secret@host/db` or `...?password=secret`
/// carries a password.
fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let query = rest.split_once('?').map_or("", |(_, query)| query);
    if query
        .split('&')
        .any(|pair| pair.to_ascii_lowercase().starts_with("password="))
    {
        return true;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((user_info, _)) => user_info.contains(':'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(extra: &str) -> Result<Config, ConfigError> {
        let text = format!(
            "[database]\n{extra}\n\
             [opportunities]\ntable = \"o\"\n\
             [opportunities.columns]\nid = \"id\"\nrep = \"rep\"\n\
             created_at = \"c\"\nstatus = \"s\"\nclosed_at = \"d\"\namount = \"a\"\n\
             [opportunities.status]\nopen = [\"o\"]\nwon = [\"w\"]\nlost = [\"l\"]\n"
        );
        Config::from_toml(&text, Path::new("test.toml"))
    }

    /// A password file sets the password on the options and never shows in `Debug`.
    #[test]
    fn password_file_is_read_and_redacted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").expect("write");
        let config = database(&format!(
            "url = \"postgres://exporter@db/sales\"\npassword_file = {:?}",
            file.display().to_string()
        ))
        .expect("valid");
        let password = config.database.password.clone().expect("password");
        assert_eq!(password.expose(), "s3cret");
        assert!(!format!("{:?}", config.database).contains("s3cret"));
    }

    /// A password from the environment is refused beside a URL that holds one, for SQLite,
    /// and when its variable is unset.
    #[test]
    fn password_env_is_validated() {
        let err = database("url = \"sqlite:x.db\"\npassword_env = \"PATH\"").unwrap_err();
        assert!(
            err.to_string().contains("SQLite takes no password"),
            "{err}"
        );
        let err = database(
            "url = \"mysql://u@db/s\"\npassword_env = \"SALES_EXPORTER_TEST_UNSET_VARIABLE\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not set"), "{err}");
        let err =
            database("url = \"mysql://u@db/s\"\npassword_env = \"PATH\"\npassword_file = \"/x\"")
                .unwrap_err();
        assert!(err.to_string().contains("keep one"), "{err}");
        let config = database("url = \"mysql://u@db/s\"\npassword_env = \"PATH\"").expect("ok");
        assert!(config.database.password.is_some());
        let err = database("url = \"mysql://u@db/s\"\nmax_connections = 1").unwrap_err();
        assert!(err.to_string().contains("at least 2"), "{err}");
        let err = database("url = \"postgres://u@db/s?password=x\"").unwrap_err();
        assert!(err.to_string().contains("holds a password"), "{err}");
    }
}
