//! Operators' second factor: RFC 6238 time-based codes (SHA-1, 6 digits, 30-second steps,
//! one step of clock drift either way, as authenticator apps expect), a code accepted once
//! (its step must be later than the last one accepted: the store checks and records that in
//! one statement), and the enrolment shown once: the secret as text and as a QR code (SVG).

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Totp};

/// What an operator enrols in an authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, for typing in.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code, an SVG document (no script, no external reference).
    pub qr_svg: String,
}

/// A new 160-bit seed (RFC 4226 recommends 160 bits).
pub(super) fn new_seed() -> Vec<u8> {
    let mut seed = vec![0u8; 20];
    rand::rng().fill_bytes(&mut seed);
    seed
}

fn totp(seed: &[u8], issuer: &str, account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(seed.to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .ok()
}

/// The step `code` belongs to at `unix_secs`, within one step either way; `None` for a
/// wrong code (or one that is not six digits).
pub(super) fn step_of(seed: &[u8], code: &str, unix_secs: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(seed, "scimd", "x")?.check(&code, unix_secs).map(|s| s as i64)
}

/// The enrolment of `seed` for the operator `account` of the server `issuer`.
pub(super) fn enrolment(seed: &[u8], issuer: &str, account: &str) -> Option<Enrolment> {
    let t = totp(seed, issuer, account)?;
    let uri = t.to_url().ok()?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Some(Enrolment { secret: t.secret().to_base32(), uri, qr_svg })
}

/// The code of `seed` at `unix_secs` (tests sign in with it).
pub fn code_at(seed_base32: &str, unix_secs: u64) -> Option<String> {
    let seed = totp_rs::Secret::try_from_base32(seed_base32).ok()?;
    Some(totp(seed.as_bytes(), "scimd", "x")?.generate(unix_secs).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B, SHA-1, truncated to 6 digits.
    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_vectors_and_allow_one_step_of_drift() {
        assert_eq!(step_of(RFC_SEED, "287082", 59), Some(1));
        assert_eq!(step_of(RFC_SEED, "081804", 1111111109), Some(1111111109 / 30));
        // The code of the step before is still good; two steps before is not.
        assert_eq!(step_of(RFC_SEED, "081804", 1111111109 + 30), Some(1111111109 / 30));
        assert_eq!(step_of(RFC_SEED, "081804", 1111111109 + 60), None);
        assert_eq!(step_of(RFC_SEED, "000000", 59), None);
        assert_eq!(step_of(RFC_SEED, "28708", 59), None);
        assert_eq!(step_of(RFC_SEED, "287 082", 59), Some(1));
    }

    #[test]
    fn an_enrolment_shows_the_secret_its_uri_and_a_qr_code() {
        let e = enrolment(RFC_SEED, "scimd", "alice").unwrap();
        assert_eq!(e.secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(e.uri.starts_with("otpauth://totp/scimd:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{}", e.uri);
        assert!(e.qr_svg.contains("<svg") && !e.qr_svg.contains("<script"));
        assert_eq!(code_at(&e.secret, 59).as_deref(), Some("287082"));
    }
}
