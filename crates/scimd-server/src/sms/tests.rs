//! The gateway's template rules, filling and escaping, without a network: the request a
//! message makes is looked at before it would be sent.

use super::*;

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn twilio() -> SmsSettings {
    SmsSettings {
        url: "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json".into(),
        fields: pairs(&[("To", "{to}"), ("From", "+15550001111"), ("Body", "{text}")]),
        auth_header: Some("Authorization".into()),
        auth_value: Some("Basic {secret_basic}".into()),
        username: Some("AC123".into()),
        secret: Some("tw-s3cret".into()),
        ..SmsSettings::default()
    }
}

fn messagebird(body: &str) -> SmsSettings {
    SmsSettings {
        url: "https://rest.messagebird.com/messages".into(),
        format: SmsFormat::Json,
        body: Some(body.into()),
        auth_header: Some("Authorization".into()),
        auth_value: Some("AccessKey {secret}".into()),
        secret: Some("mb-s3cret".into()),
        ..SmsSettings::default()
    }
}

fn refused(s: SmsSettings) -> String {
    match SmsGateway::new(&s) {
        Err(SmsError::Settings(m)) => m,
        Err(other) => panic!("not a settings error: {other}"),
        Ok(_) => panic!("accepted: {s:?}"),
    }
}

fn body_text(g: &SmsGateway, to: &str, text: &str) -> (String, &'static str, String) {
    let (url, content_type, body) = g.request(to, text).unwrap();
    (url, content_type, String::from_utf8(body).unwrap())
}

#[test]
fn placeholders_are_known_and_only_where_they_belong() {
    let e = refused(SmsSettings { fields: pairs(&[("To", "{to}"), ("Body", "{txt}")]), ..twilio() });
    assert!(e.contains("unknown placeholder {txt}") && e.contains("fields: 'Body'"), "{e}");
    let e =
        refused(SmsSettings { fields: pairs(&[("To", "{to}"), ("Body", "{text}"), ("Key", "{secret}")]), ..twilio() });
    assert!(e.contains("{secret} is not allowed here") && e.contains("auth_value only"), "{e}");
    let e = refused(messagebird(r#"{"recipients":["{to}"],"body":"{text}","key":"{secret_basic}"}"#));
    assert!(e.contains("body") && e.contains("auth_value only"), "{e}");
    let e = refused(SmsSettings { url: "https://gw.example.com/send?key={secret}".into(), ..twilio() });
    assert!(e.contains("url") && e.contains("auth_value only"), "{e}");
    let e = refused(SmsSettings { url: "https://gw.example.com/send?msg={text}".into(), ..twilio() });
    assert!(e.contains("out of the URL"), "{e}");
    let e = refused(SmsSettings { auth_value: Some("Basic {secret_basic} for {to}".into()), ..twilio() });
    assert!(e.contains("auth_value") && e.contains("{to}"), "{e}");
    let e = refused(SmsSettings { fields: pairs(&[("{to}", "x"), ("Body", "{text}")]), ..twilio() });
    assert!(e.contains("its name") && e.contains("no placeholder"), "{e}");
    let e = refused(messagebird(r#"{"{to}":"x","body":"{text}"}"#));
    assert!(e.contains("the key"), "{e}");
    // Braces that do not make a placeholder are text.
    let s = SmsSettings { fields: pairs(&[("To", "{to}"), ("Body", "{ {} {text} }{")]), ..twilio() };
    let (_, _, body) = body_text(&SmsGateway::new(&s).unwrap(), "+447911123456", "hi");
    assert!(body.ends_with("Body=%7B+%7B%7D+hi+%7D%7B"), "{body}");
}

#[test]
fn the_url_is_https_or_loopback_http_with_placeholders_after_its_host() {
    assert!(SmsGateway::new(&twilio()).is_ok());
    for (url, want) in [
        ("ftp://gw.example.com/send", "https URL is needed"),
        ("http://gw.example.com/send", "in clear"),
        ("not a url", "not a valid URL"),
        ("", "not a valid URL"),
        ("https://{to}.example.com/send", "path or query"),
        ("https://gw.example.com{to}", "path or query"),
        ("{to}", "path or query"),
        ("https://ac:pw@gw.example.com/send", "credentials"),
    ] {
        let e = refused(SmsSettings { url: url.into(), ..twilio() });
        assert!(e.contains(want), "{url}: {e}");
    }
    for url in ["http://127.0.0.1:9/send", "http://localhost/send", "http://[::1]:8/s?to={to}"] {
        let g = SmsGateway::new(&SmsSettings { url: url.into(), ..twilio() }).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(["127.0.0.1", "localhost", "[::1]"].contains(&g.host()), "{}", g.host());
    }
    assert_eq!(SmsGateway::new(&twilio()).unwrap().host(), "api.twilio.com");
}

#[test]
fn the_body_matches_the_format_and_sends_the_recipient_and_the_text() {
    let e = refused(SmsSettings { body: Some("{}".into()), ..twilio() });
    assert!(e.contains("\"form\""), "{e}");
    let e = refused(SmsSettings { fields: vec![], ..twilio() });
    assert!(e.contains("\"form\""), "{e}");
    let e = refused(SmsSettings { fields: pairs(&[("To", "{to}")]), ..messagebird(r#"{"body":"{text}"}"#) });
    assert!(e.contains("\"json\""), "{e}");
    let e = refused(SmsSettings { body: None, ..messagebird("") });
    assert!(e.contains("\"json\""), "{e}");
    let e = refused(messagebird(r#"{"recipients":["{to}"],"body":{text}}"#));
    assert!(e.contains("not a JSON document") && e.contains("inside strings"), "{e}");
    let e = refused(SmsSettings { fields: pairs(&[("To", "{to}"), ("Body", "hello")]), ..twilio() });
    assert!(e.contains("{text}"), "{e}");
    let e = refused(SmsSettings { fields: pairs(&[("To", "+1555"), ("Body", "{text}")]), ..twilio() });
    assert!(e.contains("{to}"), "{e}");
    // The recipient may travel in the URL alone.
    let s = SmsSettings {
        url: "https://gw.example.com/to/{to_digits}".into(),
        fields: pairs(&[("Body", "{text}")]),
        ..twilio()
    };
    assert!(SmsGateway::new(&s).is_ok());
    let e = refused(SmsSettings { timeout: Duration::ZERO, ..twilio() });
    assert!(e.contains("timeout"), "{e}");
}

#[test]
fn the_credential_is_needed_where_used_and_used_where_given() {
    let e = refused(SmsSettings { auth_value: None, ..twilio() });
    assert!(e.contains("go together"), "{e}");
    let e = refused(SmsSettings { auth_header: None, auth_value: None, username: None, ..twilio() });
    assert!(e.contains("secret is set") && !e.contains("tw-s3cret"), "{e}");
    let e = refused(SmsSettings { auth_value: Some("Token {secret}".into()), ..twilio() });
    assert!(e.contains("username is set"), "{e}");
    let e = refused(SmsSettings { secret: None, ..twilio() });
    assert!(e.contains("not set"), "{e}");
    let e = refused(SmsSettings { username: None, auth_value: Some("Basic {secret_basic}".into()), ..twilio() });
    assert!(e.contains("needs username"), "{e}");
    let e = refused(SmsSettings { auth_header: Some("Bad Header".into()), ..twilio() });
    assert!(e.contains("header name"), "{e}");
    let token = |secret: &str| SmsSettings {
        auth_value: Some("Token {secret}".into()),
        username: None,
        secret: Some(secret.into()),
        ..twilio()
    };
    let e = refused(token("line\nbreak"));
    assert!(e.contains("does not allow") && !e.contains("break"), "{e}");
    let g = SmsGateway::new(&twilio()).unwrap();
    let (name, value) = g.auth.as_ref().unwrap();
    assert_eq!(name, "authorization");
    let basic = base64::engine::general_purpose::STANDARD.encode("AC123:tw-s3cret");
    assert_eq!(value.to_str().unwrap(), format!("Basic {basic}"));
    assert!(value.is_sensitive());
    let g = SmsGateway::new(&messagebird(r#"{"recipients":["{to}"],"body":"{text}"}"#)).unwrap();
    assert_eq!(g.auth.as_ref().unwrap().1.to_str().unwrap(), "AccessKey mb-s3cret");
    // No credential at all is a gateway on a trusted network.
    let open = SmsSettings { auth_header: None, auth_value: None, username: None, secret: None, ..twilio() };
    assert!(SmsGateway::new(&open).unwrap().auth.is_none());
}

#[test]
fn form_values_are_encoded_in_the_fields_order_and_filled_in_one_pass() {
    let s = SmsSettings {
        fields: pairs(&[("To", "{to}"), ("From", "+15550001111"), ("Body", "{text}"), ("A&b=c", "x {to_digits} y")]),
        ..twilio()
    };
    let g = SmsGateway::new(&s).unwrap();
    let (url, content_type, body) = body_text(&g, "+447911123456", "a+b&c=d é {to} {secret}");
    assert_eq!(url, "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json");
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    assert_eq!(
        body,
        "To=%2B447911123456&From=%2B15550001111&Body=a%2Bb%26c%3Dd+%C3%A9+%7Bto%7D+%7Bsecret%7D\
         &A%26b%3Dc=x+447911123456+y"
    );
    let decoded: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    assert_eq!(decoded[2].1, "a+b&c=d é {to} {secret}", "the text arrives as written, placeholders and all");
}

#[test]
fn json_values_are_escaped_by_the_serializer_and_whole_leaves_replaced() {
    let template = r#"{"recipients":["{to_digits}"],"originator":"scimd","body":"{text}","note":"to {to}: {text}","n":1,"f":true,"x":null}"#;
    let g = SmsGateway::new(&messagebird(template)).unwrap();
    let text = "say \"hi\" \\ back\nnow {to_digits} é";
    let (url, content_type, body) = body_text(&g, "+33612345678", text);
    assert_eq!(url, "https://rest.messagebird.com/messages");
    assert_eq!(content_type, "application/json");
    assert!(body.contains(r#""body":"say \"hi\" \\ back\nnow {to_digits} é""#), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "recipients": ["33612345678"], "originator": "scimd", "body": text,
            "note": format!("to +33612345678: {text}"), "n": 1, "f": true, "x": null
        })
    );
    assert!(body.starts_with(r#"{"recipients":"#), "the template's key order is kept: {body}");
}

#[test]
fn url_placeholders_are_percent_encoded() {
    let s = SmsSettings { url: "https://gw.example.com/send/{to}?digits={to_digits}&x=1".into(), ..twilio() };
    let g = SmsGateway::new(&s).unwrap();
    let (url, _, _) = body_text(&g, "+447911123456", "hi");
    assert_eq!(url, "https://gw.example.com/send/%2B447911123456?digits=447911123456&x=1");
}

#[test]
fn a_recipient_not_in_e164_is_refused_without_being_sent() {
    let g = SmsGateway::new(&twilio()).unwrap();
    for to in ["447911123456", "+44 7911 123456", "+", "+44a911123456"] {
        let e = g.request(to, "hi").unwrap_err();
        assert!(matches!(&e, SmsError::Settings(m) if m.contains("E.164")), "{to}: {e}");
    }
}

#[test]
fn debug_and_errors_hold_no_credential() {
    let s = twilio();
    let shown = format!("{s:?} {:?}", SmsGateway::new(&s).unwrap());
    assert!(!shown.contains("tw-s3cret") && shown.contains("***"), "{shown}");
    let basic = base64::engine::general_purpose::STANDARD.encode("AC123:tw-s3cret");
    assert!(!shown.contains(&basic), "{shown}");
    assert_eq!(SmsError::Refused { status: 401 }.to_string(), "the SMS gateway refused the message (HTTP 401)");
}

#[test]
fn mobile_numbers_are_checked_and_written_in_e164() {
    assert_eq!(e164_mobile("+44 7911 123456").unwrap(), "+447911123456");
    assert_eq!(e164_mobile(" +33 6 12 34 56 78 ").unwrap(), "+33612345678");
    assert_eq!(e164_mobile("+1 (415) 555-2671").unwrap(), "+14155552671", "US: fixed line or mobile");
    let e = e164_mobile("07911 123456").unwrap_err();
    assert!(e.contains("does not start with '+'"), "{e}");
    let e = e164_mobile("+44 20 7183 8750").unwrap_err();
    assert!(e.contains("not a mobile number") && e.contains("landline"), "{e}");
    let e = e164_mobile("+44 800 123 4567").unwrap_err();
    assert!(e.contains("not a mobile number") && e.contains("toll-free"), "{e}");
    let e = e164_mobile("+44 12").unwrap_err();
    assert!(e.contains("not a valid phone number") || e.contains("not a phone number"), "{e}");
    let e = e164_mobile("+hello").unwrap_err();
    assert!(e.contains("not a phone number"), "{e}");
}

#[test]
fn masked_numbers_keep_the_country_code_and_the_last_four_digits() {
    assert_eq!(masked("+447911125678"), "+44…5678");
    assert_eq!(masked("+14155552671"), "+14…2671");
    assert_eq!(masked("+4412345"), "+44…2345");
    assert_eq!(masked("+441234"), "+44…", "too short to show 4 digits and hide any");
    assert_eq!(masked(""), "…");
    assert_eq!(masked("+é١٢٣٤٥٦٧"), "+é١…٤٥٦٧", "characters, not bytes");
}
