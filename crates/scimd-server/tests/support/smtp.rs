//! A test SMTP server on loopback: it speaks enough SMTP (EHLO, STARTTLS, AUTH PLAIN and
//! LOGIN, MAIL, RCPT, DATA, QUIT) to receive what scimd sends, and keeps each message with
//! the credentials it came with and whether it came over TLS, so tests read an email as its
//! recipient would and see how it travelled.
//!
//! Three modes ([`Mode`]): plain SMTP ([`start`], what most tests want), STARTTLS (AUTH is
//! offered and accepted only after the upgrade, as a real submission server does, so a
//! client that stays in clear cannot authenticate), and TLS from the first byte. The
//! certificates come from [`TestCa`], made in the test with rcgen: nothing is committed, so
//! nothing expires or leaks.
#![allow(dead_code)] // not every test binary uses every helper

use std::sync::{Arc, Mutex};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// One message received.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The user and password it authenticated with.
    pub auth: Option<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body).
    pub raw: String,
    /// Whether the session was under TLS when the message was sent (after STARTTLS, or
    /// implicit TLS).
    pub tls: bool,
}

impl Received {
    /// The body decoded from quoted-printable (soft line breaks joined, `=XX` decoded).
    pub fn text(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let joined = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// How the sink protects its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Plain SMTP; AUTH offered in clear (lettre only does that to a loopback relay).
    #[default]
    Plain,
    /// Plain until `STARTTLS` (offered in the EHLO reply); AUTH offered and accepted only
    /// after the upgrade.
    Starttls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

/// How to start a sink: [`start`] is `Options::default()` (plain, any credentials).
#[derive(Default, Clone)]
pub struct Options {
    pub mode: Mode,
    /// The server's certificate and key ([`TestCa::server_tls`]); needed for the TLS modes.
    pub tls: Option<Arc<ServerConfig>>,
    /// The only user and password accepted; `None` accepts any (and then MAIL does not
    /// require AUTH). With a login, a wrong one gets `535` and MAIL before AUTH gets `530`.
    pub login: Option<(String, String)>,
}

pub struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

/// A certificate authority made for one test (ECDSA P-256 on ring), and the server
/// certificates it signs.
pub struct TestCa {
    /// Its certificate, as an operator would give it in `[email] ca_file`.
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa { pem, issuer: Issuer::new(params, key) }
    }

    /// A server certificate for `127.0.0.1` and `localhost` signed by this CA, ready for
    /// [`Options::tls`]. The chain holds the leaf only: the client is given the CA.
    pub fn server_tls(&self) -> Arc<ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "scimd test SMTP server");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        // The provider named, not the process default: scimd's dependencies build rustls
        // with ring only, and a default picked at run time could differ between binaries.
        let config =
            ServerConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.der().clone()], key)
                .unwrap();
        Arc::new(config)
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// A plain SMTP sink accepting any credentials.
pub async fn start() -> Sink {
    start_with(Options::default()).await
}

pub async fn start_with(options: Options) -> Sink {
    assert!(
        options.mode == Mode::Plain || options.tls.is_some(),
        "a TLS mode needs a server certificate (Options::tls)"
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let kept = received.clone();
    let options = Arc::new(options);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, options.clone(), kept.clone()));
        }
    });
    Sink { port, received }
}

/// One connection: the handshake where the mode wants it, then the conversation.
async fn serve(stream: TcpStream, options: Arc<Options>, kept: Arc<Mutex<Vec<Received>>>) {
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    match (options.mode, acceptor) {
        (Mode::Implicit, Some(acceptor)) => {
            // A client that does not trust the certificate aborts the handshake: nothing
            // more to do with this connection.
            if let Ok(tls) = acceptor.accept(stream).await {
                converse(tls, true, &options, &kept).await;
            }
        }
        (Mode::Starttls, Some(acceptor)) => {
            if let Some(plain) = converse(stream, false, &options, &kept).await
                && let Ok(tls) = acceptor.accept(plain).await
            {
                converse(tls, true, &options, &kept).await;
            }
        }
        _ => {
            converse(stream, false, &options, &kept).await;
        }
    }
}

async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Option<String> {
    let mut line = String::new();
    match r.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
    }
}

/// The SMTP conversation on one stream. Returns the stream when the client asked for
/// STARTTLS (the caller does the handshake and converses again, from a clean state as
/// RFC 3207 says), `None` when the session is over.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    tls: bool,
    options: &Options,
    kept: &Mutex<Vec<Received>>,
) -> Option<S> {
    let mut io = BufReader::new(stream);
    let mut m = Received { tls, ..Received::default() };
    // After STARTTLS the client speaks first (EHLO again): no greeting then.
    let upgraded = tls && options.mode == Mode::Starttls;
    if !upgraded {
        send(&mut io, b"220 sink ESMTP\r\n").await?;
    }
    let auth_offered = tls || options.mode == Mode::Plain;
    while let Some(line) = read_line(&mut io).await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            if auth_offered { b"250-sink\r\n250 AUTH PLAIN LOGIN\r\n" } else { b"250-sink\r\n250 STARTTLS\r\n" }
        } else if upper == "STARTTLS" && options.mode == Mode::Starttls && !tls {
            send(&mut io, b"220 2.0.0 ready to start TLS\r\n").await?;
            // Anything the client sent after STARTTLS and before the handshake would be
            // plaintext smuggled into the TLS session (CVE-2011-0411): drop the connection.
            if !io.buffer().is_empty() {
                return None;
            }
            return Some(io.into_inner());
        } else if upper.starts_with("AUTH") && !auth_offered {
            b"530 5.7.0 must issue a STARTTLS command first\r\n"
        } else if let Some(rest) = line.strip_prefix("AUTH PLAIN") {
            let creds = if rest.trim().is_empty() {
                send(&mut io, b"334 \r\n").await?;
                b64(&read_line(&mut io).await.unwrap_or_default())
            } else {
                b64(rest)
            };
            let parts: Vec<&str> = creds.split('\0').collect();
            let given = (parts.get(1).unwrap_or(&"").to_string(), parts.get(2).unwrap_or(&"").to_string());
            authenticate(&mut m, given, options)
        } else if upper.starts_with("AUTH LOGIN") {
            send(&mut io, b"334 VXNlcm5hbWU6\r\n").await?;
            let user = b64(&read_line(&mut io).await.unwrap_or_default());
            send(&mut io, b"334 UGFzc3dvcmQ6\r\n").await?;
            let pass = b64(&read_line(&mut io).await.unwrap_or_default());
            authenticate(&mut m, (user, pass), options)
        } else if upper.starts_with("MAIL FROM:") {
            if options.login.is_some() && m.auth.is_none() {
                b"530 5.7.0 authentication required\r\n"
            } else {
                m.from = line[10..].trim().trim_matches(['<', '>']).to_string();
                b"250 ok\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            m.to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 ok\r\n"
        } else if upper == "DATA" {
            send(&mut io, b"354 go on\r\n").await?;
            let mut raw = String::new();
            while let Some(l) = read_line(&mut io).await {
                if l == "." {
                    break;
                }
                raw.push_str(l.strip_prefix('.').unwrap_or(&l));
                raw.push_str("\r\n");
            }
            m.raw = raw;
            // The next message on this session keeps its authentication and TLS.
            let next = Received { auth: m.auth.clone(), tls, ..Received::default() };
            kept.lock().unwrap().push(std::mem::replace(&mut m, next));
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            let _ = send(&mut io, b"221 bye\r\n").await;
            // A TLS session ends with close_notify, as a real server's does.
            let _ = io.shutdown().await;
            return None;
        } else {
            b"250 ok\r\n"
        };
        send(&mut io, reply).await?;
    }
    None
}

/// Checks the credentials against [`Options::login`] and keeps them when accepted.
fn authenticate(m: &mut Received, given: (String, String), options: &Options) -> &'static [u8] {
    match &options.login {
        Some(login) if *login != given => b"535 5.7.8 authentication credentials invalid\r\n",
        _ => {
            m.auth = Some(given);
            b"235 2.7.0 authentication successful\r\n"
        }
    }
}

/// Writes and flushes a reply (TLS buffers until flushed); `None` when the client is gone.
async fn send<W: AsyncWrite + Unpin>(w: &mut W, reply: &[u8]) -> Option<()> {
    w.write_all(reply).await.ok()?;
    w.flush().await.ok()
}
