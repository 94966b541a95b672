//! The HTTP endpoints, over plain HTTP or TLS, optionally behind basic auth. Handlers read
//! the latest published snapshot and nothing else:
//! - `GET /metrics`: indicators and self-metrics, in the Prometheus text format (gzip
//!   when accepted);
//! - `GET /`: a landing page with the version, the last refresh and a link to `/metrics`;
//! - `GET /-/healthy`: 200 while the process serves;
//! - `GET /-/ready`: 200 once a refresh has succeeded, 503 before.
//!
//! Every path answers HEAD like GET, 405 to other methods, 401 without valid credentials
//! when users are configured, and 413 to a request with a body.
//!
//! Layout: `routes` (the answers), `gzip`, `auth` (basic auth), `tls` (rustls and
//! certificate rotation), `web_config` (the `--web.config.file`), `idle` (idle bound).

mod auth;
mod gzip;
mod idle;
mod routes;
mod tls;
pub mod web_config;

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

pub use routes::METRICS_CONTENT_TYPE;
pub use web_config::WebConfig;

use crate::config::ConfigError;
use crate::refresh::SharedPublished;

/// How long in-flight requests may take to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a client may take to send a request's headers, from its first byte.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may move no byte either way: a silent keep-alive connection, or
/// a client that stops reading its response. Above the usual scrape intervals (15 s to
/// 1 min), so Prometheus keeps reusing its connection.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Most connections served at once; further clients wait in the kernel's listen backlog.
/// Prometheus holds one or two per target, and the load script's 64 fit easily; the bound
/// keeps a flood of idle connections from exhausting file descriptors and memory.
const MAX_CONNECTIONS: usize = 512;

/// The largest request head (request line and headers) read; beyond it the answer is 431.
/// A scrape's head is a few hundred bytes. hyper's floor for this setting is 8 KiB.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How the endpoints are protected: TLS, basic auth and extra response headers, from the
/// web config file. The default serves plain HTTP to anyone.
#[derive(Default)]
pub struct Web {
    tls: Option<TlsAcceptor>,
    auth: Option<auth::BasicAuth>,
    headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    path: Option<std::path::PathBuf>,
}

impl Web {
    /// Reads the web config file at `path` and prepares TLS and auth; `None` serves plain
    /// HTTP without auth.
    ///
    /// # Errors
    ///
    /// The file is invalid (see [`WebConfig::from_file`]) or a certificate, key or CA file
    /// it names cannot be used.
    pub fn load(path: Option<&Path>) -> Result<Web, ConfigError> {
        let Some(path) = path else {
            return Ok(Web::default());
        };
        let config = WebConfig::from_file(path)?;
        let tls = match &config.tls {
            Some(settings) => Some(tls::acceptor(settings, path)?),
            None => None,
        };
        let auth = (!config.users.is_empty()).then(|| auth::BasicAuth::new(config.users));
        Ok(Web {
            tls,
            auth,
            headers: config.headers,
            path: config.path,
        })
    }
}

/// Serves the endpoints on `listener` until `shutdown` completes, then lets in-flight
/// requests finish for a bounded grace period.
pub async fn serve(
    listener: TcpListener,
    published: SharedPublished,
    web: Web,
    shutdown: impl Future<Output = ()>,
) {
    tracing::info!(
        tls = web.tls.is_some(),
        basic_auth = web.auth.is_some(),
        web_config = web.path.as_ref().map(|p| p.display().to_string()),
        "Endpoint security"
    );
    let tls = web.tls.clone();
    let handler = Arc::new(routes::Handler::new(published, web));
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, typically: pause rather than spin.
                    tracing::warn!(error = %err, "Cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let stream = idle::IdleTimeout::new(stream, IDLE_TIMEOUT);

        let handler = Arc::clone(&handler);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let result = match tls {
                None => serve_connection(stream, handler, watcher).await,
                Some(acceptor) => {
                    let accepted = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, async {
                        refuse_plain_http(&stream).await?;
                        acceptor.accept(stream).await
                    })
                    .await;
                    match accepted {
                        Ok(Ok(stream)) => serve_connection(stream, handler, watcher).await,
                        Ok(Err(err)) => {
                            tracing::debug!(
                                client.addr = %peer,
                                error = %err,
                                "TLS handshake failed"
                            );
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(client.addr = %peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(err) = result {
                tracing::debug!(
                    client.addr = %peer,
                    error = %err,
                    "Connection ended with an error"
                );
            }
        });
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "Requests still running after the grace period"
        );
    }
}

/// Serves one HTTP/1.1 connection over `stream`, with the head size and timeout bounds,
/// until it closes or the graceful shutdown ends it.
async fn serve_connection<S>(
    stream: S,
    handler: Arc<routes::Handler>,
    watcher: Watcher,
) -> Result<(), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, Infallible>(handler.handle(request).await) }
    });
    // The header timeout needs a timer: without one hyper panics on the first request.
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service);
    watcher.watch(connection).await
}

/// The answer to a plain HTTP request on the TLS port, so that a scrape configured with
/// `scheme: http` fails with a reason instead of a reset.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
    Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 56\r\n\r\n\
    this endpoint serves HTTPS; scrape it with scheme https\n";

/// Fails the connection, after answering 400, when its first byte cannot start a TLS
/// handshake (a handshake record begins with 22) but is a letter, as HTTP methods are.
async fn refuse_plain_http(stream: &idle::IdleTimeout<TcpStream>) -> std::io::Result<()> {
    let mut first = [0u8; 1];
    stream.inner().peek(&mut first).await?;
    if !first[0].is_ascii_uppercase() {
        return Ok(());
    }
    // Read what was sent, so that closing sends a FIN the client can read the answer
    // before, not a reset.
    let mut scratch = vec![0u8; MAX_HEAD_BYTES];
    let _ = stream.inner().try_read(&mut scratch);
    let _ = stream.inner().try_write(PLAIN_HTTP_ANSWER);
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "plain HTTP on the TLS port",
    ))
}
