//! HTTP basic authentication against the web config's bcrypt hashes, with a short-lived
//! cache of successful checks so that scrapes do not pay bcrypt's cost every time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper::header::HeaderValue;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::Semaphore;

/// How long a verified user and password pair is accepted without running bcrypt again.
/// A scrape every 15 s then costs one bcrypt a minute instead of four.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// Most cached pairs; beyond it the cache is emptied (a handful of scrapers is normal).
const CACHE_MAX_ENTRIES: usize = 128;

/// The value of `WWW-Authenticate` on a 401.
pub const CHALLENGE: &str = "Basic realm=\"sales_exporter\", charset=\"UTF-8\"";

/// Checks `Authorization: Basic` credentials.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    /// A hash of a random password, checked for unknown users so that their answer takes
    /// as long as a wrong password's.
    decoy: String,
    /// Random per process: cache keys are digests of it and the credentials, so the
    /// cache holds no password.
    salt: [u8; 32],
    cache: Mutex<HashMap<Vec<u8>, Instant>>,
    /// Bounds the bcrypt checks running at once, so wrong passwords cannot take every core.
    bcrypt_slots: Semaphore,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// An authenticator for `users` (name to bcrypt hash, already validated).
    pub fn new(users: BTreeMap<String, String>) -> BasicAuth {
        let random = SystemRandom::new();
        let mut salt = [0u8; 32];
        // Without the OS generator the salt stays zero: keys are still digests.
        let _ = random.fill(&mut salt);
        let cost = (users.values())
            .filter_map(|hash| hash.parse::<bcrypt::HashParts>().ok())
            .map(|parts| parts.get_cost())
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST);
        let decoy = bcrypt::hash(salt, cost).unwrap_or_default();
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        BasicAuth {
            users,
            decoy,
            salt,
            cache: Mutex::default(),
            bcrypt_slots: Semaphore::new(slots),
        }
    }

    /// Whether `header` (the request's `Authorization`) names a user and their password.
    pub async fn allows(&self, header: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = header.and_then(credentials) else {
            return false;
        };
        let (known, hash) = match self.users.get(&user) {
            Some(hash) => (true, hash.clone()),
            None => (false, self.decoy.clone()),
        };
        let key = self.cache_key(&user, &password, &hash);
        if known && self.cached(&key) {
            return true;
        }

        let Ok(_slot) = self.bcrypt_slots.acquire().await else {
            return false;
        };
        let verified = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false);
        if known && verified {
            self.remember(key);
        }
        known && verified
    }

    fn cache_key(&self, user: &str, password: &str, hash: &str) -> Vec<u8> {
        let mut context = digest::Context::new(&digest::SHA256);
        for part in [
            &self.salt[..],
            user.as_bytes(),
            password.as_bytes(),
            hash.as_bytes(),
        ] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        context.finish().as_ref().to_vec()
    }

    fn cached(&self, key: &[u8]) -> bool {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).is_some_and(|at| at.elapsed() < CACHE_TTL)
    }

    fn remember(&self, key: Vec<u8>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, at| at.elapsed() < CACHE_TTL);
        if cache.len() >= CACHE_MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, Instant::now());
    }
}

/// The user and password of a `Basic` authorization header.
fn credentials(header: &HeaderValue) -> Option<(String, String)> {
    let value = header.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, password: &str) -> HeaderValue {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("a header value")
    }

    fn auth() -> BasicAuth {
        let hash = bcrypt::hash("s3cret", 4).expect("a hash");
        BasicAuth::new(BTreeMap::from([("alice".to_owned(), hash)]))
    }

    /// The right password passes, and a second check is served from the cache.
    #[tokio::test]
    async fn right_password_passes_and_is_cached() {
        let auth = auth();
        assert!(auth.allows(Some(&header("alice", "s3cret"))).await);
        assert_eq!(auth.cache.lock().expect("cache").len(), 1);
        assert!(auth.allows(Some(&header("alice", "s3cret"))).await);
    }

    /// A wrong password, an unknown user, another scheme and no header are all refused.
    #[tokio::test]
    async fn wrong_credentials_fail() {
        let auth = auth();
        assert!(!auth.allows(Some(&header("alice", "guess"))).await);
        assert!(!auth.allows(Some(&header("bob", "s3cret"))).await);
        let bearer = HeaderValue::from_static("Bearer abc");
        assert!(!auth.allows(Some(&bearer)).await);
        assert!(!auth.allows(None).await);
        assert!(auth.cache.lock().expect("cache").is_empty());
    }

    /// Hashes from `htpasswd -B` (`$2y$`) are accepted like bcrypt's own `$2b$`.
    #[tokio::test]
    async fn htpasswd_hashes_work() {
        let hash = bcrypt::hash_with_result("s3cret", 4)
            .expect("a hash")
            .format_for_version(bcrypt::Version::TwoY);
        assert!(hash.starts_with("$2y$04$"), "{hash}");
        let auth = BasicAuth::new(BTreeMap::from([("alice".to_owned(), hash)]));
        assert!(auth.allows(Some(&header("alice", "s3cret"))).await);
    }

    /// A password may contain `:`; only the first one separates the user.
    #[test]
    fn password_keeps_its_colons() {
        let parsed = credentials(&header("alice", "a:b")).expect("parsed");
        assert_eq!(parsed, ("alice".to_owned(), "a:b".to_owned()));
    }
}
