//! The SQL that differs between SQLite, PostgreSQL and MySQL/MariaDB: identifier quoting,
//! placeholders, casts, time comparisons and exact money sums.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::model::TimeType;

/// Digits after the decimal point kept when SQLite sums amounts as scaled integers.
const SQLITE_MONEY_SCALE: u32 = 4;

/// A value bound to a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// A text value (status values, formatted timestamps).
    Text(String),
    /// An integer (unix seconds).
    Int(i64),
    /// A window bound the exporter formatted itself (digits, `-`, `:`, space, `+`). It is
    /// written into the SQL as a literal, so that the database reads a constant instead of
    /// converting a text parameter to a time again on every row it compares.
    Time(String),
}

/// The SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    MySql,
}

impl Dialect {
    /// The dialect a connection URL speaks, from its scheme.
    pub fn from_url(url: &str) -> Option<Dialect> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            _ => None,
        }
    }

    /// The backend's name in logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL",
        }
    }

    /// Quotes an identifier from the configuration so that it can never be read as SQL.
    pub fn quote(self, identifier: &str) -> String {
        let quote = match self {
            Dialect::Sqlite | Dialect::Postgres => '"',
            Dialect::MySql => '`',
        };
        let escaped = identifier.replace(quote, &format!("{quote}{quote}"));
        format!("{quote}{escaped}{quote}")
    }

    /// The placeholder of the `index`-th bound parameter (1-based).
    pub fn placeholder(self, index: usize) -> String {
        match self {
            Dialect::Postgres => format!("${index}"),
            Dialect::Sqlite | Dialect::MySql => "?".to_owned(),
        }
    }

    /// `value` as an SQL literal. Only for SQL shown to people: queries themselves bind it.
    pub fn literal(self, value: &SqlParam) -> String {
        match value {
            SqlParam::Int(number) => number.to_string(),
            SqlParam::Text(text) | SqlParam::Time(text) => {
                let escaped = text.replace('\'', "''");
                match self {
                    // MySQL reads a backslash in a string as an escape by default.
                    Dialect::MySql => format!("'{}'", escaped.replace('\\', "\\\\")),
                    Dialect::Sqlite | Dialect::Postgres => format!("'{escaped}'"),
                }
            }
        }
    }

    /// A clause that ends a subquery in FROM without changing its rows, so that the planner
    /// evaluates each of its columns once per row instead of merging it into the outer
    /// query and repeating a column's expression in every aggregate that reads it.
    pub fn no_merge(self) -> &'static str {
        match self {
            Dialect::Sqlite => " LIMIT -1 OFFSET 0",
            Dialect::Postgres => " OFFSET 0",
            Dialect::MySql => " LIMIT 18446744073709551615",
        }
    }

    /// An expression that renders `expr` as text, so that every result decodes alike. On
    /// MySQL a bare `CAST(x AS CHAR)` takes the connection's collation, which may be binary
    /// and then reaches sqlx as VARBINARY, so the character set is named.
    pub fn text(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
            Dialect::MySql => format!("CAST({expr} AS CHAR CHARACTER SET utf8mb4)"),
        }
    }

    /// The expression a time column is compared through. Only SQLite text needs one: its
    /// `datetime()` reads every ISO-8601 spelling (`T` or space, with or without seconds).
    pub fn time_value(self, column: &str, time_type: TimeType) -> String {
        match (self, time_type) {
            (Dialect::Sqlite, TimeType::Text | TimeType::Timestamp | TimeType::TimestampTz) => {
                format!("datetime({column})")
            }
            (Dialect::Postgres, TimeType::Text) => format!("CAST({column} AS timestamp)"),
            (Dialect::MySql, TimeType::Text) => format!("CAST({column} AS DATETIME)"),
            _ => column.to_owned(),
        }
    }

    /// The parameter value and the SQL around its placeholder for a window bound compared
    /// with a column of `time_type`. Naive types get the bound as wall time in `db_zone`;
    /// a date column gets the first date whose midnight is at or after the bound.
    pub fn time_bound(
        self,
        bound: Timestamp,
        time_type: TimeType,
        db_zone: &TimeZone,
    ) -> (SqlParam, fn(&str) -> String) {
        let wall = bound.to_zoned(db_zone.clone());
        let naive = wall.datetime().strftime("%Y-%m-%d %H:%M:%S").to_string();
        let utc = bound.strftime("%Y-%m-%d %H:%M:%S").to_string();
        let date = if wall.datetime().time() == jiff::civil::Time::midnight() {
            wall.date()
        } else {
            wall.date().tomorrow().unwrap_or(wall.date())
        };
        let date = date.strftime("%Y-%m-%d").to_string();
        match (self, time_type) {
            (_, TimeType::UnixSeconds) => (SqlParam::Int(bound.as_second()), plain),
            (Dialect::Sqlite, TimeType::TimestampTz) => (SqlParam::Time(utc), plain),
            (Dialect::Sqlite, TimeType::Date) => (SqlParam::Time(date), plain),
            (Dialect::Sqlite, _) => (SqlParam::Time(naive), plain),
            (Dialect::Postgres, TimeType::TimestampTz) => {
                (SqlParam::Time(format!("{utc}+00")), pg_timestamptz)
            }
            (Dialect::Postgres, TimeType::Date) => (SqlParam::Time(date), pg_date),
            (Dialect::Postgres, _) => (SqlParam::Time(naive), pg_timestamp),
            (Dialect::MySql, TimeType::TimestampTz) => (SqlParam::Time(utc), my_datetime),
            (Dialect::MySql, TimeType::Date) => (SqlParam::Time(date), my_date),
            (Dialect::MySql, _) => (SqlParam::Time(naive), my_datetime),
        }
    }

    /// Seconds between two time columns, for the sales cycle. Each side is first turned
    /// into seconds since the unix epoch, so columns of different types subtract correctly.
    pub fn seconds_between(
        self,
        start: &str,
        end: &str,
        start_type: TimeType,
        end_type: TimeType,
    ) -> String {
        let seconds = |column: &str, time_type: TimeType| match (self, time_type) {
            (_, TimeType::UnixSeconds) => format!("({column})"),
            (Dialect::Sqlite, _) => format!("unixepoch({column})"),
            (Dialect::Postgres, _) => {
                format!("EXTRACT(EPOCH FROM {})", self.time_value(column, time_type))
            }
            (Dialect::MySql, _) => {
                format!("UNIX_TIMESTAMP({})", self.time_value(column, time_type))
            }
        };
        format!(
            "({} - {})",
            seconds(end, end_type),
            seconds(start, start_type)
        )
    }

    /// An exact sum of amounts. SQLite has no decimal type, so it sums integers scaled by
    /// 10^4; see [`Dialect::decode_money`].
    pub fn money_sum(self, expr: &str) -> String {
        let sum = match self {
            Dialect::Sqlite => format!(
                "SUM(CAST(ROUND(({expr}) * {}) AS INTEGER))",
                10_i64.pow(SQLITE_MONEY_SCALE)
            ),
            Dialect::Postgres => format!("SUM(CAST({expr} AS NUMERIC))"),
            Dialect::MySql => format!("SUM(CAST({expr} AS DECIMAL(38, 6)))"),
        };
        self.text(&sum)
    }

    /// Reads a sum written by [`Dialect::money_sum`].
    pub fn decode_money(self, text: &str) -> Option<Decimal> {
        match self {
            Dialect::Sqlite => {
                let scaled: i128 = text.parse().ok()?;
                Decimal::try_from_i128_with_scale(scaled, SQLITE_MONEY_SCALE).ok()
            }
            Dialect::Postgres | Dialect::MySql => text.parse().ok(),
        }
    }

    /// For SQLite, which stores any value in any column: counts the values of `column`
    /// that are not numbers, so that text in an amount column fails loudly.
    pub fn non_numeric_count(self, column: &str) -> Option<String> {
        (self == Dialect::Sqlite).then(|| {
            format!(
                "SUM(CASE WHEN {column} IS NOT NULL AND typeof({column}) NOT IN \
                 ('integer', 'real') THEN 1 ELSE 0 END)"
            )
        })
    }
}

fn plain(placeholder: &str) -> String {
    placeholder.to_owned()
}

fn pg_timestamptz(placeholder: &str) -> String {
    format!("CAST({placeholder} AS timestamptz)")
}

fn pg_timestamp(placeholder: &str) -> String {
    format!("CAST({placeholder} AS timestamp)")
}

fn pg_date(placeholder: &str) -> String {
    format!("CAST({placeholder} AS date)")
}

fn my_datetime(placeholder: &str) -> String {
    format!("CAST({placeholder} AS DATETIME)")
}

fn my_date(placeholder: &str) -> String {
    format!("CAST({placeholder} AS DATE)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Identifiers from the configuration are quoted, with their quote characters doubled.
    #[test]
    fn quotes_identifiers_so_they_cannot_hold_sql() {
        assert_eq!(
            Dialect::Sqlite.quote(r#"a"; DROP TABLE x; --"#),
            r#""a""; DROP TABLE x; --""#
        );
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    }

    /// A date column is compared with the first date whose midnight is at or after a bound.
    #[test]
    fn date_bounds_round_up_to_the_next_midnight() {
        let utc = TimeZone::UTC;
        let noon: Timestamp = "2017-11-15T12:00:00Z".parse().unwrap();
        let midnight: Timestamp = "2017-11-15T00:00:00Z".parse().unwrap();
        let (param, _) = Dialect::Sqlite.time_bound(noon, TimeType::Date, &utc);
        assert_eq!(param, SqlParam::Time("2017-11-16".into()));
        let (param, _) = Dialect::Sqlite.time_bound(midnight, TimeType::Date, &utc);
        assert_eq!(param, SqlParam::Time("2017-11-15".into()));
    }

    /// Naive columns get the bound as wall time in the database zone.
    #[test]
    fn naive_bounds_are_wall_time_in_the_database_zone() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let bound: Timestamp = "2024-07-01T10:00:00Z".parse().unwrap();
        let (param, _) = Dialect::Sqlite.time_bound(bound, TimeType::Text, &paris);
        assert_eq!(param, SqlParam::Time("2024-07-01 12:00:00".into()));
        let (param, _) = Dialect::Sqlite.time_bound(bound, TimeType::UnixSeconds, &paris);
        assert_eq!(param, SqlParam::Int(1_719_828_000));
    }

    /// SQLite sums come back as integers scaled by 10^4 and decode exactly.
    #[test]
    fn sqlite_money_decodes_exactly() {
        let decoded = Dialect::Sqlite.decode_money("3000").unwrap();
        assert_eq!(decoded.to_string(), "0.3000");
    }

    /// Literals shown to people keep a quote or a backslash in a value from ending the
    /// string: quotes are doubled everywhere, backslashes too on MySQL.
    #[test]
    fn literals_keep_quotes_and_backslashes_inside_the_string() {
        let value = SqlParam::Text(r"it's a\b".to_owned());
        assert_eq!(Dialect::Sqlite.literal(&value), r"'it''s a\b'");
        assert_eq!(Dialect::Postgres.literal(&value), r"'it''s a\b'");
        assert_eq!(Dialect::MySql.literal(&value), r"'it''s a\\b'");
        assert_eq!(Dialect::MySql.literal(&SqlParam::Int(-5)), "-5");
    }
}
