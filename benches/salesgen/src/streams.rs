//! The random streams: one ChaCha8 stream per purpose and day (or block of customers), so that a
//! day's rows depend on the seed and that day alone, however much history is generated around it.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream is drawn for; each purpose has a key of its own.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// The noise on a day's volume.
    Volume,
    /// A day's opportunities, activities and costs.
    Day,
    /// The sizes and owners of a block of customers.
    Customers,
    /// The reps (one stream).
    Reps,
}

impl Purpose {
    fn salt(self) -> u64 {
        match self {
            Purpose::Volume => 0x766f_6c75_6d65,
            Purpose::Day => 0x6461_7973,
            Purpose::Customers => 0x6375_7374_6f6d,
            Purpose::Reps => 0x7265_7073,
        }
    }
}

/// The streams of one `--seed`.
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// The streams of `seed`.
    pub fn new(seed: u64) -> Streams {
        Streams { seed }
    }

    /// The stream for `purpose` and `index` (a day number, a customer block, or 0).
    pub fn rng(&self, purpose: Purpose, index: i64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ purpose.salt());
        // Negative day numbers map to distinct streams too.
        rng.set_stream(index as u64);
        rng
    }
}
