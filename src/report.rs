//! The reconciliation report (`--report`): one instant's indicators as an aligned text
//! table, per scope and window, for a manager to hold against their CRM's own report.

use std::collections::BTreeMap;
use std::fmt::Write;

use jiff::Timestamp;

use crate::calendar::Window;
use crate::catalogue::{Indicator, Measure};
use crate::config::Config;
use crate::indicators::{self, Indicators, ScopeKey};
use crate::refresh::{self, RefreshError};
use crate::source::SalesSource;

/// The indicators of one instant, ready to print.
#[derive(Debug, Clone)]
pub struct Report {
    /// The instant the windows were evaluated at.
    pub as_of: Timestamp,
    /// The business time zone's name, for the header.
    pub time_zone: String,
    /// Every window of the configuration at `as_of`.
    pub windows: Vec<Window>,
    /// The indicators computed for those windows.
    pub indicators: Indicators,
}

/// Reads the database once and computes the indicators at `as_of`.
///
/// # Errors
///
/// As a refresh: windows that cannot be computed, or a relation's query that fails.
pub async fn build(
    config: &Config,
    source: &SalesSource,
    as_of: Timestamp,
) -> Result<Report, RefreshError> {
    let windows = (config.calendar).windows(as_of, &config.periods, &config.rolling_days)?;
    let data = (source.read(&config.queried_model(), &windows).await)
        .map_err(|err| refresh::explain(&config.database, err))?;
    let indicators = indicators::compute(&data, windows.len(), config);
    let time_zone = config.calendar.time_zone().iana_name().unwrap_or("UTC");
    Ok(Report {
        as_of,
        time_zone: time_zone.to_owned(),
        windows,
        indicators,
    })
}

/// A value column: its header, its indicator and how a value is written.
type Column = (&'static str, Indicator, fn(f64) -> String);

/// The columns of the windowed table after the labels.
const WINDOWED: [Column; 6] = [
    ("revenue", Indicator::Revenue, money),
    ("won", Indicator::OpportunitiesWon, count),
    ("lost", Indicator::OpportunitiesLost, count),
    ("conversion", Indicator::ConversionRatio, percent),
    ("avg deal size", Indicator::AverageDealSize, money),
    ("created", Indicator::OpportunitiesCreated, count),
];

const WINDOW_LABELS: [&str; 8] = [
    "scope", "rep", "rep id", "team", "period", "window", "from", "to",
];

impl Report {
    /// The report as text: a header, the windowed values, then the open pipeline. A value
    /// that does not exist (a ratio over zero, an indicator not exported) prints as `-`.
    pub fn render(&self) -> String {
        let values: BTreeMap<(&ScopeKey, Option<usize>, Measure), f64> = (self.indicators)
            .values
            .iter()
            .map(|v| ((&v.key, v.window, v.measure), v.value))
            .collect();
        let get = |key, window, measure| values.get(&(key, window, measure)).copied();
        let scopes = self.scopes();

        let mut windowed = Table::new(&WINDOW_LABELS, &WINDOWED.map(|(name, ..)| name));
        for key in &scopes {
            for (index, window) in self.windows.iter().enumerate() {
                let (period, position) = window.label();
                let mut row = self.labels(key);
                row.extend([period.into_owned(), position.to_owned()]);
                row.extend([self.local(window.start), self.local(window.end)]);
                for (_, indicator, format) in WINDOWED {
                    let value = get(key, Some(index), Measure::Windowed(indicator));
                    row.push(value.map_or_else(|| "-".to_owned(), format));
                }
                windowed.push(row);
            }
        }

        let mut open = Table::new(
            &WINDOW_LABELS[..4],
            &["open opportunities", "open amount", "weighted amount"],
        );
        for key in &scopes {
            let mut row = self.labels(key);
            row.push(get(key, None, Measure::OpenCount).map_or("-".to_owned(), count));
            row.push(get(key, None, Measure::OpenAmount).map_or("-".to_owned(), money));
            let weighted = get(key, None, Measure::OpenWeightedAmount);
            row.push(weighted.map_or("-".to_owned(), money));
            open.push(row);
        }

        let mut text = format!(
            "Sales indicators as of {} (business time zone {}; windows are [from, to))\n\n",
            self.as_of, self.time_zone
        );
        text.push_str(&windowed.render());
        text.push_str("\nOpen pipeline now\n\n");
        text.push_str(&open.render());
        text
    }

    /// Company, then teams by name, then reps by team and name.
    fn scopes(&self) -> Vec<ScopeKey> {
        let mut teams = Vec::new();
        let mut reps = Vec::new();
        for value in &self.indicators.values {
            match &value.key {
                ScopeKey::Team(team) if !teams.contains(team) => teams.push(team.clone()),
                ScopeKey::Rep(id) if !reps.contains(id) => reps.push(id.clone()),
                _ => {}
            }
        }
        teams.sort();
        let info = &self.indicators.reps;
        reps.sort_by_key(|id| {
            let rep = info.get(id);
            (
                rep.map(|r| r.team.clone()),
                rep.map(|r| r.name.clone()),
                id.clone(),
            )
        });
        let teams = teams.into_iter().map(ScopeKey::Team);
        let reps = reps.into_iter().map(ScopeKey::Rep);
        std::iter::once(ScopeKey::Company)
            .chain(teams)
            .chain(reps)
            .collect()
    }

    /// Scope, rep name, rep id and team of a row.
    fn labels(&self, key: &ScopeKey) -> Vec<String> {
        let dash = || "-".to_owned();
        match key {
            ScopeKey::Company => vec!["company".to_owned(), dash(), dash(), dash()],
            ScopeKey::Team(team) => vec!["team".to_owned(), dash(), dash(), team.clone()],
            ScopeKey::Rep(id) => {
                let info = self.indicators.reps.get(id);
                let name = info.map_or_else(|| id.clone(), |r| r.name.clone());
                let team = info.map(|r| r.team.clone()).filter(|t| !t.is_empty());
                vec![
                    "rep".to_owned(),
                    name,
                    id.clone(),
                    team.unwrap_or_else(dash),
                ]
            }
        }
    }

    /// An instant in the business time zone, to the minute.
    fn local(&self, instant: Timestamp) -> String {
        let zone = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        instant
            .to_zoned(zone)
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }
}

/// Rows of cells, text columns aligned left and value columns right.
struct Table {
    header: Vec<String>,
    left: usize,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(text_columns: &[&str], value_columns: &[&str]) -> Table {
        let header = text_columns.iter().chain(value_columns);
        Table {
            header: header.map(|name| (*name).to_owned()).collect(),
            left: text_columns.len(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
                let pad = " ".repeat(width - cell.chars().count());
                let _ = match column < self.left {
                    true => write!(line, "{cell}{pad}  "),
                    false => write!(line, "{pad}{cell}  "),
                };
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

fn count(value: f64) -> String {
    format!("{value:.0}")
}

/// Two decimals with a thousands separator, e.g. `61,637.00`.
fn money(value: f64) -> String {
    let fixed = format!("{:.2}", value.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    format!("{sign}{grouped}.{cents}")
}

fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Money has two decimals and a comma every three digits, negative amounts included.
    #[test]
    fn money_is_grouped() {
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(61_637.0), "61,637.00");
        assert_eq!(money(1_234_567.891), "1,234,567.89");
        assert_eq!(money(-999.5), "-999.50");
    }

    /// Text columns pad on the right, value columns on the left, with no trailing blanks.
    #[test]
    fn table_aligns_columns() {
        let mut table = Table::new(&["rep"], &["won"]);
        table.push(vec!["Anna".to_owned(), "3".to_owned()]);
        table.push(vec!["Jo".to_owned(), "12".to_owned()]);
        assert_eq!(table.render(), "rep   won\nAnna    3\nJo     12\n");
    }
}
