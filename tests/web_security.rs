//! Endpoint security on the real binary: basic auth, TLS with a test CA, client
//! certificates, certificate rotation without restart, and refused web configs.

mod common;
mod web_support;

use std::time::{Duration, Instant};

use common::demo_config;
use web_support::{handshake_certificate, install, run_until_exit, start, Client, TestCa};

/// bcrypt of `s3cret` at cost 4, so the tests stay fast.
fn s3cret_hash() -> String {
    bcrypt::hash("s3cret", 4).expect("a bcrypt hash")
}

/// Basic auth: the right password gets the metrics, a wrong one or none gets 401 with a
/// `WWW-Authenticate: Basic` challenge, on every path.
#[test]
fn basic_auth_lets_in_only_the_right_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let web = format!("basic_auth_users:\n  prometheus: {}\n", s3cret_hash());
    let web = common::write_config(dir.path(), "web.yml", &web);
    let exporter = start(dir.path(), &config, &["--web.config.file", &web]);

    let good = Client {
        credentials: Some("prometheus:s3cret".into()),
        ..Client::default()
    };
    let metrics = good.wait_ready(&exporter);
    assert!(metrics
        .text()
        .contains("\nsales_exporter_refresh_success 1\n"));

    for (credentials, path) in [
        (Some("prometheus:wrong"), "/metrics"),
        (Some("grafana:s3cret"), "/metrics"),
        (None, "/metrics"),
        (None, "/-/healthy"),
        (None, "/"),
    ] {
        let client = Client {
            credentials: credentials.map(str::to_owned),
            ..Client::default()
        };
        let denied = client.get(&exporter, path, &[]);
        assert_eq!(denied.status, 401, "{credentials:?} on {path}");
        let challenge = denied.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Basic realm="), "{challenge}");
        assert!(
            !denied.text().contains("sales_"),
            "no data leaks: {}",
            denied.text()
        );
    }
    exporter.stop();
}

/// TLS: a client trusting only the test CA completes the handshake and scrapes; plain
/// HTTP on the same port gets only a 400 saying to use https; a client of another CA
/// refuses the server; configured security headers are sent.
#[test]
fn tls_serves_clients_of_the_test_ca_and_refuses_plain_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let ca = TestCa::new("sales_exporter test CA");
    install(dir.path(), &ca.server());
    let web = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
               min_version: TLS12\nhttp_server_config:\n  headers:\n    \
               Strict-Transport-Security: max-age=31536000\n";
    let web = common::write_config(dir.path(), "web.yml", web);
    let exporter = start(dir.path(), &config, &["--web.config.file", &web]);

    let client = Client {
        tls: Some(ca.client_config(None)),
        ..Client::default()
    };
    let metrics = client.wait_ready(&exporter);
    assert_eq!(
        metrics.header("strict-transport-security"),
        Some("max-age=31536000")
    );

    let plain = Client::default().get(&exporter, "/metrics", &[]);
    assert_eq!(plain.status, 400, "plain HTTP is refused");
    assert_eq!(
        plain.text(),
        "this endpoint serves HTTPS; scrape it with scheme https\n"
    );

    let stranger = TestCa::new("another CA");
    let refused = handshake_certificate(&stranger.client_config(None), &exporter);
    assert!(refused.is_err(), "a client of another CA trusts the server");
    exporter.stop();
}

/// Rotation: new certificate and key files replace the old ones on disk, and the next
/// handshake presents the new certificate without a restart.
#[test]
fn rotated_certificate_is_served_without_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let ca = TestCa::new("sales_exporter test CA");
    let first = ca.server();
    install(dir.path(), &first);
    let web = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
    let web = common::write_config(dir.path(), "web.yml", web);
    let exporter = start(dir.path(), &config, &["--web.config.file", &web]);
    let client_config = ca.client_config(None);

    let served = handshake_certificate(&client_config, &exporter).expect("a handshake");
    assert_eq!(served, first.der);

    let second = ca.server();
    install(dir.path(), &second);
    let started = Instant::now();
    loop {
        let served = handshake_certificate(&client_config, &exporter).expect("a handshake");
        if served == second.der {
            break;
        }
        assert_eq!(served, first.der, "neither the old nor the new certificate");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new certificate is never served"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = exporter.stop();
    assert!(log.contains("Reloaded the TLS certificate"), "{log}");
}

/// Client certificates: with RequireAndVerifyClientCert a client without a certificate
/// is refused, and one with a certificate from the client CA is served.
#[test]
fn client_certificate_is_required_when_configured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = demo_config(dir.path());
    let ca = TestCa::new("sales_exporter test CA");
    install(dir.path(), &ca.server());
    let clients = TestCa::new("scrapers CA");
    std::fs::write(dir.path().join("clients.crt"), &clients.pem).expect("client CA");
    let web = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
               client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.crt\n";
    let web = common::write_config(dir.path(), "web.yml", web);
    let exporter = start(dir.path(), &config, &["--web.config.file", &web]);

    let identified = Client {
        tls: Some(ca.client_config(Some(&clients.client("prometheus")))),
        ..Client::default()
    };
    identified.wait_ready(&exporter);

    let anonymous = Client {
        tls: Some(ca.client_config(None)),
        ..Client::default()
    };
    let refused = anonymous.exchange(&exporter, "/metrics", &[]);
    assert!(refused.is_err(), "served without a client certificate");

    let impostor = Client {
        tls: Some(ca.client_config(Some(&ca.client("prometheus")))),
        ..Client::default()
    };
    let refused = impostor.exchange(&exporter, "/metrics", &[]);
    assert!(refused.is_err(), "served a certificate of the wrong CA");
    exporter.stop();
}

/// A bad web config stops the start with exit code 78 and a message naming the file and
/// the key: bad YAML, an unknown key, a missing certificate file, a plain-text password.
#[test]
fn invalid_web_config_exits_78_naming_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "bad.yml",
            "basic_auth_users: {unclosed\n",
            "bad.yml is invalid",
        ),
        (
            "unknown.yml",
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_cas: x\n",
            "unknown field `client_cas`",
        ),
        (
            "missing.yml",
            "tls_server_config:\n  cert_file: absent.crt\n  key_file: absent.key\n",
            "`tls_server_config.cert_file` cannot read certificates from",
        ),
        (
            "plain.yml",
            "basic_auth_users:\n  prometheus: s3cret\n",
            "`basic_auth_users.prometheus` is not a bcrypt hash",
        ),
    ];
    for (name, text, expected) in cases {
        let path = common::write_config(dir.path(), name, text);
        let (status, log) = run_until_exit(
            dir.path(),
            &[
                "--demo",
                "--web.listen-address",
                "127.0.0.1:0",
                "--web.config.file",
                &path,
            ],
        );
        assert_eq!(status.code(), Some(78), "{name}: {log}");
        assert!(log.contains(&path), "{name}: the file is named: {log}");
        assert!(log.contains(expected), "{name}: {log}");
        common::assert_no_panic(&log);
    }
}
