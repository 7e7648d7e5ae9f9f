//! The access event: whenever a user's effective banks and lockers change (a group
//! linked to a place or unlinked, a member added to a linked group, a user deactivated, a
//! bank added under a linked place), one event for that user carrying the new access, in
//! order with the provisioning events.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Resp, TestServer, patch_op};
use crate::events::receiver::Receiver;
use crate::events::{WAIT, add_stream, event_uri, server, verify_set};

const ACCESS: &str = "urn:scimd:event:access";

async fn admin(s: &TestServer, op: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut rq = s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(op);
    if let Some(b) = body {
        rq = rq.json(&b);
    }
    s.send(rq).await
}

/// The access events received from `from` on: (user id, banks, lockers).
async fn access_events(s: &TestServer, rx: &Receiver, from: usize, n: usize) -> Vec<(String, Value, Value)> {
    access_events_within(s, rx, from, n, WAIT).await
}

async fn access_events_within(
    s: &TestServer,
    rx: &Receiver,
    from: usize,
    n: usize,
    within: std::time::Duration,
) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    let mut seen = from;
    let end = std::time::Instant::now() + within;
    while out.len() < n && std::time::Instant::now() < end {
        let got = rx.wait_for(seen + 1, std::time::Duration::from_millis(200)).await;
        for g in &got[seen.min(got.len())..] {
            let c = verify_set(s, std::str::from_utf8(&g.body).unwrap(), &rx.url).await;
            if event_uri(&c) == ACCESS {
                let uri = c["sub_id"]["uri"].as_str().unwrap().trim_start_matches("/Users/").to_string();
                let e = &c["events"][ACCESS];
                out.push((uri, e["banks"].clone(), e["lockers"].clone()));
            }
        }
        seen = got.len();
    }
    out
}

#[tokio::test]
async fn users_get_an_access_event_whenever_their_banks_or_lockers_change() {
    let s = server().await;
    let op = s.operator_token().await;
    let rx = Receiver::start().await;
    let ada = s.create_user("ada").await["id"].as_str().unwrap().to_string();
    let bob = s.create_user("bob").await["id"].as_str().unwrap().to_string();
    let tree = json!({"locations": [{"key": "hq", "sections": [{"key": "s1", "banks": [
        {"key": "b1", "lockers": [{"key": "l1"}]}, {"key": "b2"}]}]}]});
    assert_eq!(admin(&s, &op, Method::PUT, "/tenants/acme/places", Some(tree)).await.status, 200);
    let staff = s.create_group("Staff", &[&ada]).await["id"].as_str().unwrap().to_string();
    add_stream(&s, "push", Some(&rx.url), Value::Null).await;

    // Linked to the section: ada gets both banks and the locker.
    let r =
        admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Staff", "section": "s1"}))).await;
    assert!(r.status < 300, "{}", r.body);
    let got = access_events(&s, &rx, 0, 1).await;
    assert_eq!(got, [(ada.clone(), json!(["b1", "b2"]), json!(["l1"]))]);
    let mut count = rx.got().len();

    // Bob joins the group; ada's access does not move, so only bob gets one.
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]));
    assert_eq!(s.patch_group(&format!("/Groups/{staff}"), &add).await.status, 200);
    assert_eq!(access_events(&s, &rx, count, 1).await, [(bob.clone(), json!(["b1", "b2"]), json!(["l1"]))]);
    count = rx.got().len();

    // A bank added under the section: both see it.
    let r =
        admin(&s, &op, Method::POST, "/tenants/acme/places/banks", Some(json!({"key": "b3", "parent": "s1"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut got = access_events(&s, &rx, count, 2).await;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        (ada.clone(), json!(["b1", "b2", "b3"]), json!(["l1"])),
        (bob.clone(), json!(["b1", "b2", "b3"]), json!(["l1"])),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    count = rx.got().len();

    // Ada deactivated: no access left.
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(s.patch(&format!("/Users/{ada}"), &off).await.status, 200);
    assert_eq!(access_events(&s, &rx, count, 1).await, [(ada.clone(), json!([]), json!([]))]);
    count = rx.got().len();

    // Unlinked: bob loses it all (ada had none left: no event for her).
    let r =
        admin(&s, &op, Method::DELETE, "/tenants/acme/access", Some(json!({"group": "Staff", "section": "s1"}))).await;
    assert!(r.status < 300, "{}", r.body);
    assert_eq!(access_events(&s, &rx, count, 1).await, [(bob.clone(), json!([]), json!([]))]);
    let later = access_events_within(&s, &rx, count, 2, std::time::Duration::from_millis(500)).await;
    assert_eq!(later.len(), 1, "one event only");
}
