//! The real binary serving over HTTP, checked with a minimal HTTP/1.1 client on a raw
//! `TcpStream`: landing page, `/metrics`, health, readiness, unknown paths and methods.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_no_panic, example_config_for, key, parse_exposition, run_exporter, write_config,
};

/// How long the server may take to listen, or to finish its first refresh.
const DEADLINE: Duration = Duration::from_secs(30);

/// Kills the exporter when the test ends, passed or not.
struct Exporter {
    child: Child,
    address: String,
    log: std::path::PathBuf,
}

impl Exporter {
    /// Stops the exporter and checks that nothing panicked in it (a panic in a connection
    /// task does not end the process, so only the log shows it).
    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::read_to_string(&self.log).expect("the exporter log");
        assert_no_panic(&log);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Starts the exporter on `config` and waits until it accepts connections.
fn start(dir: &Path, config: &str) -> Exporter {
    let address = format!("127.0.0.1:{}", free_port());
    let log = dir.join("exporter.log");
    let stderr = std::fs::File::create(&log).expect("the log file");
    let child = Command::new(env!("CARGO_BIN_EXE_sales_exporter"))
        .args(["--config", config, "--web.listen-address", &address])
        .args(["--log-level", "warn"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("the exporter starts");
    let mut exporter = Exporter {
        child,
        address,
        log,
    };
    let started = Instant::now();
    while TcpStream::connect(&exporter.address).is_err() {
        if let Some(status) = exporter.child.try_wait().expect("child status") {
            panic!("the exporter exited before listening: {status}");
        }
        assert!(started.elapsed() < DEADLINE, "the exporter never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    exporter
}

/// One HTTP response, as read off the wire.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with `Connection: close` and reads the whole response.
fn request(exporter: &Exporter, method: &str, path: &str) -> Response {
    let mut stream = TcpStream::connect(&exporter.address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let host = &exporter.address;
    let length = if method == "POST" {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{length}Connection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let text = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Polls `path` until `done` holds for its response, or fails at the deadline.
fn wait_for(exporter: &Exporter, path: &str, done: impl Fn(&Response) -> bool) -> Response {
    let started = Instant::now();
    loop {
        let response = request(exporter, "GET", path);
        if done(&response) {
            return response;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{path} never got there; last: {} {}",
            response.status,
            response.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes the demo database into `dir` and a config pointing at it; returns the config path.
fn demo_config(dir: &Path) -> String {
    let output = run_exporter(dir, &["--demo", "--once"]);
    assert!(output.status.success(), "{output:?}");
    let database = dir.join("sales_exporter-demo.sqlite");
    write_config(dir, "sales.toml", &example_config_for(&database))
}

/// Against the demo database: the landing page, `/metrics` and its content type, health and
/// readiness, 404 for unknown paths, 405 with `Allow` for POST, and HEAD without a body.
#[test]
fn endpoints_serve_the_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let exporter = start(dir.path(), &config);

    let ready = wait_for(&exporter, "/-/ready", |r| r.status == 200);
    assert_eq!(ready.body, "ready\n");

    let landing = request(&exporter, "GET", "/");
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

    let metrics = request(&exporter, "GET", "/metrics");
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

    let healthy = request(&exporter, "GET", "/-/healthy");
    assert_eq!((healthy.status, healthy.body.as_str()), (200, "healthy\n"));

    let unknown = request(&exporter, "GET", "/metrics/extra");
    assert_eq!(unknown.status, 404);

    let post = request(&exporter, "POST", "/metrics");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    let head = request(&exporter, "HEAD", "/metrics");
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
    let metrics = wait_for(&exporter, "/metrics", |r| {
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

    let ready = request(&exporter, "GET", "/-/ready");
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body, "not ready: no refresh has succeeded yet\n");
    let healthy = request(&exporter, "GET", "/-/healthy");
    assert_eq!(healthy.status, 200);

    let landing = request(&exporter, "GET", "/");
    assert!(landing.body.contains("Last successful refresh: never"));
    assert!(
        landing.body.contains("the file does not exist"),
        "the landing page says why: {}",
        landing.body
    );
    exporter.stop();
}
