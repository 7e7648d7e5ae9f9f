//! Outgoing email (`scimd_server::mail`) through a test SMTP server on loopback: the
//! message arrives with its sender, recipient, subject and text, after authenticating.

use scimd_server::mail::{Email, Mailer, SmtpSettings, SmtpTls};

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
