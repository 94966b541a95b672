//! The days of the history, which of them are recent and which old, and each day's civil date,
//! weekday and place in its month, as the generator and the CSV timestamps need them.

use anyhow::{bail, Context, Result};
use jiff::civil::Date;
use jiff::{ToSpan, Unit};

/// Seconds in a day (UTC, no leap seconds).
pub const DAY: i64 = 86_400;
/// Days before the oldest generated day that the volume and customer tables also cover, so
/// that a customer's year of purchases can be looked back on from any generated day.
pub const LOOKBACK: i64 = 400;

const EPOCH: Date = Date::constant(1970, 1, 1);

/// The generated days, as days since 1970-01-01: the old history, then the last two years.
#[derive(Debug, Clone, Copy)]
pub struct History {
    /// The oldest generated day: `--history-factor` years before `recent_start`.
    pub first: i64,
    /// The first day of the three years that `--history-factor 1` covers; the volume is scaled
    /// so that these three years hold exactly the requested number of opportunities.
    pub window_start: i64,
    /// The first day of the last two years, which no `--history-factor` changes.
    pub recent_start: i64,
    /// The last generated day: `--as-of`.
    pub last: i64,
}

impl History {
    /// The history ending at `as_of` (included), with `history_factor` years of old history
    /// before its last two years.
    pub fn new(as_of: Date, history_factor: u32) -> Result<History> {
        if !(1000..=9000).contains(&as_of.year()) {
            bail!("--as-of {as_of} is outside the years 1000 to 9000 the generator writes");
        }
        let start = |years: i64| -> Result<i64> {
            let date = as_of
                .checked_sub(years.years())
                .and_then(|date| date.tomorrow())
                .with_context(|| format!("cannot go {years} years back from --as-of {as_of}"))?;
            epoch_day(date)
        };
        let last = epoch_day(as_of)?;
        let history = History {
            first: start(2 + i64::from(history_factor))?,
            window_start: start(3)?,
            recent_start: start(2)?,
            last,
        };
        if history.first - LOOKBACK < epoch_day(Date::constant(1000, 1, 1))? {
            bail!("--history-factor {history_factor} reaches back before the year 1000");
        }
        Ok(history)
    }

    /// The instant every event of the history is before: midnight after `--as-of`.
    pub fn horizon(&self) -> i64 {
        (self.last + 1) * DAY
    }
}

/// The day number (days since 1970-01-01) of `date`.
pub fn epoch_day(date: Date) -> Result<i64> {
    let span = EPOCH
        .until((Unit::Day, date))
        .with_context(|| format!("cannot count the days from 1970-01-01 to {date}"))?;
    Ok(i64::from(span.get_days()))
}

/// The weekday of a day number: 1 for Monday to 7 for Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> u8 {
    // The remainder is in 0..7, so the sum fits in a u8.
    ((day + 3).rem_euclid(7) + 1) as u8
}

/// What the generator needs to know about one civil day.
#[derive(Debug, Clone, Copy)]
pub struct DayInfo {
    /// `YYYY-MM-DD`.
    pub text: [u8; 10],
    /// 1 for Monday to 7 for Sunday.
    pub weekday: u8,
    /// Day of the month, from 1.
    pub day: u8,
    /// Month, 1 to 12.
    pub month: u8,
    /// Days in this day's month.
    pub days_in_month: u8,
    /// Day of the year, from 1.
    pub day_of_year: u16,
}

/// The civil dates of a contiguous range of day numbers.
pub struct Calendar {
    start: i64,
    days: Vec<DayInfo>,
}

impl Calendar {
    /// The days from `start` to `last` (both included).
    pub fn new(start: i64, last: i64) -> Result<Calendar> {
        let mut date = EPOCH
            .checked_add(start.days())
            .with_context(|| format!("day {start} after 1970-01-01 is not a date"))?;
        let mut days = Vec::with_capacity(usize::try_from(last - start + 1).unwrap_or(0));
        for _ in start..=last {
            days.push(DayInfo {
                text: date_text(date),
                weekday: date.weekday().to_monday_one_offset() as u8,
                day: date.day() as u8,
                month: date.month() as u8,
                days_in_month: date.days_in_month() as u8,
                day_of_year: date.day_of_year() as u16,
            });
            date = date
                .tomorrow()
                .with_context(|| format!("no day follows {date}"))?;
        }
        Ok(Calendar { start, days })
    }

    /// The day numbered `day`, which must be within the calendar.
    pub fn day(&self, day: i64) -> &DayInfo {
        &self.days[self.index(day)]
    }

    /// Writes the instant `secs` (seconds since 1970-01-01 UTC, on a day of the calendar) as
    /// `YYYY-MM-DD HH:MM:SS`.
    pub fn stamp(&self, secs: i64, out: &mut [u8; 19]) {
        let day = secs.div_euclid(DAY);
        let second = secs.rem_euclid(DAY);
        out[..10].copy_from_slice(&self.days[self.index(day)].text);
        out[10] = b' ';
        two_digits(&mut out[11..13], second / 3600);
        out[13] = b':';
        two_digits(&mut out[14..16], second / 60 % 60);
        out[16] = b':';
        two_digits(&mut out[17..19], second % 60);
    }

    fn index(&self, day: i64) -> usize {
        usize::try_from(day - self.start).expect("a day before the calendar")
    }
}

fn date_text(date: Date) -> [u8; 10] {
    let mut text = *b"0000-00-00";
    let year = i64::from(date.year());
    two_digits(&mut text[0..2], year / 100);
    two_digits(&mut text[2..4], year % 100);
    two_digits(&mut text[5..7], i64::from(date.month()));
    two_digits(&mut text[8..10], i64::from(date.day()));
    text
}

fn two_digits(out: &mut [u8], value: i64) {
    // `value` is in 0..100 here, so each digit fits in a u8.
    out[0] = b'0' + (value / 10) as u8;
    out[1] = b'0' + (value % 10) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_part_starts_no_later_than_january_first_of_the_previous_year() {
        for as_of in [
            Date::constant(2025, 12, 31),
            Date::constant(2025, 1, 1),
            Date::constant(2024, 2, 29),
        ] {
            let history = History::new(as_of, 3).unwrap();
            let january = epoch_day(Date::constant(as_of.year() - 1, 1, 1)).unwrap();
            assert!(history.recent_start <= january, "{as_of}");
            assert_eq!(history.last, epoch_day(as_of).unwrap());
            assert!(history.first < history.window_start);
            assert!(history.window_start < history.recent_start);
        }
    }

    #[test]
    fn stamps_are_naive_utc() {
        let day = epoch_day(Date::constant(2024, 2, 29)).unwrap();
        let calendar = Calendar::new(day - 1, day + 1).unwrap();
        let mut out = [0; 19];
        calendar.stamp(day * DAY + 13 * 3600 + 5 * 60 + 9, &mut out);
        assert_eq!(&out, b"2024-02-29 13:05:09");
        assert_eq!(calendar.day(day).weekday, 4);
        assert_eq!(weekday(day), 4);
        assert_eq!(calendar.day(day).days_in_month, 29);
    }
}
