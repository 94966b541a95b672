//! The reps relation: id, display name, team and whether the rep is active. It is small
//! reference data, so its rows are read as they are.

use super::rows::{parse_flag, RowReader, SourceError};
use super::sql::QueryBuilder;
use crate::model::{Relation, RepMapping};

/// One rep of the `reps` relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rep {
    /// Rep id, matching `opportunities.rep`.
    pub id: String,
    /// Display name; two reps may share one.
    pub name: String,
    /// Team name; empty when NULL.
    pub team: String,
    /// Whether the rep counts in revenue per rep.
    pub active: bool,
}

/// Builds the reps query.
pub fn query(mapping: &RepMapping, b: &mut QueryBuilder) -> String {
    let d = b.dialect;
    let active = mapping
        .active
        .as_ref()
        .map_or("NULL".to_owned(), |a| d.text(&b.column(a)));
    format!(
        "SELECT {}, {}, {}, {active} FROM {}",
        d.text(&b.column(&mapping.id)),
        d.text(&b.column(&mapping.name)),
        d.text(&b.column(&mapping.team)),
        b.relation(&mapping.source, "m"),
    )
}

/// Reads the reps; rows without an id are skipped, as they can match no opportunity.
///
/// # Errors
///
/// An active flag that is neither true nor false.
pub fn decode(rows: &[Vec<Option<String>>], reader: &RowReader) -> Result<Vec<Rep>, SourceError> {
    let mut reps = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = reader.cells(Relation::Reps, row);
        let (Some(id), name, team, active) =
            (cells.text(), cells.text(), cells.text(), cells.text())
        else {
            continue;
        };
        let active = parse_flag(active.as_deref()).ok_or_else(|| SourceError::NotABoolean {
            relation: Relation::Reps,
            column: "active",
            value: active.clone().unwrap_or_default(),
        })?;
        reps.push(Rep {
            name: name.unwrap_or_else(|| id.clone()),
            team: team.unwrap_or_default(),
            id,
            active,
        });
    }
    Ok(reps)
}
