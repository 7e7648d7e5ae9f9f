//! [`Sender`] against a small receiver on a loopback port: each route answers the way a
//! receiver might, and what it received is kept for the test to look at.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;

use super::*;

/// What the receiver got: (path, headers, body) of each request.
type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

/// Starts the receiver; returns its base URL and what it saw.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let kept = seen.clone();
    let app = Router::new()
        .route(
            "/accept",
            post(move |h: HeaderMap, b: Bytes| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push(("/accept".into(), h, b));
                    StatusCode::ACCEPTED
                }
            }),
        )
        .route("/ok-with-body", post(|| async { (StatusCode::OK, "x".repeat(100_000)) }))
        .route(
            "/reject",
            post(|| async {
                let body = r#"{"err": "invalid_key", "description": "the key\nis unknown"}"#;
                (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body)
            }),
        )
        .route(
            "/reject-long",
            post(|| async {
                let body = serde_json::json!({"err": "invalid_request", "description": "y".repeat(1000)});
                (StatusCode::BAD_REQUEST, axum::Json(body))
            }),
        )
        .route("/bad-plain", post(|| async { (StatusCode::BAD_REQUEST, "no") }))
        .route("/gone", post(|| async { StatusCode::GONE }))
        .route(
            "/busy",
            post(|| async { (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "7")]).into_response() }),
        )
        .route("/slow-down", post(|| async { StatusCode::TOO_MANY_REQUESTS }))
        .route("/forbidden", post(|| async { StatusCode::FORBIDDEN }))
        .route("/moved", post(|| async { (StatusCode::FOUND, [(header::LOCATION, "/accept")]).into_response() }))
        .route(
            "/stall",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::ACCEPTED
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn post_to(url: &str) -> Outcome {
    Sender::new().unwrap().post(url, "application/secevent+jwt", &[], b"a.b.c".to_vec()).await
}

fn reason(o: &Outcome) -> &str {
    match o {
        Outcome::Retry { reason, .. } | Outcome::Rejected { reason } => reason,
        Outcome::Delivered => "",
    }
}

#[tokio::test]
async fn an_accepted_message_is_delivered_with_its_headers_and_body() {
    let (url, seen) = receiver().await;
    let headers = [("webhook-id", "msg_1".to_string()), ("authorization", "Bearer t0ken".to_string())];
    let sender = Sender::new().unwrap();
    let out = sender.post(&format!("{url}/accept"), "application/json", &headers, br#"{"a":1}"#.to_vec()).await;
    assert_eq!(out, Outcome::Delivered);
    let (path, h, body) = seen.lock().unwrap().remove(0);
    assert_eq!(path, "/accept");
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["accept"], "application/json");
    assert_eq!(h["webhook-id"], "msg_1");
    assert_eq!(h["authorization"], "Bearer t0ken");
    assert!(h["user-agent"].to_str().unwrap().starts_with("scimd/"));
    assert_eq!(&body[..], br#"{"a":1}"#);
    // Any 2xx counts, whatever its body.
    assert_eq!(post_to(&format!("{url}/ok-with-body")).await, Outcome::Delivered);
}

#[tokio::test]
async fn an_rfc_8935_error_or_gone_is_a_rejection() {
    let (url, _) = receiver().await;
    let out = post_to(&format!("{url}/reject")).await;
    assert_eq!(out, Outcome::Rejected { reason: "rejected by the receiver: invalid_key: the key is unknown".into() });
    let out = post_to(&format!("{url}/reject-long")).await;
    assert!(matches!(out, Outcome::Rejected { .. }));
    assert!(reason(&out).starts_with("rejected by the receiver: invalid_request: yyy"));
    assert_eq!(reason(&out).chars().count(), 200);
    let out = post_to(&format!("{url}/gone")).await;
    assert_eq!(out, Outcome::Rejected { reason: "the receiver answered 410 Gone".into() });
}

#[tokio::test]
async fn busy_receivers_are_retried_after_what_they_ask() {
    let (url, _) = receiver().await;
    let out = post_to(&format!("{url}/busy")).await;
    assert_eq!(
        out,
        Outcome::Retry {
            reason: "the receiver answered 503 Service Unavailable".into(),
            after: Some(Duration::from_secs(7))
        }
    );
    let out = post_to(&format!("{url}/slow-down")).await;
    assert!(matches!(out, Outcome::Retry { after: None, .. }), "{out:?}");
    assert!(reason(&out).contains("429"));
}

#[tokio::test]
async fn other_client_errors_keep_the_message() {
    let (url, _) = receiver().await;
    for path in ["/bad-plain", "/forbidden", "/nowhere"] {
        let out = post_to(&format!("{url}{path}")).await;
        assert!(matches!(out, Outcome::Retry { .. }), "{path}: {out:?}");
    }
    assert!(reason(&post_to(&format!("{url}/bad-plain")).await).contains("without an error object"));
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (url, seen) = receiver().await;
    let out = post_to(&format!("{url}/moved")).await;
    assert!(matches!(out, Outcome::Retry { .. }), "{out:?}");
    assert!(reason(&out).contains("302") && reason(&out).contains("redirect"), "{out:?}");
    assert!(seen.lock().unwrap().is_empty(), "the message did not reach the redirect's target");
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_and_the_reason_keeps_secrets_out() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://user:pa55word@127.0.0.1:{port}/hook?token=s3cret");
    let headers = [("authorization", "Bearer t0ken".to_string())];
    let out = Sender::new().unwrap().post(&url, "application/json", &headers, b"b0dy".to_vec()).await;
    assert!(matches!(out, Outcome::Retry { after: None, .. }), "{out:?}");
    let r = reason(&out);
    assert!(r.starts_with("could not connect"), "{r}");
    for secret in ["pa55word", "s3cret", "t0ken", "b0dy", "/hook"] {
        assert!(!r.contains(secret), "{r}");
    }
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_is_retried() {
    let (url, _) = receiver().await;
    let sender = Sender::with_timeouts(Duration::from_secs(5), Duration::from_millis(300)).unwrap();
    let out = sender.post(&format!("{url}/stall"), "application/json", &[], Vec::new()).await;
    assert!(matches!(out, Outcome::Retry { .. }), "{out:?}");
    assert!(reason(&out).starts_with("no answer in time"), "{out:?}");
}

#[tokio::test]
async fn bad_urls_and_headers_are_retried_not_sent() {
    let sender = Sender::new().unwrap();
    let out = sender.post("not a url", "application/json", &[], Vec::new()).await;
    assert!(matches!(out, Outcome::Retry { .. }), "{out:?}");
    let bad = [("authorization", "Bearer a\nb".to_string())];
    let out = sender.post("http://127.0.0.1:9/", "application/json", &bad, Vec::new()).await;
    assert_eq!(
        out,
        Outcome::Retry { reason: "a header of the message is not a valid HTTP header".into(), after: None }
    );
}
