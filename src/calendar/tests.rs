//! Window bounds worked out by hand: UTC, fiscal years, first weekdays, daylight-saving
//! days in Berlin and São Paulo, and the elapsed share of each period.

use super::*;
use CalendarPeriod::{Day, Month, Quarter, Week, Year};
use Weekday::{Monday, Sunday};

fn calendar(zone: &str, first_weekday: Weekday, fiscal_start: i8) -> BusinessCalendar {
    BusinessCalendar::new(TimeZone::get(zone).unwrap(), first_weekday, fiscal_start).unwrap()
}

fn windows_at(
    cal: &BusinessCalendar,
    now: &str,
    periods: &[CalendarPeriod],
    rolling: &[u16],
) -> Vec<Window> {
    cal.windows(now.parse().unwrap(), periods, rolling).unwrap()
}

/// Each window as `period position start/end`, bounds in RFC 3339.
fn describe(
    cal: &BusinessCalendar,
    now: &str,
    periods: &[CalendarPeriod],
    rolling: &[u16],
) -> Vec<String> {
    let describe = |w: &Window| {
        let (period, position) = w.label();
        format!("{period} {position} {}/{}", w.start, w.end)
    };
    windows_at(cal, now, periods, rolling)
        .iter()
        .map(describe)
        .collect()
}

fn hours(
    cal: &BusinessCalendar,
    now: &str,
    periods: &[CalendarPeriod],
    rolling: &[u16],
) -> Vec<i64> {
    let hours = |w: &Window| w.end.duration_since(w.start).as_hours();
    windows_at(cal, now, periods, rolling)
        .iter()
        .map(hours)
        .collect()
}

/// Bounds of every calendar period and rolling 30d in UTC, Monday weeks, January fiscal year.
#[test]
fn utc_reference_windows() {
    let cal = calendar("UTC", Monday, 1);
    assert_eq!(
        describe(&cal, "2017-12-15T12:00:00Z", &CalendarPeriod::ALL, &[30]),
        [
            "day current 2017-12-15T00:00:00Z/2017-12-15T12:00:00Z",
            "day previous 2017-12-14T00:00:00Z/2017-12-15T00:00:00Z",
            "week current 2017-12-11T00:00:00Z/2017-12-15T12:00:00Z",
            "week previous 2017-12-04T00:00:00Z/2017-12-11T00:00:00Z",
            "month current 2017-12-01T00:00:00Z/2017-12-15T12:00:00Z",
            "month previous 2017-11-01T00:00:00Z/2017-12-01T00:00:00Z",
            "quarter current 2017-10-01T00:00:00Z/2017-12-15T12:00:00Z",
            "quarter previous 2017-07-01T00:00:00Z/2017-10-01T00:00:00Z",
            "year current 2017-01-01T00:00:00Z/2017-12-15T12:00:00Z",
            "year previous 2016-01-01T00:00:00Z/2017-01-01T00:00:00Z",
            "30d current 2017-11-15T12:00:00Z/2017-12-15T12:00:00Z",
            "30d previous 2017-10-16T12:00:00Z/2017-11-15T12:00:00Z",
        ]
    );
}

/// Sunday as first weekday starts the week on Sunday, and a Sunday `now` opens a new week.
#[test]
fn sunday_first_weekday_moves_week_start() {
    let sunday_first = calendar("UTC", Sunday, 1);
    assert_eq!(
        describe(&sunday_first, "2017-12-15T12:00:00Z", &[Week], &[]),
        [
            "week current 2017-12-10T00:00:00Z/2017-12-15T12:00:00Z",
            "week previous 2017-12-03T00:00:00Z/2017-12-10T00:00:00Z",
        ]
    );
    assert_eq!(
        describe(&sunday_first, "2017-12-17T08:00:00Z", &[Week], &[]),
        [
            "week current 2017-12-17T00:00:00Z/2017-12-17T08:00:00Z",
            "week previous 2017-12-10T00:00:00Z/2017-12-17T00:00:00Z",
        ]
    );
    let monday_first = calendar("UTC", Monday, 1);
    assert_eq!(
        describe(&monday_first, "2017-12-17T08:00:00Z", &[Week], &[])[0],
        "week current 2017-12-11T00:00:00Z/2017-12-17T08:00:00Z"
    );
}

/// April fiscal year: in February the year began last April 1 and the quarter on January 1.
#[test]
fn april_fiscal_year_in_february() {
    let cal = calendar("UTC", Monday, 4);
    assert_eq!(
        describe(&cal, "2018-02-10T12:00:00Z", &[Quarter, Year], &[]),
        [
            "quarter current 2018-01-01T00:00:00Z/2018-02-10T12:00:00Z",
            "quarter previous 2017-10-01T00:00:00Z/2018-01-01T00:00:00Z",
            "year current 2017-04-01T00:00:00Z/2018-02-10T12:00:00Z",
            "year previous 2016-04-01T00:00:00Z/2017-04-01T00:00:00Z",
        ]
    );
}

/// April 1 00:00 in Tokyo (+09:00) opens an empty fiscal year; a second before, the old one.
#[test]
fn april_fiscal_year_boundary_in_business_zone() {
    let cal = calendar("Asia/Tokyo", Monday, 4);
    assert_eq!(
        describe(&cal, "2018-03-31T15:00:00Z", &[Quarter, Year], &[]),
        [
            "quarter current 2018-03-31T15:00:00Z/2018-03-31T15:00:00Z",
            "quarter previous 2017-12-31T15:00:00Z/2018-03-31T15:00:00Z",
            "year current 2018-03-31T15:00:00Z/2018-03-31T15:00:00Z",
            "year previous 2017-03-31T15:00:00Z/2018-03-31T15:00:00Z",
        ]
    );
    assert_eq!(
        describe(&cal, "2018-03-31T14:59:59Z", &[Year], &[]),
        [
            "year current 2017-03-31T15:00:00Z/2018-03-31T14:59:59Z",
            "year previous 2016-03-31T15:00:00Z/2017-03-31T15:00:00Z",
        ]
    );
}

/// October fiscal year: September 30 is its last day; its quarters start Oct, Jan, Apr, Jul.
#[test]
fn october_fiscal_year_boundary() {
    let cal = calendar("UTC", Monday, 10);
    assert_eq!(
        describe(&cal, "2017-09-30T23:59:59Z", &[Quarter, Year], &[]),
        [
            "quarter current 2017-07-01T00:00:00Z/2017-09-30T23:59:59Z",
            "quarter previous 2017-04-01T00:00:00Z/2017-07-01T00:00:00Z",
            "year current 2016-10-01T00:00:00Z/2017-09-30T23:59:59Z",
            "year previous 2015-10-01T00:00:00Z/2016-10-01T00:00:00Z",
        ]
    );
    assert_eq!(
        describe(&cal, "2017-10-01T00:00:00Z", &[Year], &[]),
        [
            "year current 2017-10-01T00:00:00Z/2017-10-01T00:00:00Z",
            "year previous 2016-10-01T00:00:00Z/2017-10-01T00:00:00Z",
        ]
    );
}

/// Berlin spring forward (2024-03-31): 11 h from midnight to noon; rolling 7d over it is 167 h.
#[test]
fn berlin_spring_forward() {
    let cal = calendar("Europe/Berlin", Monday, 1);
    assert_eq!(
        describe(&cal, "2024-03-31T10:00:00Z", &[Day], &[]),
        [
            "day current 2024-03-30T23:00:00Z/2024-03-31T10:00:00Z",
            "day previous 2024-03-29T23:00:00Z/2024-03-30T23:00:00Z",
        ]
    );
    assert_eq!(hours(&cal, "2024-03-31T10:00:00Z", &[Day], &[]), [11, 24]);
    assert_eq!(
        describe(&cal, "2024-04-02T10:00:00Z", &[], &[7]),
        [
            "7d current 2024-03-26T11:00:00Z/2024-04-02T10:00:00Z",
            "7d previous 2024-03-19T11:00:00Z/2024-03-26T11:00:00Z",
        ]
    );
    assert_eq!(hours(&cal, "2024-04-02T10:00:00Z", &[], &[7]), [167, 168]);
}

/// Berlin fall back (2024-10-27): as previous day it lasts 25 h; rolling 7d across it is 169 h.
#[test]
fn berlin_fall_back() {
    let cal = calendar("Europe/Berlin", Monday, 1);
    assert_eq!(
        describe(&cal, "2024-10-28T08:00:00Z", &[Day], &[7]),
        [
            "day current 2024-10-27T23:00:00Z/2024-10-28T08:00:00Z",
            "day previous 2024-10-26T22:00:00Z/2024-10-27T23:00:00Z",
            "7d current 2024-10-21T07:00:00Z/2024-10-28T08:00:00Z",
            "7d previous 2024-10-14T07:00:00Z/2024-10-21T07:00:00Z",
        ]
    );
    assert_eq!(
        hours(&cal, "2024-10-28T08:00:00Z", &[Day], &[7]),
        [9, 25, 169, 168]
    );
}

/// Sao Paulo 2018-11-04 has no midnight (00:00 -03 became 01:00 -02): the day starts at 01:00.
#[test]
fn sao_paulo_day_without_midnight_starts_at_first_instant() {
    let cal = calendar("America/Sao_Paulo", Monday, 1);
    assert_eq!(
        describe(&cal, "2018-11-04T14:00:00Z", &[Day], &[]),
        [
            "day current 2018-11-04T03:00:00Z/2018-11-04T14:00:00Z",
            "day previous 2018-11-03T03:00:00Z/2018-11-04T03:00:00Z",
        ]
    );
    assert_eq!(
        describe(&cal, "2018-11-05T12:00:00Z", &[Day], &[])[1],
        "day previous 2018-11-04T03:00:00Z/2018-11-05T02:00:00Z"
    );
}

/// In January the previous month and the previous quarter fall in the prior year.
#[test]
fn previous_month_and_quarter_cross_year() {
    let cal = calendar("UTC", Monday, 1);
    assert_eq!(
        describe(&cal, "2018-01-10T08:00:00Z", &[Month, Quarter], &[]),
        [
            "month current 2018-01-01T00:00:00Z/2018-01-10T08:00:00Z",
            "month previous 2017-12-01T00:00:00Z/2018-01-01T00:00:00Z",
            "quarter current 2018-01-01T00:00:00Z/2018-01-10T08:00:00Z",
            "quarter previous 2017-10-01T00:00:00Z/2018-01-01T00:00:00Z",
        ]
    );
}

/// On 2024-02-29 day and month bounds hold; seen from March, the previous month has 29 days.
#[test]
fn leap_day_month_bounds() {
    let cal = calendar("UTC", Monday, 1);
    assert_eq!(
        describe(&cal, "2024-02-29T18:00:00Z", &[Day, Month], &[]),
        [
            "day current 2024-02-29T00:00:00Z/2024-02-29T18:00:00Z",
            "day previous 2024-02-28T00:00:00Z/2024-02-29T00:00:00Z",
            "month current 2024-02-01T00:00:00Z/2024-02-29T18:00:00Z",
            "month previous 2024-01-01T00:00:00Z/2024-02-01T00:00:00Z",
        ]
    );
    assert_eq!(
        describe(&cal, "2024-03-05T00:00:00Z", &[Month], &[])[1],
        "month previous 2024-02-01T00:00:00Z/2024-03-01T00:00:00Z"
    );
}

/// Calendar periods come in the order given, then rolling ones, each current before previous.
#[test]
fn windows_follow_requested_order_with_labels() {
    let cal = calendar("UTC", Monday, 1);
    let windows = windows_at(&cal, "2017-12-15T12:00:00Z", &[Month, Day], &[7, 30, 90]);
    let labels: Vec<_> = windows.iter().map(Window::label).collect();
    let expected = [
        ("month", "current"),
        ("month", "previous"),
        ("day", "current"),
        ("day", "previous"),
        ("7d", "current"),
        ("7d", "previous"),
        ("30d", "current"),
        ("30d", "previous"),
        ("90d", "current"),
        ("90d", "previous"),
    ];
    assert_eq!(
        labels,
        expected.map(|(period, position)| (Cow::Borrowed(period), position))
    );
}

/// Fiscal start months outside 1..=12 are rejected with the bad value in the message.
#[test]
fn fiscal_month_outside_range_is_rejected() {
    let error = BusinessCalendar::new(TimeZone::UTC, Monday, 13).unwrap_err();
    assert_eq!(
        error.to_string(),
        "fiscal year start month must be in 1..=12, got 13"
    );
    assert!(BusinessCalendar::new(TimeZone::UTC, Monday, 0).is_err());
}

/// Labels parse back to their period; an unknown label's error names it and the accepted ones.
#[test]
fn calendar_period_labels_round_trip() {
    for period in CalendarPeriod::ALL {
        assert_eq!(period.label().parse::<CalendarPeriod>().unwrap(), period);
    }
    let error = "fortnight".parse::<CalendarPeriod>().unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"unknown calendar period "fortnight", expected one of: day, week, month, quarter, year"#
    );
}

/// A rolling period of 0 days is an error, not an empty window.
#[test]
fn zero_day_rolling_period_is_rejected() {
    let cal = calendar("UTC", Monday, 1);
    let error = cal.windows(Timestamp::UNIX_EPOCH, &[], &[0]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rolling period must span at least 1 day, got 0"
    );
}

/// A bound before jiff's minimum instant is a CalendarError naming the period, not a panic.
#[test]
fn out_of_range_bound_is_an_error() {
    let cal = calendar("UTC", Monday, 1);
    let error = cal.windows(Timestamp::MIN, &[Year], &[]).unwrap_err();
    assert!(
        matches!(&error, CalendarError::OutOfRange { period, .. } if period == "year"),
        "{error}"
    );
}

/// The share elapsed of each calendar period at noon on Friday 2017-12-15 (UTC, Monday
/// weeks, January fiscal year), worked out by hand in days: day 0.5/1, week 4.5/7,
/// month 14.5/31, quarter (31 + 30 + 14.5)/92, year 348.5/365; previous and rolling
/// windows are full.
#[test]
fn elapsed_ratio_of_each_period() {
    let cal = calendar("UTC", Monday, 1);
    let windows = windows_at(&cal, "2017-12-15T12:00:00Z", &CalendarPeriod::ALL, &[30]);
    let ratios: Vec<f64> = windows
        .iter()
        .map(|w| cal.elapsed_ratio(w).unwrap())
        .collect();
    let expected = [
        0.5,
        1.0,
        4.5 / 7.0,
        1.0,
        14.5 / 31.0,
        1.0,
        75.5 / 92.0,
        1.0,
        348.5 / 365.0,
        1.0,
        1.0,
        1.0,
    ];
    assert_eq!(ratios.len(), expected.len());
    for (got, want) in ratios.iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{ratios:?}");
    }
}

/// A day's length is its real length in the business zone: Berlin's 2024-03-31 has 23
/// hours, so at 10:00Z (noon local) 11 of them are gone; Sao Paulo's 2018-11-04 starts at
/// 01:00 and ends at midnight -02, also 23 hours. An April fiscal year in February 2018 has
/// run from 2017-04-01 for 315.5 of 365 days.
#[test]
fn elapsed_ratio_uses_real_period_length() {
    let berlin = calendar("Europe/Berlin", Monday, 1);
    let day = &windows_at(&berlin, "2024-03-31T10:00:00Z", &[Day], &[])[0];
    assert!((berlin.elapsed_ratio(day).unwrap() - 11.0 / 23.0).abs() < 1e-12);
    let sao_paulo = calendar("America/Sao_Paulo", Monday, 1);
    let day = &windows_at(&sao_paulo, "2018-11-04T14:00:00Z", &[Day], &[])[0];
    assert!((sao_paulo.elapsed_ratio(day).unwrap() - 11.0 / 23.0).abs() < 1e-12);
    let april = calendar("UTC", Monday, 4);
    let year = &windows_at(&april, "2018-02-10T12:00:00Z", &[Year], &[])[0];
    assert!((april.elapsed_ratio(year).unwrap() - 315.5 / 365.0).abs() < 1e-12);
}

/// At the very first instant of a period nothing of it has elapsed.
#[test]
fn elapsed_ratio_at_period_start_is_zero() {
    let cal = calendar("UTC", Monday, 10);
    let year = &windows_at(&cal, "2017-10-01T00:00:00Z", &[Year], &[])[0];
    assert_eq!(cal.elapsed_ratio(year).unwrap(), 0.0);
}

/// `contains` includes the start and excludes the end.
#[test]
fn window_is_half_open() {
    let cal = calendar("UTC", Monday, 1);
    let day = &windows_at(&cal, "2017-12-15T12:00:00Z", &[Day], &[])[1];
    assert!(day.contains("2017-12-14T00:00:00Z".parse().unwrap()));
    assert!(day.contains("2017-12-14T23:59:59.999999999Z".parse().unwrap()));
    assert!(!day.contains("2017-12-15T00:00:00Z".parse().unwrap()));
    assert!(!day.contains("2017-12-13T23:59:59.999999999Z".parse().unwrap()));
}
