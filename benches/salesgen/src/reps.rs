//! The sales reps: teams of about twelve, skewed volume and win-rate multipliers (a few stars,
//! a long tail), hires during the history, a few who left, and each day's roster of those at work.

use rand::seq::index::sample;
use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use crate::calendar::History;
use crate::streams::{Purpose, Streams};

/// Opportunities (over three years) per rep, before clamping to [`MIN_REPS`]..=[`MAX_REPS`].
const OPPORTUNITIES_PER_REP: u64 = 2500;
const MIN_REPS: u64 = 20;
const MAX_REPS: u64 = 1000;
const TEAM_SIZE: usize = 12;
/// Spread (log-normal sigma) of the reps' volume and win-rate multipliers; both average 1.
const VOLUME_SPREAD: f64 = 0.6;
const WIN_SPREAD: f64 = 0.35;
/// Share of reps who left; they left between these many days before `--as-of`.
const LEFT_SHARE: f64 = 0.04;
const LEFT_DAYS_AGO: std::ops::RangeInclusive<i64> = 60..=330;
/// Share of the remaining reps hired during the history, between these many days before
/// `--as-of`; the others were there before the oldest generated day.
const HIRED_SHARE: f64 = 0.25;
const HIRED_DAYS_AGO: std::ops::RangeInclusive<i64> = 30..=1095;

const FIRST_NAMES: [&str; 32] = [
    "Maria", "James", "Alex", "Priya", "Tom", "Sofia", "Daniel", "Hannah", "Lucas", "Emma",
    "Kenji", "Aisha", "Mateo", "Olivia", "Noah", "Fatima", "Liam", "Chloe", "Ravi", "Elena",
    "Samuel", "Yara", "Jonas", "Mei", "Omar", "Grace", "Felix", "Nadia", "Victor", "Zoe", "Andre",
    "Ingrid",
];
const LAST_NAMES: [&str; 32] = [
    "Lopez",
    "O'Connor",
    "Kim",
    "Natarajan",
    "Becker",
    "Rossi",
    "Okafor",
    "Schmidt",
    "Martin",
    "Johansson",
    "Watanabe",
    "Haddad",
    "Silva",
    "Nguyen",
    "Kowalski",
    "Dubois",
    "Moreau",
    "Novak",
    "Ivanova",
    "Mensah",
    "Fischer",
    "Costa",
    "Larsen",
    "Chen",
    "Patel",
    "Murphy",
    "Hughes",
    "Tanaka",
    "Jensen",
    "Romero",
    "Dimitrov",
    "Walsh",
];

/// One sales rep.
#[derive(Debug, Clone)]
pub struct Rep {
    /// `rep-0001` ...
    pub id: String,
    /// First and last name; two reps may share one.
    pub name: String,
    /// Index into [`Reps::teams`].
    pub team: usize,
    /// Multiplier on the rep's share of new deals.
    pub volume: f64,
    /// Multiplier on the rep's win rate.
    pub win: f64,
    /// First day at work, if hired during the history.
    pub hired: Option<i64>,
    /// First day no longer at work, for the reps who left (they are inactive).
    pub left: Option<i64>,
}

impl Rep {
    /// Whether the rep works on `day`.
    pub fn at_work(&self, day: i64) -> bool {
        self.hired.is_none_or(|hired| hired <= day) && self.left.is_none_or(|left| day < left)
    }
}

/// The sales force.
pub struct Reps {
    /// Every rep, in id order.
    pub reps: Vec<Rep>,
    /// Team names, `team-01` ...
    pub teams: Vec<String>,
}

impl Reps {
    /// The reps for a history of `opportunities` (over its three-year window).
    pub fn new(opportunities: u64, streams: &Streams, history: &History) -> Reps {
        let count = (opportunities / OPPORTUNITIES_PER_REP).clamp(MIN_REPS, MAX_REPS) as usize;
        let team_count = ((count + TEAM_SIZE / 2) / TEAM_SIZE).max(1);
        let teams = (1..=team_count).map(|t| format!("team-{t:02}")).collect();
        let mut rng = streams.rng(Purpose::Reps, 0);
        let volume = LogNormal::new(-VOLUME_SPREAD.powi(2) / 2.0, VOLUME_SPREAD).expect("sigma");
        let win = LogNormal::new(-WIN_SPREAD.powi(2) / 2.0, WIN_SPREAD).expect("sigma");
        let mut reps: Vec<Rep> = (0..count)
            .map(|i| {
                let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
                let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
                let hired = rng
                    .random_bool(HIRED_SHARE)
                    .then(|| history.last - rng.random_range(HIRED_DAYS_AGO));
                Rep {
                    id: format!("rep-{:04}", i + 1),
                    name: format!("{first} {last}"),
                    team: i % team_count,
                    volume: volume.sample(&mut rng),
                    win: win.sample(&mut rng),
                    hired,
                    left: None,
                }
            })
            .collect();
        let leaving = ((count as f64 * LEFT_SHARE).round() as usize).max(1);
        for i in sample(&mut rng, count, leaving) {
            // Those who left had been there from the start.
            reps[i].hired = None;
            reps[i].left = Some(history.last - rng.random_range(LEFT_DAYS_AGO));
        }
        Reps { reps, teams }
    }
}

/// The reps at work on one day, to draw from in proportion to their volume multipliers.
pub struct Roster {
    members: Vec<usize>,
    cumulative: Vec<f64>,
    /// Reps at work in each team.
    pub team_sizes: Vec<u32>,
}

impl Roster {
    /// The roster of `day`.
    pub fn of_day(reps: &Reps, day: i64) -> Roster {
        let mut roster = Roster {
            members: Vec::with_capacity(reps.reps.len()),
            cumulative: Vec::with_capacity(reps.reps.len()),
            team_sizes: vec![0; reps.teams.len()],
        };
        let mut sum = 0.0;
        for (i, rep) in reps.reps.iter().enumerate() {
            if rep.at_work(day) {
                sum += rep.volume;
                roster.members.push(i);
                roster.cumulative.push(sum);
                roster.team_sizes[rep.team] += 1;
            }
        }
        roster
    }

    /// The rep that `u` (uniform in 0..1) falls on, or none if nobody works that day.
    pub fn pick(&self, u: f64) -> Option<usize> {
        let total = *self.cumulative.last()?;
        let found = self.cumulative.partition_point(|&c| c <= u * total);
        Some(self.members[found.min(self.members.len() - 1)])
    }
}
