//! Validation of the four relation sections: table or query, column names, time column
//! types and value mappings, into the sales model's mappings.

use std::collections::{BTreeMap, BTreeSet};

use super::file::{self};
use super::validate::Validator;
use super::ConfigError;
use crate::model::{
    ActivityKind, ActivityMapping, CostCategory, CostMapping, OpportunityMapping, RelationSource,
    RepMapping, Status, TimeColumn, TimeType, ValueMapping,
};

impl Validator<'_> {
    fn source(
        &self,
        relation: &str,
        table: &Option<String>,
        query: &Option<String>,
    ) -> Result<RelationSource, ConfigError> {
        match (table, query) {
            (Some(table), None) => {
                let parts: Vec<String> = table.split('.').map(str::to_owned).collect();
                if parts
                    .iter()
                    .any(|part| part.is_empty() || part.contains('\0'))
                {
                    return Err(self.invalid(
                        format!("{relation}.table"),
                        format!("is {table:?}; use `table` or `schema.table`"),
                    ));
                }
                Ok(RelationSource::Table(parts))
            }
            (None, Some(query)) if !query.trim().is_empty() => {
                let query = query.trim().trim_end_matches(';').to_owned();
                Ok(RelationSource::Query(query))
            }
            _ => Err(self.invalid(relation, "needs exactly one of `table` or `query`")),
        }
    }

    fn column(&self, key: String, name: &str) -> Result<String, ConfigError> {
        if name.is_empty() || name.contains('\0') {
            return Err(self.invalid(key, "must be a non-empty column name"));
        }
        Ok(name.to_owned())
    }

    fn time_column(
        &self,
        relation: &str,
        column: &str,
        name: &str,
        types: &BTreeMap<String, String>,
        default: TimeType,
    ) -> Result<TimeColumn, ConfigError> {
        let name = self.column(format!("{relation}.columns.{column}"), name)?;
        let time_type = match types.get(column) {
            None => default,
            Some(type_name) => TimeType::parse(type_name).ok_or_else(|| {
                self.invalid(
                    format!("{relation}.time_types.{column}"),
                    format!("is {type_name:?}; use one of {}", TimeType::NAMES),
                )
            })?,
        };
        Ok(TimeColumn { name, time_type })
    }

    fn time_type_keys(
        &self,
        relation: &str,
        types: &BTreeMap<String, String>,
        allowed: &[&str],
    ) -> Result<(), ConfigError> {
        match types.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(self.invalid(
                format!("{relation}.time_types.{key}"),
                format!(
                    "is not a time column; the time columns are {}",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    fn value_mapping<C: Copy>(
        &self,
        key: &str,
        classes: Vec<(C, &Vec<String>)>,
    ) -> Result<ValueMapping<C>, ConfigError> {
        let mut seen = BTreeSet::new();
        for value in classes.iter().flat_map(|(_, values)| values.iter()) {
            if !seen.insert(value.as_str()) {
                return Err(self.invalid(key, format!("maps the value {value:?} twice")));
            }
        }
        Ok(ValueMapping {
            classes: classes.into_iter().map(|(c, v)| (c, v.clone())).collect(),
        })
    }

    pub(super) fn opportunities(
        &self,
        section: &file::OpportunitiesSection,
        default_time: TimeType,
    ) -> Result<OpportunityMapping, ConfigError> {
        let rel = "opportunities";
        let columns = &section.columns;
        let types = &section.time_types;
        self.time_type_keys(rel, types, &["created_at", "closed_at"])?;
        let status = &section.status;
        if status.won.is_empty() || status.lost.is_empty() {
            return Err(self.invalid(
                "opportunities.status",
                "needs at least one value for `won` and one for `lost`",
            ));
        }
        Ok(OpportunityMapping {
            source: self.source(rel, &section.table, &section.query)?,
            id: self.column(format!("{rel}.columns.id"), &columns.id)?,
            rep: self.column(format!("{rel}.columns.rep"), &columns.rep)?,
            created_at: self.time_column(
                rel,
                "created_at",
                &columns.created_at,
                types,
                default_time,
            )?,
            status: self.column(format!("{rel}.columns.status"), &columns.status)?,
            closed_at: self.time_column(
                rel,
                "closed_at",
                &columns.closed_at,
                types,
                default_time,
            )?,
            amount: self.column(format!("{rel}.columns.amount"), &columns.amount)?,
            customer: (columns.customer.as_deref())
                .map(|c| self.column(format!("{rel}.columns.customer"), c))
                .transpose()?,
            probability: (columns.probability.as_deref())
                .map(|c| self.column(format!("{rel}.columns.probability"), c))
                .transpose()?,
            statuses: self.value_mapping(
                "opportunities.status",
                vec![
                    (Status::Open, &status.open),
                    (Status::Won, &status.won),
                    (Status::Lost, &status.lost),
                ],
            )?,
        })
    }

    pub(super) fn reps(&self, section: &file::RepsSection) -> Result<RepMapping, ConfigError> {
        let columns = &section.columns;
        Ok(RepMapping {
            source: self.source("reps", &section.table, &section.query)?,
            id: self.column("reps.columns.id".into(), &columns.id)?,
            name: self.column("reps.columns.name".into(), &columns.name)?,
            team: self.column("reps.columns.team".into(), &columns.team)?,
            active: (columns.active.as_deref())
                .map(|c| self.column("reps.columns.active".into(), c))
                .transpose()?,
        })
    }

    pub(super) fn activities(
        &self,
        section: &file::ActivitiesSection,
        default_time: TimeType,
    ) -> Result<ActivityMapping, ConfigError> {
        let rel = "activities";
        let columns = &section.columns;
        self.time_type_keys(rel, &section.time_types, &["occurred_at"])?;
        let kinds = &section.kinds;
        if kinds.call.is_empty() {
            return Err(self.invalid("activities.kinds.call", "needs at least one value"));
        }
        Ok(ActivityMapping {
            source: self.source(rel, &section.table, &section.query)?,
            rep: self.column(format!("{rel}.columns.rep"), &columns.rep)?,
            occurred_at: self.time_column(
                rel,
                "occurred_at",
                &columns.occurred_at,
                &section.time_types,
                default_time,
            )?,
            kind: self.column(format!("{rel}.columns.kind"), &columns.kind)?,
            opportunity: (columns.opportunity.as_deref())
                .map(|c| self.column(format!("{rel}.columns.opportunity"), c))
                .transpose()?,
            kinds: self.value_mapping(
                "activities.kinds",
                vec![
                    (ActivityKind::Call, &kinds.call),
                    (ActivityKind::Email, &kinds.email),
                    (ActivityKind::Meeting, &kinds.meeting),
                    (ActivityKind::Other, &kinds.other),
                ],
            )?,
        })
    }

    pub(super) fn costs(
        &self,
        section: &file::CostsSection,
        default_time: TimeType,
    ) -> Result<CostMapping, ConfigError> {
        let rel = "costs";
        let columns = &section.columns;
        self.time_type_keys(rel, &section.time_types, &["incurred_at"])?;
        let categories = &section.categories;
        if categories.marketing.is_empty() && categories.sales.is_empty() {
            return Err(self.invalid("costs.categories", "needs `marketing` or `sales` values"));
        }
        Ok(CostMapping {
            source: self.source(rel, &section.table, &section.query)?,
            incurred_at: self.time_column(
                rel,
                "incurred_at",
                &columns.incurred_at,
                &section.time_types,
                default_time,
            )?,
            category: self.column(format!("{rel}.columns.category"), &columns.category)?,
            amount: self.column(format!("{rel}.columns.amount"), &columns.amount)?,
            team: (columns.team.as_deref())
                .map(|c| self.column(format!("{rel}.columns.team"), c))
                .transpose()?,
            categories: self.value_mapping(
                "costs.categories",
                vec![
                    (CostCategory::Marketing, &categories.marketing),
                    (CostCategory::Sales, &categories.sales),
                ],
            )?,
        })
    }
}
