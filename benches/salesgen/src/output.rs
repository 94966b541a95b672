//! The CSV files: one buffered writer per table with its header row, and the number formats the
//! rows use (integer ids, amounts with two decimals) written without allocating.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One table's CSV file.
pub struct Table {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl Table {
    /// Creates (or truncates) `dir/<name>.csv` and writes the header row.
    pub fn create(dir: &Path, name: &str, header: &[&str]) -> Result<Table> {
        let path = dir.join(format!("{name}.csv"));
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let writer = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(BufWriter::with_capacity(1 << 20, file));
        let mut table = Table {
            path,
            writer,
            rows: 0,
        };
        table
            .writer
            .write_record(header)
            .with_context(|| table.failed())?;
        Ok(table)
    }

    /// Writes one row.
    pub fn row(&mut self, fields: &[&[u8]]) -> Result<()> {
        self.rows += 1;
        match self.writer.write_record(fields) {
            Ok(()) => Ok(()),
            Err(error) => Err(error).with_context(|| self.failed()),
        }
    }

    /// Flushes the file and returns how many rows (besides the header) it holds.
    pub fn finish(self) -> Result<u64> {
        let failed = self.failed();
        let buffered = self.writer.into_inner().map_err(|e| e.into_error());
        let file = buffered.context(failed.clone())?.into_inner();
        file.map_err(|e| e.into_error()).context(failed)?;
        Ok(self.rows)
    }

    fn failed(&self) -> String {
        format!("cannot write {}", self.path.display())
    }
}

/// An integer or a number of hundredths written as text, without allocating.
pub struct Number {
    bytes: [u8; 24],
    len: usize,
}

impl Number {
    /// `value` as an integer.
    pub fn integer(value: i64) -> Number {
        let mut number = Number::empty();
        number.push(itoa::Buffer::new().format(value).as_bytes());
        number
    }

    /// `hundredths / 100` with two decimals: 123456 as `1234.56`, 5 as `0.05`.
    pub fn hundredths(hundredths: i64) -> Number {
        let mut number = Number::empty();
        if hundredths < 0 {
            number.push(b"-");
        }
        let abs = hundredths.unsigned_abs();
        number.push(itoa::Buffer::new().format(abs / 100).as_bytes());
        // The remainder is below 100, so each digit fits in a u8.
        let cents = (abs % 100) as u8;
        number.push(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
        number
    }

    fn empty() -> Number {
        Number {
            bytes: [0; 24],
            len: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The number's text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundredths_have_two_decimals() {
        assert_eq!(Number::hundredths(123_456).as_bytes(), b"1234.56");
        assert_eq!(Number::hundredths(5).as_bytes(), b"0.05");
        assert_eq!(Number::hundredths(100).as_bytes(), b"1.00");
        assert_eq!(Number::hundredths(-250).as_bytes(), b"-2.50");
        assert_eq!(Number::integer(-42).as_bytes(), b"-42");
    }
}
