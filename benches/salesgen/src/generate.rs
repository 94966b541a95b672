//! The day-by-day generation: each day's opportunities with the activities logged on them, the
//! activities tied to no deal, and the costs, every day drawn from a random stream of its own.

use anyhow::Result;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

use crate::calendar::{weekday, Calendar, History, DAY};
use crate::customers::{
    CustomerName, Customers, ACTIVE_DAYS, FRESH_DAYS, OPPORTUNITIES_PER_CUSTOMER,
};
use crate::output::{Number, Table};
use crate::reps::{Reps, Roster};
use crate::streams::{Purpose, Streams};
use crate::volume::Volume;

/// Ids of the old history's rows start above this; the last two years' rows count from 1, so
/// that no `--history-factor` changes them.
pub const OLD_ID_BASE: i64 = 1_000_000_000_000;

const HOUR: i64 = 3_600;
/// Win rate of an average rep (multiplied by each rep's own factor).
const WIN_RATE: f64 = 0.30;
const UNASSIGNED_WIN_RATE: f64 = 0.2;
/// Share of opportunities without a rep.
const UNASSIGNED: f64 = 0.005;
/// Share of opportunities that go to the customer's owner rather than any rep.
const OWNER_SHARE: f64 = 0.85;
/// Share of opportunities with a fresh customer (born in the last [`FRESH_DAYS`]).
const FRESH_SHARE: f64 = 0.3;
/// Share of opportunities whose amount is unknown (NULL).
const NULL_AMOUNT: f64 = 0.01;
/// Median days from creation to close, won and lost, and the spread (log-normal sigma).
const WON_CYCLE_DAYS: f64 = 20.0;
const LOST_CYCLE_DAYS: f64 = 13.0;
const CYCLE_SPREAD: f64 = 0.8;
const MIN_CYCLE: i64 = 2 * HOUR;
/// No deal stays open longer, so open opportunities are all from the last ~90 days.
const MAX_CYCLE: i64 = 85 * DAY;
/// Median deal amount (dollars) of the smallest customers, and the spread.
const AMOUNT_MEDIAN: f64 = 9_000.0;
const AMOUNT_SPREAD: f64 = 0.85;
/// Activities logged per won, lost and open deal (open ones in proportion to their age).
const WON_ACTIVITIES: f64 = 3.6;
const LOST_ACTIVITIES: f64 = 2.4;
const OPEN_ACTIVITIES: f64 = 2.6;
/// Activities tied to no deal, per opportunity created that day.
const UNLINKED_ACTIVITIES: f64 = 0.35;
/// Monthly sales cost per rep at work, and marketing budget per team (times the square root
/// of its size) and for the whole company per rep at work (dollars).
const SALES_COST_PER_REP: f64 = 6_500.0;
const TEAM_MARKETING: f64 = 3_000.0;
const COMPANY_MARKETING_PER_REP: f64 = 700.0;
/// Chance per team and weekday of a marketing invoice, and per weekday of a company one.
const TEAM_INVOICE: f64 = 0.08;
const COMPANY_INVOICE: f64 = 0.3;
const INVOICE_MEDIAN: f64 = 1_200.0;
/// Relative activity in each hour of the day (UTC).
const HOURS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.8, 2.0, 5.0, 9.0, 11.0, 11.0, 7.0, 8.0, 10.0, 10.0, 9.0, 6.0,
    3.0, 1.5, 1.0, 0.6, 0.4, 0.3,
];

const PROSPECTING: &[u8] = b"prospecting";
const NEGOTIATION: &[u8] = b"negotiation";
const WON: &[u8] = b"closed_won";
const LOST: &[u8] = b"closed_lost";
const CALL: &[u8] = b"call";
const EMAIL: &[u8] = b"email";
const MEETING: &[u8] = b"meeting";
const MARKETING: &[u8] = b"marketing";
const SALES: &[u8] = b"sales";

/// The CSV files the days are written to (reps are written before).
pub struct Tables {
    /// `opportunities.csv`.
    pub opportunities: Table,
    /// `activities.csv`.
    pub activities: Table,
    /// `costs.csv`.
    pub costs: Table,
}

/// The next ids of one part of the history.
struct Ids {
    opportunity: i64,
    activity: i64,
    cost: i64,
}

impl Ids {
    fn after(base: i64) -> Ids {
        Ids {
            opportunity: base,
            activity: base,
            cost: base,
        }
    }
}

fn next(counter: &mut i64) -> i64 {
    *counter += 1;
    *counter
}

/// Everything the days are drawn from.
pub struct World {
    /// The generated days.
    pub history: History,
    /// Their civil dates.
    pub calendar: Calendar,
    /// Opportunities per day.
    pub volume: Volume,
    /// The customers' sizes and owners.
    pub customers: Customers,
    /// The sales force.
    pub reps: Reps,
    /// The random streams.
    pub streams: Streams,
}

/// Distributions and tables built once.
struct Draws {
    hours: Vec<f64>,
    cycle: LogNormal<f64>,
    amount: LogNormal<f64>,
    invoice: LogNormal<f64>,
    cost_noise: LogNormal<f64>,
    won_activities: Poisson<f64>,
    lost_activities: Poisson<f64>,
}

impl Draws {
    fn new() -> Draws {
        let lognormal = |median: f64, sigma: f64| {
            LogNormal::new(median.ln(), sigma).expect("a positive log-normal sigma")
        };
        let poisson = |mean: f64| Poisson::new(mean).expect("a positive Poisson mean");
        let mut sum = 0.0;
        let hours = HOURS
            .iter()
            .map(|weight| {
                sum += weight;
                sum
            })
            .collect();
        Draws {
            hours,
            cycle: lognormal(1.0, CYCLE_SPREAD),
            amount: lognormal(AMOUNT_MEDIAN, AMOUNT_SPREAD),
            invoice: lognormal(INVOICE_MEDIAN, 0.7),
            cost_noise: lognormal(1.0, 0.08),
            won_activities: poisson(WON_ACTIVITIES),
            lost_activities: poisson(LOST_ACTIVITIES),
        }
    }

    /// A second of the day, mostly in business hours.
    fn second_of_day(&self, rng: &mut ChaCha8Rng) -> i64 {
        let total = self.hours[self.hours.len() - 1];
        let target = rng.random::<f64>() * total;
        let hour = self.hours.partition_point(|&c| c <= target).min(23) as i64;
        hour * HOUR + rng.random_range(0..HOUR)
    }
}

/// A generated opportunity, as far as its activities need it.
struct Deal {
    id: i64,
    rep: Option<usize>,
    created: i64,
    /// Close, or the horizon while open.
    end: i64,
    outcome: Outcome,
}

/// How a deal ended, which sets how many activities were logged on it.
enum Outcome {
    Won,
    Lost,
    /// Still open: the activities expected so far.
    Open(f64),
}

impl World {
    /// Writes every day: the last two years first (ids from 1), then the old history backwards
    /// from its most recent day (ids from [`OLD_ID_BASE`]), so that ids grow along each file.
    pub fn generate(&self, tables: &mut Tables) -> Result<()> {
        let draws = Draws::new();
        let mut recent = Ids::after(0);
        for day in self.history.recent_start..=self.history.last {
            self.day(&draws, day, &mut recent, tables)?;
        }
        let mut old = Ids::after(OLD_ID_BASE);
        for day in (self.history.first..self.history.recent_start).rev() {
            self.day(&draws, day, &mut old, tables)?;
        }
        Ok(())
    }

    fn day(&self, draws: &Draws, day: i64, ids: &mut Ids, tables: &mut Tables) -> Result<()> {
        let mut rng = self.streams.rng(Purpose::Day, day);
        let roster = Roster::of_day(&self.reps, day);
        let created = self.volume.created(day);
        for _ in 0..created {
            let deal = self.opportunity(draws, &mut rng, day, &roster, ids, tables)?;
            self.deal_activities(draws, &mut rng, &deal, ids, tables)?;
        }
        if created > 0 {
            let unlinked = Poisson::new(UNLINKED_ACTIVITIES * created as f64)
                .expect("a positive Poisson mean")
                .sample(&mut rng) as u64;
            for _ in 0..unlinked {
                let Some(rep) = roster.pick(rng.random()) else {
                    break;
                };
                let at = day * DAY + draws.second_of_day(&mut rng);
                let kind = match rng.random::<f64>() {
                    u if u < 0.7 => CALL,
                    u if u < 0.95 => EMAIL,
                    _ => MEETING,
                };
                self.activity(tables, ids, rep, at, kind, None)?;
            }
        }
        self.costs(draws, &mut rng, day, &roster, ids, tables)
    }

    /// Opportunities created from the window's start to the end of `day`, in customers.
    fn born_by(&self, day: i64) -> i64 {
        self.volume
            .cumulative(day)
            .div_euclid(OPPORTUNITIES_PER_CUSTOMER)
    }

    fn customer(&self, rng: &mut ChaCha8Rng, day: i64) -> i64 {
        let newest = self.born_by(day);
        let fresh = self.born_by(day - FRESH_DAYS);
        let oldest = self.born_by(day - ACTIVE_DAYS);
        if oldest < fresh && !rng.random_bool(FRESH_SHARE) {
            self.customers.pick(rng, oldest, fresh)
        } else if fresh < newest {
            rng.random_range(fresh..newest)
        } else {
            newest - 1
        }
    }

    fn opportunity(
        &self,
        draws: &Draws,
        rng: &mut ChaCha8Rng,
        day: i64,
        roster: &Roster,
        ids: &mut Ids,
        tables: &mut Tables,
    ) -> Result<Deal> {
        let id = next(&mut ids.opportunity);
        let created = day * DAY + draws.second_of_day(rng);
        let customer = self.customer(rng, day);
        let rep = if rng.random_bool(UNASSIGNED) {
            None
        } else if rng.random_bool(OWNER_SHARE) {
            roster.pick(self.customers.owner(customer))
        } else {
            roster.pick(rng.random())
        };
        let win_rate = rep.map_or(UNASSIGNED_WIN_RATE, |r| {
            (WIN_RATE * self.reps.reps[r].win).clamp(0.03, 0.85)
        });
        let mut won = rng.random_bool(win_rate);
        let median = if won { WON_CYCLE_DAYS } else { LOST_CYCLE_DAYS };
        let cycle = (median * DAY as f64 * draws.cycle.sample(rng)) as i64;
        let cycle = cycle.clamp(MIN_CYCLE, MAX_CYCLE);
        let mut closed = self.push_close(draws, rng, created, created + cycle, won);
        if let Some(left) = rep.and_then(|r| self.reps.reps[r].left) {
            if closed >= left * DAY {
                // Deals still open when their rep leaves are closed as lost on the last day.
                let last_day = (left - 1) * DAY + draws.second_of_day(rng);
                closed = last_day.min(left * DAY - 1).max(created + 600);
                won = false;
            }
        }
        let horizon = self.history.horizon();
        let open = closed >= horizon;
        let (stage, probability) = if open {
            if ((horizon - created) as f64) < 0.4 * cycle as f64 {
                (PROSPECTING, rng.random_range(10..=35))
            } else {
                (NEGOTIATION, rng.random_range(40..=85))
            }
        } else if won {
            (WON, 100)
        } else {
            (LOST, 0)
        };
        let amount = match rng.random_bool(NULL_AMOUNT) {
            true => None,
            false => Some(self.amount(draws, rng, customer)),
        };
        let outcome = if open {
            Outcome::Open(OPEN_ACTIVITIES * ((horizon - created) as f64 / cycle as f64).min(1.0))
        } else if won {
            Outcome::Won
        } else {
            Outcome::Lost
        };

        let id_text = Number::integer(id);
        let rep_id = rep.map_or(&b""[..], |r| self.reps.reps[r].id.as_bytes());
        let name = CustomerName::of(customer);
        let mut created_at = [0; 19];
        self.calendar.stamp(created, &mut created_at);
        let mut closed_at = [0; 19];
        let closed_at: &[u8] = match open {
            true => b"",
            false => {
                self.calendar.stamp(closed, &mut closed_at);
                &closed_at
            }
        };
        let amount = amount.map(Number::hundredths);
        let amount = amount.as_ref().map_or(&b""[..], Number::as_bytes);
        let probability = Number::hundredths(probability);
        tables.opportunities.row(&[
            id_text.as_bytes(),
            rep_id,
            name.as_bytes(),
            &created_at,
            stage,
            closed_at,
            amount,
            probability.as_bytes(),
        ])?;
        Ok(Deal {
            id,
            rep,
            created,
            end: if open { horizon } else { closed },
            outcome,
        })
    }

    /// Moves a close due in the last or first week of a month to the month's last weekday
    /// (the month-end push: harder at quarter end, mostly for wins), or off a weekend.
    fn push_close(
        &self,
        draws: &Draws,
        rng: &mut ChaCha8Rng,
        created: i64,
        close: i64,
        won: bool,
    ) -> i64 {
        let day = close.div_euclid(DAY);
        if day > self.history.last {
            return close;
        }
        let info = self.calendar.day(day);
        let month_end = if info.day + 7 > info.days_in_month {
            Some((day + i64::from(info.days_in_month - info.day), info.month))
        } else if info.day <= 7 {
            Some((day - i64::from(info.day), (info.month + 10) % 12 + 1))
        } else {
            None
        };
        if let Some((month_end, month)) = month_end {
            let push = match (won, month % 3 == 0) {
                (true, true) => 0.6,
                (true, false) => 0.35,
                (false, _) => 0.12,
            };
            if rng.random_bool(push) {
                let last_weekday = month_end - i64::from(weekday(month_end).saturating_sub(5));
                let pushed = last_weekday * DAY + draws.second_of_day(rng);
                if pushed > created + HOUR {
                    return pushed;
                }
            }
        }
        if info.weekday >= 6 && rng.random_bool(0.85) {
            // To the Friday before or the Monday after.
            let friday = close - i64::from(info.weekday - 5) * DAY;
            if rng.random_bool(0.5) && friday > created + HOUR {
                return friday;
            }
            return close + i64::from(8 - info.weekday) * DAY;
        }
        close
    }

    /// Amount in cents: log-normal, larger for bigger customers, mostly round.
    fn amount(&self, draws: &Draws, rng: &mut ChaCha8Rng, customer: i64) -> i64 {
        let size = self.customers.size(customer);
        let dollars = (draws.amount.sample(rng) * size.powf(0.25)).clamp(150.0, 5_000_000.0);
        let step = match rng.random::<f64>() {
            u if u < 0.6 => 100.0,
            u if u < 0.85 => 10.0,
            _ => 0.01,
        };
        ((dollars / step).round() * step * 100.0).round() as i64
    }

    fn deal_activities(
        &self,
        draws: &Draws,
        rng: &mut ChaCha8Rng,
        deal: &Deal,
        ids: &mut Ids,
        tables: &mut Tables,
    ) -> Result<()> {
        let Some(rep) = deal.rep else {
            return Ok(());
        };
        let count = match deal.outcome {
            Outcome::Won => draws.won_activities.sample(rng),
            Outcome::Lost => draws.lost_activities.sample(rng),
            Outcome::Open(mean) => Poisson::new(mean.max(0.05))
                .expect("a positive Poisson mean")
                .sample(rng),
        };
        for _ in 0..count as u64 {
            let at = self.activity_time(draws, rng, deal.created, deal.end);
            let kind = match rng.random::<f64>() {
                u if u < 0.5 => CALL,
                u if u < 0.85 => EMAIL,
                _ => MEETING,
            };
            self.activity(tables, ids, rep, at, kind, Some(deal.id))?;
        }
        Ok(())
    }

    /// An instant in `start..end`, moved into business hours on a weekday where it still fits.
    fn activity_time(&self, draws: &Draws, rng: &mut ChaCha8Rng, start: i64, end: i64) -> i64 {
        let at = start + (rng.random::<f64>() * (end - start) as f64) as i64;
        let at = at.min(end - 1);
        let mut day = at.div_euclid(DAY);
        let weekday = weekday(day);
        if weekday >= 6 && rng.random_bool(0.8) {
            day += i64::from(8 - weekday);
        }
        let moved = day * DAY + draws.second_of_day(rng);
        if start < moved && moved < end {
            moved
        } else {
            at
        }
    }

    fn activity(
        &self,
        tables: &mut Tables,
        ids: &mut Ids,
        rep: usize,
        at: i64,
        kind: &[u8],
        opportunity: Option<i64>,
    ) -> Result<()> {
        let id = Number::integer(next(&mut ids.activity));
        let mut occurred_at = [0; 19];
        self.calendar.stamp(at, &mut occurred_at);
        let opportunity = opportunity.map(Number::integer);
        tables.activities.row(&[
            id.as_bytes(),
            self.reps.reps[rep].id.as_bytes(),
            &occurred_at,
            kind,
            opportunity.as_ref().map_or(&b""[..], Number::as_bytes),
        ])
    }

    /// Monthly sales costs and marketing budgets on the first of the month, and marketing
    /// invoices on weekdays, per team and for the whole company.
    fn costs(
        &self,
        draws: &Draws,
        rng: &mut ChaCha8Rng,
        day: i64,
        roster: &Roster,
        ids: &mut Ids,
        tables: &mut Tables,
    ) -> Result<()> {
        let info = *self.calendar.day(day);
        let mut cost =
            |rng: &mut ChaCha8Rng, at: i64, category, dollars: f64, team: Option<usize>| {
                let id = Number::integer(next(&mut ids.cost));
                let mut incurred_at = [0; 19];
                self.calendar.stamp(at, &mut incurred_at);
                let amount = Number::hundredths(
                    (dollars * draws.cost_noise.sample(rng) * 100.0).round() as i64,
                );
                let team = team.map_or(&b""[..], |t| self.reps.teams[t].as_bytes());
                tables.costs.row(&[
                    id.as_bytes(),
                    &incurred_at,
                    category,
                    amount.as_bytes(),
                    team,
                ])
            };
        if info.day == 1 {
            let at = day * DAY + 6 * HOUR;
            let mut at_work = 0;
            for (team, &size) in roster.team_sizes.iter().enumerate() {
                if size == 0 {
                    continue;
                }
                at_work += size;
                let size = f64::from(size);
                cost(rng, at, SALES, SALES_COST_PER_REP * size, Some(team))?;
                cost(rng, at, MARKETING, TEAM_MARKETING * size.sqrt(), Some(team))?;
            }
            let company = COMPANY_MARKETING_PER_REP * f64::from(at_work);
            cost(rng, at, MARKETING, company, None)?;
        }
        if info.weekday <= 5 {
            for team in 0..roster.team_sizes.len() {
                if roster.team_sizes[team] > 0 && rng.random_bool(TEAM_INVOICE) {
                    let at = day * DAY + draws.second_of_day(rng);
                    let dollars = draws.invoice.sample(rng);
                    cost(rng, at, MARKETING, dollars, Some(team))?;
                }
            }
            if rng.random_bool(COMPANY_INVOICE) {
                let at = day * DAY + draws.second_of_day(rng);
                let dollars = 3.0 * draws.invoice.sample(rng);
                cost(rng, at, MARKETING, dollars, None)?;
            }
        }
        Ok(())
    }
}
