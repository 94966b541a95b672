//! The two aggregate queries over activities: calls per rep and window, and the calls
//! logged against opportunities closed in each window, per opportunity rep.

use super::opportunity_match::OpportunityMatch;
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

/// One row of either activity aggregate: the calls query fills `rep`, `unmapped_kind` and
/// `calls`, the closed-opportunity query `opportunity_rep` and `calls_on_closed`.
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

/// Builds the calls aggregate for `windows`: the activities inside the windows, read
/// through the index on the activity time, by the rep who logged them and kind.
pub fn calls_query(mapping: &ActivityMapping, windows: &[Window], b: &mut QueryBuilder) -> String {
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
    let occurred_any = b.within_any("a", &mapping.occurred_at, windows);
    let from = b.relation(&mapping.source, "a");
    let rows = format!(
        "SELECT {} AS rep, \
         CASE WHEN {kind} IN {mapped} THEN NULL ELSE COALESCE({}, '(null)') END AS unmapped, \
         CASE WHEN {kind} IN {calls} THEN 1 ELSE 0 END AS is_call, \
         {} AS occurred_t FROM {from} WHERE {occurred_any}",
        d.text(&b.column_of("a", &mapping.rep)),
        d.text(&kind),
        b.time_value("a", &mapping.occurred_at),
    );

    let mut outer = vec!["rep".to_owned(), "unmapped".to_owned(), d.text("COUNT(*)")];
    for window in windows {
        let occurred =
            b.value_between("occurred_t", &mapping.occurred_at, window.start, window.end);
        outer.push(d.text(&format!(
            "SUM(CASE WHEN is_call = 1 AND {occurred} THEN 1 ELSE 0 END)"
        )));
    }
    format!(
        "SELECT {} FROM ({rows}{}) x GROUP BY rep, unmapped",
        outer.join(", "),
        d.no_merge(),
    )
}

/// Builds the aggregate of the calls logged against the opportunities won or lost inside
/// `windows`, whenever the calls were logged, by the opportunity's rep; `column` is the
/// activity's opportunity. Apart from the calls query, so that each sums only its own
/// windows and the two run side by side. `ids` says how the activity's opportunity is
/// compared with the opportunity id.
pub fn closed_calls_query(
    mapping: &ActivityMapping,
    column: &str,
    ids: OpportunityMatch,
    opportunities: &OpportunityMapping,
    windows: &[Window],
    b: &mut QueryBuilder,
) -> String {
    let d = b.dialect;
    let kind = format!("a.{}", d.quote(&mapping.kind));
    let calls = b.text_list(mapping.kinds.values_of(ActivityKind::Call));
    let closing: Vec<String> = [Status::Won, Status::Lost]
        .iter()
        .flat_map(|s| opportunities.statuses.values_of(*s).iter().cloned())
        .collect();
    let closing = b.text_list(&closing);
    let from = b.relation(&mapping.source, "a");
    let opportunities_source = b.relation(&opportunities.source, "o");
    let on = ids.equals(
        d,
        &b.column_of("a", column),
        &b.column_of("o", &opportunities.id),
    );
    let closed_any = b.within_any("o", &opportunities.closed_at, windows);
    let rows = format!(
        "SELECT {} AS opp_rep, {} AS closed_t \
         FROM {opportunities_source} JOIN {from} ON {on} \
         WHERE {} IN {closing} AND {closed_any} AND {kind} IN {calls}",
        d.text(&b.column_of("o", &opportunities.rep)),
        b.time_value("o", &opportunities.closed_at),
        b.column_of("o", &opportunities.status),
    );

    let mut outer = vec!["opp_rep".to_owned(), d.text("COUNT(*)")];
    for window in windows {
        let closed = b.value_between(
            "closed_t",
            &opportunities.closed_at,
            window.start,
            window.end,
        );
        outer.push(d.text(&format!("SUM(CASE WHEN {closed} THEN 1 ELSE 0 END)")));
    }
    format!(
        "SELECT {} FROM ({rows}{}) x GROUP BY opp_rep",
        outer.join(", "),
        d.no_merge(),
    )
}

/// Which of the two activity aggregates rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAggregate {
    /// [`calls_query`]: rep, kind and the calls per window.
    Calls,
    /// [`closed_calls_query`]: opportunity rep and the calls on closed opportunities.
    OnClosedOpportunities,
}

/// Reads the rows of one activity aggregate.
///
/// # Errors
///
/// A value that does not decode.
pub fn decode(
    rows: &[Vec<Option<String>>],
    aggregate: CallAggregate,
    window_count: usize,
    reader: &RowReader,
) -> Result<Vec<ActivityGroup>, SourceError> {
    rows.iter()
        .map(|row| {
            let mut cells = reader.cells(Relation::Activities, row);
            let mut group = ActivityGroup::default();
            match aggregate {
                CallAggregate::Calls => {
                    group.rep = cells.text();
                    group.unmapped_kind = cells.text();
                }
                CallAggregate::OnClosedOpportunities => group.opportunity_rep = cells.text(),
            }
            group.rows = cells.count("COUNT(*)")?;
            group.windows = (0..window_count)
                .map(|_| {
                    let mut sums = CallWindowSums::default();
                    match aggregate {
                        CallAggregate::Calls => sums.calls = cells.count("calls")?,
                        CallAggregate::OnClosedOpportunities => {
                            sums.calls_on_closed = cells.count("calls on closed opportunities")?;
                        }
                    }
                    Ok(sums)
                })
                .collect::<Result<_, SourceError>>()?;
            Ok(group)
        })
        .collect()
}
