//! The one aggregate query over activities: calls per rep and window, and the calls logged
//! against opportunities closed in each window, grouped by the opportunity's rep.

use super::rows::{RowReader, SourceError};
use super::sql::QueryBuilder;
use crate::calendar::Window;
use crate::model::{ActivityKind, ActivityMapping, OpportunityMapping, Relation, Status};

/// Calls of one group in one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallWindowSums {
    /// Calls by the group's rep in the window.
    pub calls: u64,
    /// Calls logged against opportunities of the group's opportunity rep closed in the window.
    pub calls_on_closed: u64,
}

/// One row of the activity aggregate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityGroup {
    /// Rep who logged the activities.
    pub rep: Option<String>,
    /// Rep of the opportunity they were logged against, if any.
    pub opportunity_rep: Option<String>,
    /// The raw kind when it is not in the mapping.
    pub unmapped_kind: Option<String>,
    /// Rows of the relation behind this group.
    pub rows: u64,
    /// Sums per window, in the order of the windows queried.
    pub windows: Vec<CallWindowSums>,
}

/// Builds the activity aggregate for `windows`.
pub fn query(
    mapping: &ActivityMapping,
    opportunities: &OpportunityMapping,
    windows: &[Window],
    b: &mut QueryBuilder,
) -> String {
    let d = b.dialect;
    let kind = format!("a.{}", d.quote(&mapping.kind));
    let calls = b.text_list(mapping.kinds.values_of(ActivityKind::Call));
    let all_kinds: Vec<String> = mapping
        .kinds
        .all_values()
        .iter()
        .map(|v| v.to_string())
        .collect();
    let mapped = b.text_list(&all_kinds);
    let closing: Vec<String> = [Status::Won, Status::Lost]
        .iter()
        .flat_map(|s| opportunities.statuses.values_of(*s).iter().cloned())
        .collect();
    let closing = b.text_list(&closing);
    let opp_status = format!("o.{}", d.quote(&opportunities.status));

    let mut inner = vec![
        format!("{} AS rep", d.text(&format!("a.{}", d.quote(&mapping.rep)))),
        format!("CASE WHEN {kind} IN {calls} THEN 1 ELSE 0 END AS is_call"),
        format!(
            "CASE WHEN {kind} IN {mapped} THEN NULL ELSE COALESCE({}, '(null)') END AS unmapped",
            d.text(&kind)
        ),
    ];
    let join = match &mapping.opportunity {
        Some(column) => {
            inner.push(format!(
                "{} AS opp_rep",
                d.text(&format!("o.{}", d.quote(&opportunities.rep)))
            ));
            format!(
                " LEFT JOIN {} ON {} = {}",
                b.relation(&opportunities.source, "o"),
                d.join_key(&format!("o.{}", d.quote(&opportunities.id))),
                d.join_key(&format!("a.{}", d.quote(column)))
            )
        }
        None => {
            inner.push("NULL AS opp_rep".to_owned());
            String::new()
        }
    };
    for (i, window) in windows.iter().enumerate() {
        inner.push(format!(
            "{} AS a{i}",
            b.within("a", &mapping.occurred_at, window.start, window.end)
        ));
        let closed = match &mapping.opportunity {
            Some(_) => {
                let within = b.between("o", &opportunities.closed_at, window.start, window.end);
                format!("CASE WHEN {opp_status} IN {closing} AND {within} THEN 1 ELSE 0 END")
            }
            None => "0".to_owned(),
        };
        inner.push(format!("{closed} AS o{i}"));
    }
    let from = b.relation(&mapping.source, "a");
    let mut filter = b.within_any("a", &mapping.occurred_at, windows);
    if mapping.opportunity.is_some() {
        filter = format!(
            "{filter} OR {}",
            b.within_any("o", &opportunities.closed_at, windows)
        );
    }

    let mut outer = vec![
        "rep".to_owned(),
        "opp_rep".to_owned(),
        "unmapped".to_owned(),
        d.text("COUNT(*)"),
    ];
    for i in 0..windows.len() {
        outer.push(d.text(&format!("SUM(is_call * a{i})")));
        outer.push(d.text(&format!("SUM(is_call * o{i})")));
    }
    format!(
        "SELECT {} FROM (SELECT {} FROM {from}{join} WHERE {filter}{}) x \
         GROUP BY rep, opp_rep, unmapped",
        outer.join(", "),
        inner.join(", "),
        d.no_merge(),
    )
}

/// Reads the rows of the activity aggregate.
///
/// # Errors
///
/// A value that does not decode.
pub fn decode(
    rows: &[Vec<Option<String>>],
    window_count: usize,
    reader: &RowReader,
) -> Result<Vec<ActivityGroup>, SourceError> {
    let mut groups = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = reader.cells(Relation::Activities, row);
        let mut group = ActivityGroup {
            rep: cells.text(),
            opportunity_rep: cells.text(),
            unmapped_kind: cells.text(),
            rows: cells.count("COUNT(*)")?,
            windows: Vec::with_capacity(window_count),
        };
        for _ in 0..window_count {
            group.windows.push(CallWindowSums {
                calls: cells.count("calls")?,
                calls_on_closed: cells.count("calls on closed opportunities")?,
            });
        }
        groups.push(group);
    }
    Ok(groups)
}
