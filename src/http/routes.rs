//! The answers: authentication, refusal of request bodies, routing by path and method, and
//! each endpoint's response from the published snapshot.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, ALLOW, AUTHORIZATION, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH,
    CONTENT_TYPE, TRANSFER_ENCODING, VARY, WWW_AUTHENTICATE,
};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::auth::{BasicAuth, CHALLENGE};
use super::gzip::{self, GzipCache};
use super::Web;
use crate::refresh::SharedPublished;

/// The content type of the Prometheus text exposition format. The `prometheus` crate
/// renders no other text format, so OpenMetrics requests get this one too.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A response as the endpoints build it: the whole body in memory.
pub type Reply = Response<Full<Bytes>>;

/// Answers requests; shared by every connection.
pub struct Handler {
    published: SharedPublished,
    auth: Option<BasicAuth>,
    headers: Vec<(HeaderName, HeaderValue)>,
    gzip: GzipCache,
}

impl Handler {
    /// A handler reading `published`, protected as `web` says.
    pub fn new(published: SharedPublished, web: Web) -> Handler {
        Handler {
            published,
            auth: web.auth,
            headers: web.headers,
            gzip: GzipCache::default(),
        }
    }

    /// Answers one request. The body is never read: a request that declares one is
    /// refused, and the connection closed.
    pub async fn handle(&self, request: Request<Incoming>) -> Reply {
        let mut response = self.answer(&request).await;
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }

    async fn answer(&self, request: &Request<Incoming>) -> Reply {
        if let Some(auth) = &self.auth {
            if !auth.allows(request.headers().get(AUTHORIZATION)).await {
                let mut response = text(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized: send the user and password configured in basic_auth_users\n",
                );
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
                return response;
            }
        }
        self.route(request.method(), request.uri().path(), request.headers())
    }

    fn route(&self, method: &Method, path: &str, headers: &HeaderMap) -> Reply {
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
        if has_body(headers) {
            let mut response = text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request bodies are not accepted; send GET without a body\n",
            );
            // The body stays unread, so the connection cannot carry another request.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        let published = self
            .published
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match path {
            "/metrics" => {
                let exposition = published.exposition.clone();
                drop(published);
                self.metrics(exposition, headers)
            }
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

    fn metrics(&self, exposition: Bytes, headers: &HeaderMap) -> Reply {
        let gzipped = gzip::accepted(headers)
            .then(|| self.gzip.compress(&exposition))
            .flatten();
        let mut response = with_type(
            StatusCode::OK,
            gzipped.clone().unwrap_or(exposition),
            METRICS_CONTENT_TYPE,
        );
        let response_headers = response.headers_mut();
        response_headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        if gzipped.is_some() {
            response_headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }
}

/// Whether the request declares a body: a non-zero length, or any transfer coding.
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers.get(CONTENT_LENGTH).map(|v| v.as_bytes() != b"0");
    length.unwrap_or(false) || headers.contains_key(TRANSFER_ENCODING)
}

fn text(status: StatusCode, body: &'static str) -> Reply {
    with_type(
        status,
        Bytes::from_static(body.as_bytes()),
        "text/plain; charset=utf-8",
    )
}

fn with_type(status: StatusCode, body: Bytes, content_type: &'static str) -> Reply {
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
