//! The exporter's configuration: TOML read from a file, validated into typed settings.
//! Every error names the file, the key and what to change; secrets are read here too.

mod file;
mod mapping;
mod secrets;
mod validate;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::calendar::{BusinessCalendar, CalendarPeriod};
use crate::catalogue::{Indicator, Scope};
use crate::model::SalesModel;
use crate::source::Dialect;
use file::ConfigFile;
use validate::Validator;

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
    /// Scopes to export indicators at; leaving out `rep` bounds the series by the teams.
    pub scopes: BTreeSet<Scope>,
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
        // Without calls per opportunity the calls on closed opportunities are not read.
        if !wants(&[Indicator::CallsPerOpportunity]) {
            if let Some(activities) = &mut model.activities {
                activities.opportunity = None;
            }
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
