//! The one aggregate query over opportunities: per rep and customer, conditional sums for
//! every window at once, the open pipeline, and each customer's first win.

use rust_decimal::Decimal;

use super::rows::{RowReader, SourceError};
use super::sql::QueryBuilder;
use crate::calendar::Window;
use crate::model::{OpportunityMapping, Relation, Status};

/// Sums of one (rep, customer) group in one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityWindowSums {
    /// Created in the window.
    pub created: u64,
    /// Won with a close time in the window.
    pub won: u64,
    /// Lost with a close time in the window.
    pub lost: u64,
    /// Amount won in the window.
    pub revenue: Decimal,
    /// Sum of creation-to-close seconds of the wins in the window.
    pub cycle_seconds: f64,
    /// Wins in the window with both times known.
    pub cycle_count: u64,
    /// Whether the customer's first win ever closed in this window, won by this rep.
    pub first_win: bool,
}

/// One row of the opportunity aggregate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityGroup {
    /// Rep id, as text; `None` for opportunities without a rep.
    pub rep: Option<String>,
    /// Customer, as text; `None` when unmapped or NULL.
    pub customer: Option<String>,
    /// The raw status when it is not in the mapping (such rows count nowhere else).
    pub unmapped_status: Option<String>,
    /// Rows of the relation behind this group.
    pub rows: u64,
    /// Sums per window, in the order of the windows queried.
    pub windows: Vec<OpportunityWindowSums>,
    /// Open opportunities now.
    pub open_count: u64,
    /// Their amount.
    pub open_amount: Decimal,
    /// Their amount weighted by probability (zero when probability is unmapped).
    pub open_weighted_amount: Decimal,
}

/// Builds the opportunity aggregate for `windows`.
pub fn query(mapping: &OpportunityMapping, windows: &[Window], b: &mut QueryBuilder) -> String {
    let d = b.dialect;
    let status = b.column(&mapping.status);
    let won = b.text_list(mapping.statuses.values_of(Status::Won));
    let lost = b.text_list(mapping.statuses.values_of(Status::Lost));
    let open = open_condition(mapping, &status, b);
    let mapped = b.text_list(
        &mapping
            .statuses
            .all_values()
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>(),
    );
    let customer = mapping.customer.as_ref().map(|c| b.column(c));

    let mut inner = vec![
        format!("{} AS rep", d.text(&b.column(&mapping.rep))),
        format!("{} AS customer", customer.as_deref().map_or("NULL".to_owned(), |c| d.text(c))),
        format!("CASE WHEN {status} IN {won} THEN 1 WHEN {status} IN {lost} THEN 2 WHEN {open} THEN 0 END AS cls"),
        format!("CASE WHEN {status} IN {mapped} THEN NULL ELSE COALESCE({}, '(null)') END AS unmapped", d.text(&status)),
        format!("{} AS amount", b.column(&mapping.amount)),
        format!("{} AS probability", mapping.probability.as_ref().map_or("0".to_owned(), |p| b.column(p))),
        format!(
            "{} AS cycle",
            d.seconds_between(
                &b.column(&mapping.created_at.name),
                &b.column(&mapping.closed_at.name),
                mapping.created_at.time_type,
                mapping.closed_at.time_type,
            )
        ),
    ];
    inner.push(match &mapping.customer {
        Some(name) => first_win(mapping, name, &won, windows, b),
        None => "0 AS first_win".to_owned(),
    });
    for (i, window) in windows.iter().enumerate() {
        inner.push(format!(
            "{} AS c{i}",
            b.within("m", &mapping.created_at, window.start, window.end)
        ));
        inner.push(format!(
            "{} AS d{i}",
            b.within("m", &mapping.closed_at, window.start, window.end)
        ));
    }
    let from = b.relation(&mapping.source, "m");
    let created_any = b.within_any("m", &mapping.created_at, windows);
    let closed_any = b.within_any("m", &mapping.closed_at, windows);

    let mut outer = vec![
        "rep".to_owned(),
        "customer".to_owned(),
        "unmapped".to_owned(),
        d.text("COUNT(*)"),
        d.text("SUM(CASE WHEN cls = 0 THEN 1 ELSE 0 END)"),
        d.money_sum("CASE WHEN cls = 0 THEN amount END"),
        d.money_sum("CASE WHEN cls = 0 THEN amount * probability END"),
        d.non_numeric_count("amount")
            .map_or("NULL".to_owned(), |sql| d.text(&sql)),
        d.non_numeric_count("probability")
            .map_or("NULL".to_owned(), |sql| d.text(&sql)),
    ];
    for i in 0..windows.len() {
        outer.push(d.text(&format!("SUM(c{i})")));
        outer.push(d.text(&format!("SUM(CASE WHEN cls = 1 THEN d{i} ELSE 0 END)")));
        outer.push(d.text(&format!("SUM(CASE WHEN cls = 2 THEN d{i} ELSE 0 END)")));
        outer.push(d.money_sum(&format!("CASE WHEN cls = 1 AND d{i} = 1 THEN amount END")));
        outer.push(d.text(&format!(
            "SUM(CASE WHEN cls = 1 AND d{i} = 1 THEN cycle END)"
        )));
        outer.push(d.text(&format!(
            "COUNT(CASE WHEN cls = 1 AND d{i} = 1 THEN cycle END)"
        )));
        outer.push(d.text(&format!(
            "MAX(CASE WHEN d{i} = 1 THEN first_win ELSE 0 END)"
        )));
    }
    format!(
        "SELECT {} FROM (SELECT {} FROM {from} WHERE {created_any} OR {closed_any} OR {open}{}) x \
         GROUP BY rep, customer, unmapped",
        outer.join(", "),
        inner.join(", "),
        d.no_merge(),
    )
}

/// `1` for a win, closing inside the windows, of a customer with no earlier win; `0`
/// otherwise. The earlier win is looked up per such row (one index probe with the index on
/// customer, status and close time that docs/backends.md recommends) rather than by grouping
/// every customer's whole history, so the cost follows the rows in the windows.
fn first_win(
    mapping: &OpportunityMapping,
    customer: &str,
    won: &str,
    windows: &[Window],
    b: &mut QueryBuilder,
) -> String {
    let d = b.dialect;
    let closed = |b: &QueryBuilder, alias: &str| {
        d.time_value(
            &b.column_of(alias, &mapping.closed_at.name),
            mapping.closed_at.time_type,
        )
    };
    let (closed_here, closed_before) = (closed(b, "m"), closed(b, "p"));
    let (status_here, status_before) =
        (b.column(&mapping.status), b.column_of("p", &mapping.status));
    let (customer_here, customer_before) = (b.column(customer), b.column_of("p", customer));
    let closed_any = b.within_any("m", &mapping.closed_at, windows);
    let history = b.relation(&mapping.source, "p");
    format!(
        "CASE WHEN {status_here} IN {won} AND {customer_here} IS NOT NULL AND {closed_any} \
         AND NOT EXISTS (SELECT 1 FROM {history} WHERE {customer_before} = {customer_here} \
         AND {status_before} IN {won} AND {closed_before} < {closed_here}) THEN 1 ELSE 0 END AS first_win"
    )
}

fn open_condition(mapping: &OpportunityMapping, status: &str, b: &mut QueryBuilder) -> String {
    match mapping.statuses.values_of(Status::Open) {
        [] => "1 = 0".to_owned(),
        values => format!("{status} IN {}", b.text_list(values)),
    }
}

/// Reads the rows of the opportunity aggregate.
///
/// # Errors
///
/// A value that does not decode, or amounts that are not numbers.
pub fn decode(
    rows: &[Vec<Option<String>>],
    window_count: usize,
    reader: &RowReader,
) -> Result<Vec<OpportunityGroup>, SourceError> {
    let relation = Relation::Opportunities;
    let mut groups = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = reader.cells(relation, row);
        let mut group = OpportunityGroup {
            rep: cells.text(),
            customer: cells.text(),
            unmapped_status: cells.text(),
            rows: cells.count("COUNT(*)")?,
            open_count: cells.count("open count")?,
            open_amount: cells.money("open amount")?,
            open_weighted_amount: cells.money("open weighted amount")?,
            windows: Vec::with_capacity(window_count),
        };
        cells.numbers_only("amount")?;
        cells.numbers_only("probability")?;
        for _ in 0..window_count {
            group.windows.push(OpportunityWindowSums {
                created: cells.count("created")?,
                won: cells.count("won")?,
                lost: cells.count("lost")?,
                revenue: cells.money("revenue")?,
                cycle_seconds: cells.float("sales cycle")?,
                cycle_count: cells.count("sales cycle count")?,
                first_win: cells.count("first win")? > 0,
            });
        }
        groups.push(group);
    }
    Ok(groups)
}
