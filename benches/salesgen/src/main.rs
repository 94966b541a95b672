//! salesgen: writes a deterministic, realistic sales database as CSV files (reps, opportunities,
//! activities, costs) for benchmarking sales_exporter at any scale and length of history.

mod calendar;
mod customers;
mod generate;
mod output;
mod reps;
mod streams;
mod volume;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::calendar::{Calendar, History, LOOKBACK};
use crate::customers::{Customers, ACTIVE_DAYS, OPPORTUNITIES_PER_CUSTOMER};
use crate::generate::{Tables, World};
use crate::output::Table;
use crate::reps::Reps;
use crate::streams::Streams;
use crate::volume::Volume;

const DEFAULT_SEED: u64 = 20_240_101;

/// Writes reps.csv, opportunities.csv, activities.csv and costs.csv (with header rows) into
/// --out: three years of sales ending at --as-of, the same rows for the same flags.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Opportunities in the three years ending at --as-of (the last two years and one year of
    /// old history).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    opportunities: u64,
    /// Years of old history before the last two, at the daily volume of the first; the last
    /// two years' rows (ids included) are the same for every factor.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    history_factor: u32,
    /// Last day of the history, YYYY-MM-DD [default: today in UTC].
    #[arg(long)]
    as_of: Option<Date>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Folder the CSV files are written to (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn main() {
    if let Err(error) = run(Args::parse()) {
        eprintln!("salesgen: {error:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let as_of = match args.as_of {
        Some(date) => date,
        None => Timestamp::now().to_zoned(TimeZone::UTC).date(),
    };
    let history = History::new(as_of, args.history_factor)?;
    let streams = Streams::new(args.seed);
    let start = history.first - LOOKBACK;
    let calendar = Calendar::new(start, history.last)?;
    let volume = Volume::new(args.opportunities, start, &history, &calendar, &streams);
    let born_by = |day| {
        volume
            .cumulative(day)
            .div_euclid(OPPORTUNITIES_PER_CUSTOMER)
    };
    let customers = Customers::new(
        &streams,
        born_by(history.first - ACTIVE_DAYS) - 1,
        born_by(history.last).max(born_by(history.first - ACTIVE_DAYS)) + 1,
    );
    let reps = Reps::new(args.opportunities, &streams, &history);
    let world = World {
        history,
        calendar,
        volume,
        customers,
        reps,
        streams,
    };

    let dir = &args.out;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    let mut reps_table = Table::create(dir, "reps", &["id", "name", "team", "active"])?;
    for rep in &world.reps.reps {
        let active: &[u8] = if rep.left.is_some() { b"0" } else { b"1" };
        let team = world.reps.teams[rep.team].as_bytes();
        reps_table.row(&[rep.id.as_bytes(), rep.name.as_bytes(), team, active])?;
    }
    let reps = reps_table.finish()?;
    let mut tables = Tables {
        opportunities: Table::create(
            dir,
            "opportunities",
            &[
                "id",
                "rep_id",
                "customer",
                "created_at",
                "stage",
                "closed_at",
                "amount",
                "probability",
            ],
        )?,
        activities: Table::create(
            dir,
            "activities",
            &["id", "rep_id", "occurred_at", "kind", "opportunity_id"],
        )?,
        costs: Table::create(
            dir,
            "costs",
            &["id", "incurred_at", "category", "amount", "team"],
        )?,
    };
    world.generate(&mut tables)?;
    let opportunities = tables.opportunities.finish()?;
    let activities = tables.activities.finish()?;
    let costs = tables.costs.finish()?;

    let date = |day| String::from_utf8_lossy(&world.calendar.day(day).text).into_owned();
    eprintln!(
        "salesgen: {reps} reps, {opportunities} opportunities, {activities} activities, \
         {costs} costs; {} .. {} (last two years from {}); {:.1} s",
        date(world.history.first),
        date(world.history.last),
        date(world.history.recent_start),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}
