//! The messaging sections: parsed from the file and the environment, their secrets read
//! from files and hidden, their mistakes named.

use super::*;
use crate::config::{Flags, load};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn from_file(text: &str) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, text).unwrap();
    load(file.to_str(), env(&[]), &Flags::default())
}

const TWILIO: &str = r#"
[sms]
url = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
fields = [["To", "{to}"], ["From", "+15550001111"], ["Body", "{text}"]]
auth_header = "Authorization"
auth_value = "Basic {secret_basic}"
username = "AC123"
secret = "tw-s3cret"
"#;

#[test]
fn unset_sections_send_nothing() {
    let c = load(None, env(&[]), &Flags::default()).unwrap();
    assert_eq!((c.smtp_settings().unwrap(), c.sms_settings().unwrap()), (None, None));
    assert_eq!(c.email.port, 587);
    assert_eq!(c.email.tls, SmtpTls::Starttls);
    assert_eq!(
        (c.sms.method, c.sms.format, c.sms.timeout),
        (SmsMethod::Post, SmsFormat::Form, Duration::from_secs(10))
    );
    assert_eq!(c.onboarding.product_name, "scimd");
}

#[test]
fn the_sections_parse_and_fields_keep_their_order() {
    let c = from_file(&format!(
        "{TWILIO}method = \"PUT\"\ntimeout = \"5s\"\n[email]\nhost = \"smtp.example.com\"\nport = 465\n\
         tls = \"implicit\"\nusername = \"scimd\"\npassword = \"relay-pw\"\nfrom = \"Lockers <noreply@lockers.test>\"\n\
         [onboarding]\nproduct_name = \"Lockers\"\nsupport_email = \"help@lockers.test\"\n"
    ))
    .unwrap();
    let sms = c.sms_settings().unwrap().unwrap();
    let names: Vec<&str> = sms.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["To", "From", "Body"], "the file's order, not the alphabet's");
    assert_eq!(
        (sms.method, sms.timeout, sms.secret.as_deref()),
        (SmsMethod::Put, Duration::from_secs(5), Some("tw-s3cret"))
    );
    let smtp = c.smtp_settings().unwrap().unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("smtp.example.com", 465, SmtpTls::Implicit));
    assert_eq!((smtp.username.as_deref(), smtp.password.as_deref()), (Some("scimd"), Some("relay-pw")));
    assert_eq!(c.onboarding.support_email.as_deref(), Some("help@lockers.test"));
    let json = from_file(
        "[sms]\nurl = \"https://rest.messagebird.com/messages\"\nformat = \"json\"\n\
         body = '{\"recipients\":[\"{to_digits}\"],\"originator\":\"scimd\",\"body\":\"{text}\"}'\n",
    )
    .unwrap();
    assert_eq!(json.sms_settings().unwrap().unwrap().format, SmsFormat::Json);
}

#[test]
fn environment_variables_set_every_new_key() {
    let fields = r#"[["To", "{to}"], ["Body", "{text}"]]"#;
    let c = load(
        None,
        env(&[
            ("SCIMD_EMAIL__HOST", "127.0.0.1"),
            ("SCIMD_EMAIL__PORT", "2525"),
            ("SCIMD_EMAIL__TLS", "none"),
            ("SCIMD_EMAIL__USERNAME", "relay"),
            // Digits and `true` arrive typed: they stay the text they are.
            ("SCIMD_EMAIL__PASSWORD", "true"),
            ("SCIMD_SMS__URL", "https://gw.example.com/send"),
            ("SCIMD_SMS__FIELDS", fields),
            ("SCIMD_SMS__AUTH_HEADER", "X-Key"),
            ("SCIMD_SMS__AUTH_VALUE", "{secret}"),
            ("SCIMD_SMS__SECRET", "12345678"),
            ("SCIMD_SMS__METHOD", "PUT"),
            ("SCIMD_SMS__TIMEOUT", "3s"),
            ("SCIMD_ONBOARDING__PRODUCT_NAME", "Lockers"),
            ("SCIMD_ONBOARDING__SUPPORT_EMAIL", "help@lockers.test"),
        ]),
        &Flags::default(),
    )
    .unwrap();
    let smtp = c.smtp_settings().unwrap().unwrap();
    assert_eq!((smtp.port, smtp.tls, smtp.password.as_deref()), (2525, SmtpTls::None, Some("true")));
    let sms = c.sms_settings().unwrap().unwrap();
    assert_eq!(sms.fields, vec![("To".into(), "{to}".into()), ("Body".into(), "{text}".into())]);
    assert_eq!(
        (sms.secret.as_deref(), sms.method, sms.timeout),
        (Some("12345678"), SmsMethod::Put, Duration::from_secs(3))
    );
    assert_eq!(c.onboarding.product_name, "Lockers");
    let e = load(None, env(&[("SCIMD_SMS__FIELDS", "To={to}")]), &Flags::default()).unwrap_err();
    assert!(e.contains("SCIMD_SMS__FIELDS") && e.contains("[name, value] pairs"), "{e}");
}

#[test]
fn secrets_and_the_relay_ca_come_from_files_and_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let (pw, token, ca) = (dir.path().join("pw"), dir.path().join("token"), dir.path().join("ca.pem"));
    std::fs::write(&pw, "relay-pw\n").unwrap();
    std::fs::write(&token, "tw-s3cret\n").unwrap();
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    let text = format!(
        "{}secret_file = {:?}\n[email]\nhost = \"smtp.example.com\"\nusername = \"scimd\"\npassword_file = {:?}\n\
         ca_file = {:?}\n",
        TWILIO.replace("secret = \"tw-s3cret\"\n", ""),
        token.to_str().unwrap(),
        pw.to_str().unwrap(),
        ca.to_str().unwrap()
    );
    let c = from_file(&text).unwrap();
    let smtp = c.smtp_settings().unwrap().unwrap();
    assert_eq!(smtp.password.as_deref(), Some("relay-pw"));
    assert!(smtp.extra_ca_pem.unwrap().contains("MIIB"));
    assert_eq!(c.sms_settings().unwrap().unwrap().secret.as_deref(), Some("tw-s3cret"));
    // Given themselves, they are hidden from `config show` and Debug.
    let c = from_file(&format!("{TWILIO}[email]\nhost = \"h.example\"\nusername = \"u\"\npassword = \"relay-pw\"\n"))
        .unwrap();
    let shown = format!("{}{c:?}{:?}", c.to_redacted_toml(), c.sms_settings().unwrap().unwrap());
    assert!(!shown.contains("relay-pw") && !shown.contains("tw-s3cret") && shown.contains("***"), "{shown}");
}

#[test]
fn mistakes_are_named() {
    let cases: Vec<(String, &str)> = vec![
        (format!("{TWILIO}secret_file = \"/x\"\n"), "sms.secret and sms.secret_file are both set"),
        (
            TWILIO.replace("secret = \"tw-s3cret\"", "secret_file = \"/nonexistent/token\""),
            "sms.secret_file: cannot read /nonexistent/token",
        ),
        (TWILIO.replace("{text}", "{message}"), "sms: fields: 'Body': unknown placeholder {message}"),
        (TWILIO.replace("https://", "http://"), "sms: url: plain http"),
        (
            TWILIO.replace(
                r#"[["To", "{to}"], ["From", "+15550001111"], ["Body", "{text}"]]"#,
                r#"{ To = "{to}", Body = "{text}" }"#,
            ),
            "[name, value] pairs",
        ),
        (format!("{TWILIO}timeout = \"0s\"\n"), "sms.timeout"),
        (format!("{TWILIO}sender = \"x\"\n"), "sender"),
        (
            "[email]\nhost = \"h.example\"\npassword_file = \"/nonexistent/pw\"\nusername = \"u\"\n".into(),
            "email.password_file: cannot read /nonexistent/pw",
        ),
        ("[email]\nhost = \"h.example\"\npassword = \"pw\"\n".into(), "email.username and email.password"),
        ("[email]\nhost = \"h.example\"\nca_file = \"/nonexistent/ca.pem\"\n".into(), "email.ca_file: cannot read"),
        ("[email]\nfrom = \"not an address\"\n".into(), "email.from 'not an address'"),
        ("[email]\ntls = \"sometimes\"\n".into(), "sometimes"),
        ("[onboarding]\nsupport_email = \"help\"\n".into(), "onboarding.support_email 'help'"),
        ("[onboarding]\nproduct_name = \" \"\n".into(), "onboarding.product_name"),
    ];
    for (text, want) in cases {
        let e = from_file(&text).unwrap_err();
        assert!(e.contains(want), "{text}\n→ {e}");
        assert!(!e.contains("tw-s3cret"), "{e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.txt");
    std::fs::write(&not_pem, "hello").unwrap();
    let e =
        from_file(&format!("[email]\nhost = \"h.example\"\nca_file = {:?}\n", not_pem.to_str().unwrap())).unwrap_err();
    assert!(e.contains("holds no PEM certificate"), "{e}");
}
