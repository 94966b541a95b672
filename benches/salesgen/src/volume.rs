//! How many opportunities are created each day: a growth trend, the weekdays, a yearly curve and
//! the holidays, scaled so that the three years of `--history-factor 1` hold exactly N of them.

use rand_distr::{Distribution, LogNormal};

use crate::calendar::{Calendar, History};
use crate::streams::{Purpose, Streams};

/// Yearly growth of the business; older history than three years keeps the oldest volume.
const GROWTH: f64 = 0.12;
/// Relative volume on Monday to Sunday.
const WEEKDAYS: [f64; 7] = [1.0, 1.08, 1.05, 1.0, 0.85, 0.1, 0.05];
/// Spread of the day-to-day noise (log-normal sigma).
const NOISE: f64 = 0.12;
/// Integer units of weight per unit of relative volume.
const UNIT: f64 = 1_000_000.0;

/// Opportunities created per day over a range of days.
pub struct Volume {
    start: i64,
    /// `cumulative[i]`: opportunities created from `window_start` to the end of day
    /// `start + i - 1` (negative for the days before `window_start`).
    cumulative: Vec<i64>,
}

impl Volume {
    /// The volume of the days `start..=history.last`, `opportunities` of them in the three
    /// years that start at `history.window_start`.
    pub fn new(
        opportunities: u64,
        start: i64,
        history: &History,
        calendar: &Calendar,
        streams: &Streams,
    ) -> Volume {
        let noise = LogNormal::new(0.0, NOISE).expect("a valid log-normal");
        let mut prefix = Vec::with_capacity(usize::try_from(history.last - start + 2).unwrap_or(0));
        let mut sum = 0_i128;
        prefix.push(sum);
        for day in start..=history.last {
            let info = calendar.day(day);
            let years = (day.max(history.window_start) - history.last) as f64 / 365.25;
            let season = 1.0
                + 0.1
                    * (2.0 * std::f64::consts::PI * (f64::from(info.day_of_year) - 100.0) / 365.25)
                        .cos();
            let holiday = match (info.month, info.day) {
                (12, 24..) | (1, 1) => 0.3,
                (8, _) => 0.85,
                _ => 1.0,
            };
            let mut rng = streams.rng(Purpose::Volume, day);
            let weight = (GROWTH * years).exp()
                * WEEKDAYS[usize::from(info.weekday - 1)]
                * season
                * holiday
                * noise.sample(&mut rng);
            // Weights are small positive numbers, far below i128's range once scaled.
            sum += ((weight * UNIT).round() as i128).max(1);
            prefix.push(sum);
        }
        let anchor = prefix[index(history.window_start, start)];
        let total = prefix[index(history.last, start) + 1] - anchor;
        let wanted = i128::from(opportunities);
        let cumulative = prefix
            .iter()
            .map(|&weight| {
                let count = (wanted * (weight - anchor)).div_euclid(total);
                i64::try_from(count).expect("opportunity counts fit in i64")
            })
            .collect();
        Volume { start, cumulative }
    }

    /// Opportunities created on `day`.
    pub fn created(&self, day: i64) -> u64 {
        let i = index(day, self.start);
        // The cumulative counts never decrease, every weight being positive.
        (self.cumulative[i + 1] - self.cumulative[i]) as u64
    }

    /// Opportunities created from `window_start` to the end of `day` (negative before it).
    pub fn cumulative(&self, day: i64) -> i64 {
        self.cumulative[index(day, self.start) + 1]
    }
}

fn index(day: i64, start: i64) -> usize {
    usize::try_from(day - start).expect("a day before the volume table")
}
