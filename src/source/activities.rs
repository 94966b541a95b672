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
    let opp_status = b.column_of("o", &opportunities.status);
    let occurred_any = b.within_any("a", &mapping.occurred_at, windows);
    let from = b.relation(&mapping.source, "a");

    // Each activity once, with its time values; the opportunity's close time only when it
    // closed (won or lost).
    let mut columns = vec![
        format!("{} AS rep", d.text(&b.column_of("a", &mapping.rep))),
        format!("CASE WHEN {kind} IN {calls} THEN 1 ELSE 0 END AS is_call"),
        format!(
            "CASE WHEN {kind} IN {mapped} THEN NULL ELSE COALESCE({}, '(null)') END AS unmapped",
            d.text(&kind)
        ),
        format!("{} AS occurred_t", b.time_value("a", &mapping.occurred_at)),
    ];
    let rows = match &mapping.opportunity {
        Some(column) => {
            columns.push(format!(
                "{} AS opp_rep",
                d.text(&b.column_of("o", &opportunities.rep))
            ));
            columns.push(format!(
                "CASE WHEN {opp_status} IN {closing} THEN 1 ELSE 0 END AS closing"
            ));
            columns.push(format!(
                "{} AS closed_t",
                b.time_value("o", &opportunities.closed_at)
            ));
            let columns = columns.join(", ");
            let opportunities_source = b.relation(&opportunities.source, "o");
            let on = format!(
                "{} = {}",
                d.join_key(&b.column_of("o", &opportunities.id)),
                d.join_key(&b.column_of("a", column))
            );
            let closed_any = b.within_any("o", &opportunities.closed_at, windows);
            // Activities inside the windows, then the other activities of opportunities
            // closed inside them: each half is found through its own index, so old
            // history is never scanned. Only opportunities closed inside the windows are
            // joined: for the others the opportunity's rep and status change no count.
            format!(
                "SELECT {columns} FROM {from} LEFT JOIN {opportunities_source} ON {on} \
                 AND {closed_any} WHERE {occurred_any} \
                 UNION ALL SELECT {columns} FROM {opportunities_source} JOIN {from} ON {on} \
                 WHERE {closed_any} AND CASE WHEN {occurred_any} THEN 1 ELSE 0 END = 0"
            )
        }
        None => {
            columns
                .extend(["NULL AS opp_rep", "0 AS closing", "NULL AS closed_t"].map(String::from));
            format!(
                "SELECT {} FROM {from} WHERE {occurred_any}",
                columns.join(", ")
            )
        }
    };

    let mut outer = vec![
        "rep".to_owned(),
        "opp_rep".to_owned(),
        "unmapped".to_owned(),
        d.text("COUNT(*)"),
    ];
    for window in windows {
        let occurred =
            b.value_between("occurred_t", &mapping.occurred_at, window.start, window.end);
        outer.push(d.text(&format!(
            "SUM(CASE WHEN is_call = 1 AND {occurred} THEN 1 ELSE 0 END)"
        )));
        let closed = b.value_between(
            "closed_t",
            &opportunities.closed_at,
            window.start,
            window.end,
        );
        outer.push(d.text(&format!(
            "SUM(CASE WHEN is_call = 1 AND closing = 1 AND {closed} THEN 1 ELSE 0 END)"
        )));
    }
    format!(
        "SELECT {} FROM ({rows}{}) x GROUP BY rep, opp_rep, unmapped",
        outer.join(", "),
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
