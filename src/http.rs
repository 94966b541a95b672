//! The HTTP endpoints. Handlers read the latest published snapshot and nothing else:
//! - `GET /metrics`: indicators and self-metrics, in the Prometheus text format;
//! - `GET /`: a landing page with the version, the last refresh and a link to `/metrics`;
//! - `GET /-/healthy`: 200 while the process serves;
//! - `GET /-/ready`: 200 once a refresh has succeeded, 503 before.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::refresh::SharedPublished;

/// The content type of the Prometheus text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long in-flight requests may take to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the endpoints on `listener` until `shutdown` completes, then lets in-flight
/// requests finish for a bounded grace period.
pub async fn serve(
    listener: TcpListener,
    published: SharedPublished,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "Cannot accept a connection");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let published = published.clone();
        let service = service_fn(move |request| {
            let published = published.clone();
            async move { Ok::<_, Infallible>(respond(&request, &published)) }
        });
        // The header timeout needs a timer: without one hyper panics on the first request.
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(client.addr = %peer, error = %err, "Connection ended with an error");
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

/// Answers one request from the published snapshot.
pub fn respond(request: &Request<Incoming>, published: &SharedPublished) -> Response<Full<Bytes>> {
    route(request.method(), request.uri().path(), published)
}

fn route(method: &Method, path: &str, published: &SharedPublished) -> Response<Full<Bytes>> {
    let known = matches!(path, "/" | "/metrics" | "/-/healthy" | "/-/ready");
    if !known {
        return text(
            StatusCode::NOT_FOUND,
            "not found; see / for the endpoints\n",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are allowed\n",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let published = published
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match path {
        "/metrics" => with_type(
            StatusCode::OK,
            published.exposition.clone(),
            METRICS_CONTENT_TYPE,
        ),
        "/-/healthy" => text(StatusCode::OK, "healthy\n"),
        "/-/ready" if published.last_success.is_some() => text(StatusCode::OK, "ready\n"),
        "/-/ready" => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no refresh has succeeded yet\n",
        ),
        _ => {
            let last = published.last_success.map_or("never".to_owned(), |t| {
                let age = jiff::Timestamp::now().as_second() - t.as_second();
                format!("{t} ({age} s ago)")
            });
            let error = published.last_error.as_deref().map_or(String::new(), |e| {
                format!("<p>Last refresh failed: {}</p>", escape_html(e))
            });
            let page = format!(
                "<!DOCTYPE html><html><head><title>sales_exporter</title></head><body>\
                 <h1>sales_exporter {}</h1><p>Sales performance indicators for Prometheus.</p>\
                 <p>Last successful refresh: {last}</p>{error}<ul><li><a href=\"metrics\">metrics</a></li>\
                 <li><a href=\"-/healthy\">health</a></li><li><a href=\"-/ready\">readiness</a></li></ul>\
                 </body></html>\n",
                env!("CARGO_PKG_VERSION"),
            );
            with_type(
                StatusCode::OK,
                Bytes::from(page),
                "text/html; charset=utf-8",
            )
        }
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    with_type(
        status,
        Bytes::from_static(body.as_bytes()),
        "text/plain; charset=utf-8",
    )
}

fn with_type(status: StatusCode, body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
