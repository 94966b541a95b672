//! The two aggregate queries over opportunities: per rep, conditional sums for every window
//! at once and the open pipeline; per rep and customer, the windows with a win and a first win.

use rust_decimal::Decimal;

use super::rows::{RowReader, SourceError};
use super::sql::QueryBuilder;
use crate::calendar::Window;
use crate::model::{OpportunityMapping, Relation, Status};

/// Sums of one rep's group in one window.
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
}

/// One row of the opportunity aggregate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityGroup {
    /// Rep id, as text; `None` for opportunities without a rep.
    pub rep: Option<String>,
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

/// The windows in which one rep won deals from one customer, as bit sets: bit `i` stands
/// for the `i`-th window queried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerWins {
    /// Rep id, as text; `None` for wins without a rep.
    pub rep: Option<String>,
    /// The customer, as text.
    pub customer: String,
    /// Windows with a win.
    pub won: u64,
    /// Windows in which this win was the customer's first ever.
    pub first_won: u64,
}

/// The most windows a [`CustomerWins`] bit set can hold.
pub const MAX_WINDOWS: usize = 63;

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

    // Each row once: its class, values and times read through the dialect's time value.
    let rows = [
        format!("{} AS rep", d.text(&b.column(&mapping.rep))),
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
        format!("{} AS created_t", b.time_value("m", &mapping.created_at)),
        format!("{} AS closed_t", b.time_value("m", &mapping.closed_at)),
    ];
    let from = b.relation(&mapping.source, "m");
    let created_any = b.within_any("m", &mapping.created_at, windows);
    let closed_any = b.within_any("m", &mapping.closed_at, windows);

    // Then a flag per window, compared with the time values read once above.
    let mut flags: Vec<String> = ["rep", "cls", "unmapped", "amount", "probability", "cycle"]
        .iter()
        .map(|column| (*column).to_owned())
        .collect();
    for (i, window) in windows.iter().enumerate() {
        let created = b.value_within("created_t", &mapping.created_at, window.start, window.end);
        flags.push(format!("{created} AS c{i}"));
        let closed = b.value_within("closed_t", &mapping.closed_at, window.start, window.end);
        flags.push(format!("{closed} AS d{i}"));
    }

    let mut outer = vec![
        "rep".to_owned(),
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
    }
    let no_merge = d.no_merge();
    format!(
        "SELECT {} FROM (SELECT {} FROM (SELECT {} FROM {from} \
         WHERE {created_any} OR {closed_any} OR {open}{no_merge}) r{no_merge}) x \
         GROUP BY rep, unmapped",
        outer.join(", "),
        flags.join(", "),
        rows.join(", "),
    )
}

/// Builds the query of customers' wins: per rep and customer, the windows with a win and
/// those holding the customer's first win ever. Whether a win is the first is looked up
/// per win inside the windows (one probe of the index on customer, status and close time
/// that docs/backends.md recommends), never by reading every customer's whole history.
/// At most [`MAX_WINDOWS`] windows.
pub fn wins_query(
    mapping: &OpportunityMapping,
    customer: &str,
    windows: &[Window],
    b: &mut QueryBuilder,
) -> String {
    let d = b.dialect;
    let won = b.text_list(mapping.statuses.values_of(Status::Won));
    let (closed_here, closed_before) = (
        b.time_value("m", &mapping.closed_at),
        b.time_value("p", &mapping.closed_at),
    );
    let (status_here, status_before) =
        (b.column(&mapping.status), b.column_of("p", &mapping.status));
    let (customer_here, customer_before) = (b.column(customer), b.column_of("p", customer));
    let closed_any = b.within_any("m", &mapping.closed_at, windows);
    let from = b.relation(&mapping.source, "m");
    let history = b.relation(&mapping.source, "p");
    let rows = format!(
        "SELECT {} AS rep, {} AS customer, {closed_here} AS closed_t, \
         CASE WHEN EXISTS (SELECT 1 FROM {history} WHERE {customer_before} = {customer_here} \
         AND {status_before} IN {won} AND {closed_before} < {closed_here}) THEN 0 ELSE 1 END AS first_win \
         FROM {from} WHERE {status_here} IN {won} AND {customer_here} IS NOT NULL AND {closed_any}",
        d.text(&b.column(&mapping.rep)),
        d.text(&customer_here),
    );
    let mut won_bits = Vec::new();
    let mut first_bits = Vec::new();
    for (i, window) in windows.iter().enumerate().take(MAX_WINDOWS) {
        let inside = b.value_between("closed_t", &mapping.closed_at, window.start, window.end);
        let bit = 1_u64 << i;
        won_bits.push(format!("MAX(CASE WHEN {inside} THEN 1 ELSE 0 END) * {bit}"));
        first_bits.push(format!(
            "MAX(CASE WHEN first_win = 1 AND {inside} THEN 1 ELSE 0 END) * {bit}"
        ));
    }
    let sum = |bits: Vec<String>| {
        if bits.is_empty() {
            "0".to_owned()
        } else {
            bits.join(" + ")
        }
    };
    format!(
        "SELECT rep, customer, {}, {} FROM ({rows}{}) x GROUP BY rep, customer",
        d.text(&sum(won_bits)),
        d.text(&sum(first_bits)),
        d.no_merge(),
    )
}

/// Reads the rows of the customers' wins query.
///
/// # Errors
///
/// A bit set that is not a number.
pub fn decode_wins(
    rows: &[Vec<Option<String>>],
    reader: &RowReader,
) -> Result<Vec<CustomerWins>, SourceError> {
    let mut wins = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = reader.cells(Relation::Opportunities, row);
        wins.push(CustomerWins {
            rep: cells.text(),
            customer: cells.text().unwrap_or_default(),
            won: cells.count("windows with a win")?,
            first_won: cells.count("windows with a first win")?,
        });
    }
    Ok(wins)
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
            });
        }
        groups.push(group);
    }
    Ok(groups)
}
