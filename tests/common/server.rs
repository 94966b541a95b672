//! The exporter binary as a served process: start it on a free port, talk HTTP/1.1 to it
//! over a raw `TcpStream`, send it real signals with `kill`, and read its log.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{parse_exposition, SeriesKey};

/// How long the server may take to listen, or to get to an awaited state.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A running exporter, killed when the test ends, passed or not.
pub struct Server {
    /// The child process.
    pub child: Child,
    /// `host:port` it serves on.
    pub address: String,
    /// Its stderr, written to a file.
    pub log: PathBuf,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

impl Server {
    /// Starts the exporter with `args` (plus `--log-level info`) in `dir`, expecting it
    /// to serve on `address`, with `env` added to its environment; waits until it listens.
    pub fn start(dir: &Path, args: &[&str], address: &str, env: &[(&str, &str)]) -> Server {
        Server::start_logging(dir, args, address, env, "info")
    }

    /// As [`Server::start`], logging at `log_level` (`info`, `warn`, ...).
    pub fn start_logging(
        dir: &Path,
        args: &[&str],
        address: &str,
        env: &[(&str, &str)],
        log_level: &str,
    ) -> Server {
        let log = dir.join(format!("exporter-{}.log", address.replace(':', "_")));
        let stderr = std::fs::File::create(&log).expect("the log file");
        let child = Command::new(env!("CARGO_BIN_EXE_sales_exporter"))
            .args(args)
            .args(["--log-level", log_level])
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the exporter starts");
        let mut server = Server {
            child,
            address: address.to_owned(),
            log,
        };
        let started = Instant::now();
        while TcpStream::connect(&server.address).is_err() {
            if let Some(status) = server.child.try_wait().expect("child status") {
                panic!(
                    "the exporter exited before listening: {status}\n{}",
                    server.log()
                );
            }
            assert!(started.elapsed() < DEADLINE, "the exporter never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Starts the exporter on `config`, on a free port given by `--web.listen-address`.
    pub fn with_config(dir: &Path, config: &str) -> Server {
        Server::serving(dir, config, &[], "info")
    }

    /// Starts the exporter on `config` with `extra` flags, logging at `log_level`, on a free
    /// port given by `--web.listen-address`.
    pub fn serving(dir: &Path, config: &str, extra: &[&str], log_level: &str) -> Server {
        let address = format!("127.0.0.1:{}", free_port());
        let args = [
            &["--config", config, "--web.listen-address", &address],
            extra,
        ]
        .concat();
        Server::start_logging(dir, &args, &address, &[], log_level)
    }

    /// Stops the exporter and checks that nothing panicked in it (a panic in a connection
    /// task does not end the process, so only the log shows it); returns the log.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }

    /// Sends the signal `name` (`HUP`, `TERM`, `INT`) with the `kill` command.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits for the process to exit within `limit` and returns how it exited.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "still running {limit:?} after the signal\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What the exporter logged so far, checked for panics.
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(&self.log).expect("the exporter log");
        super::assert_no_panic(&log);
        log
    }

    /// Polls the log until it contains `text`.
    pub fn wait_log(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "never logged {text:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET path` with `Connection: close`.
    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path)
    }

    /// `method path` with `Connection: close`.
    pub fn send(&self, method: &str, path: &str) -> Response {
        request_method(&self.address, method, path).expect("a response")
    }

    /// The samples of `/metrics`.
    pub fn samples(&self) -> BTreeMap<SeriesKey, f64> {
        let response = self.get("/metrics");
        assert_eq!(response.status, 200, "{}", response.body);
        parse_exposition(&response.body)
    }

    /// Polls `/metrics` until `done` holds for its samples, and returns them.
    pub fn wait_samples(
        &self,
        what: &str,
        done: impl Fn(&BTreeMap<SeriesKey, f64>) -> bool,
    ) -> BTreeMap<SeriesKey, f64> {
        let started = Instant::now();
        loop {
            let samples = self.samples();
            if done(&samples) {
                return samples;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "never saw {what}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls `path` until it answers `status`.
    pub fn wait_status(&self, path: &str, status: u16) -> Response {
        self.wait_for(path, &format!("answered {status}"), |r| r.status == status)
    }

    /// Polls `GET path` until `done` holds for its response, which it returns; `what` says
    /// what was awaited.
    pub fn wait_for(&self, path: &str, what: &str, done: impl Fn(&Response) -> bool) -> Response {
        let started = Instant::now();
        loop {
            let response = self.get(path);
            if done(&response) {
                return response;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "{path} never {what}; last {} {}\n{}",
                response.status,
                response.body,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP response, as read off the wire; its body as text unless said otherwise.
#[derive(Debug)]
pub struct Response<Body = String> {
    /// Status code.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl<Body> Response<Body> {
    /// The first header named `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` on `address` with `Connection: close`; an I/O error (refused, reset) is
/// returned, a malformed response panics.
pub fn request(address: &str, path: &str) -> std::io::Result<Response> {
    request_method(address, "GET", path)
}

/// `method path` on `address` with `Connection: close` (and an empty body for POST), as
/// [`request`].
pub fn request_method(address: &str, method: &str, path: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let length = if method == "POST" {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{length}Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header block in {text:?}")))?;
    let (status, headers) = parse_head(head).unwrap_or_else(|| panic!("bad status line {head}"));
    Ok(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// The status and headers of a response's header block; `None` when it is not HTTP/1.x.
pub fn parse_head(head: &str) -> Option<(u16, Vec<(String, String)>)> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    if !status_line.starts_with("HTTP/1.") {
        return None;
    }
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Some((status, headers))
}
