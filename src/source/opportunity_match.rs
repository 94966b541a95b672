//! How an activity's opportunity is matched with the opportunity's id: with the database's
//! own `=` where the two column types allow it, as text where PostgreSQL would refuse.

use super::dialect::Dialect;

/// How the two id columns are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpportunityMatch {
    /// `a = b`: the database compares the two types itself, without converting every row.
    Native,
    /// Both sides cast to text: PostgreSQL has no `=` between an integer and text.
    AsText,
}

impl OpportunityMatch {
    /// The comparison for PostgreSQL columns whose types `pg_typeof` names `reference`
    /// and `id` (`bigint`, `text`, ...): native for one type or one family, text otherwise.
    pub fn for_postgres_types(reference: &str, id: &str) -> Self {
        const INTEGERS: [&str; 3] = ["smallint", "integer", "bigint"];
        const TEXTS: [&str; 3] = ["text", "character varying", "character"];
        let one_family = |family: &[&str]| family.contains(&reference) && family.contains(&id);
        if reference == id || one_family(&INTEGERS) || one_family(&TEXTS) {
            Self::Native
        } else {
            Self::AsText
        }
    }

    /// The condition that `reference` equals `id`, in `dialect`.
    pub fn equals(self, dialect: Dialect, reference: &str, id: &str) -> String {
        match self {
            Self::Native => format!("{reference} = {id}"),
            Self::AsText => format!("{} = {}", dialect.text(reference), dialect.text(id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OpportunityMatch::{AsText, Native};
    use super::*;

    #[test]
    fn postgres_types_of_one_family_compare_natively() {
        assert_eq!(
            OpportunityMatch::for_postgres_types("bigint", "bigint"),
            Native
        );
        assert_eq!(
            OpportunityMatch::for_postgres_types("integer", "bigint"),
            Native
        );
        assert_eq!(
            OpportunityMatch::for_postgres_types("character varying", "text"),
            Native
        );
        assert_eq!(
            OpportunityMatch::for_postgres_types("character", "text"),
            Native
        );
        assert_eq!(OpportunityMatch::for_postgres_types("uuid", "uuid"), Native);
    }

    #[test]
    fn postgres_types_of_two_families_compare_as_text() {
        assert_eq!(
            OpportunityMatch::for_postgres_types("text", "integer"),
            AsText
        );
        assert_eq!(
            OpportunityMatch::for_postgres_types("bigint", "numeric"),
            AsText
        );
        assert_eq!(OpportunityMatch::for_postgres_types("uuid", "text"), AsText);
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
