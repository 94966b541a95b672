//! How an activity's opportunity is matched with the opportunity's id: with the database's
//! own `=` where the two column types allow it, as text where PostgreSQL would refuse.

use super::dialect::Dialect;

/// How the two key columns are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyComparison {
    /// `a = b`: the database compares the two types itself, without converting every row.
    Native,
    /// Both sides cast to text: PostgreSQL has no `=` between an integer and text.
    AsText,
}

impl KeyComparison {
    /// The comparison for PostgreSQL columns whose types the server names `left` and
    /// `right` (`INT8`, `TEXT`, ...): native for one type or one family, text otherwise.
    pub fn for_postgres_types(left: &str, right: &str) -> Self {
        const INTEGERS: [&str; 3] = ["INT2", "INT4", "INT8"];
        const TEXTS: [&str; 3] = ["TEXT", "VARCHAR", "BPCHAR"];
        let one_family = |family: &[&str]| family.contains(&left) && family.contains(&right);
        if left == right || one_family(&INTEGERS) || one_family(&TEXTS) {
            Self::Native
        } else {
            Self::AsText
        }
    }

    /// The condition that `left` equals `right`, in `dialect`.
    pub fn equals(self, dialect: Dialect, left: &str, right: &str) -> String {
        match self {
            Self::Native => format!("{left} = {right}"),
            Self::AsText => format!("{} = {}", dialect.text(left), dialect.text(right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KeyComparison::{AsText, Native};
    use super::*;

    #[test]
    fn postgres_types_of_one_family_compare_natively() {
        assert_eq!(KeyComparison::for_postgres_types("INT8", "INT8"), Native);
        assert_eq!(KeyComparison::for_postgres_types("INT4", "INT8"), Native);
        assert_eq!(KeyComparison::for_postgres_types("VARCHAR", "TEXT"), Native);
        assert_eq!(KeyComparison::for_postgres_types("UUID", "UUID"), Native);
    }

    #[test]
    fn postgres_types_of_two_families_compare_as_text() {
        assert_eq!(KeyComparison::for_postgres_types("TEXT", "INT4"), AsText);
        assert_eq!(KeyComparison::for_postgres_types("INT8", "NUMERIC"), AsText);
        assert_eq!(KeyComparison::for_postgres_types("UUID", "TEXT"), AsText);
    }

    #[test]
    fn text_comparison_casts_both_sides() {
        assert_eq!(
            AsText.equals(Dialect::Postgres, "a.x", "o.id"),
            "CAST(a.x AS TEXT) = CAST(o.id AS TEXT)"
        );
        assert_eq!(
            Native.equals(Dialect::Postgres, "a.x", "o.id"),
            "a.x = o.id"
        );
    }
}
