//! The bundled Grafana dashboards as the tests see them: their JSON, every query of their
//! panels and variables, and the concrete values that stand in for the template variables.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The dashboard files and the `uid` each must keep (links and bookmarks use it).
pub const DASHBOARDS: [(&str, &str); 3] = [
    ("sales-overview.json", "sales-overview"),
    ("sales-reps.json", "sales-reps"),
    ("sales-exporter-health.json", "sales-exporter-health"),
];

/// Targets added to the example configuration so that every panel comparing a value with
/// its target has one: the 90-day rolling period at every scope a dashboard shows.
pub const TEST_TARGETS: &str = r#"
[[targets]]
scope = "company"
indicator = "revenue"
period = "90d"
value = 5000000

[[targets]]
scope = "company"
indicator = "conversion_ratio"
period = "90d"
value = 0.3

[[targets]]
scope = "company"
indicator = "acquisition_cost"
period = "90d"
value = 2000

[[targets]]
scope = "team"
name = "North"
indicator = "revenue"
period = "90d"
value = 2000000

[[targets]]
scope = "team"
name = "North"
indicator = "acquisition_cost"
period = "90d"
value = 2000

[[targets]]
scope = "rep"
name = "r01"
indicator = "revenue"
period = "90d"
value = 500000

[[targets]]
scope = "rep"
name = "r01"
indicator = "conversion_ratio"
period = "90d"
value = 0.3
"#;

/// `grafana/` of the repository.
pub fn grafana_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana")
}

/// Every bundled dashboard: file name and parsed JSON. Panics on invalid JSON.
pub fn dashboards() -> Vec<(String, Value)> {
    DASHBOARDS
        .iter()
        .map(|(file, _)| {
            let path = grafana_dir().join("dashboards").join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
            (file.to_string(), json)
        })
        .collect()
}

/// Every panel of a dashboard, those nested in collapsed rows included.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels is an array") {
        all.push(panel);
        if let Some(nested) = panel["panels"].as_array() {
            all.extend(nested);
        }
    }
    all
}

/// A PromQL expression of a dashboard and where it comes from.
#[derive(Debug, Clone)]
pub struct Query {
    /// `file: panel title (refId)` or `file: variable name`.
    pub origin: String,
    /// The expression as written, template variables included.
    pub expr: String,
}

/// Every panel query, and the series selector inside every `label_values(selector, label)`
/// variable query.
pub fn queries(file: &str, dashboard: &Value) -> Vec<Query> {
    let mut queries = Vec::new();
    for panel in panels(dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push(Query {
                origin: format!("{file}: {} ({})", panel["title"], target["refId"]),
                expr: target["expr"]
                    .as_str()
                    .expect("a target has expr")
                    .to_owned(),
            });
        }
    }
    for variable in variables(dashboard) {
        if variable["type"] == "query" {
            let query = variable["query"]["query"].as_str().expect("query text");
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|rest| rest.strip_suffix(')'))
                .and_then(|args| args.rsplit_once(','))
                .map(|(selector, _label)| selector.trim())
                .unwrap_or_else(|| panic!("{file}: unexpected variable query {query}"));
            queries.push(Query {
                origin: format!("{file}: variable {}", variable["name"]),
                expr: inner.to_owned(),
            });
        }
    }
    queries
}

/// The dashboard's template variables.
pub fn variables(dashboard: &Value) -> Vec<&Value> {
    dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list is an array")
        .iter()
        .collect()
}

/// `expr` with each `$name` (and `${name}`) of `values` replaced, longest names first so that
/// `$__rate_interval` is not read as `$__rate`. Panics if a variable is left over.
pub fn substitute(expr: &str, values: &[(&str, &str)]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut out = expr.to_owned();
    for (name, value) in sorted {
        out = out.replace(&format!("${{{name}}}"), value);
        out = out.replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "a variable is left in {out}");
    out
}

/// Values for the template variables: a real team, rep and period of the demo data, the
/// exporter's `instance`, and a rate interval Grafana could choose.
pub fn single_values(instance: &str) -> Vec<(&'static str, String)> {
    vec![
        ("instance", instance.to_owned()),
        ("period", "90d".to_owned()),
        ("team", "North".to_owned()),
        ("rep", "r01".to_owned()),
        ("__rate_interval", "1m".to_owned()),
    ]
}

/// The same with the team variable as Grafana renders "All" (`allValue`) and a multi-value
/// choice.
pub fn multi_values(instance: &str, team: &str) -> Vec<(&'static str, String)> {
    let mut values = single_values(instance);
    values[2].1 = team.to_owned();
    values
}

/// Borrows a list of owned values for [`substitute`].
pub fn borrowed<'a>(values: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    values.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
