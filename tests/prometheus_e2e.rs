//! End to end against a real Prometheus: our exporter refreshing every second on a scratch
//! SQLite database, Prometheus scraping it every second with the bundled rules. Every
//! dashboard query must return data; then the database changes so that the 30-day
//! conversion ratio collapses, and Prometheus must report the conversion alerts pending.

mod common;
mod grafana;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::server::{free_port, Server};
use common::{example_config_for, sqlite_exec, tool_available, write_config};
use grafana::{borrowed, dashboards, multi_values, queries, single_values, substitute};

/// Kills and reaps its child process when dropped, whatever the test's outcome.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[&str], dir: &Path, log: &str) -> ChildGuard {
    let log = std::fs::File::create(dir.join(log)).expect("log file");
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    ChildGuard(child)
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `GET path` over HTTP/1.0; the body if the server answered 200.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_owned())
}

/// Prometheus' HTTP API.
struct Prometheus {
    addr: SocketAddr,
}

impl Prometheus {
    /// The result vector of an instant query, or the reason it has none.
    fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let body = http_get(
            self.addr,
            &format!("/api/v1/query?query={}", percent_encode(expr)),
        )
        .ok_or_else(|| format!("no answer to {expr}"))?;
        let json: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        if json["status"] != "success" {
            return Err(format!("{expr}: {json}"));
        }
        Ok(json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// The single value of `expr`.
    fn value(&self, expr: &str) -> f64 {
        let result = self.query(expr).expect("the query runs");
        assert_eq!(result.len(), 1, "{expr}: {result:?}");
        result[0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("a numeric value")
    }

    /// Polls `expr` until it returns a series, for at most `limit`.
    fn wait_for(&self, expr: &str, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        loop {
            match self.query(expr) {
                Ok(result) if !result.is_empty() => return result,
                _ if Instant::now() > deadline => panic!("{expr} returned nothing in {limit:?}"),
                _ => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }
}

const FALLING: &str = "SalesConversionRatioFalling";

#[tokio::test]
async fn dashboards_have_data_and_a_conversion_fall_alerts() {
    if !tool_available("prometheus") || !tool_available("promtool") {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("sales.sqlite");
    sales_exporter::demo::write_demo_database(&database, jiff::Timestamp::now())
        .await
        .expect("demo database");
    // Baseline: every win closed 30 to 60 days ago is stored as lost (and remembered), so the
    // previous 30-day window converts nothing and no conversion ratio can be falling.
    sqlite_exec(
        &database,
        "CREATE TABLE e2e_hidden_wins AS SELECT id FROM opportunities
           WHERE stage = 'closed_won'
             AND closed_at >= datetime('now', '-60 days') AND closed_at < datetime('now', '-30 days');
         UPDATE opportunities SET stage = 'closed_lost' WHERE id IN (SELECT id FROM e2e_hidden_wins);",
    )
    .await;

    let example = example_config_for(&database);
    let fast = example.replacen("interval_secs = 60", "interval_secs = 1", 1);
    assert_ne!(
        fast, example,
        "the example config sets the refresh interval"
    );
    let config = write_config(
        dir.path(),
        "config.toml",
        &format!("{fast}{}", grafana::TEST_TARGETS),
    );
    let exporter = Server::serving(dir.path(), &config, &[], "warn");
    let exporter_addr: SocketAddr = exporter.address.parse().unwrap();

    let rules = grafana::grafana_dir().join("alerts/sales_exporter.rules.yml");
    let prometheus_config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {}\n\
         scrape_configs:\n  - job_name: sales_exporter\n    static_configs:\n      - targets: ['{exporter_addr}']\n",
        rules.display()
    );
    let prometheus_config = write_config(dir.path(), "prometheus.yml", &prometheus_config);
    let prometheus_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _prometheus = spawn(
        "prometheus",
        &[
            &format!("--config.file={prometheus_config}"),
            &format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            &format!("--web.listen-address={prometheus_addr}"),
            "--log.level=warn",
        ],
        dir.path(),
        "prometheus.log",
    );
    let prometheus = Prometheus {
        addr: prometheus_addr,
    };
    let instance = exporter_addr.to_string();

    // Three successful scrapes of refreshed data, so range queries have samples too.
    prometheus.wait_for(
        &format!(
            "count_over_time(sales_exporter_refresh_success{{instance=\"{instance}\"}}[1m]) >= 3 \
             and sales_exporter_refresh_success == 1"
        ),
        Duration::from_secs(30),
    );

    // All ten rules are loaded and evaluate without error.
    let body = http_get(prometheus_addr, "/api/v1/rules").expect("rules API");
    let json: Value = serde_json::from_str(&body).expect("rules JSON");
    let rules: Vec<&Value> = json["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_array().expect("rules"))
        .collect();
    assert_eq!(rules.len(), 10, "{json}");
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
    }

    // The baseline the database was made for: nothing converted in the previous window
    // (a win closing in the seconds the window moved could add one), so nothing falls.
    let previous = prometheus.value(&format!(
        "sales_company_conversion_ratio{{instance=\"{instance}\",period=\"30d\",window=\"previous\"}}"
    ));
    assert!(previous < 0.02, "previous 30-day conversion {previous}");
    let falling = format!(
        "ALERTS{{alertname=~\"Sales(Rep)?ConversionRatioFalling\",instance=\"{instance}\"}}"
    );
    assert_eq!(prometheus.query(&falling), Ok(Vec::new()));

    // Every dashboard query, with one team and with All, returns data.
    let mut empty = Vec::new();
    let value_sets = [single_values(&instance), multi_values(&instance, ".*")];
    let mut checked = 0;
    for (file, dashboard) in dashboards() {
        for query in queries(&file, &dashboard) {
            for values in &value_sets {
                let expr = substitute(&query.expr, &borrowed(values));
                checked += 1;
                match prometheus.query(&expr) {
                    Ok(result) if !result.is_empty() => {}
                    other => empty.push(format!("{}: {expr}: {other:?}", query.origin)),
                }
            }
        }
    }
    assert!(checked > 100, "{checked} queries");
    assert!(
        empty.is_empty(),
        "queries without data:\n{}",
        empty.join("\n")
    );

    // The fall: the hidden wins of the previous window come back, and every win of the last
    // 30 days becomes a loss, so the current ratio is exactly 0 against about 25% before.
    sqlite_exec(
        &database,
        "UPDATE opportunities SET stage = 'closed_won' WHERE id IN (SELECT id FROM e2e_hidden_wins);
         UPDATE opportunities SET stage = 'closed_lost'
           WHERE stage = 'closed_won' AND closed_at >= datetime('now', '-30 days');",
    )
    .await;
    prometheus.wait_for(
        &format!("ALERTS{{alertname=\"{FALLING}\",alertstate=~\"pending|firing\",instance=\"{instance}\"}}"),
        Duration::from_secs(30),
    );
    let current = prometheus.value(&format!(
        "sales_company_conversion_ratio{{instance=\"{instance}\",period=\"30d\",window=\"current\"}}"
    ));
    assert_eq!(current, 0.0);
    let previous = prometheus.value(&format!(
        "sales_company_conversion_ratio{{instance=\"{instance}\",period=\"30d\",window=\"previous\"}}"
    ));
    assert!(previous > 0.1, "previous 30-day conversion {previous}");

    // The company and every team (each has dozens of closed opportunities per window), at
    // warning severity on the 30-day window; the rep variant at info.
    prometheus.wait_for(
        &format!("count(ALERTS{{alertname=\"{FALLING}\",instance=\"{instance}\"}}) >= 4"),
        Duration::from_secs(10),
    );
    let alerts = prometheus
        .query(&format!(
            "ALERTS{{alertname=\"{FALLING}\",instance=\"{instance}\"}}"
        ))
        .expect("alerts");
    let mut scopes: Vec<String> = alerts
        .iter()
        .map(|alert| {
            let labels = &alert["metric"];
            assert_eq!(labels["severity"], "warning", "{alert}");
            assert_eq!(labels["period"], "30d", "{alert}");
            assert_eq!(labels["job"], "sales_exporter", "{alert}");
            assert!(
                ["pending", "firing"].contains(&labels["alertstate"].as_str().unwrap()),
                "{alert}"
            );
            labels["team"].as_str().unwrap_or("company").to_owned()
        })
        .collect();
    scopes.sort();
    assert_eq!(scopes, ["North", "South", "West", "company"]);
    let reps = prometheus.wait_for(
        &format!("ALERTS{{alertname=\"SalesRepConversionRatioFalling\",instance=\"{instance}\",severity=\"info\"}}"),
        Duration::from_secs(10),
    );
    assert!(!reps.is_empty());

    let elapsed = started.elapsed();
    println!("end-to-end test took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}
