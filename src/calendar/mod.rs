//! Reporting windows: calendar periods (day to fiscal year) and rolling N-day periods, as half-open
//! `[start, end)` timestamps computed in the business time zone, never in the server's.

use std::borrow::Cow;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan, Zoned};

/// Why a calendar could not be configured or its windows computed.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The fiscal year start month is not a month number.
    #[error("fiscal year start month must be in 1..=12, got {0}")]
    FiscalYearStartMonth(i8),
    /// A calendar period name is not one of the known labels.
    #[error("unknown calendar period {0:?}, expected one of: day, week, month, quarter, year")]
    UnknownPeriod(String),
    /// A rolling period of zero days would always be empty.
    #[error("rolling period must span at least 1 day, got {0}")]
    EmptyRollingPeriod(u16),
    /// A window bound falls outside the range of instants jiff can represent.
    #[error("{period} window for {now} is outside the representable time range")]
    OutOfRange {
        /// Label of the period whose window could not be computed.
        period: String,
        /// The instant the windows were computed for.
        now: Timestamp,
        /// The arithmetic error reported by jiff.
        #[source]
        source: jiff::Error,
    },
}

/// A calendar period; quarter and year follow the fiscal calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarPeriod {
    /// The business day.
    Day,
    /// The week starting on the configured first weekday.
    Week,
    /// The calendar month.
    Month,
    /// Three months, counted from the fiscal year start month.
    Quarter,
    /// The fiscal year.
    Year,
}

impl CalendarPeriod {
    /// Every calendar period, shortest first.
    pub const ALL: [CalendarPeriod; 5] = [
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Quarter,
        Self::Year,
    ];

    /// The metric label value: `day`, `week`, `month`, `quarter` or `year`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    fn length(self) -> Span {
        match self {
            Self::Day => 1.day(),
            Self::Week => 1.week(),
            Self::Month => 1.month(),
            Self::Quarter => 3.months(),
            Self::Year => 1.year(),
        }
    }
}

impl FromStr for CalendarPeriod {
    type Err = CalendarError;

    /// Parses a period from its [`label`](CalendarPeriod::label).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|period| period.label() == s)
            .ok_or_else(|| CalendarError::UnknownPeriod(s.to_owned()))
    }
}

/// Whether a window is the period in progress or the whole one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowPosition {
    /// From the start of the period containing now, up to now.
    Current,
    /// The whole period before the current one.
    Previous,
}

impl WindowPosition {
    /// The metric label value: `current` or `previous`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Previous => "previous",
        }
    }
}

/// A period the exporter reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar period, aligned to day, week, month or fiscal boundaries.
    Calendar(CalendarPeriod),
    /// The last `days` wall-clock days in the business time zone.
    Rolling {
        /// Length of the period in calendar days.
        days: u16,
    },
}

impl Period {
    /// The metric label value: the calendar label (`month`), or `{days}d` (`7d`) when rolling.
    pub fn label(self) -> Cow<'static, str> {
        match self {
            Self::Calendar(period) => Cow::Borrowed(period.label()),
            Self::Rolling { days } => Cow::Owned(format!("{days}d")),
        }
    }
}

/// A half-open time window `[start, end)` of one period at one position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Window {
    /// The period this window covers.
    pub period: Period,
    /// Whether this is the current or the previous window of the period.
    pub position: WindowPosition,
    /// First instant inside the window.
    pub start: Timestamp,
    /// First instant after the window.
    pub end: Timestamp,
}

impl Window {
    /// The metric label values of the period and of the position.
    pub fn label(&self) -> (Cow<'static, str>, &'static str) {
        (self.period.label(), self.position.label())
    }

    /// Whether `t` falls inside `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// The business calendar: time zone, first day of the week and first month of the fiscal year.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    first_weekday: Weekday,
    fiscal_year_start_month: i8,
}

impl BusinessCalendar {
    /// Creates a calendar; `fiscal_year_start_month` is 1 (January) to 12 (December).
    pub fn new(
        time_zone: TimeZone,
        first_weekday: Weekday,
        fiscal_year_start_month: i8,
    ) -> Result<Self, CalendarError> {
        if !(1..=12).contains(&fiscal_year_start_month) {
            return Err(CalendarError::FiscalYearStartMonth(fiscal_year_start_month));
        }
        Ok(Self {
            time_zone,
            first_weekday,
            fiscal_year_start_month,
        })
    }

    /// The business time zone all windows are computed in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The current and previous window of each period at `now`: calendar periods in the order
    /// given, then rolling periods of `rolling_days` days in the order given.
    pub fn windows(
        &self,
        now: Timestamp,
        periods: &[CalendarPeriod],
        rolling_days: &[u16],
    ) -> Result<Vec<Window>, CalendarError> {
        let now = now.to_zoned(self.time_zone.clone());
        let calendar = periods.iter().map(|&period| Period::Calendar(period));
        let rolling = rolling_days.iter().map(|&days| Period::Rolling { days });
        let mut windows = Vec::with_capacity(2 * (periods.len() + rolling_days.len()));
        for period in calendar.chain(rolling) {
            windows.extend(self.starts(&now, period)?.windows(period, now.timestamp()));
        }
        Ok(windows)
    }

    /// The share of `window`'s whole period that has elapsed by the window's end, in `0..=1`:
    /// for the current window of a calendar period, (end - start) over (the period's real
    /// end - start), that end taken in the business time zone (so a month or a day across a
    /// daylight-saving change has its true length); 1 for a previous window, which is over,
    /// and for rolling periods, which are always full. Dashboards and rules compare revenue
    /// with the target times this share ("pace").
    ///
    /// # Errors
    ///
    /// When the end of the period is outside the representable time range.
    pub fn elapsed_ratio(&self, window: &Window) -> Result<f64, CalendarError> {
        let period = match (window.period, window.position) {
            (Period::Calendar(period), WindowPosition::Current) => period,
            _ => return Ok(1.0),
        };
        let start_date = window.start.to_zoned(self.time_zone.clone()).date();
        let period_end = start_date
            .checked_add(period.length())
            .and_then(|date| self.start_of_day(date))
            .map_err(|source| CalendarError::OutOfRange {
                period: period.label().to_owned(),
                now: window.end,
                source,
            })?;
        let whole = period_end.duration_since(window.start).as_secs_f64();
        let elapsed = window.end.duration_since(window.start).as_secs_f64();
        Ok((elapsed / whole).clamp(0.0, 1.0))
    }

    fn starts(&self, now: &Zoned, period: Period) -> Result<Starts, CalendarError> {
        let starts = match period {
            Period::Calendar(period) => self.calendar_starts(now, period),
            Period::Rolling { days: 0 } => return Err(CalendarError::EmptyRollingPeriod(0)),
            Period::Rolling { days } => rolling_starts(now, days),
        };
        starts.map_err(|source| CalendarError::OutOfRange {
            period: period.label().into_owned(),
            now: now.timestamp(),
            source,
        })
    }

    fn calendar_starts(&self, now: &Zoned, period: CalendarPeriod) -> Result<Starts, jiff::Error> {
        let current = self.period_start_date(now.date(), period)?;
        let previous = current.checked_sub(period.length())?;
        Ok(Starts {
            previous: self.start_of_day(previous)?,
            current: self.start_of_day(current)?,
        })
    }

    fn period_start_date(&self, today: Date, period: CalendarPeriod) -> Result<Date, jiff::Error> {
        let months_into_year = self.months_into_fiscal_year(today);
        match period {
            CalendarPeriod::Day => Ok(today),
            CalendarPeriod::Week => {
                today.checked_sub(today.weekday().since(self.first_weekday).days())
            }
            CalendarPeriod::Month => Ok(today.first_of_month()),
            CalendarPeriod::Quarter => today
                .first_of_month()
                .checked_sub((months_into_year % 3).months()),
            CalendarPeriod::Year => today
                .first_of_month()
                .checked_sub(months_into_year.months()),
        }
    }

    /// Whole months from the first month of the fiscal year to the month of `date`, in `0..12`.
    fn months_into_fiscal_year(&self, date: Date) -> i8 {
        (date.month() - self.fiscal_year_start_month).rem_euclid(12)
    }

    fn start_of_day(&self, date: Date) -> Result<Timestamp, jiff::Error> {
        Ok(date
            .to_zoned(self.time_zone.clone())?
            .start_of_day()?
            .timestamp())
    }
}

/// Where a period's previous and current windows start; the previous ends where the current starts.
struct Starts {
    previous: Timestamp,
    current: Timestamp,
}

impl Starts {
    fn windows(self, period: Period, now: Timestamp) -> [Window; 2] {
        [
            Window {
                period,
                position: WindowPosition::Current,
                start: self.current,
                end: now,
            },
            Window {
                period,
                position: WindowPosition::Previous,
                start: self.previous,
                end: self.current,
            },
        ]
    }
}

fn rolling_starts(now: &Zoned, days: u16) -> Result<Starts, jiff::Error> {
    let days = i64::from(days);
    Ok(Starts {
        previous: days_before(now, 2 * days)?,
        current: days_before(now, days)?,
    })
}

/// The instant `days` wall-clock days before `now`, so a day across a DST change is 23 or 25 hours.
fn days_before(now: &Zoned, days: i64) -> Result<Timestamp, jiff::Error> {
    Ok(now.checked_sub(Span::new().try_days(days)?)?.timestamp())
}

#[cfg(test)]
mod tests;
