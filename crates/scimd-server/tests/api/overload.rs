//! Overload: per-tenant and per-client rates answered 429 with Retry-After,
//! other tenants and clients unaffected; requests beyond the bound in flight, or taking
//! too long, answered 503 at once.

use std::time::Duration;

use scimd_server::http::limits::Limits;
use serde_json::json;

use crate::common::{Options, TestServer};

fn with_limits(limits: Limits) -> Options {
    let mut o = Options::default();
    o.http.limits = limits;
    o
}

#[tokio::test]
async fn a_tenant_over_its_rate_gets_429_and_others_do_not() {
    let s = TestServer::start_with(with_limits(Limits { tenant_per_sec: 5, ..Limits::default() })).await;
    let other = s.tenant_token("globex").await;
    let mut refused = None;
    for _ in 0..20 {
        let r = s.get("/Users?count=0").await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let r = refused.expect("the tenant's 6th request in a second is refused");
    r.assert_error(429, None);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert!(r.body["detail"].as_str().unwrap().contains("at most 5 a second"), "{}", r.body);
    // Another tenant is not slowed down by this one.
    assert_eq!(s.get_as(&other, "/Users?count=0").await.status, 200);
    // After the wait, the tenant is served again.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(s.get("/Users?count=0").await.status, 200);
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_and_the_tenants_other_clients_do_not() {
    let s = TestServer::start_with(with_limits(Limits { client_per_sec: 3, ..Limits::default() })).await;
    let second = s.tenant_token("acme").await;
    let statuses: Vec<u16> = futures_collect(&s, 10).await;
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert_eq!(s.get_as(&second, "/Users?count=0").await.status, 200, "another token of the tenant");
}

async fn futures_collect(s: &TestServer, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(s.get("/Users?count=0").await.status);
    }
    out
}

#[tokio::test]
async fn a_request_taking_too_long_is_503() {
    // A password is hashed with argon2: far longer than a millisecond.
    let s =
        TestServer::start_with(with_limits(Limits { request_timeout: Duration::from_millis(1), ..Limits::default() }))
            .await;
    let r = s.post("/Users", &json!({"userName": "slow", "password": "a long password to hash"})).await;
    r.assert_error(503, None);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.body["detail"].as_str().unwrap().contains("took too long"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_bound_in_flight_are_503_at_once() {
    let s = TestServer::start_with(with_limits(Limits { max_concurrent: 1, ..Limits::default() })).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, url, token) = (s.client.clone(), s.url("/Users"), s.token.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/scim+json")
                .body(json!({"userName": format!("c{i}"), "password": "a long password to hash"}).to_string())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.headers().get("retry-after").is_some())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let shed = results.iter().filter(|(s, _)| *s == 503).count();
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert!(shed > 0 && created > 0 && shed + created == 12, "{results:?}");
    assert!(results.iter().all(|(s, retry)| *s != 503 || *retry));
    // What was refused was not created.
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], created);
}

/// Twice the load a tenant is allowed, for three seconds: every request is answered, the
/// ones over the rate with 429, none with a 5xx or not at all; what was served is what
/// the rate allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twice_the_allowed_load_is_answered_by_serving_the_rate_and_refusing_the_rest() {
    const RATE: u32 = 100;
    let s = TestServer::start_with(with_limits(Limits { tenant_per_sec: RATE, ..Limits::default() })).await;
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let (client, url, token) = (s.client.clone(), s.url("/Users?count=0"), s.token.clone());
        tasks.push(tokio::spawn(async move {
            // 8 senders × 25 a second = 200 a second, twice the rate.
            let mut statuses = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(40));
            tokio::time::sleep(Duration::from_millis(w * 5)).await;
            for _ in 0..75 {
                tick.tick().await;
                let r = client.get(&url).bearer_auth(&token).send().await;
                statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = all.iter().filter(|s| **s == 200).count();
    let refused = all.iter().filter(|s| **s == 429).count();
    assert_eq!(
        ok + refused,
        all.len(),
        "every request answered, 200 or 429: {:?}",
        all.iter().filter(|s| **s != 200 && **s != 429).collect::<Vec<_>>()
    );
    let allowed = (RATE as f64 * secs) as usize + RATE as usize;
    assert!(ok <= allowed + 5, "{ok} served in {secs:.1} s at {RATE}/s");
    assert!(ok >= (RATE as f64 * (secs - 1.0)) as usize, "the rate is served: {ok} in {secs:.1} s");
    assert!(refused > 0);
    println!("{} requests in {secs:.1} s: {ok} served, {refused} refused with 429", all.len());
}

/// The bound is one for the whole server, not one per route: while a create holds the
/// only place (its body still arriving), a read of another resource type is refused, and
/// served once the create is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_in_flight_holds_across_routes() {
    use std::io::{Read, Write};
    let s = TestServer::start_with(with_limits(Limits { max_concurrent: 1, ..Limits::default() })).await;
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "slow"}).to_string();
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    write!(
        conn,
        "POST /scim/v2/Users HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{}",
        s.addr,
        s.token,
        body.len(),
        &body[..8]
    )
    .unwrap();
    conn.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = s.get("/Groups").await;
    assert_eq!(r.status, 503, "{}", r.body);
    conn.write_all(&body.as_bytes()[8..]).unwrap();
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 201");
    assert_eq!(s.get("/Groups").await.status, 200);
}
