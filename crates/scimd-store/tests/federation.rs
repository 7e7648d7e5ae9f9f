//! The federation contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on PostgreSQL: a
//! tenant's federated trusts (added, read by name and by issuer, listed, removed, never
//! another tenant's), a client's keys (`private_key_jwt` revoking its secrets), and the
//! single use of assertion `jti`s (a replay refused until the assertion expires; purged).

mod support;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use scimd_store::{ClientKeys, NewClient, PRIVATE_KEY_JWT, Store, StoreError, TenantId, Trust};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap().with_timezone(&Utc)
}

async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    store.create_tenant(name, true, t0()).await.unwrap().id
}

fn trust(tenant: TenantId, name: &str, issuer: &str) -> Trust {
    Trust {
        tenant,
        name: name.into(),
        issuer: issuer.into(),
        jwks_uri: None,
        audiences: vec!["api://scimd".into()],
        subjects: vec!["w-1".into(), "w-2".into()],
        claims: BTreeMap::from([("tid".to_string(), "dir-1".to_string())]),
        scopes: vec!["scim:read".into()],
        accept_bearer: false,
        created: String::new(),
    }
}

#[tokio::test]
async fn trusts_are_a_tenants_own() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let idp = "https://login.example.com/dir-1/v2.0";
    store.add_trust(trust(a, "entra", idp), t0()).await.unwrap();
    let mut second = trust(a, "okta", "https://acme.okta.com");
    second.jwks_uri = Some("https://acme.okta.com/oauth2/v1/keys".into());
    second.claims = BTreeMap::new();
    store.add_trust(second.clone(), t0()).await.unwrap();
    // The same name in another tenant is another trust; twice in one tenant is a conflict.
    let mut bearer = trust(b, "entra", idp);
    bearer.accept_bearer = true;
    store.add_trust(bearer, t0()).await.unwrap();
    assert!(matches!(
        store.add_trust(trust(a, "entra", "https://x.example"), t0()).await,
        Err(StoreError::Conflict(_))
    ));

    let got = store.trust(a, "entra").await.unwrap().unwrap();
    assert_eq!(got, Trust { created: got.created.clone(), ..trust(a, "entra", idp) });
    assert!(!got.created.is_empty());
    let names = |ts: Vec<Trust>| ts.into_iter().map(|t| (t.tenant, t.name)).collect::<Vec<_>>();
    assert_eq!(names(store.trusts(a).await.unwrap()), [(a, "entra".to_string()), (a, "okta".to_string())]);
    assert_eq!(names(store.trusts_of_issuer(a, idp).await.unwrap()), [(a, "entra".to_string())]);
    assert_eq!(names(store.trusts_of_issuer(b, idp).await.unwrap()), [(b, "entra".to_string())]);
    assert!(store.trusts_of_issuer(b, "https://acme.okta.com").await.unwrap().is_empty());
    assert!(store.trust(b, "okta").await.unwrap().is_none());
    assert_eq!(names(store.bearer_trusts().await.unwrap()), [(b, "entra".to_string())]);
    assert_eq!(store.trust(a, "okta").await.unwrap().unwrap().jwks_uri, second.jwks_uri);

    store.remove_trust(a, "entra").await.unwrap();
    assert!(matches!(store.remove_trust(a, "entra").await, Err(StoreError::NotFound)));
    assert!(store.trust(a, "entra").await.unwrap().is_none());
    assert!(store.trust(b, "entra").await.unwrap().is_some(), "another tenant's trust stays");
}

#[tokio::test]
async fn client_keys_and_their_secrets() {
    let store = support::fresh_store().await;
    let a = tenant(&*store, "a").await;
    let new = |id: &str, secret: Option<&str>, keys: ClientKeys| NewClient {
        client_id: id.into(),
        secret_hash: secret.map(String::from),
        secret_expires: None,
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["scim".into()],
        access_ttl_secs: 60,
        refresh_ttl_secs: 60,
        refresh_expiry: None,
        tenants: vec![a],
        keys,
    };
    let inline = ClientKeys {
        auth_method: Some(PRIVATE_KEY_JWT.into()),
        jwks: Some(r#"{"keys":[]}"#.into()),
        ..Default::default()
    };
    store.create_client(new("signer", None, inline.clone()), t0()).await.unwrap();
    let c = store.client_auth("signer", t0()).await.unwrap().unwrap();
    assert_eq!((c.keys, c.secret_hashes.len()), (inline, 0));

    store.create_client(new("mover", Some("h1"), ClientKeys::default()), t0()).await.unwrap();
    assert!(!store.client_auth("mover", t0()).await.unwrap().unwrap().keys.private_key_jwt());
    let bound = ClientKeys {
        auth_method: Some(PRIVATE_KEY_JWT.into()),
        trust: Some((a, "entra".into())),
        ..Default::default()
    };
    store.set_client_keys("mover", bound.clone(), t0()).await.unwrap();
    let c = store.client_auth("mover", t0()).await.unwrap().unwrap();
    assert_eq!(c.keys, bound);
    assert!(c.secret_hashes.is_empty(), "becoming private_key_jwt revokes the secrets");
    let listed = store.list_clients().await.unwrap();
    let mover = listed.iter().find(|c| c.client_id == "mover").unwrap();
    assert_eq!(mover.keys, bound);
    assert!(mover.secrets.iter().all(|s| s.revoked.is_some()));
    store.set_client_keys("mover", ClientKeys::default(), t0()).await.unwrap();
    assert_eq!(store.client_auth("mover", t0()).await.unwrap().unwrap().keys, ClientKeys::default());
    assert!(matches!(store.set_client_keys("nobody", ClientKeys::default(), t0()).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn a_jti_is_used_once_until_it_expires() {
    let store = support::fresh_store().await;
    let later = t0() + TimeDelta::seconds(120);
    assert!(store.claim_jti("client-1", "j-1", later, t0()).await.unwrap());
    assert!(!store.claim_jti("client-1", "j-1", later, t0()).await.unwrap(), "a replay");
    assert!(!store.claim_jti("client-1", "j-1", later, t0() + TimeDelta::seconds(60)).await.unwrap());
    assert!(store.claim_jti("client-2", "j-1", later, t0()).await.unwrap(), "jtis are per issuer");
    // Once the assertion has expired its jti is free (a new assertion may reuse it).
    let after = later + TimeDelta::seconds(1);
    assert!(store.claim_jti("client-1", "j-1", after + TimeDelta::seconds(60), after).await.unwrap());
    // Concurrent claims of one jti: exactly one wins.
    let claim = || store.claim_jti("client-3", "race", later, t0());
    let (w, x, y, z) = tokio::join!(claim(), claim(), claim(), claim());
    let won = [w, x, y, z].into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(won, 1);
    // The purge drops expired jtis only.
    let purged = store.purge_oauth(after, after, after).await.unwrap();
    assert!(purged >= 2, "{purged}");
    assert!(!store.claim_jti("client-1", "j-1", later, t0()).await.unwrap(), "a live jti survives the purge");
}
