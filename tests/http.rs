//! The real binary serving over HTTP, checked with a minimal HTTP/1.1 client on a raw
//! `TcpStream`: landing page, `/metrics`, health, readiness, unknown paths and methods.

mod common;

use std::path::Path;

use common::server::Server;
use common::{demo_config, example_config_for, key, parse_exposition, write_config};

/// Starts the exporter on `config`, logging warnings only, and waits until it accepts
/// connections.
fn start(dir: &Path, config: &str) -> Server {
    Server::serving(dir, config, &[], "warn")
}

/// Against the demo database: the landing page, `/metrics` and its content type, health and
/// readiness, 404 for unknown paths, 405 with `Allow` for POST, and HEAD without a body.
#[test]
fn endpoints_serve_the_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let exporter = start(dir.path(), &config);

    let ready = exporter.wait_for("/-/ready", "got there", |r| r.status == 200);
    assert_eq!(ready.body, "ready\n");

    let landing = exporter.get("/");
    assert_eq!(landing.status, 200);
    assert_eq!(
        landing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        landing.body.contains("<a href=\"metrics\">"),
        "{}",
        landing.body
    );
    let version = format!("sales_exporter {}", env!("CARGO_PKG_VERSION"));
    assert!(landing.body.contains(&version), "{}", landing.body);

    let metrics = exporter.get("/metrics");
    assert_eq!(metrics.status, 200);
    let content_type = metrics.header("content-type").expect("a content type");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(metrics.body.contains("\nsales_company_revenue{"));
    assert!(metrics
        .body
        .contains("\nsales_exporter_refresh_success 1\n"));
    let samples = parse_exposition(&metrics.body);
    let month = key(
        "sales_company_revenue",
        &[("period", "month"), ("window", "current")],
    );
    assert!(samples[&month] > 0.0);

    let healthy = exporter.get("/-/healthy");
    assert_eq!((healthy.status, healthy.body.as_str()), (200, "healthy\n"));

    let unknown = exporter.get("/metrics/extra");
    assert_eq!(unknown.status, 404);

    let post = exporter.send("POST", "/metrics");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    let head = exporter.send("HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has a body: {}", head.body);
    assert_eq!(
        head.header("content-type"),
        Some(content_type),
        "HEAD has GET's headers"
    );
    exporter.stop();
}

/// With the database missing the server still starts: not ready (503), and `/metrics`
/// serves the self-metrics with `refresh_success 0` and errors counted by relation.
#[test]
fn missing_database_serves_not_ready() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("absent.sqlite");
    let config = write_config(dir.path(), "sales.toml", &example_config_for(&database));
    let exporter = start(dir.path(), &config);

    let failures = key("sales_exporter_refreshes_total", &[("result", "failure")]);
    let metrics = exporter.wait_for("/metrics", "got there", |r| {
        r.status == 200 && parse_exposition(&r.body).get(&failures) >= Some(&1.0)
    });
    let samples = parse_exposition(&metrics.body);
    assert_eq!(samples[&key("sales_exporter_refresh_success", &[])], 0.0);
    let errors: f64 = samples
        .iter()
        .filter(|((name, _), _)| name == "sales_exporter_refresh_errors_total")
        .map(|(_, value)| value)
        .sum();
    assert!(errors >= 1.0, "errors counted: {}", metrics.body);
    let reps_errors = key(
        "sales_exporter_refresh_errors_total",
        &[("relation", "reps")],
    );
    assert!(
        samples[&reps_errors] >= 1.0,
        "the first query is the reps one"
    );
    assert!(
        !samples
            .keys()
            .any(|(name, _)| name.starts_with("sales_company_")),
        "no indicator without a good refresh"
    );

    let ready = exporter.get("/-/ready");
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body, "not ready: no refresh has succeeded yet\n");
    let healthy = exporter.get("/-/healthy");
    assert_eq!(healthy.status, 200);

    let landing = exporter.get("/");
    assert!(landing.body.contains("Last successful refresh: never"));
    assert!(
        landing.body.contains("the file does not exist"),
        "the landing page says why: {}",
        landing.body
    );
    exporter.stop();
}
