//! Outgoing email (`scimd_server::mail`) through a test SMTP server on loopback: the
//! message arrives with its sender, recipient, subject and text, after authenticating; over
//! STARTTLS and implicit TLS with a private CA given as `extra_ca_pem` (the CA of
//! `[email] ca_file`); a certificate from another CA and wrong credentials are refused with
//! an error that says why and never holds the password.

use std::time::Duration;

use scimd_server::mail::{Email, MailError, Mailer, SmtpSettings, SmtpTls};

#[path = "../support/smtp.rs"]
mod smtp;

#[tokio::test]
async fn an_email_arrives_as_sent_after_authenticating() {
    let sink = smtp::start().await;
    let mailer = Mailer::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        tls: SmtpTls::None,
        username: Some("relay-user".into()),
        password: Some("relay password".into()),
        from: "Lockers Inc. <noreply@lockers.example>".into(),
        extra_ca_pem: None,
    })
    .unwrap();
    let link = "https://scim.example.com/portal/invite?token=scimd_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
    let text = format!("Set your password here, once, within 72 hours:\n\n{link}\n");
    mailer
        .send(&Email {
            to: "Jane@Acme.test".into(),
            subject: "Your Lockers Inc. portal — set your password".into(),
            text,
        })
        .await
        .unwrap();
    let got = sink.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.auth, Some(("relay-user".into(), "relay password".into())));
    assert_eq!(m.from, "noreply@lockers.example");
    assert_eq!(m.to, vec!["Jane@Acme.test".to_string()]);
    assert!(m.raw.contains("Subject: "), "{}", m.raw);
    assert!(m.text().contains(link), "the link survives the encoding: {}", m.text());
}

const USER: &str = "relay-user";
const PASSWORD: &str = "relay pass w0rd";

/// A sink in `mode` with a server certificate signed by `ca`, accepting only USER/PASSWORD.
async fn tls_sink(mode: smtp::Mode, ca: &smtp::TestCa) -> smtp::Sink {
    smtp::start_with(smtp::Options { mode, tls: Some(ca.server_tls()), login: Some((USER.into(), PASSWORD.into())) })
        .await
}

fn settings(port: u16, tls: SmtpTls, password: &str, ca_pem: &str) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls,
        username: Some(USER.into()),
        password: Some(password.into()),
        from: "Lockers Inc. <noreply@lockers.example>".into(),
        extra_ca_pem: Some(ca_pem.into()),
    }
}

/// Sends one email, bounded well under lettre's own 20 s timeout so that a sink that stops
/// answering fails the test instead of hanging it.
async fn send(settings: &SmtpSettings) -> Result<(), MailError> {
    let mailer = Mailer::new(settings)?;
    let email = Email { to: "jane@acme.test".into(), subject: "Hello".into(), text: "Over TLS.\n".into() };
    tokio::time::timeout(Duration::from_secs(15), mailer.send(&email)).await.expect("the send finishes within 15 s")
}

/// The error as the operator sees it (Display and Debug), checked never to hold the password.
fn no_password(e: &MailError) -> String {
    let shown = format!("{e} / {e:?}");
    assert!(!shown.contains(PASSWORD), "the password leaks in the error: {shown}");
    shown
}

#[tokio::test]
async fn an_email_goes_over_starttls_with_a_private_ca_and_authenticates_after_the_upgrade() {
    let ca = smtp::TestCa::new("scimd test CA");
    let sink = tls_sink(smtp::Mode::Starttls, &ca).await;
    send(&settings(sink.port, SmtpTls::Starttls, PASSWORD, &ca.pem)).await.unwrap();
    let got = sink.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message came after STARTTLS");
    assert_eq!(got[0].auth, Some((USER.into(), PASSWORD.into())));
    assert_eq!(got[0].to, vec!["jane@acme.test".to_string()]);
    assert!(got[0].text().contains("Over TLS."), "{}", got[0].raw);
}

#[tokio::test]
async fn an_email_goes_over_implicit_tls_with_a_private_ca() {
    let ca = smtp::TestCa::new("scimd test CA");
    let sink = tls_sink(smtp::Mode::Implicit, &ca).await;
    send(&settings(sink.port, SmtpTls::Implicit, PASSWORD, &ca.pem)).await.unwrap();
    let got = sink.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    assert_eq!(got[0].auth, Some((USER.into(), PASSWORD.into())));
}

#[tokio::test]
async fn a_server_certificate_from_an_untrusted_ca_is_refused() {
    let ca = smtp::TestCa::new("scimd test CA");
    let untrusted = smtp::TestCa::new("someone else's CA");
    for (mode, tls) in [(smtp::Mode::Starttls, SmtpTls::Starttls), (smtp::Mode::Implicit, SmtpTls::Implicit)] {
        // The sink's certificate is signed by a CA the mailer was not given.
        let sink = tls_sink(mode, &untrusted).await;
        let err = send(&settings(sink.port, tls, PASSWORD, &ca.pem)).await.unwrap_err();
        let shown = no_password(&err);
        assert!(matches!(err, MailError::Send(_)), "{shown}");
        assert!(shown.contains("certificate") && shown.contains("UnknownIssuer"), "{mode:?}: {shown}");
        assert!(sink.received.lock().unwrap().is_empty(), "{mode:?}");
    }
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let ca = smtp::TestCa::new("scimd test CA");
    let sink = tls_sink(smtp::Mode::Starttls, &ca).await;
    let err = send(&settings(sink.port, SmtpTls::Starttls, "not the password", &ca.pem)).await.unwrap_err();
    let shown = no_password(&err);
    assert!(shown.contains("535") && shown.contains("authentication credentials invalid"), "{shown}");
    assert!(!shown.contains("not the password"), "{shown}");
    assert!(sink.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_client_that_does_not_upgrade_cannot_authenticate() {
    // A relay that wants STARTTLS offers no AUTH in clear: plain SMTP (allowed to loopback)
    // with a password gets nowhere, and the password never crosses in clear.
    let ca = smtp::TestCa::new("scimd test CA");
    let sink = tls_sink(smtp::Mode::Starttls, &ca).await;
    let plain = SmtpSettings { extra_ca_pem: None, ..settings(sink.port, SmtpTls::None, PASSWORD, "") };
    let err = send(&plain).await.unwrap_err();
    let shown = no_password(&err);
    assert!(shown.contains("authentication"), "{shown}");
    assert!(sink.received.lock().unwrap().is_empty());
}
