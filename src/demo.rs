//! Demo sales database: fifteen months of deterministic reps, opportunities, activities and costs,
//! dated relative to a given "now" so that every current and previous window has sensible numbers.

use std::path::{Path, PathBuf};

use jiff::{civil::Weekday, tz::TimeZone, Timestamp};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, QueryBuilder};

use self::Cell::{Int, Null, Real, Text};

/// How many rows of each table [`write_demo_database`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    /// Rows in `reps`.
    pub reps: usize,
    /// Rows in `opportunities`.
    pub opportunities: usize,
    /// Rows in `activities`.
    pub activities: usize,
    /// Rows in `costs`.
    pub costs: usize,
}

/// Why the demo database could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A statement against the database failed; `step` says which one.
    #[error("cannot write demo database {}: {step} failed: {source}", path.display())]
    Sql {
        /// The demo database file.
        path: PathBuf,
        /// The statement that failed.
        step: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// `now` is too close to the limits of the calendar to hold fifteen months of history.
    #[error("cannot write demo database {}: no history fits before {now}: {source}", path.display())]
    Date {
        /// The demo database file.
        path: PathBuf,
        /// The instant the history ends at.
        now: Timestamp,
        /// The calendar arithmetic that overflowed.
        source: jiff::Error,
    },
}

/// Replaces (drops and recreates) the demo tables in the SQLite database at `path` (creating the
/// file if needed) with about fifteen months of sales data, every event strictly before `now`.
///
/// The same `now` always gives the same rows. All rows are written in one transaction.
pub async fn write_demo_database(path: &Path, now: Timestamp) -> Result<DemoSummary, DemoError> {
    let date = |source| DemoError::Date {
        path: path.to_path_buf(),
        now,
        source,
    };
    let tables = plan(now).map_err(date)?;
    let sql = |(step, source)| DemoError::Sql {
        path: path.to_path_buf(),
        step,
        source,
    };
    write(path, &tables).await.map_err(sql)?;
    let [reps, opportunities, activities, costs] = tables.each_ref().map(Vec::len);
    Ok(DemoSummary {
        reps,
        opportunities,
        activities,
        costs,
    })
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const HISTORY_DAYS: i64 = 456;
const DEPARTED_DAYS_AGO: i64 = 61;
const SEED: u64 = 0x5a1e_5de0;
const NEW_PER_DAY: f64 = 7.0;
const WIN_RATE: f64 = 0.25;

/// (id, name, team, share of new deals, factor on the win rate).
const REPS: [(&str, &str, &str, f64, f64); 12] = [
    ("r01", "Maria Lopez", "North", 1.0, 1.0),
    ("r02", "James O'Connor", "North", 1.4, 1.5),
    ("r03", "Alex Kim", "North", 1.0, 1.0),
    ("r04", "Priya Natarajan", "North", 0.9, 0.9),
    ("r05", "Tom Becker", "South", 0.7, 0.5),
    ("r06", "Sofia Rossi", "South", 1.0, 1.1),
    ("r07", "Daniel Okafor", "South", 1.4, 1.4),
    ("r08", "Alex Kim", "South", 1.0, 0.9),
    ("r09", "Hannah Schmidt", "West", 1.1, 1.0),
    ("r10", "Lucas Martin", "West", 0.7, 0.6),
    ("r11", "Emma Johansson", "West", 0.9, 1.0),
    ("r12", "Kenji Watanabe", "West", 1.0, 1.0),
];
/// Index in [`REPS`] of the rep who left [`DEPARTED_DAYS_AGO`] days ago.
const INACTIVE: usize = 10;
const TEAMS: [&str; 3] = ["North", "South", "West"];

const STEMS: &str = "Acme Bluepeak Cedarline Dunmore Evergreen Fairhaven Granite Harbor \
                     Ironwood Juniper Keystone Lakeside Meridian Northwind Oakridge";
const TRADES: &str =
    "Logistics Foods Systems Health Energy Retail Labs Manufacturing Media Partners";
const CUSTOMERS: usize = 150;

fn customer(index: usize) -> String {
    let stem = STEMS.split_whitespace().cycle().nth(index);
    let trade = TRADES.split_whitespace().nth(index / 15);
    format!("{} {}", stem.unwrap_or_default(), trade.unwrap_or_default())
}

const PROSPECTING: &str = "prospecting";
const NEGOTIATION: &str = "negotiation";
const WON: &str = "closed_won";
const LOST: &str = "closed_lost";

struct Opp {
    rep: usize,
    customer: usize,
    created: i64,
    stage: &'static str,
    closed: Option<i64>,
    amount: f64,
    probability: f64,
    /// Start of a window that must see a call on this deal.
    call_after: Option<i64>,
}

/// (occurred_at, rep, kind, opportunity index).
type Activity = (i64, usize, &'static str, Option<usize>);
/// (incurred_at, category, amount, team).
type Cost = (i64, &'static str, f64, Option<&'static str>);

/// A value bound into an insert statement.
enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
    Null,
}

/// Each table's name and the columns its rows fill, in insert order.
const TABLES: [(&str, &str); 4] = [
    ("reps", "id, name, team, active"),
    (
        "opportunities",
        "id, rep_id, customer, created_at, stage, closed_at, amount, probability",
    ),
    (
        "activities",
        "id, rep_id, occurred_at, kind, opportunity_id",
    ),
    ("costs", "id, incurred_at, category, amount, team"),
];

/// The rows of one table, as cells in the order of its columns in [`TABLES`].
type Rows = Vec<Vec<Cell>>;

/// Draws built on the raw ChaCha stream only, so they cannot change with a `rand` release.
struct Dice(ChaCha8Rng);

impl Dice {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.0.next_u64()) * n as u128) >> 64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A second in `[lo, hi)`; `hi` must be greater than `lo`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.unit() * (hi - lo) as f64) as i64
    }

    fn cents(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + self.unit() * (hi - lo)) * 100.0).round() / 100.0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The instants that every row is placed against, in whole seconds since the epoch.
struct Clock {
    end: i64,
    today: i64,
    first_day: i64,
    departure: i64,
}

impl Clock {
    fn new(now: Timestamp) -> Result<Self, jiff::Error> {
        let end = now.as_second();
        let today = end.div_euclid(DAY) * DAY;
        let first_day = today - HISTORY_DAYS * DAY;
        Timestamp::from_second(first_day)?;
        let departure = today - DEPARTED_DAYS_AGO * DAY;
        Ok(Clock {
            end,
            today,
            first_day,
            departure,
        })
    }

    fn days(&self) -> impl Iterator<Item = i64> {
        (self.first_day..=self.today).step_by(DAY as usize)
    }

    /// A second in business hours of `day`, if any of them is before now.
    fn working_time(&self, dice: &mut Dice, day: i64) -> Option<i64> {
        let hi = (day + 18 * HOUR).min(self.end);
        (day + 8 * HOUR < hi).then(|| dice.between(day + 8 * HOUR, hi))
    }

    fn is_active(&self, rep: usize, at: i64) -> bool {
        rep != INACTIVE || at < self.departure
    }

    /// A rep still with the company at `at`, weighted by their share of new deals.
    fn pick_rep(&self, dice: &mut Dice, at: i64) -> usize {
        let eligible = || (0..REPS.len()).filter(move |&rep| self.is_active(rep, at));
        let mut target = dice.unit() * eligible().map(|rep| REPS[rep].3).sum::<f64>();
        for rep in eligible() {
            target -= REPS[rep].3;
            if target < 0.0 {
                return rep;
            }
        }
        0
    }
}

fn plan(now: Timestamp) -> Result<[Rows; 4], jiff::Error> {
    let clock = Clock::new(now)?;
    let mut dice = Dice(ChaCha8Rng::seed_from_u64(SEED));
    let mut opps = history(&mut dice, &clock)?;
    let yesterday = clock.today - DAY;
    opps.extend(sure_window(&mut dice, &clock, yesterday, clock.today));
    opps.extend(sure_window(&mut dice, &clock, clock.today, clock.end));
    opps.sort_by_key(|opp| opp.created);
    let activities = activities(&mut dice, &clock, &opps);
    let costs = costs(&mut dice, &clock);
    tables(&opps, &activities, &costs)
}

fn history(dice: &mut Dice, clock: &Clock) -> Result<Vec<Opp>, jiff::Error> {
    let mut opps = Vec::new();
    for day in clock.days() {
        let growth = 0.8 + 0.4 * (day - clock.first_day) as f64 / (HISTORY_DAYS * DAY) as f64;
        let count = (NEW_PER_DAY * growth * season(day)? + dice.unit()) as usize;
        for _ in 0..count {
            if let Some(created) = clock.working_time(dice, day) {
                let rep = clock.pick_rep(dice, created);
                opps.push(random_opp(dice, clock, rep, created));
            }
        }
    }
    Ok(opps)
}

/// Fewer deals on weekends, more in the last three weeks of a quarter.
fn season(day: i64) -> Result<f64, jiff::Error> {
    let date = Timestamp::from_second(day)?.to_zoned(TimeZone::UTC).date();
    let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
    let quarter_end = date.month() % 3 == 0 && date.days_in_month() - date.day() < 21;
    Ok(if weekend { 0.35 } else { 1.0 } * if quarter_end { 1.7 } else { 1.0 })
}

/// A deal whose sales cycle (5 to 90 days, mostly short) decides whether it is closed by now.
fn random_opp(dice: &mut Dice, clock: &Clock, rep: usize, created: i64) -> Opp {
    let cycle_days = 5 + (dice.unit().powi(2) * 85.0) as i64;
    let closes = created + cycle_days * DAY + dice.between(0, 4 * HOUR);
    if closes < clock.end {
        let won = dice.chance(WIN_RATE * REPS[rep].4);
        let stage = if won { WON } else { LOST };
        return new_opp(dice, rep, created, stage, Some(closes));
    }
    let late = (clock.end - created) * 2 > closes - created;
    let stage = if late { NEGOTIATION } else { PROSPECTING };
    new_opp(dice, rep, created, stage, None)
}

fn new_opp(
    dice: &mut Dice,
    rep: usize,
    created: i64,
    stage: &'static str,
    closed: Option<i64>,
) -> Opp {
    let skew = (0..4).map(|_| dice.unit()).sum::<f64>() - 2.0;
    let amount = (12_000.0 * (1.4 * skew).exp() * 100.0).round() / 100.0;
    let probability = match stage {
        PROSPECTING => dice.pick(&[0.1, 0.15, 0.2]),
        NEGOTIATION => dice.pick(&[0.4, 0.5, 0.6]),
        WON => 1.0,
        _ => 0.0,
    };
    let customer = (dice.unit().powf(1.4) * CUSTOMERS as f64) as usize;
    Opp {
        rep,
        customer,
        created,
        stage,
        closed,
        amount,
        probability,
        call_after: None,
    }
}

/// Deals won, lost and created inside `[lo, hi)`, each with a call there, so that window is never
/// empty.
fn sure_window(dice: &mut Dice, clock: &Clock, lo: i64, hi: i64) -> Vec<Opp> {
    let mut opps = Vec::new();
    if hi <= lo {
        return opps;
    }
    for stage in [WON, WON, LOST, LOST, LOST] {
        let closed = dice.between(lo, hi);
        let created = closed - (5 + dice.below(35) as i64) * DAY - dice.between(0, 4 * HOUR);
        let rep = clock.pick_rep(dice, closed);
        opps.push(new_opp(dice, rep, created, stage, Some(closed)));
    }
    for _ in 0..3 {
        let created = dice.between(lo, hi);
        let rep = clock.pick_rep(dice, created);
        opps.push(new_opp(dice, rep, created, PROSPECTING, None));
    }
    for opp in &mut opps {
        opp.call_after = Some(lo);
    }
    opps
}

/// Touches on each deal between its creation and its close (or now), then unlinked ones.
fn activities(dice: &mut Dice, clock: &Clock, opps: &[Opp]) -> Vec<Activity> {
    let mut activities = Vec::new();
    for (index, opp) in opps.iter().enumerate() {
        let mut last = opp.closed.unwrap_or(clock.end - 1);
        if opp.rep == INACTIVE {
            last = last.min(clock.departure);
        }
        let count = 1 + (last - opp.created) / (10 * DAY) + dice.below(2) as i64;
        for _ in 0..count {
            let at = dice.between(opp.created, last + 1);
            activities.push((at, opp.rep, kind(dice), Some(index)));
        }
        if let Some(lo) = opp.call_after {
            let at = dice.between(lo.max(opp.created), last + 1);
            activities.push((at, opp.rep, "call", Some(index)));
        }
    }
    for day in clock.days() {
        for rep in 0..REPS.len() {
            match clock.working_time(dice, day) {
                Some(at) if clock.is_active(rep, at) && dice.chance(0.12) => {
                    activities.push((at, rep, kind(dice), None));
                }
                _ => {}
            }
        }
    }
    activities.sort_by_key(|activity| activity.0);
    activities
}

fn kind(dice: &mut Dice) -> &'static str {
    match dice.below(8) {
        0..4 => "call",
        4..7 => "email",
        _ => "meeting",
    }
}

/// Weekly sales and marketing costs per team, and a company-wide campaign every four weeks.
fn costs(dice: &mut Dice, clock: &Clock) -> Vec<Cost> {
    let monday = clock.first_day + (4 - clock.first_day.div_euclid(DAY)).rem_euclid(7) * DAY;
    let mut costs = Vec::new();
    for (week, at) in (monday..clock.end).step_by(7 * DAY as usize).enumerate() {
        for team in TEAMS {
            costs.push((at, "sales", dice.cents(6_000.0, 9_000.0), Some(team)));
            costs.push((at, "marketing", dice.cents(1_500.0, 4_000.0), Some(team)));
        }
        let campaign = at + 2 * DAY;
        if week % 4 == 0 && campaign < clock.end {
            costs.push((campaign, "marketing", dice.cents(10_000.0, 25_000.0), None));
        }
    }
    costs
}

/// A failed statement and which step it was.
type SqlFailure = (String, sqlx::Error);

fn step(step: impl Into<String>) -> impl FnOnce(sqlx::Error) -> SqlFailure {
    move |source| (step.into(), source)
}

const SCHEMA: &str = "
DROP TABLE IF EXISTS reps;
DROP TABLE IF EXISTS opportunities;
DROP TABLE IF EXISTS activities;
DROP TABLE IF EXISTS costs;
CREATE TABLE reps (id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, active INTEGER NOT NULL);
CREATE TABLE opportunities (id INTEGER PRIMARY KEY, rep_id TEXT, customer TEXT, created_at TEXT NOT NULL, stage TEXT NOT NULL, closed_at TEXT, amount NUMERIC, probability REAL);
CREATE TABLE activities (id INTEGER PRIMARY KEY, rep_id TEXT NOT NULL, occurred_at TEXT NOT NULL, kind TEXT NOT NULL, opportunity_id INTEGER);
CREATE TABLE costs (id INTEGER PRIMARY KEY, incurred_at TEXT NOT NULL, category TEXT NOT NULL, amount NUMERIC NOT NULL, team TEXT);
CREATE INDEX opportunities_created_at ON opportunities (created_at);
CREATE INDEX opportunities_closed_at ON opportunities (closed_at);
CREATE INDEX activities_occurred_at ON activities (occurred_at);
CREATE INDEX costs_incurred_at ON costs (incurred_at);
";

fn tables(opps: &[Opp], activities: &[Activity], costs: &[Cost]) -> Result<[Rows; 4], jiff::Error> {
    Ok([
        rows(&REPS, rep_row)?,
        rows(opps, opportunity_row)?,
        rows(activities, activity_row)?,
        rows(costs, cost_row)?,
    ])
}

type Row = Result<Vec<Cell>, jiff::Error>;

/// Numbers `items` from 1 and renders each as the cells of one row.
fn rows<T>(items: &[T], render: fn(i64, &T) -> Row) -> Result<Rows, jiff::Error> {
    (1..)
        .zip(items)
        .map(|(id, item)| render(id, item))
        .collect()
}

fn rep_row(_: i64, &(id, name, team, ..): &(&str, &str, &str, f64, f64)) -> Row {
    let active = Int(i64::from(id != REPS[INACTIVE].0));
    Ok(vec![text(id), text(name), text(team), active])
}

fn opportunity_row(id: i64, opp: &Opp) -> Row {
    let closed = opp.closed.map(time).transpose()?.unwrap_or(Null);
    Ok(vec![
        Int(id),
        text(REPS[opp.rep].0),
        Text(customer(opp.customer)),
        time(opp.created)?,
        text(opp.stage),
        closed,
        Real(opp.amount),
        Real(opp.probability),
    ])
}

fn activity_row(id: i64, &(at, rep, kind, opp): &Activity) -> Row {
    let opp = opp.map_or(Null, |index| Int(index as i64 + 1));
    Ok(vec![Int(id), text(REPS[rep].0), time(at)?, text(kind), opp])
}

fn cost_row(id: i64, &(at, category, amount, team): &Cost) -> Row {
    let team = team.map_or(Null, text);
    Ok(vec![Int(id), time(at)?, text(category), Real(amount), team])
}

fn text(value: &str) -> Cell {
    Text(value.to_string())
}

fn time(second: i64) -> Result<Cell, jiff::Error> {
    let timestamp = Timestamp::from_second(second)?;
    Ok(Text(timestamp.strftime("%Y-%m-%d %H:%M:%S").to_string()))
}

async fn write(path: &Path, tables: &[Rows; 4]) -> Result<(), SqlFailure> {
    let options = SqliteConnectOptions::new().filename(path);
    let options = options.create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(step("open"))?;
    let mut tx = conn.begin().await.map_err(step("begin transaction"))?;
    let schema = sqlx::raw_sql(SCHEMA).execute(&mut *tx).await;
    schema.map_err(step("create tables"))?;
    for ((name, columns), rows) in TABLES.iter().zip(tables) {
        insert(&mut tx, name, columns, rows).await?;
    }
    tx.commit().await.map_err(step("commit"))?;
    conn.close().await.map_err(step("close"))
}

const BATCH: usize = 200;

/// Inserts `rows` with one multi-row statement per [`BATCH`] rows, prepared once and cached.
async fn insert(
    conn: &mut SqliteConnection,
    name: &str,
    columns: &str,
    rows: &Rows,
) -> Result<(), SqlFailure> {
    for chunk in rows.chunks(BATCH) {
        let mut builder = QueryBuilder::new(format!("INSERT INTO {name} ({columns}) "));
        builder.push_values(chunk, |mut row, cells| {
            for cell in cells {
                match cell {
                    Int(value) => row.push_bind(*value),
                    Real(value) => row.push_bind(*value),
                    Text(value) => row.push_bind(value.as_str()),
                    Null => row.push_bind(None::<i64>),
                };
            }
        });
        let inserted = builder.build().execute(&mut *conn).await;
        inserted.map_err(step(format!("insert into {name}")))?;
    }
    Ok(())
}
/// The file path of a `sqlite:` URL such as `sqlite:demo.sqlite` or `sqlite://demo.sqlite?mode=ro`.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    const NOW: &str = "2026-12-03T16:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    async fn demo_at(now: Timestamp) -> (tempfile::TempDir, PathBuf, DemoSummary) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.sqlite");
        let summary = write_demo_database(&path, now).await.unwrap();
        (dir, path, summary)
    }

    async fn connect(path: &Path) -> SqliteConnection {
        let options = SqliteConnectOptions::new().filename(path);
        SqliteConnection::connect_with(&options).await.unwrap()
    }

    async fn count(conn: &mut SqliteConnection, rows: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {rows}");
        sqlx::query(&sql).fetch_one(conn).await.unwrap().get(0)
    }

    /// Won deals, lost deals and calls in `[start, end)`, each as the rest of a `FROM` clause.
    fn won_lost_calls(start: &str, end: &str) -> [String; 3] {
        let within = |column| format!("{column} >= '{start}' AND {column} < '{end}'");
        [
            format!(
                "opportunities WHERE stage = 'closed_won' AND {}",
                within("closed_at")
            ),
            format!(
                "opportunities WHERE stage = 'closed_lost' AND {}",
                within("closed_at")
            ),
            format!(
                "activities WHERE kind = 'call' AND {}",
                within("occurred_at")
            ),
        ]
    }

    async fn dump(path: &Path) -> Vec<String> {
        let mut conn = connect(path).await;
        let mut rows = Vec::new();
        for (table, columns) in TABLES {
            let quoted: Vec<_> = columns.split(", ").map(|c| format!("quote({c})")).collect();
            let row = quoted.join(" || '|' || ");
            let sql = format!("SELECT {row} FROM {table} ORDER BY id");
            for row in sqlx::query(&sql).fetch_all(&mut conn).await.unwrap() {
                rows.push(format!("{table}|{}", row.get::<String, _>(0)));
            }
        }
        rows
    }

    /// The same `now` writes the same rows, byte for byte.
    #[tokio::test]
    async fn same_now_gives_identical_rows() {
        let (_first_dir, first, _) = demo_at(now()).await;
        let (_second_dir, second, _) = demo_at(now()).await;
        let (first, second) = (dump(&first).await, dump(&second).await);
        assert!(first.len() > 10_000, "{}", first.len());
        assert_eq!(first, second);
    }

    /// Every event is before now, closes follow creation, only open deals lack a close, and
    /// linked activities fall in their deal's life and belong to its rep.
    #[tokio::test]
    async fn events_are_ordered_and_before_now() {
        let (_dir, path, _) = demo_at(now()).await;
        let mut conn = connect(&path).await;
        let now = "'2026-12-03 16:00:00'";
        let violations = [
            format!("opportunities WHERE created_at >= {now} OR closed_at >= {now}"),
            format!("activities WHERE occurred_at >= {now}"),
            format!("costs WHERE incurred_at >= {now}"),
            "opportunities WHERE closed_at < created_at".into(),
            "opportunities WHERE stage IN ('prospecting', 'negotiation') = (closed_at NOT NULL)".into(),
            "activities a JOIN opportunities o ON o.id = a.opportunity_id WHERE a.rep_id <> o.rep_id \
             OR a.occurred_at < o.created_at OR a.occurred_at > coalesce(o.closed_at, a.occurred_at)"
                .into(),
        ];
        for rows in violations {
            assert_eq!(count(&mut conn, &rows).await, 0, "{rows}");
        }
    }

    /// Today, the last 7 days and this month each hold won and lost deals and calls; the inactive
    /// rep got no deal in the last 60 days; two rep ids share the name 'Alex Kim'.
    #[tokio::test]
    async fn current_windows_are_populated() {
        let (_dir, path, _) = demo_at(now()).await;
        let mut conn = connect(&path).await;
        for start in [
            "2026-12-03 00:00:00",
            "2026-11-26 16:00:00",
            "2026-12-01 00:00:00",
        ] {
            for rows in won_lost_calls(start, "2026-12-03 16:00:00") {
                assert!(count(&mut conn, &rows).await >= 2, "{rows}");
            }
        }
        assert_eq!(count(&mut conn, "reps WHERE active = 0").await, 1);
        let recent = "opportunities JOIN reps ON reps.id = rep_id \
                      WHERE active = 0 AND created_at >= '2026-10-04 16:00:00'";
        assert_eq!(count(&mut conn, recent).await, 0);
        let alex = "(SELECT DISTINCT id FROM reps WHERE name = 'Alex Kim')";
        assert_eq!(count(&mut conn, alex).await, 2);
    }

    /// A `now` a few seconds after midnight still gets won and lost deals and a call today.
    #[tokio::test]
    async fn early_now_squeezes_today_into_seconds() {
        let (_dir, path, _) = demo_at("2026-12-03T00:00:05Z".parse().unwrap()).await;
        let mut conn = connect(&path).await;
        for rows in won_lost_calls("2026-12-03 00:00:00", "2026-12-03 00:00:05") {
            assert!(count(&mut conn, &rows).await >= 1, "{rows}");
        }
    }

    /// Writing again into an existing file replaces the rows instead of adding to them.
    #[tokio::test]
    async fn rerun_replaces_existing_data() {
        let (_dir, path, first) = demo_at(now()).await;
        let second = write_demo_database(&path, now()).await.unwrap();
        assert_eq!(first, second);
        let mut conn = connect(&path).await;
        let opportunities = count(&mut conn, "opportunities").await;
        assert_eq!(opportunities as usize, first.opportunities);
        assert_eq!(count(&mut conn, "reps").await, 12);
    }

    /// A file that cannot be created gives an error naming the path and the failed step.
    #[tokio::test]
    async fn unwritable_path_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("demo.sqlite");
        let error = write_demo_database(&path, now()).await.unwrap_err();
        let expected = format!("cannot write demo database {}: open failed", path.display());
        assert!(error.to_string().starts_with(&expected), "{error}");
    }
}
