//! The bundled Grafana dashboards, checked without Grafana: valid JSON of the current schema,
//! stable uids and unique panel ids, no hard-coded data source, the variables the issue asks
//! for, every query valid PromQL (promtool) naming only metrics the exporter really writes,
//! no team or company ratio averaged from reps, and provisioning that finds them.

mod common;
mod grafana;

use std::collections::BTreeSet;

use serde_json::Value;

use common::{example_config_for, run_exporter, run_tool, tool_available, write_config};
use grafana::{borrowed, dashboards, multi_values, panels, queries, single_values, substitute};

/// Grafana 11's dashboard schema version.
const SCHEMA_VERSION: u64 = 39;

/// Each dashboard parses, has the current schema version and its fixed uid, and every panel
/// id is unique within it.
#[test]
fn dashboards_have_current_schema_stable_uids_and_unique_panel_ids() {
    let all = dashboards();
    for ((file, dashboard), (_, uid)) in all.iter().zip(grafana::DASHBOARDS) {
        assert_eq!(dashboard["schemaVersion"], SCHEMA_VERSION, "{file}");
        assert_eq!(dashboard["uid"], uid, "{file}");
        assert!(dashboard["title"].as_str().is_some_and(|t| !t.is_empty()));
        let mut ids = BTreeSet::new();
        for panel in panels(dashboard) {
            let id = panel["id"].as_u64().expect("a panel has a numeric id");
            assert!(ids.insert(id), "{file}: panel id {id} is used twice");
            let pos = &panel["gridPos"];
            let (x, w) = (pos["x"].as_u64().unwrap(), pos["w"].as_u64().unwrap());
            assert!(x + w <= 24, "{file}: panel {id} is wider than the grid");
        }
        assert!(ids.len() > 5, "{file}: {} panels", ids.len());
    }
}

fn walk<'a>(value: &'a Value, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if let Some(ds) = map.get("datasource") {
                found.push(ds);
            }
            map.values().for_each(|v| walk(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
        _ => {}
    }
}

/// Every data source reference, in panels, targets and variables, is the `${datasource}`
/// variable, which is of type `datasource` over Prometheus: nothing names a data source of
/// one particular Grafana.
#[test]
fn no_hard_coded_data_source() {
    for (file, dashboard) in dashboards() {
        let mut refs = Vec::new();
        walk(&dashboard, &mut refs);
        assert!(refs.len() > 10, "{file}");
        for reference in refs {
            assert_eq!(
                reference,
                &serde_json::json!({"type": "prometheus", "uid": "${datasource}"}),
                "{file}"
            );
        }
        let text = dashboard.to_string();
        assert!(
            !text.contains("${DS_") && !text.contains("__inputs"),
            "{file}"
        );
        let variable = grafana::variables(&dashboard)
            .into_iter()
            .find(|v| v["name"] == "datasource")
            .unwrap_or_else(|| panic!("{file} has no datasource variable"));
        assert_eq!(variable["type"], "datasource");
        assert_eq!(variable["query"], "prometheus");
    }
}

/// The variables the issue asks for: data source and exporter everywhere; period and team
/// (multi-value, with All) on the sales dashboards; rep on the reps dashboard.
#[test]
fn dashboards_have_their_variables() {
    let expected: [&[&str]; 3] = [
        &["datasource", "instance", "period", "team"],
        &["datasource", "instance", "period", "team", "rep"],
        &["datasource", "instance"],
    ];
    for ((file, dashboard), names) in dashboards().iter().zip(expected) {
        let variables = grafana::variables(dashboard);
        let found: Vec<&str> = variables
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(found, names, "{file}");
        if let Some(team) = variables.iter().find(|v| v["name"] == "team") {
            assert_eq!(team["multi"], true, "{file}");
            assert_eq!(team["includeAll"], true, "{file}");
            assert_eq!(team["allValue"], ".*", "{file}");
        }
    }
}

/// Metric names in the exposition of the demo database under the test configuration,
/// taken from its `# TYPE` lines.
fn exported_metric_names() -> BTreeSet<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("demo.sqlite");
    let text = format!("{}{}", example_config_for(&database), grafana::TEST_TARGETS);
    let config = write_config(dir.path(), "config.toml", &text);
    let output = run_exporter(dir.path(), &["--config", &config, "--demo", "--once"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The metric names a query reads: identifiers of the exporter's (`sales_…`) and `up`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut word = String::new();
    for c in expr.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            if word.starts_with("sales_") || word == "up" {
                names.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    names
}

/// Every metric a dashboard query names is one the exporter writes (or Prometheus' `up`),
/// every query but the one listing exporters filters on the exporter instance, and the indicators the issue lists for
/// each dashboard are all shown.
#[test]
fn queries_name_only_exported_metrics_and_cover_the_issue() {
    let exported = exported_metric_names();
    assert!(
        exported.contains("sales_period_elapsed_ratio"),
        "{exported:?}"
    );
    let required: [&[&str]; 3] = [
        &[
            "sales_company_revenue",
            "sales_company_revenue_target",
            "sales_team_revenue",
            "sales_team_revenue_target",
            "sales_period_elapsed_ratio",
            "sales_company_conversion_ratio",
            "sales_team_conversion_ratio",
            "sales_company_new_customers",
            "sales_company_average_basket",
            "sales_company_acquisition_cost",
            "sales_company_acquisition_cost_target",
            "sales_team_acquisition_cost_target",
            "sales_company_average_deal_size",
            "sales_company_sales_cycle_seconds",
            "sales_company_open_pipeline_amount",
            "sales_company_open_pipeline_weighted_amount",
        ],
        &[
            "sales_rep_info",
            "sales_rep_revenue",
            "sales_rep_opportunities_won",
            "sales_rep_conversion_ratio",
            "sales_rep_calls_per_opportunity",
            "sales_rep_average_deal_size",
            "sales_rep_revenue_target",
        ],
        &[
            "up",
            "sales_exporter_refresh_success",
            "sales_exporter_refresh_duration_seconds",
            "sales_exporter_last_refresh_success_timestamp_seconds",
            "sales_exporter_refresh_errors_total",
            "sales_exporter_unmapped_value_rows",
            "sales_exporter_rows_read",
        ],
    ];
    for ((file, dashboard), required) in dashboards().iter().zip(required) {
        let mut shown = BTreeSet::new();
        for query in queries(file, dashboard) {
            let names = metric_names(&query.expr);
            assert!(
                !names.is_empty(),
                "{}: no metric in {}",
                query.origin,
                query.expr
            );
            for name in &names {
                assert!(
                    name == "up" || exported.contains(name),
                    "{}: {name} is not exported",
                    query.origin
                );
            }
            let lists_exporters = query.origin.ends_with("variable \"instance\"");
            assert!(
                lists_exporters || query.expr.contains("instance=\"$instance\""),
                "{}: {} does not filter on the exporter",
                query.origin,
                query.expr
            );
            shown.extend(names);
        }
        for name in required {
            assert!(shown.contains(*name), "{file} shows no {name}");
        }
    }
}

/// Team and company ratios come from their own scope's series: no query averages anything,
/// and no query aggregates rep series into a team or the company.
#[test]
fn team_and_company_ratios_are_not_averages_of_reps() {
    let aggregations = ["avg", "sum", "min", "max", "quantile", "count"];
    for (file, dashboard) in dashboards() {
        for query in queries(&file, &dashboard) {
            assert!(
                !query.expr.contains("avg"),
                "{}: {}",
                query.origin,
                query.expr
            );
            if query.expr.contains("sales_rep_") {
                for aggregation in aggregations {
                    assert!(
                        !query.expr.contains(&format!("{aggregation}(")),
                        "{}: aggregates reps: {}",
                        query.origin,
                        query.expr
                    );
                }
            }
        }
    }
}

/// The check fails on a query that is not PromQL, so it is not vacuous.
#[test]
fn promtool_rejects_a_broken_query() {
    if !tool_available("promtool") {
        return;
    }
    let (ok, text) = check_queries(&["sales_company_revenue{".to_owned()]);
    assert!(!ok, "{text}");
}

/// Every query, with the variables replaced by concrete values (one team, then All, then two
/// teams), is valid PromQL for promtool.
#[test]
fn every_query_is_valid_promql() {
    if !tool_available("promtool") {
        return;
    }
    let instance = "localhost:9745";
    let value_sets = [
        single_values(instance),
        multi_values(instance, ".*"),
        multi_values(instance, "(North|South)"),
    ];
    let mut exprs = Vec::new();
    for (file, dashboard) in dashboards() {
        for query in queries(&file, &dashboard) {
            for values in &value_sets {
                exprs.push(substitute(&query.expr, &borrowed(values)));
            }
        }
    }
    let (ok, text) = check_queries(&exprs);
    assert!(
        ok && text.contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{text}"
    );
}

/// Runs `promtool check rules` on a rule file recording each expression.
fn check_queries(exprs: &[String]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = String::from("groups:\n  - name: dashboard_queries\n    rules:\n");
    for (n, expr) in exprs.iter().enumerate() {
        let quoted = serde_json::to_string(expr).expect("a JSON string is a YAML string");
        file.push_str(&format!(
            "      - record: dashboard_query_{n}\n        expr: {quoted}\n"
        ));
    }
    std::fs::write(dir.path().join("queries.yml"), file).expect("rule file written");
    run_tool("promtool", dir.path(), &["check", "rules", "queries.yml"])
}

/// The dashboard provider reads the dashboards directory beside the provisioning directory
/// Grafana is pointed at, and the data source file provisions a default Prometheus.
#[test]
fn provisioning_finds_the_dashboards() {
    let provisioning = grafana::grafana_dir().join("provisioning");
    let provider =
        std::fs::read_to_string(provisioning.join("dashboards/sales_exporter.yml")).unwrap();
    let path_line = provider
        .lines()
        .find_map(|line| line.trim().strip_prefix("path: "))
        .expect("the provider has a path");
    assert_eq!(path_line, "${GF_PATHS_PROVISIONING}/../dashboards");
    let resolved = provisioning.join("../dashboards");
    for (file, _) in grafana::DASHBOARDS {
        assert!(
            resolved.join(file).is_file(),
            "{file} is not where the provider looks"
        );
    }
    let datasource =
        std::fs::read_to_string(provisioning.join("datasources/sales_exporter.yml")).unwrap();
    assert!(datasource.contains("type: prometheus"));
    assert!(datasource.contains("isDefault: true"));
}
