//! TLS for the endpoints: the rustls server configuration built from the web config, and a
//! certificate resolver that re-reads the certificate and key files when they change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::web_config::{ClientAuth, TlsSettings};
use crate::config::ConfigError;

/// Builds the TLS acceptor; the certificate, key and client CA are read once here so that
/// a bad file stops the start.
///
/// # Errors
///
/// A file cannot be read or parsed, or the key does not match the certificate; the error
/// names the web config file (`path`) and the key that points at the bad file.
pub fn acceptor(settings: &TlsSettings, path: &Path) -> Result<TlsAcceptor, ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        path: path.to_owned(),
        key: format!("tls_server_config.{key}"),
        message,
    };
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(tls12) = &settings.tls12_suites {
        provider
            .cipher_suites
            .retain(|suite| suite.tls13().is_some() || tls12.contains(suite));
    }
    let provider = Arc::new(provider);

    let files = CertFiles {
        cert: settings.cert_file.clone(),
        key: settings.key_file.clone(),
    };
    let loaded = files
        .load(&provider)
        .map_err(|(key, message)| invalid(key, message))?;
    let resolver = RotatingCert {
        files,
        provider: Arc::clone(&provider),
        state: Mutex::new(loaded),
    };

    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&settings.versions)
        .map_err(|err| invalid("min_version", format!("cannot be used: {err}")))?;
    let builder = match (settings.client_auth, &settings.client_ca_file) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(ca_file)) => {
            let roots = client_roots(ca_file).map_err(|m| invalid("client_ca_file", m))?;
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = match auth {
                ClientAuth::VerifyIfGiven => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|err| invalid("client_ca_file", format!("cannot be used: {err}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.ignore_client_order = settings.prefer_server_cipher_suites;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn client_roots(ca_file: &Path) -> Result<Arc<RootCertStore>, String> {
    let certs = read_certs(ca_file)?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|err| format!("holds an unusable CA certificate ({err})"))?;
    }
    Ok(Arc::new(roots))
}

fn read_certs(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let unreadable = |err: &dyn std::fmt::Display| {
        format!(
            "cannot read certificates from {}: {err}; check the path (relative paths start \
             at the web config's folder) and that it holds PEM certificates",
            file.display()
        )
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(file)
        .map_err(|err| unreadable(&err))?
        .collect::<Result<_, _>>()
        .map_err(|err| unreadable(&err))?;
    if certs.is_empty() {
        return Err(unreadable(&"no CERTIFICATE block found"));
    }
    Ok(certs)
}

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
        })
    }
}

struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
}

/// The key in use and the stamps of the files it came from.
struct Loaded {
    stamps: (Option<FileStamp>, Option<FileStamp>),
    key: Arc<CertifiedKey>,
    /// Stamps of a version that failed to load, so it is not retried on every handshake.
    failed: Option<(Option<FileStamp>, Option<FileStamp>)>,
}

impl CertFiles {
    fn stamps(&self) -> (Option<FileStamp>, Option<FileStamp>) {
        (FileStamp::of(&self.cert), FileStamp::of(&self.key))
    }

    /// Reads both files; on failure, the web config key of the bad file and why.
    fn load(&self, provider: &CryptoProvider) -> Result<Loaded, (&'static str, String)> {
        let stamps = self.stamps();
        let chain = read_certs(&self.cert).map_err(|m| ("cert_file", m))?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|err| {
            let message = format!(
                "cannot read a private key from {}: {err}; check the path and that it holds \
                 a PEM private key",
                self.key.display()
            );
            ("key_file", message)
        })?;
        let signing = provider.key_provider.load_private_key(key).map_err(|err| {
            let message = format!("{} holds an unusable key: {err}", self.key.display());
            ("key_file", message)
        })?;
        let certified = CertifiedKey::new(chain, signing);
        certified.keys_match().map_err(|err| {
            let message = format!(
                "{} does not match the certificate in {} ({err}); install the pair together",
                self.key.display(),
                self.cert.display()
            );
            ("key_file", message)
        })?;
        Ok(Loaded {
            stamps,
            key: Arc::new(certified),
            failed: None,
        })
    }
}

/// Serves the certificate in the files, re-reading them when their modification time or
/// size changes. A broken new version is logged and the previous certificate kept.
struct RotatingCert {
    files: CertFiles,
    provider: Arc<CryptoProvider>,
    state: Mutex<Loaded>,
}

impl std::fmt::Debug for RotatingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingCert")
            .field("cert", &self.files.cert)
            .field("key", &self.files.key)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for RotatingCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // Two stat calls per handshake are cheap beside the handshake itself, and let a
        // rotated certificate be served from the next connection on.
        let stamps = self.files.stamps();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if stamps == state.stamps || Some(stamps) == state.failed {
            return Some(Arc::clone(&state.key));
        }
        match self.files.load(&self.provider) {
            Ok(loaded) if loaded.stamps == stamps => {
                tracing::info!(
                    cert_file = %self.files.cert.display(),
                    "Reloaded the TLS certificate"
                );
                *state = loaded;
            }
            // The files changed while being read: try again on the next handshake.
            Ok(_) => {}
            Err((key, message)) => {
                tracing::warn!(
                    key,
                    error = %message,
                    "Cannot reload the TLS certificate; serving the previous one"
                );
                state.failed = Some(stamps);
            }
        }
        Some(Arc::clone(&state.key))
    }
}
