//! The demo data itself: reps, customers, seasonal opportunities, activities and costs,
//! drawn from a fixed seed and rendered as the rows of each demo table.

use jiff::{civil::Weekday, tz::TimeZone, Timestamp};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use self::Cell::{Int, Null, Real, Text};

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
                     Ironwood Juniper Keystone Lakeside Meridian Northwind Oakridge Pinecrest \
                     Quarry Redwood Silverlake Timberline Upland Valleyview Westbrook Yarrow \
                     Zenith Ashford Birchwood Clearwater Driftwood Elmstead Foxglen Greystone \
                     Highgate Ivybridge Jasper Kingsbury Larkspur Maplewood Newhaven Orchard";
const TRADES: &str =
    "Logistics Foods Systems Health Energy Retail Labs Manufacturing Media Partners";
/// Every stem with every trade.
const CUSTOMERS: usize = 400;
/// Customers the company already had when the history starts.
const FIRST_CUSTOMERS: f64 = 60.0;
/// Share of new deals that go to the newest customers, most of them not yet won.
const FRESH_SHARE: f64 = 0.3;
/// How many of the newest customers those deals go to.
const FRESH_CUSTOMERS: f64 = 8.0;

/// The name of the `index`-th customer the company acquired, unique below [`CUSTOMERS`].
fn customer(index: usize) -> String {
    let stems = STEMS.split_whitespace().count();
    let stem = STEMS.split_whitespace().nth(index % stems);
    let trade = TRADES.split_whitespace().nth(index / stems);
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
pub(super) enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
    Null,
}

/// Each table's name and the columns its rows fill, in insert order.
pub(super) const TABLES: [(&str, &str); 4] = [
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
pub(super) type Rows = Vec<Vec<Cell>>;

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

    /// How many customers the company knows at `at`: a base that grows steadily to nearly
    /// [`CUSTOMERS`] by now.
    fn customer_base(&self, at: i64) -> f64 {
        let elapsed = (at - self.first_day) as f64 / (HISTORY_DAYS * DAY) as f64;
        let growth =
            (CUSTOMERS as f64 - FIRST_CUSTOMERS - FRESH_CUSTOMERS) * elapsed.clamp(0.0, 1.0);
        FIRST_CUSTOMERS + growth
    }

    /// The customer of a deal created at `at`: one of the newest [`FRESH_CUSTOMERS`] for a
    /// [`FRESH_SHARE`] of deals, else anyone already known, older customers more often.
    fn pick_customer(&self, dice: &mut Dice, at: i64) -> usize {
        let base = self.customer_base(at);
        let index = if dice.chance(FRESH_SHARE) {
            base - dice.unit() * FRESH_CUSTOMERS
        } else {
            dice.unit().powf(1.4) * base
        };
        (index as usize).min(CUSTOMERS - 1)
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

pub(super) fn plan(now: Timestamp) -> Result<[Rows; 4], jiff::Error> {
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
        return new_opp(dice, clock, rep, created, stage, Some(closes));
    }
    let late = (clock.end - created) * 2 > closes - created;
    let stage = if late { NEGOTIATION } else { PROSPECTING };
    new_opp(dice, clock, rep, created, stage, None)
}

fn new_opp(
    dice: &mut Dice,
    clock: &Clock,
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
    let customer = clock.pick_customer(dice, created);
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
        opps.push(new_opp(dice, clock, rep, created, stage, Some(closed)));
    }
    for _ in 0..3 {
        let created = dice.between(lo, hi);
        let rep = clock.pick_rep(dice, created);
        opps.push(new_opp(dice, clock, rep, created, PROSPECTING, None));
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

/// Weekly sales and marketing costs per team, and a company-wide campaign every four weeks,
/// sized so that a new customer costs a few thousand.
fn costs(dice: &mut Dice, clock: &Clock) -> Vec<Cost> {
    let monday = clock.first_day + (4 - clock.first_day.div_euclid(DAY)).rem_euclid(7) * DAY;
    let mut costs = Vec::new();
    for (week, at) in (monday..clock.end).step_by(7 * DAY as usize).enumerate() {
        for team in TEAMS {
            costs.push((at, "sales", dice.cents(2_000.0, 3_000.0), Some(team)));
            costs.push((at, "marketing", dice.cents(500.0, 1_300.0), Some(team)));
        }
        let campaign = at + 2 * DAY;
        if week % 4 == 0 && campaign < clock.end {
            costs.push((campaign, "marketing", dice.cents(3_000.0, 8_000.0), None));
        }
    }
    costs
}

/// A failed statement and which step it was.
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
