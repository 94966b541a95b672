//! Validation of the file as written into a typed `Config`: one method per section,
//! each error naming the key, the value and what to use instead.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use super::file::{self, ConfigFile};
use super::{Config, ConfigError, DatabaseConfig, Target};
use crate::calendar::{BusinessCalendar, CalendarPeriod};
use crate::catalogue::{Indicator, Scope};
use crate::model::{SalesModel, TimeType};
use crate::source::opportunities::MAX_WINDOWS;
use crate::source::Dialect;

/// Validates one configuration file; `path` names it in every error.
pub(super) struct Validator<'a> {
    pub(super) path: &'a Path,
}

impl Validator<'_> {
    pub(super) fn invalid(
        &self,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key: key.into(),
            message: message.into(),
        }
    }

    pub(super) fn config(&self, file: ConfigFile) -> Result<Config, ConfigError> {
        let database = self.database(&file.database)?;
        let calendar = self.calendar(&file.calendar)?;
        let periods = self.periods(&file.calendar.periods)?;
        let rolling_days = self.rolling_days(&file.calendar.rolling_days)?;
        let windows = 2 * (periods.len() + rolling_days.len());
        if windows > MAX_WINDOWS {
            return Err(self.invalid(
                "calendar.rolling_days",
                format!(
                    "makes {windows} windows with calendar.periods (each period is a current and \
                     a previous window); at most {MAX_WINDOWS} are exported"
                ),
            ));
        }
        let indicators = self.indicators(file.indicators.export.as_deref())?;
        let scopes = self.scopes(file.indicators.scopes.as_deref())?;
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
            scopes,
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
                "must be at least 2 for a database server: a refresh runs its queries side by \
                 side, and a connection whose query timed out must not stall the others",
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

    fn scopes(&self, names: Option<&[String]>) -> Result<BTreeSet<Scope>, ConfigError> {
        let Some(names) = names else {
            return Ok(Scope::ALL.into_iter().collect());
        };
        if names.is_empty() {
            return Err(self.invalid(
                "indicators.scopes",
                "is empty, which would export no indicator; name company, team or rep, \
                 or leave the key out for all three",
            ));
        }
        names
            .iter()
            .map(|name| {
                Scope::ALL
                    .into_iter()
                    .find(|scope| scope.name() == name)
                    .ok_or_else(|| {
                        self.invalid(
                            "indicators.scopes",
                            format!("names {name:?}; use company, team or rep"),
                        )
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
            if !config.scopes.contains(&target.scope) {
                return Err(self.invalid(
                    format!("{key}.scope"),
                    format!(
                        "is {}, which `indicators.scopes` leaves out; export it or drop the target",
                        target.scope.name()
                    ),
                ));
            }
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
