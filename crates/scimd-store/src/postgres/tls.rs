//! TLS to PostgreSQL (rustls), set in the database URL in libpq's terms:
//! `sslmode` = `disable` | `prefer` (the default: TLS when the server offers it, not
//! verified) | `require` (TLS or no connection; not verified, unless `sslrootcert` is
//! given, which makes it `verify-ca`, as in libpq) | `verify-ca` (the server's certificate
//! chains to a trusted root) | `verify-full` (and names the host), and `sslrootcert` = a
//! PEM file of trusted roots (default: the system's). Client certificates are not
//! supported and are refused by name.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{StoreError, StoreResult};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    /// What tokio-postgres is told: whether TLS is tried, and whether it is required.
    pub fn ssl_mode(self) -> SslMode {
        match self {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }
}

/// The TLS settings of a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub root_cert: Option<PathBuf>,
}

fn invalid(m: impl Into<String>) -> StoreError {
    StoreError::Internal(format!("database URL: {}", m.into()))
}

/// Splits the TLS parameters off a `postgres://` URL: the URL for tokio-postgres (which
/// knows neither `verify-*` nor `sslrootcert`), and the settings.
pub fn split(url: &str) -> StoreResult<(String, Settings)> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => return Ok((url.to_string(), Settings { mode: Mode::Prefer, root_cert: None })),
    };
    let mut kept = form_urlencoded::Serializer::new(String::new());
    let (mut mode, mut root_cert, mut any_kept) = (None, None, false);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "sslmode" => {
                mode = Some(match v.as_ref() {
                    "disable" => Mode::Disable,
                    "allow" | "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(invalid(format!(
                            "sslmode '{other}' is not one of disable, prefer, require, verify-ca, verify-full"
                        )));
                    }
                })
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(v.as_ref())),
            "sslcert" | "sslkey" | "sslpassword" => {
                return Err(invalid(format!("{k}: client certificates are not supported")));
            }
            _ => {
                kept.append_pair(&k, &v);
                any_kept = true;
            }
        }
    }
    let mut mode = mode.unwrap_or(Mode::Prefer);
    // libpq: `require` with a root certificate verifies the chain.
    if mode == Mode::Require && root_cert.is_some() {
        mode = Mode::VerifyCa;
    }
    let url = if any_kept { format!("{base}?{}", kept.finish()) } else { base.to_string() };
    Ok((url, Settings { mode, root_cert }))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The trusted roots: the `sslrootcert` file, or the system's.
fn roots(file: Option<&PathBuf>) -> StoreResult<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| invalid(format!("sslrootcert {}: {e}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(invalid(format!("sslrootcert {}: no certificate in it", path.display())));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(invalid("no trusted root certificates on this system: give sslrootcert=FILE"));
            }
        }
    }
    Ok(roots)
}

/// The connector for `settings`, or `None` without TLS.
pub fn connector(settings: &Settings) -> StoreResult<Option<MakeRustlsConnect>> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?;
    let config = match settings.mode {
        Mode::Disable => return Ok(None),
        Mode::VerifyFull => builder.with_root_certificates(roots(settings.root_cert.as_ref())?).with_no_client_auth(),
        Mode::Prefer | Mode::Require | Mode::VerifyCa => {
            let chain = match settings.mode {
                Mode::VerifyCa => Some(
                    WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots(settings.root_cert.as_ref())?),
                        provider(),
                    )
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
                ),
                _ => None,
            };
            let verifier = Lenient { chain, provider: provider() };
            builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
        }
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// The checks of `prefer`, `require` and `verify-ca`. Without a chain verifier it takes
/// any certificate: encryption without checking who the server is (libpq's `prefer` and
/// `require`); with one, the chain must reach a trusted root but the host name is not
/// checked (`verify-ca`). The handshake's signature is checked against the certificate's
/// key either way.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_split_off_the_url() {
        let (url, s) = split("postgres://u:p@h:5/db").unwrap();
        assert_eq!((url.as_str(), s.mode, s.root_cert), ("postgres://u:p@h:5/db", Mode::Prefer, None));
        let (url, s) =
            split("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x").unwrap();
        assert_eq!(url, "postgres://u@h/db?application_name=x");
        assert_eq!(s, Settings { mode: Mode::VerifyFull, root_cert: Some("/etc/ca.pem".into()) });
        let (url, s) = split("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem").unwrap();
        assert_eq!((url.as_str(), s.mode), ("postgres://u@h/db", Mode::VerifyCa));
        assert_eq!(split("postgres://u@h/db?sslmode=disable").unwrap().1.mode, Mode::Disable);
        let e = split("postgres://u@h/db?sslmode=verify").unwrap_err().to_string();
        assert!(e.contains("sslmode 'verify'"), "{e}");
        let e = split("postgres://u@h/db?sslcert=/c.pem").unwrap_err().to_string();
        assert!(e.contains("client certificates"), "{e}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let s = Settings { mode: Mode::VerifyFull, root_cert: Some("/nonexistent/ca.pem".into()) };
        let e = connector(&s).err().unwrap().to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
