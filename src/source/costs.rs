//! The one aggregate query over costs: marketing and sales spend per team and window.

use rust_decimal::Decimal;

use super::rows::{RowReader, SourceError};
use super::sql::QueryBuilder;
use crate::calendar::Window;
use crate::model::{CostCategory, CostMapping, Relation};

/// One row of the cost aggregate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostGroup {
    /// Team the costs are booked to; `None` for company-wide costs.
    pub team: Option<String>,
    /// The raw category when it is not in the mapping (such costs count nowhere).
    pub unmapped_category: Option<String>,
    /// Rows of the relation behind this group.
    pub rows: u64,
    /// Marketing plus sales costs per window, in the order of the windows queried.
    pub windows: Vec<Decimal>,
}

/// Builds the cost aggregate for `windows`.
pub fn query(mapping: &CostMapping, windows: &[Window], b: &mut QueryBuilder) -> String {
    let d = b.dialect;
    let category = b.column(&mapping.category);
    let counted: Vec<String> = [CostCategory::Marketing, CostCategory::Sales]
        .iter()
        .flat_map(|c| mapping.categories.values_of(*c).iter().cloned())
        .collect();
    let counted = b.text_list(&counted);
    let team = mapping
        .team
        .as_ref()
        .map_or("NULL".to_owned(), |t| d.text(&b.column(t)));
    let mut inner = vec![
        format!("{team} AS team"),
        format!("CASE WHEN {category} IN {counted} THEN NULL ELSE COALESCE({}, '(null)') END AS unmapped", d.text(&category)),
        format!("{} AS amount", b.column(&mapping.amount)),
    ];
    for (i, window) in windows.iter().enumerate() {
        inner.push(format!(
            "{} AS w{i}",
            b.within("m", &mapping.incurred_at, window.start, window.end)
        ));
    }
    let from = b.relation(&mapping.source, "m");
    let filter = b.within_any("m", &mapping.incurred_at, windows);

    let mut outer = vec![
        "team".to_owned(),
        "unmapped".to_owned(),
        d.text("COUNT(*)"),
        d.non_numeric_count("amount")
            .map_or("NULL".to_owned(), |sql| d.text(&sql)),
    ];
    for i in 0..windows.len() {
        outer.push(d.money_sum(&format!("CASE WHEN w{i} = 1 THEN amount END")));
    }
    format!(
        "SELECT {} FROM (SELECT {} FROM {from} WHERE {filter}{}) x GROUP BY team, unmapped",
        outer.join(", "),
        inner.join(", "),
        d.no_merge(),
    )
}

/// Reads the rows of the cost aggregate.
///
/// # Errors
///
/// A value that does not decode, or amounts that are not numbers.
pub fn decode(
    rows: &[Vec<Option<String>>],
    window_count: usize,
    reader: &RowReader,
) -> Result<Vec<CostGroup>, SourceError> {
    let relation = Relation::Costs;
    let mut groups = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = reader.cells(relation, row);
        let mut group = CostGroup {
            team: cells.text(),
            unmapped_category: cells.text(),
            rows: cells.count("COUNT(*)")?,
            windows: Vec::with_capacity(window_count),
        };
        cells.numbers_only("amount")?;
        for _ in 0..window_count {
            group.windows.push(cells.money("costs")?);
        }
        groups.push(group);
    }
    Ok(groups)
}
