//! Helpers of the endpoint tests, on top of `common::server`'s exporter process: a tiny
//! HTTP/1.1 client over plain TCP or rustls, and a throwaway CA made with rcgen.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::common::server::{self, Server, DEADLINE};

/// Starts the exporter on `config` with `extra` flags and waits until it accepts.
pub fn start(dir: &Path, config: &str, extra: &[&str]) -> Server {
    Server::serving(dir, config, extra, "info")
}

/// Runs the exporter with `args` and waits for it to exit, killing it at the deadline.
pub fn run_until_exit(dir: &Path, args: &[&str]) -> (ExitStatus, String) {
    let log = dir.join("exit.log");
    let stderr = std::fs::File::create(&log).expect("the log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sales_exporter"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("the exporter starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("the exporter kept running with {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&log).expect("the log"))
}

/// One HTTP response as read off the wire, its body as bytes (gzip, or nothing at all).
pub type Response = server::Response<Vec<u8>>;

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parses raw response bytes; `None` when they are not an HTTP response.
pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let (status, headers) = server::parse_head(head)?;
    Some(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// How to reach the exporter: plain TCP or TLS, with or without credentials.
#[derive(Clone, Default)]
pub struct Client {
    /// TLS settings; plain HTTP when `None`.
    pub tls: Option<Arc<ClientConfig>>,
    /// `user:password` sent with basic auth.
    pub credentials: Option<String>,
}

impl Client {
    /// Sends `GET path` with `headers` and `Connection: close`; reads the whole answer.
    pub fn get(&self, exporter: &Server, path: &str, headers: &[&str]) -> Response {
        let raw = self.exchange(exporter, path, headers).expect("an exchange");
        parse_response(&raw).unwrap_or_else(|| panic!("not HTTP: {:?}", raw))
    }

    /// As [`Client::get`] but returns the raw bytes, or the I/O error (a refused
    /// handshake shows here).
    pub fn exchange(
        &self,
        exporter: &Server,
        path: &str,
        headers: &[&str],
    ) -> std::io::Result<Vec<u8>> {
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if let Some(credentials) = &self.credentials {
            request.push_str(&format!("Authorization: Basic {}\r\n", base64(credentials)));
        }
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        let stream = TcpStream::connect(&exporter.address)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut raw = Vec::new();
        match &self.tls {
            None => {
                let mut stream = stream;
                stream.write_all(request.as_bytes())?;
                stream.read_to_end(&mut raw)?;
            }
            Some(config) => {
                let mut stream = tls_stream(config, stream);
                stream.write_all(request.as_bytes())?;
                stream.read_to_end(&mut raw)?;
            }
        }
        Ok(raw)
    }

    /// Polls `/metrics` until it holds indicators, or fails at the deadline.
    pub fn wait_ready(&self, exporter: &Server) -> Response {
        let started = Instant::now();
        loop {
            let response = self.get(exporter, "/metrics", &[]);
            if response.status == 200 && response.text().contains("\nsales_company_revenue{") {
                return response;
            }
            assert!(started.elapsed() < DEADLINE, "never ready: {response:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A rustls client stream to `localhost` over `stream`.
pub fn tls_stream(
    config: &Arc<ClientConfig>,
    stream: TcpStream,
) -> StreamOwned<ClientConnection, TcpStream> {
    let name = ServerName::try_from("localhost").expect("a server name");
    let connection = ClientConnection::new(Arc::clone(config), name).expect("a TLS client");
    StreamOwned::new(connection, stream)
}

/// Completes a TLS handshake and returns the certificate the server presented.
pub fn handshake_certificate(
    config: &Arc<ClientConfig>,
    exporter: &Server,
) -> std::io::Result<Vec<u8>> {
    let stream = TcpStream::connect(&exporter.address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = tls_stream(config, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    let chain = tls.conn.peer_certificates().expect("a server certificate");
    Ok(chain[0].to_vec())
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A throwaway certificate authority.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM.
    pub pem: String,
}

/// A certificate and its key, PEM, and the certificate's DER.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("a CA key");
        let cert = params.self_signed(&key).expect("the CA certificate");
        TestCa {
            issuer: Issuer::new(params, key),
            pem: cert.pem(),
        }
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server(&self) -> Leaf {
        self.leaf(
            &["localhost", "127.0.0.1"],
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate named `name`.
    pub fn client(&self, name: &str) -> Leaf {
        self.leaf(&[name], rcgen::ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("a leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("a leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// A client configuration trusting only this CA, optionally presenting `identity`.
    pub fn client_config(&self, identity: Option<&Leaf>) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(self.pem.as_bytes()).expect("CA PEM");
        roots.add(ca).expect("the CA is a usable root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("default versions")
            .with_root_certificates(roots);
        let config = match identity {
            None => builder.with_no_client_auth(),
            Some(leaf) => {
                let chain = vec![CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes())
                    .expect("client cert PEM")];
                let key =
                    PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).expect("client key PEM");
                builder
                    .with_client_auth_cert(chain, key)
                    .expect("a client identity")
            }
        };
        Arc::new(config)
    }
}

/// Writes `leaf` as `server.crt` and `server.key` in `dir`, each replaced atomically.
pub fn install(dir: &Path, leaf: &Leaf) {
    for (name, text) in [
        ("server.crt", &leaf.cert_pem),
        ("server.key", &leaf.key_pem),
    ] {
        let staging = dir.join(format!("{name}.new"));
        std::fs::write(&staging, text).expect("write the new file");
        std::fs::rename(&staging, dir.join(name)).expect("install the new file");
    }
}
