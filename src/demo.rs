//! Demo sales database: fifteen months of deterministic reps, opportunities, activities and costs,
//! dated relative to a given "now" so that every current and previous window has sensible numbers.

use std::path::{Path, PathBuf};

use jiff::{civil::Weekday, tz::TimeZone, Timestamp};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

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
    #[error("cannot {step} in demo database {}: {source}", path.display())]
    Sql {
        path: PathBuf,
        step: &'static str,
        source: sqlx::Error,
    },
    /// `now` is too close to the limits of the calendar to hold fifteen months of history.
    #[error("cannot date demo data for {} before {now}: {source}", path.display())]
    Date {
        path: PathBuf,
        now: Timestamp,
        source: jiff::Error,
    },
}

/// Replaces (drops and recreates) the demo tables in the SQLite database at `path` (creating the
/// file if needed) with about fifteen months of sales data ending strictly before `now`.
///
/// The same `now` always gives the same rows. All rows are written in one transaction.
pub async fn write_demo_database(path: &Path, now: Timestamp) -> Result<DemoSummary, DemoError> {
    let at_path = |failure| match failure {
        Failure::Sql(step, source) => DemoError::Sql {
            path: path.to_path_buf(),
            step,
            source,
        },
        Failure::Date(source) => DemoError::Date {
            path: path.to_path_buf(),
            now,
            source,
        },
    };
    let demo = plan(now).map_err(Failure::Date).map_err(at_path)?;
    write(path, &demo).await.map_err(at_path)
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const HISTORY_DAYS: i64 = 456;
const DEPARTED_DAYS_AGO: i64 = 61;
const SEED: u64 = 0x5a1e_5de0;
const NEW_PER_DAY: f64 = 7.0;
const WIN_RATE: f64 = 0.25;
const TEAMS: [&str; 3] = ["North", "South", "West"];

struct Rep {
    id: &'static str,
    name: &'static str,
    team: &'static str,
    volume: f64,
    win: f64,
    active: bool,
}

const fn rep(
    id: &'static str,
    name: &'static str,
    team: &'static str,
    volume: f64,
    win: f64,
) -> Rep {
    Rep {
        id,
        name,
        team,
        volume,
        win,
        active: true,
    }
}

const REPS: [Rep; 12] = [
    rep("r01", "Maria Lopez", "North", 1.0, 1.0),
    rep("r02", "James O'Connor", "North", 1.4, 1.5),
    rep("r03", "Alex Kim", "North", 1.0, 1.0),
    rep("r04", "Priya Natarajan", "North", 0.9, 0.9),
    rep("r05", "Tom Becker", "South", 0.7, 0.5),
    rep("r06", "Sofia Rossi", "South", 1.0, 1.1),
    rep("r07", "Daniel Okafor", "South", 1.4, 1.4),
    rep("r08", "Alex Kim", "South", 1.0, 0.9),
    rep("r09", "Hannah Schmidt", "West", 1.1, 1.0),
    rep("r10", "Lucas Martin", "West", 0.7, 0.6),
    Rep {
        active: false,
        ..rep("r11", "Emma Johansson", "West", 0.9, 1.0)
    },
    rep("r12", "Kenji Watanabe", "West", 1.0, 1.0),
];

const STEMS: [&str; 15] = [
    "Acme",
    "Bluepeak",
    "Cedarline",
    "Dunmore",
    "Evergreen",
    "Fairhaven",
    "Granite",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Meridian",
    "Northwind",
    "Oakridge",
];
const TRADES: [&str; 10] = [
    "Logistics",
    "Foods",
    "Systems",
    "Health",
    "Energy",
    "Retail",
    "Labs",
    "Manufacturing",
    "Media",
    "Partners",
];
const CUSTOMERS: usize = STEMS.len() * TRADES.len();

fn customer(index: usize) -> String {
    format!(
        "{} {}",
        STEMS[index % STEMS.len()],
        TRADES[index / STEMS.len()]
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Prospecting,
    Negotiation,
    Won,
    Lost,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Prospecting => "prospecting",
            Stage::Negotiation => "negotiation",
            Stage::Won => "closed_won",
            Stage::Lost => "closed_lost",
        }
    }
}

struct Opp {
    rep: usize,
    customer: usize,
    created: i64,
    stage: Stage,
    closed: Option<i64>,
    amount: f64,
    probability: f64,
    call_after: Option<i64>,
}

struct Activity {
    rep: usize,
    at: i64,
    kind: &'static str,
    opportunity: Option<i64>,
}

struct Cost {
    at: i64,
    category: &'static str,
    amount: f64,
    team: Option<&'static str>,
}

struct Demo {
    opps: Vec<Opp>,
    activities: Vec<Activity>,
    costs: Vec<Cost>,
}

/// Uniform draws built on the raw ChaCha stream only, so they cannot change with a `rand` release.
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

/// The instants that every generated row is placed against, in whole seconds.
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
        Ok(Clock {
            end,
            today,
            first_day,
            departure: today - DEPARTED_DAYS_AGO * DAY,
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
        REPS[rep].active || at < self.departure
    }

    fn pick_rep(&self, dice: &mut Dice, at: i64) -> usize {
        let weight = |rep: usize| {
            if self.is_active(rep, at) {
                REPS[rep].volume
            } else {
                0.0
            }
        };
        let total: f64 = (0..REPS.len()).map(weight).sum();
        let mut target = dice.unit() * total;
        for rep in 0..REPS.len() {
            target -= weight(rep);
            if target < 0.0 {
                return rep;
            }
        }
        0
    }
}

fn plan(now: Timestamp) -> Result<Demo, jiff::Error> {
    let clock = Clock::new(now)?;
    let mut dice = Dice(ChaCha8Rng::seed_from_u64(SEED));
    let mut opps = history(&mut dice, &clock)?;
    opps.extend(sure_window(
        &mut dice,
        &clock,
        clock.today - DAY,
        clock.today,
    ));
    opps.extend(sure_window(&mut dice, &clock, clock.today, clock.end));
    opps.sort_by_key(|opp| opp.created);
    let activities = activities(&mut dice, &clock, &opps);
    let costs = costs(&mut dice, &clock);
    Ok(Demo {
        opps,
        activities,
        costs,
    })
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

fn random_opp(dice: &mut Dice, clock: &Clock, rep: usize, created: i64) -> Opp {
    let cycle_days = 5 + (dice.unit().powi(2) * 86.0) as i64;
    let closes = created + cycle_days * DAY + dice.between(0, 4 * HOUR);
    if closes < clock.end {
        let won = dice.chance(WIN_RATE * REPS[rep].win);
        let stage = if won { Stage::Won } else { Stage::Lost };
        return new_opp(dice, rep, created, stage, Some(closes));
    }
    let progress = (clock.end - created) as f64 / (closes - created) as f64;
    let stage = if progress > 0.5 {
        Stage::Negotiation
    } else {
        Stage::Prospecting
    };
    new_opp(dice, rep, created, stage, None)
}

fn new_opp(dice: &mut Dice, rep: usize, created: i64, stage: Stage, closed: Option<i64>) -> Opp {
    let skew = (0..4).map(|_| dice.unit()).sum::<f64>() - 2.0;
    let amount = (12_000.0 * (1.4 * skew).exp() * 100.0).round() / 100.0;
    let probability = match stage {
        Stage::Prospecting => dice.pick(&[0.1, 0.15, 0.2]),
        Stage::Negotiation => dice.pick(&[0.4, 0.5, 0.6]),
        Stage::Won => 1.0,
        Stage::Lost => 0.0,
    };
    let customer = (dice.unit().powi(2) * CUSTOMERS as f64) as usize;
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

/// Deals created, won and lost inside `[lo, hi)`, each with a call there, so the window is never
/// empty.
fn sure_window(dice: &mut Dice, clock: &Clock, lo: i64, hi: i64) -> Vec<Opp> {
    if hi <= lo {
        return Vec::new();
    }
    let stages = [
        Stage::Won,
        Stage::Won,
        Stage::Lost,
        Stage::Lost,
        Stage::Lost,
    ];
    let mut opps = Vec::new();
    for stage in stages.into_iter().chain([Stage::Prospecting; 3]) {
        let at = dice.between(lo, hi);
        let rep = clock.pick_rep(dice, at);
        let mut opp = if stage == Stage::Prospecting {
            new_opp(dice, rep, at, stage, None)
        } else {
            let created = at - (5 + dice.below(35) as i64) * DAY - dice.between(0, 4 * HOUR);
            new_opp(dice, rep, created, stage, Some(at))
        };
        opp.call_after = Some(lo);
        opps.push(opp);
    }
    opps
}

fn activities(dice: &mut Dice, clock: &Clock, opps: &[Opp]) -> Vec<Activity> {
    let mut activities = Vec::new();
    for (opp, id) in opps.iter().zip(1..) {
        let mut last = opp.closed.unwrap_or(clock.end - 1);
        if !REPS[opp.rep].active {
            last = last.min(clock.departure);
        }
        let count = 1 + (last - opp.created) / (6 * DAY) + dice.below(3) as i64;
        for _ in 0..count {
            let at = dice.between(opp.created, last + 1);
            activities.push(activity(dice, opp.rep, at, Some(id)));
        }
        if let Some(lo) = opp.call_after {
            let at = dice.between(lo.max(opp.created), last + 1);
            activities.push(Activity {
                rep: opp.rep,
                at,
                kind: "call",
                opportunity: Some(id),
            });
        }
    }
    for day in clock.days() {
        for rep in 0..REPS.len() {
            match clock.working_time(dice, day) {
                Some(at) if clock.is_active(rep, at) && dice.chance(0.12) => {
                    activities.push(activity(dice, rep, at, None));
                }
                _ => {}
            }
        }
    }
    activities.sort_by_key(|activity| activity.at);
    activities
}

fn activity(dice: &mut Dice, rep: usize, at: i64, opportunity: Option<i64>) -> Activity {
    let kind = dice.pick(&[
        "call", "call", "call", "call", "email", "email", "email", "meeting",
    ]);
    Activity {
        rep,
        at,
        kind,
        opportunity,
    }
}

fn costs(dice: &mut Dice, clock: &Clock) -> Vec<Cost> {
    let monday = clock.first_day + (4 - clock.first_day.div_euclid(DAY)).rem_euclid(7) * DAY;
    let mut costs = Vec::new();
    for (week, at) in (monday..clock.end).step_by(7 * DAY as usize).enumerate() {
        for team in TEAMS {
            let sales = dice.cents(6_000.0, 9_000.0);
            costs.push(Cost {
                at,
                category: "sales",
                amount: sales,
                team: Some(team),
            });
            let marketing = dice.cents(1_500.0, 4_000.0);
            costs.push(Cost {
                at,
                category: "marketing",
                amount: marketing,
                team: Some(team),
            });
        }
        let campaign = at + 2 * DAY;
        if week % 4 == 0 && campaign < clock.end {
            let amount = dice.cents(10_000.0, 25_000.0);
            costs.push(Cost {
                at: campaign,
                category: "marketing",
                amount,
                team: None,
            });
        }
    }
    costs
}

/// Why the internal write failed, before the path is attached.
enum Failure {
    Sql(&'static str, sqlx::Error),
    Date(jiff::Error),
}

impl From<jiff::Error> for Failure {
    fn from(source: jiff::Error) -> Self {
        Failure::Date(source)
    }
}

fn step(step: &'static str) -> impl FnOnce(sqlx::Error) -> Failure {
    move |source| Failure::Sql(step, source)
}

fn stamp(second: i64) -> Result<String, jiff::Error> {
    Ok(Timestamp::from_second(second)?
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string())
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
";

const INDEXES: &str = "
CREATE INDEX opportunities_created_at ON opportunities (created_at);
CREATE INDEX opportunities_closed_at ON opportunities (closed_at);
CREATE INDEX activities_occurred_at ON activities (occurred_at);
CREATE INDEX costs_incurred_at ON costs (incurred_at);
";

async fn write(path: &Path, demo: &Demo) -> Result<DemoSummary, Failure> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(step("open"))?;
    let mut tx = conn.begin().await.map_err(step("begin transaction"))?;
    sqlx::raw_sql(SCHEMA)
        .execute(&mut *tx)
        .await
        .map_err(step("create tables"))?;
    insert_reps(&mut *tx).await?;
    insert_opportunities(&mut *tx, &demo.opps).await?;
    insert_activities(&mut *tx, &demo.activities).await?;
    insert_costs(&mut *tx, &demo.costs).await?;
    sqlx::raw_sql(INDEXES)
        .execute(&mut *tx)
        .await
        .map_err(step("create indexes"))?;
    tx.commit().await.map_err(step("commit"))?;
    conn.close().await.map_err(step("close"))?;
    Ok(DemoSummary {
        reps: REPS.len(),
        opportunities: demo.opps.len(),
        activities: demo.activities.len(),
        costs: demo.costs.len(),
    })
}

async fn insert_reps(conn: &mut SqliteConnection) -> Result<(), Failure> {
    for rep in &REPS {
        sqlx::query("INSERT INTO reps (id, name, team, active) VALUES (?, ?, ?, ?)")
            .bind(rep.id)
            .bind(rep.name)
            .bind(rep.team)
            .bind(rep.active)
            .execute(&mut *conn)
            .await
            .map_err(step("insert reps"))?;
    }
    Ok(())
}

async fn insert_opportunities(conn: &mut SqliteConnection, opps: &[Opp]) -> Result<(), Failure> {
    let sql = "INSERT INTO opportunities (id, rep_id, customer, created_at, stage, closed_at, amount, probability) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    for (opp, id) in opps.iter().zip(1_i64..) {
        let closed = opp.closed.map(stamp).transpose()?;
        sqlx::query(sql)
            .bind(id)
            .bind(REPS[opp.rep].id)
            .bind(customer(opp.customer))
            .bind(stamp(opp.created)?)
            .bind(opp.stage.name())
            .bind(closed)
            .bind(opp.amount)
            .bind(opp.probability)
            .execute(&mut *conn)
            .await
            .map_err(step("insert opportunities"))?;
    }
    Ok(())
}

async fn insert_activities(conn: &mut SqliteConnection, rows: &[Activity]) -> Result<(), Failure> {
    let sql = "INSERT INTO activities (id, rep_id, occurred_at, kind, opportunity_id) VALUES (?, ?, ?, ?, ?)";
    for (activity, id) in rows.iter().zip(1_i64..) {
        sqlx::query(sql)
            .bind(id)
            .bind(REPS[activity.rep].id)
            .bind(stamp(activity.at)?)
            .bind(activity.kind)
            .bind(activity.opportunity)
            .execute(&mut *conn)
            .await
            .map_err(step("insert activities"))?;
    }
    Ok(())
}

async fn insert_costs(conn: &mut SqliteConnection, rows: &[Cost]) -> Result<(), Failure> {
    let sql = "INSERT INTO costs (id, incurred_at, category, amount, team) VALUES (?, ?, ?, ?, ?)";
    for (cost, id) in rows.iter().zip(1_i64..) {
        sqlx::query(sql)
            .bind(id)
            .bind(stamp(cost.at)?)
            .bind(cost.category)
            .bind(cost.amount)
            .bind(cost.team)
            .execute(&mut *conn)
            .await
            .map_err(step("insert costs"))?;
    }
    Ok(())
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

    async fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(conn).await.unwrap().get(0)
    }

    async fn dump(path: &Path) -> Vec<String> {
        let tables = [
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
        let mut conn = connect(path).await;
        let mut rows = Vec::new();
        for (table, columns) in tables {
            let quoted = columns
                .split(", ")
                .map(|c| format!("quote({c})"))
                .collect::<Vec<_>>();
            let sql = format!(
                "SELECT {} FROM {table} ORDER BY id",
                quoted.join(" || '|' || ")
            );
            for row in sqlx::query(&sql).fetch_all(&mut conn).await.unwrap() {
                rows.push(format!("{table}|{}", row.get::<String, _>(0)));
            }
        }
        rows
    }

    /// The same `now` writes the same rows, byte for byte.
    #[tokio::test]
    async fn same_now_gives_identical_rows() {
        let (_a, first, _) = demo_at(now()).await;
        let (_b, second, _) = demo_at(now()).await;
        let (first, second) = (dump(&first).await, dump(&second).await);
        assert!(first.len() > 10_000);
        assert_eq!(first, second);
    }

    /// Every event is before now, closes follow creation, and only open deals lack a close.
    #[tokio::test]
    async fn events_are_ordered_and_before_now() {
        let (_dir, path, _) = demo_at(now()).await;
        let mut conn = connect(&path).await;
        let now = "'2026-12-03 16:00:00'";
        let violations = [
            format!("SELECT count(*) FROM opportunities WHERE created_at >= {now} OR closed_at >= {now}"),
            "SELECT count(*) FROM opportunities WHERE closed_at < created_at".into(),
            "SELECT count(*) FROM opportunities WHERE (stage IN ('prospecting', 'negotiation')) = (closed_at IS NOT NULL)".into(),
            format!("SELECT count(*) FROM activities WHERE occurred_at >= {now}"),
            format!("SELECT count(*) FROM costs WHERE incurred_at >= {now}"),
            "SELECT count(*) FROM activities a JOIN opportunities o ON o.id = a.opportunity_id \
             WHERE a.rep_id <> o.rep_id OR a.occurred_at < o.created_at OR a.occurred_at > coalesce(o.closed_at, a.occurred_at)".into(),
        ];
        for sql in violations {
            assert_eq!(count(&mut conn, &sql).await, 0, "{sql}");
        }
    }

    /// Today, the last 7 days and this month each hold won and lost deals and calls; the inactive
    /// rep got no deal in the last 60 days; two rep ids share the name 'Alex Kim'.
    #[tokio::test]
    async fn current_windows_are_populated() {
        let (_dir, path, _) = demo_at(now()).await;
        let mut conn = connect(&path).await;
        let windows = [
            ("2026-12-03 00:00:00", "2026-12-03 16:00:00"),
            ("2026-11-26 16:00:00", "2026-12-03 16:00:00"),
            ("2026-12-01 00:00:00", "2026-12-03 16:00:00"),
        ];
        for (lo, hi) in windows {
            let within = |column: &str| format!("{column} >= '{lo}' AND {column} < '{hi}'");
            for stage in ["closed_won", "closed_lost"] {
                let sql = format!(
                    "SELECT count(*) FROM opportunities WHERE stage = '{stage}' AND {}",
                    within("closed_at")
                );
                assert!(count(&mut conn, &sql).await >= 2, "{sql}");
            }
            let sql = format!(
                "SELECT count(*) FROM activities WHERE kind = 'call' AND {}",
                within("occurred_at")
            );
            assert!(count(&mut conn, &sql).await >= 2, "{sql}");
        }
        let recent = "SELECT count(*) FROM opportunities o JOIN reps r ON r.id = o.rep_id \
                      WHERE r.active = 0 AND o.created_at >= '2026-10-04 16:00:00'";
        assert_eq!(count(&mut conn, recent).await, 0);
        assert_eq!(
            count(&mut conn, "SELECT count(*) FROM reps WHERE active = 0").await,
            1
        );
        let alex = "SELECT count(DISTINCT id) FROM reps WHERE name = 'Alex Kim'";
        assert_eq!(count(&mut conn, alex).await, 2);
    }

    /// A `now` a few seconds after midnight still gets won and lost deals and a call today.
    #[tokio::test]
    async fn early_now_squeezes_today_into_seconds() {
        let (_dir, path, _) = demo_at("2026-12-03T00:00:05Z".parse().unwrap()).await;
        let mut conn = connect(&path).await;
        let today = "'2026-12-03 00:00:00'";
        for stage in ["closed_won", "closed_lost"] {
            let sql = format!("SELECT count(*) FROM opportunities WHERE stage = '{stage}' AND closed_at >= {today}");
            assert!(count(&mut conn, &sql).await >= 1, "{sql}");
        }
        let calls = format!(
            "SELECT count(*) FROM activities WHERE kind = 'call' AND occurred_at >= {today}"
        );
        assert!(count(&mut conn, &calls).await >= 1);
    }

    /// Writing again into an existing file replaces the rows instead of adding to them.
    #[tokio::test]
    async fn rerun_replaces_existing_data() {
        let (_dir, path, first) = demo_at(now()).await;
        let second = write_demo_database(&path, now()).await.unwrap();
        assert_eq!(first, second);
        let mut conn = connect(&path).await;
        let opportunities = count(&mut conn, "SELECT count(*) FROM opportunities").await;
        assert_eq!(opportunities as usize, first.opportunities);
        assert_eq!(count(&mut conn, "SELECT count(*) FROM reps").await, 12);
    }

    /// A file that cannot be created gives an error naming the path and the failed step.
    #[tokio::test]
    async fn unwritable_path_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("demo.sqlite");
        let error = write_demo_database(&path, now())
            .await
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("cannot open in demo database"), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
    }

    #[tokio::test]
    #[ignore]
    async fn stats() {
        let start = std::time::Instant::now();
        let (_dir, path, summary) = demo_at(now()).await;
        println!("{summary:?} in {:?}", start.elapsed());
        let mut conn = connect(&path).await;
        for sql in [
            "SELECT stage || ' ' || count(*) || ' ' || round(avg(amount),2) FROM opportunities GROUP BY stage",
            "SELECT kind || ' ' || count(*) || ' linked ' || count(opportunity_id) FROM activities GROUP BY kind",
            "SELECT category || ' ' || coalesce(team,'-') || ' ' || count(*) FROM costs GROUP BY 1",
            "SELECT min(created_at) || ' .. ' || max(created_at) || ' / ' || max(closed_at) FROM opportunities",
            "SELECT min(occurred_at) || ' .. ' || max(occurred_at) FROM activities",
            "SELECT min(incurred_at) || ' .. ' || max(incurred_at) FROM costs",
            "SELECT rep_id || ' ' || count(*) || ' won ' || sum(stage='closed_won') || ' rate ' || round(1.0*sum(stage='closed_won')/sum(closed_at is not null),2) || ' last ' || max(created_at) FROM opportunities GROUP BY rep_id",
            "SELECT substr(created_at,1,7) || ' ' || count(*) FROM opportunities GROUP BY 1",
            "SELECT count(DISTINCT customer) || ' customers, top ' || max(n) FROM (SELECT customer, count(*) n FROM opportunities GROUP BY customer)",
            "SELECT 'cycle days min ' || min(julianday(closed_at)-julianday(created_at)) || ' max ' || max(julianday(closed_at)-julianday(created_at)) || ' avg ' || avg(julianday(closed_at)-julianday(created_at)) FROM opportunities WHERE closed_at IS NOT NULL",
            "SELECT id || ' ' || customer || ' ' || amount || ' ' || typeof(amount) || ' ' || coalesce(probability,'null') FROM opportunities WHERE id % 700 = 0",
        ] {
            for row in sqlx::query(sql).fetch_all(&mut conn).await.unwrap() {
                println!("{}", row.get::<String, _>(0));
            }
        }
    }
}

/// The file path of a `sqlite:` URL such as `sqlite:demo.sqlite` or `sqlite://demo.sqlite?mode=ro`.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}
