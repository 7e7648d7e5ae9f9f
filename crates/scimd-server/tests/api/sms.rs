//! Outgoing text messages (`scimd_server::sms`) through a gateway on loopback, shaped as
//! Twilio's (a form, HTTP Basic) and MessageBird's (JSON, an `AccessKey` header): what
//! arrives, and what a refusal, an outage and a redirect do.

use std::time::{Duration, Instant};

use base64::Engine;
use scimd_server::sms::{SmsError, SmsFormat, SmsGateway, SmsMethod, SmsSettings};

use crate::events::receiver::Receiver;

const TO: &str = "+447911123456";
/// A message as the portal sends one: a secret, with characters each format escapes.
const TEXT: &str = "Your client secret: s3cr3t-Ab+c&d=é \"q\" \\ {to}";
const TOKEN: &str = "gateway-token-0123";

fn base(r: &Receiver) -> String {
    r.url.trim_end_matches("/events").to_string()
}

fn twilio(r: &Receiver) -> SmsSettings {
    SmsSettings {
        url: format!("{}/2010-04-01/Accounts/AC123/Messages.json", base(r)),
        fields: [("To", "{to}"), ("From", "+15550001111"), ("Body", "{text}")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .to_vec(),
        auth_header: Some("Authorization".into()),
        auth_value: Some("Basic {secret_basic}".into()),
        username: Some("AC123".into()),
        secret: Some(TOKEN.into()),
        ..SmsSettings::default()
    }
}

fn messagebird(r: &Receiver) -> SmsSettings {
    SmsSettings {
        url: format!("{}/messages", base(r)),
        format: SmsFormat::Json,
        body: Some(r#"{"recipients":["{to_digits}"],"originator":"scimd","body":"{text}"}"#.into()),
        auth_header: Some("Authorization".into()),
        auth_value: Some("AccessKey {secret}".into()),
        secret: Some(TOKEN.into()),
        ..SmsSettings::default()
    }
}

/// Neither the message, nor the credential, nor the whole number is in `e`'s text.
fn assert_discreet(e: &SmsError) {
    let shown = format!("{e} {e:?}");
    for secret in ["s3cr3t", TOKEN, TO, "Basic "] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn sms_a_twilio_like_gateway_gets_a_form_with_basic_auth() {
    let r = Receiver::start().await;
    r.script([(201, None, Some(serde_json::json!({"sid": "SM1", "body": TEXT})))]);
    let gateway = SmsGateway::new(&twilio(&r)).unwrap();
    assert_eq!(gateway.host(), "127.0.0.1");
    let receipt = gateway.send(TO, TEXT).await.unwrap();
    assert_eq!(receipt.status, 201);
    let got = r.got();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!((m.method.as_str(), m.path.as_str()), ("POST", "/2010-04-01/Accounts/AC123/Messages.json"));
    assert_eq!(m.header("content-type"), Some("application/x-www-form-urlencoded"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("AC123:{TOKEN}"));
    assert_eq!(m.header("authorization"), Some(format!("Basic {basic}").as_str()));
    let fields: Vec<(String, String)> = form_urlencoded::parse(&m.body).into_owned().collect();
    let want = [("To", TO), ("From", "+15550001111"), ("Body", TEXT)].map(|(k, v)| (k.to_string(), v.to_string()));
    assert_eq!(fields, want, "in order, each value whole");
    let raw = String::from_utf8(m.body.to_vec()).unwrap();
    assert!(raw.starts_with("To=%2B447911123456&"), "{raw}");
}

#[tokio::test]
async fn sms_a_messagebird_like_gateway_gets_json_with_an_access_key() {
    let r = Receiver::start().await;
    let gateway = SmsGateway::new(&messagebird(&r)).unwrap();
    assert_eq!(gateway.send(TO, TEXT).await.unwrap().status, 202);
    let m = &r.got()[0];
    assert_eq!((m.method.as_str(), m.path.as_str()), ("POST", "/messages"));
    assert_eq!(m.header("content-type"), Some("application/json"));
    assert_eq!(m.header("authorization"), Some(format!("AccessKey {TOKEN}").as_str()));
    let v: serde_json::Value = serde_json::from_slice(&m.body).unwrap();
    assert_eq!(v, serde_json::json!({"recipients": ["447911123456"], "originator": "scimd", "body": TEXT}));
}

#[tokio::test]
async fn sms_the_number_fills_the_url_percent_encoded() {
    let r = Receiver::start().await;
    let s = SmsSettings {
        url: format!("{}/v1/sms/{{to}}?digits={{to_digits}}", base(&r)),
        method: SmsMethod::Put,
        fields: vec![("text".into(), "{text}".into())],
        auth_header: None,
        auth_value: None,
        username: None,
        secret: None,
        ..twilio(&r)
    };
    SmsGateway::new(&s).unwrap().send(TO, TEXT).await.unwrap();
    let m = &r.got()[0];
    assert_eq!((m.method.as_str(), m.path.as_str()), ("PUT", "/v1/sms/%2B447911123456?digits=447911123456"));
    assert_eq!(m.header("authorization"), None);
}

#[tokio::test]
async fn sms_a_4xx_fails_at_once_naming_its_status_only() {
    let r = Receiver::start().await;
    r.script([(401, None, Some(serde_json::json!({"message": "bad token", "body": TEXT})))]);
    let e = SmsGateway::new(&twilio(&r)).unwrap().send(TO, TEXT).await.unwrap_err();
    assert_eq!(e, SmsError::Refused { status: 401 });
    assert!(e.to_string().contains("401"), "{e}");
    assert_discreet(&e);
    assert_eq!(r.requests(), 1, "no retry");
}

#[tokio::test]
async fn sms_a_5xx_is_tried_once_more_a_second_later() {
    let r = Receiver::start().await;
    r.script([(503, None, None)]);
    let gateway = SmsGateway::new(&messagebird(&r)).unwrap();
    let start = Instant::now();
    assert_eq!(gateway.send(TO, TEXT).await.unwrap().status, 202);
    assert!(start.elapsed() >= Duration::from_millis(900), "{:?}", start.elapsed());
    assert_eq!((r.requests(), r.got().len()), (2, 1));
    // A second 5xx is final.
    r.script([(502, None, None), (500, None, None)]);
    let e = gateway.send(TO, TEXT).await.unwrap_err();
    assert_eq!(e, SmsError::Refused { status: 500 });
    assert_discreet(&e);
    assert_eq!(r.requests(), 4);
}

#[tokio::test]
async fn sms_an_unreachable_gateway_is_tried_twice_and_named_without_the_message() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let s = SmsSettings { url: format!("http://127.0.0.1:{port}/send?to={{to}}"), ..messagebird_settings() };
    let e = SmsGateway::new(&s).unwrap().send(TO, TEXT).await.unwrap_err();
    assert!(matches!(&e, SmsError::Unreachable(m) if m.contains("connect")), "{e}");
    assert_discreet(&e);
}

fn messagebird_settings() -> SmsSettings {
    SmsSettings {
        format: SmsFormat::Json,
        body: Some(r#"{"to":"{to}","body":"{text}"}"#.into()),
        auth_header: Some("Authorization".into()),
        auth_value: Some("AccessKey {secret}".into()),
        secret: Some(TOKEN.into()),
        ..SmsSettings::default()
    }
}

#[tokio::test]
async fn sms_a_redirect_is_not_followed() {
    let (r, elsewhere) = (Receiver::start().await, Receiver::start().await);
    r.redirect_next(307, &format!("{}/messages", base(&elsewhere)));
    let e = SmsGateway::new(&messagebird(&r)).unwrap().send(TO, TEXT).await.unwrap_err();
    assert_eq!(e, SmsError::Refused { status: 307 });
    assert_discreet(&e);
    assert_eq!((r.requests(), elsewhere.requests()), (1, 0), "neither followed nor retried");
}
