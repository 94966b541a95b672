//! The `--web.config.file`: the Prometheus exporter-toolkit web configuration (YAML), read
//! as it is and validated into TLS, basic auth and response-header settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hyper::header::{HeaderName, HeaderValue};
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};
use serde::Deserialize;

use crate::config::ConfigError;

/// The file as written: every key exporter-toolkit knows, so that a key we do not
/// implement is refused by name instead of being ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebConfigFile {
    tls_server_config: Option<TlsServerFile>,
    http_server_config: Option<HttpServerFile>,
    basic_auth_users: Option<BTreeMap<String, String>>,
    rate_limit: Option<serde_norway::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsServerFile {
    cert_file: Option<String>,
    key_file: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
    cert: Option<serde_norway::Value>,
    key: Option<serde_norway::Value>,
    client_ca: Option<serde_norway::Value>,
    client_allowed_sans: Option<serde_norway::Value>,
    curve_preferences: Option<serde_norway::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpServerFile {
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// Validated endpoint security settings; the default is plain HTTP without auth.
#[derive(Debug, Default)]
pub struct WebConfig {
    /// The web config file, for messages; `None` when no file was given.
    pub path: Option<PathBuf>,
    /// TLS, when `tls_server_config` names a certificate.
    pub tls: Option<TlsSettings>,
    /// Users and their bcrypt hashes; empty means no authentication.
    pub users: BTreeMap<String, String>,
    /// Headers added to every response (`http_server_config.headers`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Validated `tls_server_config`, with paths resolved against the file's folder.
#[derive(Debug)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first; re-read when it changes.
    pub cert_file: PathBuf,
    /// PEM private key of the leaf; re-read when it changes.
    pub key_file: PathBuf,
    /// Whether clients must present a certificate signed by `client_ca_file`.
    pub client_auth: ClientAuth,
    /// PEM CA bundle that client certificates are verified against.
    pub client_ca_file: Option<PathBuf>,
    /// The protocol versions from `min_version` to `max_version`.
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// TLS 1.2 suites allowed, when `cipher_suites` restricts them (TLS 1.3 suites are
    /// always enabled, as in Go).
    pub tls12_suites: Option<Vec<SupportedCipherSuite>>,
    /// Whether the server's suite order wins over the client's.
    pub prefer_server_cipher_suites: bool,
}

/// The `client_auth_type` values the exporter implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `NoClientCert` (the default): no client certificate is asked for.
    None,
    /// `VerifyClientCertIfGiven`: a certificate is optional but verified when sent.
    VerifyIfGiven,
    /// `RequireAndVerifyClientCert`: a certificate signed by the client CA is required.
    RequireAndVerify,
}

/// Response headers exporter-toolkit allows in `http_server_config.headers`.
const ALLOWED_HEADERS: [&str; 5] = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
];

impl WebConfig {
    /// Reads and validates the web config file at `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not YAML of the expected shape (the message names the
    /// unknown key), or sets a value or key the exporter does not support.
    pub fn from_file(path: &Path) -> Result<WebConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        WebConfig::from_yaml(&text, path)
    }

    /// Validates web config text; relative file paths are taken from `path`'s folder, as
    /// exporter-toolkit does.
    ///
    /// # Errors
    ///
    /// As [`WebConfig::from_file`], without the read error.
    pub fn from_yaml(text: &str, path: &Path) -> Result<WebConfig, ConfigError> {
        let file: Option<WebConfigFile> =
            serde_norway::from_str(text).map_err(|err| ConfigError::Parse {
                path: path.to_owned(),
                message: err.to_string(),
            })?;
        let check = Checker { path };
        let file = file.unwrap_or_default();
        if file.rate_limit.is_some() {
            return Err(check.unsupported("rate_limit", "limit request rates in a proxy"));
        }
        let tls = match file.tls_server_config {
            Some(tls) => check.tls(tls)?,
            None => None,
        };
        let users = file.basic_auth_users.unwrap_or_default();
        for (user, hash) in &users {
            check.user(user, hash)?;
        }
        let headers = match file.http_server_config {
            Some(http) => check.headers(http)?,
            None => Vec::new(),
        };
        Ok(WebConfig {
            path: Some(path.to_owned()),
            tls,
            users,
            headers,
        })
    }
}

struct Checker<'a> {
    path: &'a Path,
}

impl Checker<'_> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn unsupported(&self, key: &str, instead: &str) -> ConfigError {
        self.invalid(
            key,
            format!("is not supported by sales_exporter; remove it ({instead})"),
        )
    }

    fn file(&self, name: &str) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        dir.join(name)
    }

    fn tls(&self, tls: TlsServerFile) -> Result<Option<TlsSettings>, ConfigError> {
        let unsupported = [
            ("cert", tls.cert.is_some(), "use cert_file"),
            ("key", tls.key.is_some(), "use key_file"),
            ("client_ca", tls.client_ca.is_some(), "use client_ca_file"),
            (
                "client_allowed_sans",
                tls.client_allowed_sans.is_some(),
                "issue client certificates from a CA of their own",
            ),
            (
                "curve_preferences",
                tls.curve_preferences.is_some(),
                "the rustls defaults X25519, P-256 and P-384 apply",
            ),
        ];
        if let Some((key, _, instead)) = unsupported.iter().find(|(_, set, _)| *set) {
            return Err(self.unsupported(&format!("tls_server_config.{key}"), instead));
        }
        let (cert_file, key_file) = match (tls.cert_file, tls.key_file) {
            (Some(cert), Some(key)) => (self.file(&cert), self.file(&key)),
            (None, None) if tls.client_ca_file.is_none() && tls.client_auth_type.is_none() => {
                return Ok(None)
            }
            (None, _) => {
                return Err(self.invalid(
                    "tls_server_config.cert_file",
                    "is missing; TLS needs both cert_file and key_file",
                ))
            }
            (_, None) => {
                return Err(self.invalid(
                    "tls_server_config.key_file",
                    "is missing; TLS needs both cert_file and key_file",
                ))
            }
        };
        let client_auth = self.client_auth(tls.client_auth_type.as_deref())?;
        let client_ca_file = tls.client_ca_file.map(|ca| self.file(&ca));
        match (client_auth, &client_ca_file) {
            (ClientAuth::None, Some(_)) => {
                return Err(self.invalid(
                    "tls_server_config.client_ca_file",
                    "is set but client_auth_type is NoClientCert; \
                     set client_auth_type: RequireAndVerifyClientCert",
                ))
            }
            (ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify, None) => {
                return Err(self.invalid(
                    "tls_server_config.client_ca_file",
                    "is missing; verifying client certificates needs the CA that signs them",
                ))
            }
            _ => {}
        }
        Ok(Some(TlsSettings {
            cert_file,
            key_file,
            client_auth,
            client_ca_file,
            versions: self.versions(tls.min_version.as_deref(), tls.max_version.as_deref())?,
            tls12_suites: match tls.cipher_suites {
                Some(names) => Some(self.cipher_suites(&names)?),
                None => None,
            },
            prefer_server_cipher_suites: tls.prefer_server_cipher_suites.unwrap_or(false),
        }))
    }

    fn client_auth(&self, value: Option<&str>) -> Result<ClientAuth, ConfigError> {
        match value {
            None | Some("" | "NoClientCert") => Ok(ClientAuth::None),
            Some("VerifyClientCertIfGiven") => Ok(ClientAuth::VerifyIfGiven),
            Some("RequireAndVerifyClientCert") => Ok(ClientAuth::RequireAndVerify),
            Some(other @ ("RequestClientCert" | "RequireAnyClientCert" | "RequireClientCert")) => {
                Err(self.invalid(
                    "tls_server_config.client_auth_type",
                    format!(
                        "{other} accepts unverified client certificates, which sales_exporter \
                         does not support; use RequireAndVerifyClientCert or \
                         VerifyClientCertIfGiven"
                    ),
                ))
            }
            Some(other) => Err(self.invalid(
                "tls_server_config.client_auth_type",
                format!(
                    "{other:?} is not a client auth type; use NoClientCert, \
                     VerifyClientCertIfGiven or RequireAndVerifyClientCert"
                ),
            )),
        }
    }

    fn versions(
        &self,
        min: Option<&str>,
        max: Option<&str>,
    ) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
        // Go's names; rustls speaks only 1.2 and 1.3, so a lower minimum means 1.2.
        let rank = |key: &str, name: Option<&str>, default: u8| match name {
            None | Some("") => Ok(default),
            Some("TLS10" | "TLS11" | "TLS12") if key.ends_with("min_version") => Ok(12),
            Some("TLS12") => Ok(12),
            Some("TLS13") => Ok(13),
            Some("TLS10" | "TLS11") => Err(self.invalid(
                key,
                "below TLS12 is not supported; use TLS12 or TLS13 (or remove it)",
            )),
            Some(other) => Err(self.invalid(
                key,
                format!("{other:?} is not a TLS version; use TLS12 or TLS13"),
            )),
        };
        let min = rank("tls_server_config.min_version", min, 12)?;
        let max = rank("tls_server_config.max_version", max, 13)?;
        if min > max {
            return Err(self.invalid(
                "tls_server_config.max_version",
                "is below min_version; raise it or lower min_version",
            ));
        }
        let mut versions = Vec::new();
        if min <= 13 && max >= 13 {
            versions.push(&rustls::version::TLS13);
        }
        if min <= 12 {
            versions.push(&rustls::version::TLS12);
        }
        Ok(versions)
    }

    fn cipher_suites(&self, names: &[String]) -> Result<Vec<SupportedCipherSuite>, ConfigError> {
        let provider = rustls::crypto::ring::default_provider();
        let mut chosen = Vec::new();
        for name in names {
            // Go also names the ChaCha suites without the `_SHA256` ending.
            let found = provider.cipher_suites.iter().find(|suite| {
                let iana = format!("{:?}", suite.suite());
                iana == *name || iana == format!("{name}_SHA256")
            });
            match found {
                Some(suite) if suite.tls13().is_some() => {}
                Some(suite) => chosen.push(*suite),
                None => {
                    let known: Vec<String> = (provider.cipher_suites.iter())
                        .filter(|suite| suite.tls13().is_none())
                        .map(|suite| format!("{:?}", suite.suite()))
                        .collect();
                    return Err(self.invalid(
                        "tls_server_config.cipher_suites",
                        format!(
                            "{name:?} is not a supported cipher suite; choose from {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        if chosen.is_empty() {
            return Err(self.invalid(
                "tls_server_config.cipher_suites",
                "allows no TLS 1.2 suite; list at least one or remove the key",
            ));
        }
        Ok(chosen)
    }

    fn user(&self, user: &str, hash: &str) -> Result<(), ConfigError> {
        let key = format!("basic_auth_users.{user}");
        if user.is_empty() || user.contains(':') {
            return Err(self.invalid(
                &key,
                "is not a usable user name: it must be non-empty and have no `:`",
            ));
        }
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(self.invalid(
                &key,
                "is not a bcrypt hash; make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`",
            ));
        }
        Ok(())
    }

    fn headers(&self, http: HttpServerFile) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
        // Only HTTP/1.1 is served: `http2` is accepted as toolkit files set it, and has no
        // effect on security.
        let _ = http.http2;
        let mut headers = Vec::new();
        for (name, value) in http.headers.unwrap_or_default() {
            let key = format!("http_server_config.headers.{name}");
            if !ALLOWED_HEADERS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&name))
            {
                return Err(self.invalid(
                    &key,
                    format!("is not a header that may be set; use one of {ALLOWED_HEADERS:?}"),
                ));
            }
            let parsed = (HeaderName::try_from(name.as_str()).ok())
                .zip(HeaderValue::try_from(value.as_str()).ok());
            let Some(header) = parsed else {
                return Err(self.invalid(&key, "is not a valid header value"));
            };
            headers.push(header);
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, String> {
        WebConfig::from_yaml(text, Path::new("/etc/web.yml")).map_err(|e| e.to_string())
    }

    /// A `tls_server_config` with a certificate and key, then the `extra` lines.
    fn tls(extra: &str) -> String {
        format!("tls_server_config:\n  cert_file: a\n  key_file: b\n{extra}")
    }

    /// An empty file is a valid config: plain HTTP, no users.
    #[test]
    fn empty_file_means_plain_http() {
        let config = parse("").expect("empty is valid");
        assert!(config.tls.is_none() && config.users.is_empty());
    }

    /// Relative certificate paths are resolved from the web config's folder.
    #[test]
    fn tls_paths_are_relative_to_the_file() {
        let config =
            parse("tls_server_config:\n  cert_file: a.crt\n  key_file: /k/a.key\n").expect("valid");
        let tls = config.tls.expect("tls");
        assert_eq!(tls.cert_file, Path::new("/etc/a.crt"));
        assert_eq!(tls.key_file, Path::new("/k/a.key"));
        assert_eq!(tls.versions.len(), 2);
    }

    /// An unknown key is an error naming it, with its line.
    #[test]
    fn unknown_key_is_named() {
        let err = parse("tls_server_config:\n  cert_fil: a.crt\n").expect_err("unknown");
        assert!(err.contains("/etc/web.yml"), "{err}");
        assert!(err.contains("cert_fil") && err.contains("line 2"), "{err}");
    }

    /// Keys the toolkit knows but we do not implement are refused by name.
    #[test]
    fn unsupported_keys_are_refused() {
        let err = parse(&tls("  curve_preferences: [X25519]\n")).expect_err("unsupported");
        assert!(
            err.contains("`tls_server_config.curve_preferences`"),
            "{err}"
        );
        let err = parse("rate_limit:\n  interval: 1s\n").expect_err("unsupported");
        assert!(err.contains("`rate_limit` is not supported"), "{err}");
        let err = parse(&tls("  client_auth_type: RequireAnyClientCert\n"))
            .expect_err("unverified client certs");
        assert!(err.contains("client_auth_type"), "{err}");
    }

    /// A client CA without a verifying client auth type is refused, like the toolkit does.
    #[test]
    fn client_ca_needs_a_policy() {
        let err = parse(&tls("  client_ca_file: ca\n")).expect_err("no policy");
        assert!(err.contains("client_ca_file"), "{err}");
    }

    /// Versions: a minimum below TLS 1.2 means 1.2; a maximum of 1.2 drops 1.3.
    #[test]
    fn versions_map_onto_rustls() {
        let config = parse(&tls("  min_version: TLS10\n  max_version: TLS12\n")).expect("valid");
        let versions = config.tls.expect("tls").versions;
        assert_eq!(versions, vec![&rustls::version::TLS12]);
        let err = parse(&tls("  min_version: TLS14\n")).expect_err("bad version");
        assert!(err.contains("min_version"), "{err}");
    }

    /// Go cipher-suite names select rustls TLS 1.2 suites; an unknown name is refused.
    #[test]
    fn cipher_suites_use_go_names() {
        let config = parse(&tls(
            "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305\n",
        ))
        .expect("valid");
        assert_eq!(
            config.tls.expect("tls").tls12_suites.map(|s| s.len()),
            Some(1)
        );
        let err =
            parse(&tls("  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n")).expect_err("weak suite");
        assert!(err.contains("TLS_RSA_WITH_RC4_128_SHA"), "{err}");
    }

    /// A user whose value is not a bcrypt hash is refused, naming the user.
    #[test]
    fn users_need_bcrypt_hashes() {
        let err = parse("basic_auth_users:\n  alice: secret\n").expect_err("plain text");
        assert!(err.contains("`basic_auth_users.alice`"), "{err}");
        let hash = bcrypt::hash("s3cret", 4).expect("a hash");
        let config = parse(&format!("basic_auth_users:\n  alice: {hash}\n")).expect("valid");
        assert_eq!(config.users.len(), 1);
    }

    /// Security headers are added; others are refused.
    #[test]
    fn only_security_headers_may_be_set() {
        let config =
            parse("http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n")
                .expect("valid");
        assert_eq!(config.headers.len(), 1);
        let err =
            parse("http_server_config:\n  headers:\n    Server: nope\n").expect_err("not allowed");
        assert!(err.contains("headers.Server"), "{err}");
    }
}
