//! Customers: one born for every few opportunities, each with a skewed size that makes a few of
//! them buy again and again, an owner among the reps, and a company name.

use rand::{Rng, RngCore};

use crate::streams::{Purpose, Streams};

/// Opportunities per customer born: customer `i` exists from the day the running count of
/// opportunities (from the three-year window's start) reaches `i * OPPORTUNITIES_PER_CUSTOMER`.
pub const OPPORTUNITIES_PER_CUSTOMER: i64 = 6;
/// Days a customer counts as fresh after its birth: the deals that win it over.
pub const FRESH_DAYS: i64 = 30;
/// Days a customer keeps buying after its birth. Kept under a year so that every deal of a
/// customer that buys in the last two years falls within the three years of
/// `--history-factor 1`, which keeps its first win the same for any factor.
pub const ACTIVE_DAYS: i64 = 360;

/// Customers are drawn in blocks of this many, each block from its own stream.
const BLOCK: i64 = 4096;
/// Pareto shape of the customer sizes: the lower, the more skewed.
const SIZE_SHAPE: f64 = 1.1;
/// The largest size, as a multiple of the smallest.
const SIZE_CAP: f64 = 200.0;
/// Integer weight units per unit of size.
const SIZE_UNIT: f64 = 100.0;

/// The sizes and owners of the customers in a range of indices.
pub struct Customers {
    lo: i64,
    /// `weight_before[i]`: the summed weights of the customers `lo..lo + i`.
    weight_before: Vec<u64>,
    /// Each customer's key into the day's roster of reps.
    owner: Vec<u32>,
}

impl Customers {
    /// The customers `lo..hi`; each one's size and owner depend on the seed and its index alone.
    pub fn new(streams: &Streams, lo: i64, hi: i64) -> Customers {
        let len = usize::try_from(hi - lo).unwrap_or(0);
        let mut weight_before = Vec::with_capacity(len + 1);
        let mut owner = Vec::with_capacity(len);
        let mut sum = 0_u64;
        weight_before.push(sum);
        for block in lo.div_euclid(BLOCK)..=(hi - 1).div_euclid(BLOCK) {
            let mut rng = streams.rng(Purpose::Customers, block);
            for index in block * BLOCK..(block + 1) * BLOCK {
                let u: f64 = rng.random();
                let key = rng.next_u32();
                if (lo..hi).contains(&index) {
                    let size = (1.0 - u).powf(-1.0 / SIZE_SHAPE).min(SIZE_CAP);
                    // Sizes are in 1..=SIZE_CAP, so the weight is a small positive integer.
                    sum += (size * SIZE_UNIT).round() as u64;
                    weight_before.push(sum);
                    owner.push(key);
                }
            }
        }
        Customers {
            lo,
            weight_before,
            owner,
        }
    }

    /// A customer of `lo..hi` (not empty), drawn in proportion to their sizes.
    pub fn pick(&self, rng: &mut impl Rng, lo: i64, hi: i64) -> i64 {
        let (from, to) = (self.index(lo), self.index(hi));
        let target = self.weight_before[from]
            + rng.random_range(0..self.weight_before[to] - self.weight_before[from]);
        // The first customer whose cumulative weight passes the target.
        let found = self.weight_before[from + 1..=to].partition_point(|&w| w <= target);
        lo + found as i64
    }

    /// The size of customer `index`: 1 for most, up to `SIZE_CAP` for the few big accounts.
    pub fn size(&self, index: i64) -> f64 {
        let i = self.index(index);
        (self.weight_before[i + 1] - self.weight_before[i]) as f64 / SIZE_UNIT
    }

    /// The key of customer `index` into a roster of reps, uniform in 0..1.
    pub fn owner(&self, index: i64) -> f64 {
        f64::from(self.owner[self.index(index)]) / 4_294_967_296.0
    }

    fn index(&self, index: i64) -> usize {
        usize::try_from(index - self.lo).expect("a customer before the table")
    }
}

const STEMS: [&str; 40] = [
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
    "Pinecrest",
    "Quarry",
    "Redwood",
    "Silverlake",
    "Timberline",
    "Upland",
    "Valleyview",
    "Westbrook",
    "Yarrow",
    "Zenith",
    "Ashford",
    "Birchwood",
    "Clearwater",
    "Driftwood",
    "Elmstead",
    "Foxglen",
    "Greystone",
    "Highgate",
    "Ivybridge",
    "Jasper",
    "Kingsbury",
    "Larkspur",
    "Maplewood",
    "Newhaven",
    "Orchard",
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

/// A customer's company name, written without allocating.
pub struct CustomerName {
    bytes: [u8; 48],
    len: usize,
}

impl CustomerName {
    /// The name of customer `index`, unique among all indices: a stem, a trade and, past the
    /// first 400 customers, a number.
    pub fn of(index: i64) -> CustomerName {
        // Zigzag: 0, -1, 1, -2, ... to 0, 1, 2, 3, ...
        let n = if index >= 0 {
            index.unsigned_abs() * 2
        } else {
            index.unsigned_abs() * 2 - 1
        };
        let stems = STEMS.len() as u64;
        let trades = TRADES.len() as u64;
        let mut name = CustomerName {
            bytes: [0; 48],
            len: 0,
        };
        // Both remainders are below the lengths of the lists.
        name.push(STEMS[(n % stems) as usize].as_bytes());
        name.push(b" ");
        name.push(TRADES[(n / stems % trades) as usize].as_bytes());
        let number = n / (stems * trades);
        if number > 0 {
            name.push(b" ");
            name.push(itoa::Buffer::new().format(number).as_bytes());
        }
        name
    }

    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let names: std::collections::HashSet<Vec<u8>> = (-5000..5000)
            .map(|i| CustomerName::of(i).as_bytes().to_vec())
            .collect();
        assert_eq!(names.len(), 10_000);
        assert_eq!(CustomerName::of(0).as_bytes(), b"Acme Logistics");
    }

    #[test]
    fn sizes_do_not_depend_on_the_range_kept() {
        let streams = Streams::new(7);
        let wide = Customers::new(&streams, -10_000, 10_000);
        let narrow = Customers::new(&streams, 3, 5000);
        for i in 3..5000 {
            assert_eq!(wide.size(i), narrow.size(i));
            assert_eq!(wide.owner(i), narrow.owner(i));
        }
    }

    #[test]
    fn picks_stay_in_range_and_favour_big_customers() {
        let streams = Streams::new(7);
        let customers = Customers::new(&streams, 0, 1000);
        let mut rng = streams.rng(Purpose::Day, 0);
        let mut big = 0.0;
        for _ in 0..10_000 {
            let i = customers.pick(&mut rng, 100, 900);
            assert!((100..900).contains(&i));
            big += customers.size(i);
        }
        let average: f64 = (100..900).map(|i| customers.size(i)).sum::<f64>() / 800.0;
        assert!(big / 10_000.0 > average, "{} <= {average}", big / 10_000.0);
    }
}
