//! The real binary under real signals sent with `kill`: SIGHUP reloads (new database,
//! windows, an invalid file, a new listen address), SIGTERM and SIGINT stop it cleanly,
//! and systemd's notification socket hears of each step.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::server::{free_port, request, Server};
use common::{demo_database, example_config_for, key, sqlite_exec, write_config};

/// How long a stop may take: prompt, yet loose enough for a loaded CI machine.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// The example config on `database`, refreshed every `interval_secs`.
fn config_text(database: &Path, interval_secs: u64) -> String {
    let text = example_config_for(database);
    let interval = format!("interval_secs = {interval_secs}");
    text.replacen("interval_secs = 60", &interval, 1)
}

fn reload_ok() -> common::SeriesKey {
    key("sales_exporter_config_last_reload_successful", &[])
}

fn reload_time() -> common::SeriesKey {
    key(
        "sales_exporter_config_last_reload_success_timestamp_seconds",
        &[],
    )
}

fn revenue(period: &str) -> common::SeriesKey {
    key(
        "sales_company_revenue",
        &[("period", period), ("window", "current")],
    )
}

/// SIGTERM and SIGINT each make a serving exporter exit 0 within seconds, logging which.
#[test]
fn sigterm_and_sigint_exit_zero_promptly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = demo_database(dir.path());
    let config = write_config(dir.path(), "sales.toml", &config_text(&database, 60));
    for (signal, name) in [("TERM", "SIGTERM"), ("INT", "SIGINT")] {
        let mut server = Server::with_config(dir.path(), &config);
        server.wait_status("/-/ready", 200);
        let sent = Instant::now();
        server.signal(signal);
        let status = server.wait_exit(STOP_LIMIT);
        assert_eq!(status.code(), Some(0), "{name}: {}", server.log());
        let log = server.log();
        assert!(log.contains(&format!("signal=\"{name}\"")), "{log}");
        assert!(log.contains("Stopped"), "{log}");
        eprintln!("{name}: exited in {:?}", sent.elapsed());
    }
}

/// Scrapes running in a loop while SIGTERM arrives either complete in full (body as long
/// as its Content-Length) or get no byte at all; none is cut off mid-response.
#[test]
fn sigterm_lets_running_scrapes_finish() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = demo_database(dir.path());
    let config = write_config(dir.path(), "sales.toml", &config_text(&database, 60));
    let mut server = Server::with_config(dir.path(), &config);
    server.wait_status("/-/ready", 200);

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (address, stop) = (server.address.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let (mut complete, mut refused) = (0, 0);
                while !stop.load(Ordering::Relaxed) {
                    let raw = scrape(&address);
                    if raw.is_empty() {
                        refused += 1;
                        continue;
                    }
                    let text = String::from_utf8(raw).expect("a UTF-8 response");
                    let (head, body) = text.split_once("\r\n\r\n").expect("a whole header");
                    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                    let length: usize = (head.lines())
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .expect("a content length")
                        .parse()
                        .expect("a number");
                    assert_eq!(body.len(), length, "a truncated body");
                    assert!(body.contains("sales_exporter_build_info"));
                    complete += 1;
                }
                (complete, refused)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    server.signal("TERM");
    let status = server.wait_exit(STOP_LIMIT);
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<(u32, u32)> = clients
        .into_iter()
        .map(|client| client.join().expect("no client saw a broken response"))
        .collect();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(
        counts.iter().all(|(complete, _)| *complete > 0),
        "{counts:?}"
    );
}

/// Every byte one `GET /metrics` got back before the connection ended, however it ended
/// (refused, reset or closed); empty when the server sent nothing.
fn scrape(address: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    let Ok(mut stream) = TcpStream::connect(address) else {
        return raw;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return raw;
    }
    let mut buffer = [0_u8; 65536];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..read]);
    }
    raw
}

/// SIGHUP swaps in a new database URL and new windows at once: the 90-day series go, the
/// revenue is the new database's, and the reload self-metrics say it succeeded.
#[test]
fn sighup_swaps_in_a_new_database_and_windows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = demo_database(dir.path());
    let config_path = dir.path().join("sales.toml");
    let config = write_config(dir.path(), "sales.toml", &config_text(&database, 3600));
    let server = Server::with_config(dir.path(), &config);
    server.wait_status("/-/ready", 200);
    let before = server.samples();
    assert!(before.contains_key(&revenue("90d")));
    assert_eq!(before[&reload_ok()], 1.0);

    let doubled = dir.path().join("doubled.sqlite");
    std::fs::copy(&database, &doubled).expect("copy the database");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(sqlite_exec(
        &doubled,
        "UPDATE opportunities SET amount = amount * 2;",
    ));
    let text = config_text(&doubled, 3600).replacen("[7, 30, 90]", "[7, 30]", 1);
    std::fs::write(&config_path, text).expect("rewrite the config");
    server.signal("HUP");

    let after = server.wait_samples("the new windows", |s| !s.contains_key(&revenue("90d")));
    let month = revenue("month");
    let after = if after[&month] == before[&month] * 2.0 {
        after
    } else {
        server.wait_samples("the new database", |s| s[&month] == before[&month] * 2.0)
    };
    assert_eq!(after[&reload_ok()], 1.0);
    assert!(after[&reload_time()] > before[&reload_time()]);
    server.wait_log("Reloaded the configuration");
}

/// An invalid file on SIGHUP (bad TOML, then a bad value) is logged with its line or key,
/// flips `config_last_reload_successful` to 0 and changes nothing served; a fixed file
/// then reloads.
#[test]
fn sighup_with_an_invalid_config_keeps_the_running_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = demo_database(dir.path());
    let good = config_text(&database, 3600);
    let config_path = dir.path().join("sales.toml");
    let config = write_config(dir.path(), "sales.toml", &good);
    let server = Server::with_config(dir.path(), &config);
    server.wait_status("/-/ready", 200);
    let before = server.samples();

    std::fs::write(&config_path, format!("{good}\nbroken = [\n")).expect("break the TOML");
    server.signal("HUP");
    let after = server.wait_samples("a failed reload", |s| s[&reload_ok()] == 0.0);
    server.wait_log("Cannot reload the configuration");
    assert!(server.log().contains("column"), "{}", server.log());
    assert_eq!(after[&revenue("month")], before[&revenue("month")]);
    assert_eq!(after[&reload_time()], before[&reload_time()]);
    assert_eq!(server.get("/-/ready").status, 200);

    let bad_zone = good.replacen("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\"", 1);
    std::fs::write(&config_path, bad_zone).expect("write a bad value");
    server.signal("HUP");
    server.wait_log("Mars/Olympus");
    assert!(
        server.log().contains("database.time_zone"),
        "{}",
        server.log()
    );
    assert_eq!(server.samples()[&reload_ok()], 0.0);

    std::fs::write(&config_path, &good).expect("fix the config");
    server.signal("HUP");
    let fixed = server.wait_samples("a good reload", |s| s[&reload_ok()] == 1.0);
    assert!(fixed[&reload_time()] > before[&reload_time()]);
    assert!(fixed.contains_key(&revenue("month")));
}

/// A reload that moves `web.listen_address` applies the rest, keeps serving on the old
/// address and logs that the new one needs a restart.
#[test]
fn sighup_cannot_move_the_listen_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = demo_database(dir.path());
    let (old, new) = (free_port(), free_port());
    let text = |port: u16| {
        let address = format!("listen_address = \"127.0.0.1:{port}\"");
        config_text(&database, 3600).replacen("listen_address = \"127.0.0.1:9745\"", &address, 1)
    };
    let config = write_config(dir.path(), "sales.toml", &text(old));
    let address = format!("127.0.0.1:{old}");
    let server = Server::start(dir.path(), &["--config", &config], &address, &[]);
    server.wait_status("/-/ready", 200);

    std::fs::write(dir.path().join("sales.toml"), text(new)).expect("move the address");
    server.signal("HUP");
    server.wait_log("changes only on restart");
    server.wait_log("Reloaded the configuration");
    assert_eq!(server.samples()[&reload_ok()], 1.0);
    assert!(request(&format!("127.0.0.1:{new}"), "/metrics").is_err());
}

/// With `NOTIFY_SOCKET` set, systemd's socket hears READY=1 once the exporter listens,
/// RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM.
#[test]
fn notify_socket_hears_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = demo_database(dir.path());
    let config = write_config(dir.path(), "sales.toml", &config_text(&database, 3600));
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let receive = || {
        let mut buffer = [0_u8; 512];
        let length = socket.recv(&mut buffer).expect("a notification");
        String::from_utf8_lossy(&buffer[..length]).into_owned()
    };

    let address = format!("127.0.0.1:{}", free_port());
    let args = ["--config", &config, "--web.listen-address", &address];
    let notify = socket_path.to_str().expect("a UTF-8 path");
    let mut server = Server::start(dir.path(), &args, &address, &[("NOTIFY_SOCKET", notify)]);
    let ready = receive();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");

    server.signal("HUP");
    let reloading = receive();
    assert!(reloading.lines().any(|l| l == "RELOADING=1"), "{reloading}");
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");
    let ready = receive();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");

    server.signal("TERM");
    assert_eq!(receive().trim_end(), "STOPPING=1");
    assert_eq!(server.wait_exit(STOP_LIMIT).code(), Some(0));
}
