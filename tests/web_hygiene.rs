//! HTTP hygiene on the real binary: gzip, the content type asked for OpenMetrics, and
//! malformed or oversized requests, which get an error answer (or a closed connection)
//! while the server keeps serving.

mod common;
mod web_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::demo_config;
use common::server::Server;
use web_support::{parse_response, start, Client};

/// Sends `bytes` as they are and returns the status of the answer, if any came before the
/// server closed. Write errors are ignored: the server may close while we still send.
fn raw_status(exporter: &Server, bytes: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(&exporter.address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    let _ = stream.write_all(bytes);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw).map(|response| response.status)
}

/// With `Accept-Encoding: gzip` the exposition comes gzipped (and decodes to the text
/// format); without it, plain; both say `Vary: Accept-Encoding`.
#[test]
fn metrics_are_gzipped_when_accepted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let exporter = start(dir.path(), &config, &[]);
    let client = Client::default();
    let plain = client.wait_ready(&exporter);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));

    let gzipped = client.get(&exporter, "/metrics", &["Accept-Encoding: gzip, deflate"]);
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.header("vary"), Some("Accept-Encoding"));
    assert!(gzipped.body.len() < plain.body.len() / 3, "compressed");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gzipped.body[..])
        .read_to_string(&mut text)
        .expect("valid gzip");
    let samples = common::parse_exposition(&text);
    let revenue = common::key(
        "sales_company_revenue",
        &[("period", "month"), ("window", "current")],
    );
    assert!(samples[&revenue] > 0.0);

    let refused = client.get(&exporter, "/metrics", &["Accept-Encoding: gzip;q=0"]);
    assert_eq!(refused.header("content-encoding"), None);
    exporter.stop();
}

/// Asked for OpenMetrics, the exporter answers in the text format 0.0.4 (the `prometheus`
/// crate renders no OpenMetrics), which Prometheus accepts as its fallback.
#[test]
fn openmetrics_request_gets_the_text_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let exporter = start(dir.path(), &config, &[]);
    let client = Client::default();
    client.wait_ready(&exporter);
    let accept = "Accept: application/openmetrics-text;version=1.0.0;q=0.5,\
                  text/plain;version=0.0.4;q=0.4,*/*;q=0.1";
    let response = client.get(&exporter, "/metrics", &[accept]);
    assert_eq!(response.status, 200);
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    exporter.stop();
}

/// Garbage, an oversized head and request bodies get 400, 431 and 413 (or a closed
/// connection), nothing panics, and a good request is served after each.
#[test]
fn malformed_and_oversized_requests_are_refused_and_serving_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let exporter = start(dir.path(), &config, &[]);
    let client = Client::default();
    client.wait_ready(&exporter);

    let huge_header = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let many_headers = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "X-A: b\r\n".repeat(500)
    );
    let huge_body = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n{}",
        "z".repeat(4096)
    );
    let chunked = "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                   400\r\n"
        .to_owned()
        + &"y".repeat(1024);
    let cases: [(&str, &[u8], &[u16]); 7] = [
        (
            "garbage request line",
            b"\x16\x03\x01 what is this\r\n\r\n",
            &[400],
        ),
        (
            "bad request target",
            b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n",
            &[400],
        ),
        (
            "bad header line",
            b"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
            &[400],
        ),
        ("huge header", huge_header.as_bytes(), &[431]),
        ("too many headers", many_headers.as_bytes(), &[431]),
        ("huge body", huge_body.as_bytes(), &[413]),
        ("chunked body", chunked.as_bytes(), &[413]),
    ];
    for (name, bytes, expected) in cases {
        let status = raw_status(&exporter, bytes);
        assert!(
            status.is_none() || expected.contains(&status.unwrap_or_default()),
            "{name}: got {status:?}, expected {expected:?} or a close"
        );
        assert!(status.is_some(), "{name}: no answer at all");
        let after = client.get(&exporter, "/metrics", &[]);
        assert_eq!(after.status, 200, "{name}: the next request is served");
    }
    exporter.stop();
}

/// A client that starts a request and never finishes its headers is cut off by the header
/// read timeout (10 s), while other clients are served meanwhile.
#[test]
fn slow_headers_are_cut_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let exporter = start(dir.path(), &config, &[]);
    let client = Client::default();
    client.wait_ready(&exporter);

    let mut slow = TcpStream::connect(&exporter.address).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let began = Instant::now();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .expect("a partial head");
    assert_eq!(client.get(&exporter, "/-/healthy", &[]).status, 200);
    let mut raw = Vec::new();
    let _ = slow.read_to_end(&mut raw);
    let waited = began.elapsed();
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(20)).contains(&waited),
        "cut off after {waited:?}"
    );
    let status = parse_response(&raw).map(|response| response.status);
    assert!(matches!(status, None | Some(408)), "{status:?}");
    exporter.stop();
}
