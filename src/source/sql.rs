//! Assembles one aggregate query: SQL text with numbered parameter markers that are turned
//! into the dialect's placeholders, in the order they appear, when the query is finished.

use jiff::Timestamp;

use super::dialect::{Dialect, SqlParam};
use crate::calendar::Window;
use crate::model::{RelationSource, TimeColumn};

/// Marks a parameter in the SQL text until [`QueryBuilder::finish`] replaces it.
const MARKER: char = '\u{1}';

/// An aggregate query ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// SQL text with the dialect's placeholders.
    pub sql: String,
    /// Values for the placeholders, in order.
    pub params: Vec<SqlParam>,
}

/// Builds the SQL of one query; parameters may be referenced any number of times.
pub struct QueryBuilder<'a> {
    /// The backend's dialect.
    pub dialect: Dialect,
    db_zone: &'a jiff::tz::TimeZone,
    params: Vec<SqlParam>,
}

impl<'a> QueryBuilder<'a> {
    /// A builder for `dialect`, reading naive database times in `db_zone`.
    pub fn new(dialect: Dialect, db_zone: &'a jiff::tz::TimeZone) -> Self {
        QueryBuilder {
            dialect,
            db_zone,
            params: Vec::new(),
        }
    }

    /// Registers a parameter and returns the marker to write where it is used.
    pub fn param(&mut self, value: SqlParam) -> String {
        self.params.push(value);
        format!("{MARKER}{}{MARKER}", self.params.len() - 1)
    }

    /// A parenthesised list of text parameters, for `x IN (...)`.
    pub fn text_list(&mut self, values: &[String]) -> String {
        let markers: Vec<String> = values
            .iter()
            .map(|value| self.param(SqlParam::Text(value.clone())))
            .collect();
        format!("({})", markers.join(", "))
    }

    /// A quoted column of the mapped relation aliased `m`.
    pub fn column(&self, name: &str) -> String {
        self.column_of("m", name)
    }

    /// A quoted column of the relation aliased `alias`.
    pub fn column_of(&self, alias: &str, name: &str) -> String {
        format!("{alias}.{}", self.dialect.quote(name))
    }

    /// The mapped relation as a FROM item aliased `alias`.
    pub fn relation(&self, source: &RelationSource, alias: &str) -> String {
        match source {
            RelationSource::Table(parts) => {
                let quoted: Vec<String> = parts.iter().map(|p| self.dialect.quote(p)).collect();
                format!("{} AS {alias}", quoted.join("."))
            }
            RelationSource::Query(sql) => format!("({sql}) AS {alias}"),
        }
    }

    /// `1` when `column` (of the relation aliased `alias`) is inside `[start, end)`, else `0`.
    pub fn within(
        &mut self,
        alias: &str,
        column: &TimeColumn,
        start: Timestamp,
        end: Timestamp,
    ) -> String {
        let condition = self.between(alias, column, start, end);
        format!("CASE WHEN {condition} THEN 1 ELSE 0 END")
    }

    /// `1` when `value`, an expression [`QueryBuilder::time_value`] gave for `column`, is
    /// inside `[start, end)`, else `0`.
    pub fn value_within(
        &mut self,
        value: &str,
        column: &TimeColumn,
        start: Timestamp,
        end: Timestamp,
    ) -> String {
        let condition = self.value_between(value, column, start, end);
        format!("CASE WHEN {condition} THEN 1 ELSE 0 END")
    }

    /// The condition that `column` is inside `[start, end)`.
    pub fn between(
        &mut self,
        alias: &str,
        column: &TimeColumn,
        start: Timestamp,
        end: Timestamp,
    ) -> String {
        let value = self.time_value(alias, column);
        self.value_between(&value, column, start, end)
    }

    /// The expression `column` (of the relation aliased `alias`) is compared through; a
    /// query that compares it with many windows selects it once and compares the result
    /// with [`QueryBuilder::value_between`].
    pub fn time_value(&self, alias: &str, column: &TimeColumn) -> String {
        let quoted = self.column_of(alias, &column.name);
        self.dialect.time_value(&quoted, column.time_type)
    }

    /// The condition that `value`, an expression [`QueryBuilder::time_value`] gave for
    /// `column`, is inside `[start, end)`.
    pub fn value_between(
        &mut self,
        value: &str,
        column: &TimeColumn,
        start: Timestamp,
        end: Timestamp,
    ) -> String {
        let lower = self.bound(start, column);
        let upper = self.bound(end, column);
        format!("({value} >= {lower} AND {value} < {upper})")
    }

    /// The condition that `column` is inside any of `windows`.
    pub fn within_any(&mut self, alias: &str, column: &TimeColumn, windows: &[Window]) -> String {
        let start = windows.iter().map(|w| w.start).min();
        let end = windows.iter().map(|w| w.end).max();
        match (start, end) {
            (Some(start), Some(end)) => self.between(alias, column, start, end),
            _ => "1 = 0".to_owned(),
        }
    }

    fn bound(&mut self, bound: Timestamp, column: &TimeColumn) -> String {
        let (value, wrap) = self
            .dialect
            .time_bound(bound, column.time_type, self.db_zone);
        let marker = self.param(value);
        wrap(&marker)
    }

    /// Replaces the markers in `sql` with placeholders, binding each use in order; window
    /// bounds are written in as literals (see [`SqlParam::Time`]).
    pub fn finish(self, sql: &str) -> Query {
        let mut params = Vec::new();
        let text = self.replace_markers(sql, |dialect, value| match value {
            SqlParam::Time(_) => dialect.literal(value),
            SqlParam::Text(_) | SqlParam::Int(_) => {
                params.push(value.clone());
                dialect.placeholder(params.len())
            }
        });
        Query { sql: text, params }
    }

    /// Replaces the markers in `sql` with the parameters written as SQL literals, for a
    /// person to read, EXPLAIN or run in the database's own client.
    pub fn finish_with_literals(self, sql: &str) -> String {
        self.replace_markers(sql, |dialect, value| dialect.literal(value))
    }

    fn replace_markers(
        &self,
        sql: &str,
        mut write: impl FnMut(Dialect, &SqlParam) -> String,
    ) -> String {
        let mut text = String::with_capacity(sql.len());
        let mut pieces = sql.split(MARKER);
        text.push_str(pieces.next().unwrap_or_default());
        while let (Some(index), Some(rest)) = (pieces.next(), pieces.next()) {
            let index: usize = index.parse().unwrap_or(usize::MAX);
            if let Some(value) = self.params.get(index) {
                text.push_str(&write(self.dialect, value));
            }
            text.push_str(rest);
        }
        text
    }
}
