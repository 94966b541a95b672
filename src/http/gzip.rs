//! gzip for `/metrics`: negotiation of `Accept-Encoding`, and a cache that compresses each
//! published exposition once however many scrapers ask for it.

use std::io::Write;
use std::sync::Mutex;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use hyper::header::ACCEPT_ENCODING;
use hyper::HeaderMap;

/// Whether the request accepts a gzip-encoded response (`gzip` or `x-gzip` with a
/// non-zero quality).
pub fn accepted(headers: &HeaderMap) -> bool {
    let items = (headers.get_all(ACCEPT_ENCODING).iter())
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    items.into_iter().any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let gzip = coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip");
        let refused = parts.any(|p| {
            let quality = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="));
            quality.and_then(|q| q.parse::<f32>().ok()) == Some(0.0)
        });
        gzip && !refused
    })
}

/// The gzip form of the latest exposition. The source `Bytes` is kept with it: while it
/// is held its buffer cannot be freed and reused, so an equal pointer and length mean the
/// very same (immutable) exposition.
#[derive(Debug, Default)]
pub struct GzipCache {
    last: Mutex<Option<(Bytes, Bytes)>>,
}

impl GzipCache {
    /// `exposition` compressed, from the cache when it was compressed before; `None` if
    /// compression failed (the caller then sends it uncompressed).
    pub fn compress(&self, exposition: &Bytes) -> Option<Bytes> {
        // Held while compressing: scrapes arriving together after a refresh wait for
        // one compression instead of each doing their own.
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((source, gzip)) = last.as_ref() {
            if source.as_ptr() == exposition.as_ptr() && source.len() == exposition.len() {
                return Some(gzip.clone());
            }
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        let gzip = match encoder
            .write_all(exposition)
            .and_then(|()| encoder.finish())
        {
            Ok(gzip) => Bytes::from(gzip),
            Err(err) => {
                tracing::warn!(error = %err, "Cannot gzip the exposition; sending it plain");
                return None;
            }
        };
        *last = Some((exposition.clone(), gzip.clone()));
        Some(gzip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use std::io::Read;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    /// gzip is accepted by name or `x-gzip`, not with q=0, not when absent.
    #[test]
    fn negotiation() {
        assert!(accepted(&with("gzip")));
        assert!(accepted(&with("deflate, GZIP;q=0.5")));
        assert!(accepted(&with("x-gzip")));
        assert!(!accepted(&with("gzip;q=0")));
        assert!(!accepted(&with("br, identity")));
        assert!(!accepted(&HeaderMap::new()));
    }

    /// The same exposition is compressed once; a new one is compressed again; both decode.
    #[test]
    fn compresses_each_exposition_once() {
        let cache = GzipCache::default();
        let first = Bytes::from("a 1\n".repeat(100));
        let gzip = cache.compress(&first).expect("gzip");
        let again = cache.compress(&first.clone()).expect("gzip");
        assert_eq!(gzip.as_ptr(), again.as_ptr(), "served from the cache");

        let second = Bytes::from("a 2\n".repeat(100));
        let other = cache.compress(&second).expect("gzip");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&other[..])
            .read_to_string(&mut text)
            .expect("valid gzip");
        assert_eq!(text.as_bytes(), &second[..]);
    }
}
