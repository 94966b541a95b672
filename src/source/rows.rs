//! Decoding of aggregate rows. Every aggregate is selected as text, so all three backends
//! decode alike; this module turns that text into counts, exact money and floats.

use rust_decimal::Decimal;

use super::dialect::Dialect;
use crate::model::Relation;

/// A refresh query that failed, with the relation it was for.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The database could not be reached or opened.
    #[error("cannot connect to the {backend} database: {cause}")]
    Connect {
        /// Backend name.
        backend: &'static str,
        /// The driver's error, written into the message rather than chained after it.
        cause: sqlx::Error,
    },
    /// The database rejected or failed the query.
    #[error("the {relation} query failed: {cause}; check the mapping of `{relation}` in the config (table, query and column names)")]
    Query {
        /// The relation queried.
        relation: Relation,
        /// The driver's error, written into the message rather than chained after it.
        cause: sqlx::Error,
    },
    /// PostgreSQL could not say the types of the two opportunity id columns.
    #[error("cannot read the types of `activities.columns.opportunity` and `opportunities.columns.id`: {cause}; check that both columns exist and that the exporter's user may read them")]
    OpportunityTypes {
        /// The driver's error, written into the message rather than chained after it.
        cause: sqlx::Error,
    },
    /// The query ran past the configured timeout.
    #[error(
        "the {relation} query ran past database.query_timeout_secs ({seconds} s) and was cancelled; index the mapped time columns (docs/backends.md) or raise the timeout"
    )]
    Timeout {
        /// The relation queried.
        relation: Relation,
        /// The timeout.
        seconds: u64,
    },
    /// An aggregate came back in a form that does not decode.
    #[error("the {relation} query returned {value:?} for {what}, which is not a number; check the types of the mapped columns")]
    Decode {
        /// The relation queried.
        relation: Relation,
        /// Which value.
        what: &'static str,
        /// The text received.
        value: String,
    },
    /// A column meant to hold numbers holds something else.
    #[error("{count} rows of {relation} hold a value in `{relation}.columns.{column}` that is not a number; store numbers there or map a query that converts them")]
    NonNumeric {
        /// The relation queried.
        relation: Relation,
        /// The mapped column.
        column: &'static str,
        /// Rows affected.
        count: u64,
    },
    /// A flag column holds a value that is neither true nor false.
    #[error("{relation} holds {value:?} in `{column}`, which is neither true nor false (use 1/0, true/false, yes/no)")]
    NotABoolean {
        /// The relation queried.
        relation: Relation,
        /// The mapped column.
        column: &'static str,
        /// The text received.
        value: String,
    },
}

/// Decodes rows for one dialect.
#[derive(Debug, Clone, Copy)]
pub struct RowReader {
    dialect: Dialect,
}

impl RowReader {
    /// A reader for rows produced by `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        RowReader { dialect }
    }

    /// The cells of `row`, read left to right.
    pub fn cells<'r>(&self, relation: Relation, row: &'r [Option<String>]) -> Cells<'r> {
        Cells {
            relation,
            dialect: self.dialect,
            values: row.iter(),
        }
    }
}

/// The cells of one row, taken in column order.
pub struct Cells<'r> {
    relation: Relation,
    dialect: Dialect,
    values: std::slice::Iter<'r, Option<String>>,
}

impl Cells<'_> {
    /// The next cell as text; NULL and a missing cell are `None`.
    pub fn text(&mut self) -> Option<String> {
        self.values.next().cloned().flatten()
    }

    /// The next cell as a count; NULL is 0.
    pub fn count(&mut self, what: &'static str) -> Result<u64, SourceError> {
        match self.text() {
            None => Ok(0),
            Some(text) => parse_count(&text).ok_or_else(|| self.decode_error(what, text)),
        }
    }

    /// The next cell as an exact amount; NULL (an empty sum) is 0.
    pub fn money(&mut self, what: &'static str) -> Result<Decimal, SourceError> {
        match self.text() {
            None => Ok(Decimal::ZERO),
            Some(text) => {
                (self.dialect.decode_money(&text)).ok_or_else(|| self.decode_error(what, text))
            }
        }
    }

    /// The next cell as a float; NULL is 0.
    pub fn float(&mut self, what: &'static str) -> Result<f64, SourceError> {
        match self.text() {
            None => Ok(0.0),
            Some(text) => (text.trim().parse::<f64>().ok())
                .filter(|value| value.is_finite())
                .ok_or_else(|| self.decode_error(what, text)),
        }
    }

    /// Reads the next cell, a count of values of `column` that are not numbers (see
    /// `Dialect::non_numeric_count`), and fails the refresh when there are any.
    pub fn numbers_only(&mut self, column: &'static str) -> Result<(), SourceError> {
        match self.count("non-numeric values")? {
            0 => Ok(()),
            count => Err(SourceError::NonNumeric {
                relation: self.relation,
                column,
                count,
            }),
        }
    }

    fn decode_error(&self, what: &'static str, value: String) -> SourceError {
        SourceError::Decode {
            relation: self.relation,
            what,
            value,
        }
    }
}

/// Reads a count, accepting the `12.0` or `12.000` some servers write for sums of flags.
fn parse_count(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(count) = text.parse::<u64>() {
        return Some(count);
    }
    let value: Decimal = text.parse().ok()?;
    if !value.fract().is_zero() {
        return None;
    }
    rust_decimal::prelude::ToPrimitive::to_u64(&value)
}

/// Reads a flag column: 1/0, true/false, t/f, yes/no, y/n; NULL counts as true.
pub fn parse_flag(text: Option<&str>) -> Option<bool> {
    let Some(text) = text else { return Some(true) };
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" => Some(true),
        "0" | "false" | "f" | "no" | "n" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts decode from plain integers and from decimals with a zero fraction.
    #[test]
    fn counts_accept_integral_decimals() {
        assert_eq!(parse_count("12"), Some(12));
        assert_eq!(parse_count("12.000"), Some(12));
        assert_eq!(parse_count("12.5"), None);
        assert_eq!(parse_count("-1"), None);
    }

    /// Flags accept the spellings of the three backends and reject anything else.
    #[test]
    fn flags_accept_backend_spellings() {
        assert_eq!(parse_flag(Some("t")), Some(true));
        assert_eq!(parse_flag(Some("0")), Some(false));
        assert_eq!(parse_flag(None), Some(true));
        assert_eq!(parse_flag(Some("maybe")), None);
    }
}
