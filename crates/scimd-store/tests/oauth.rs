//! The credential and OAuth contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on
//! PostgreSQL: bearer and operator tokens, OAuth clients and their secrets, API users,
//! signing keys and deployment secrets, refresh-token rotation (every outcome), revoked
//! grants, opaque access tokens, the failed-login counts and the OAuth purge.

mod support;

use chrono::{DateTime, TimeDelta, Utc};

use scimd_store::{
    ClientUpdate, LockoutKey, LoginAttempt, NewAccessToken, NewClient, NewRefresh, RefreshExpiry, Rotate, Rotation,
    Store, StoreError, TenantId,
};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap().with_timezone(&Utc)
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    store.create_tenant(name, true, t0()).await.unwrap().id
}

async fn client(store: &dyn Store, id: &str, tenants: Vec<TenantId>) -> i64 {
    store
        .create_client(
            NewClient {
                client_id: id.into(),
                secret_hash: Some(format!("{id}-first")),
                secret_expires: None,
                grant_types: vec!["client_credentials".into(), "refresh_token".into()],
                scopes: vec!["scim:read".into(), "scim:write".into()],
                access_ttl_secs: 600,
                refresh_ttl_secs: 3600,
                refresh_expiry: None,
                tenants,
                keys: Default::default(),
            },
            t0(),
        )
        .await
        .unwrap();
    store.client_auth(id, t0()).await.unwrap().unwrap().row
}

#[tokio::test]
async fn bearer_and_operator_tokens() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let id = store.create_token(a, [1; 32], t0(), Some(t0() + secs(60))).await.unwrap();
    let forever = store.create_token(a, [2; 32], t0(), None).await.unwrap();
    assert!(forever > id);
    let found = store.token_tenant([1; 32], t0()).await.unwrap().unwrap();
    assert_eq!((found.id, found.tenant, found.scim_enabled), (id, a, true));
    assert_eq!(found.expires, Some((t0() + secs(60)).timestamp()));
    assert_eq!(store.token_tenant([2; 32], t0()).await.unwrap().unwrap().expires, None);
    assert!(store.token_tenant([1; 32], t0() + secs(60)).await.unwrap().is_none(), "expired");
    assert!(store.token_tenant([3; 32], t0()).await.unwrap().is_none());

    // Another tenant's token is not found; revoking twice keeps the first time.
    assert!(matches!(store.revoke_token(b, id, t0()).await, Err(StoreError::NotFound)));
    store.revoke_token(a, id, t0() + secs(1)).await.unwrap();
    store.revoke_token(a, id, t0() + secs(2)).await.unwrap();
    assert!(store.token_tenant([1; 32], t0()).await.unwrap().is_none());
    let listed = store.list_tokens(a).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![id, forever]);
    assert_eq!(listed[0].revoked.as_deref(), Some("2026-03-01T10:00:01.000000000Z"));
    assert_eq!(listed[0].state("2026-03-01T10:00:03.000000000Z"), "revoked");
    assert!(store.list_tokens(b).await.unwrap().is_empty());
    assert!(matches!(store.create_token(b, [2; 32], t0(), None).await, Err(StoreError::Conflict(_))));

    store.create_admin_token([9; 32], t0(), Some(t0() + secs(10))).await.unwrap();
    assert!(store.admin_token_valid([9; 32], t0()).await.unwrap());
    assert!(!store.admin_token_valid([9; 32], t0() + secs(10)).await.unwrap());
    assert!(!store.admin_token_valid([8; 32], t0()).await.unwrap());
}

#[tokio::test]
async fn clients_their_secrets_and_settings() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let row = client(&*store, "app", vec![b, a]).await;
    assert!(matches!(
        store
            .create_client(
                NewClient {
                    client_id: "app".into(),
                    secret_hash: Some("x".into()),
                    secret_expires: None,
                    grant_types: vec![],
                    scopes: vec![],
                    access_ttl_secs: 1,
                    refresh_ttl_secs: 1,
                    refresh_expiry: None,
                    tenants: vec![],
                    keys: Default::default(),
                },
                t0(),
            )
            .await,
        Err(StoreError::Conflict(what)) if what == "client id"
    ));
    let second = store.add_client_secret("app", "app-second".into(), Some(t0() + secs(5)), t0()).await.unwrap();
    assert!(matches!(store.add_client_secret("nobody", "x".into(), None, t0()).await, Err(StoreError::NotFound)));

    let auth = store.client_auth("app", t0()).await.unwrap().unwrap();
    assert_eq!(auth.row, row);
    assert_eq!(auth.secret_hashes, vec!["app-second", "app-first"], "newest first");
    assert_eq!(auth.tenants, vec![(a, "a".to_string()), (b, "b".to_string())]);
    assert_eq!(auth.scopes, vec!["scim:read", "scim:write"]);
    assert_eq!(
        (auth.access_ttl_secs, auth.refresh_ttl_secs, auth.refresh_expiry, auth.disabled),
        (600, 3600, None, false)
    );
    let later = store.client_auth("app", t0() + secs(5)).await.unwrap().unwrap();
    assert_eq!(later.secret_hashes, vec!["app-first"], "the second expired");
    assert!(store.client_auth("nobody", t0()).await.unwrap().is_none());

    let first = store.list_clients().await.unwrap()[0].secrets[0].id;
    assert!(matches!(store.revoke_client_secret("nobody", first, t0()).await, Err(StoreError::NotFound)));
    store.revoke_client_secret("app", first, t0() + secs(1)).await.unwrap();
    store.revoke_client_secret("app", first, t0() + secs(2)).await.unwrap();
    assert!(store.client_auth("app", t0() + secs(5)).await.unwrap().unwrap().secret_hashes.is_empty());

    store
        .update_client(
            "app",
            ClientUpdate {
                access_ttl_secs: Some(60),
                refresh_expiry: Some(Some(RefreshExpiry::Sliding)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(store.update_client("nobody", ClientUpdate::default()).await, Err(StoreError::NotFound)));
    let bare = client(&*store, "bare", vec![]).await;
    assert!(bare > row);
    let listed = store.list_clients().await.unwrap();
    assert_eq!(listed.iter().map(|c| c.client_id.as_str()).collect::<Vec<_>>(), vec!["app", "bare"]);
    let app = &listed[0];
    assert_eq!(app.tenants, vec!["a", "b"]);
    assert_eq!(
        (app.access_ttl_secs, app.refresh_ttl_secs, app.refresh_expiry),
        (60, 3600, Some(RefreshExpiry::Sliding))
    );
    assert_eq!(app.secrets.iter().map(|s| s.id).collect::<Vec<_>>(), vec![first, second]);
    assert_eq!(app.secrets[0].revoked.as_deref(), Some("2026-03-01T10:00:01.000000000Z"));
    assert!(listed[1].tenants.is_empty());
    assert!(store.client_auth("bare", t0()).await.unwrap().unwrap().tenants.is_empty());
    store.update_client("app", ClientUpdate { refresh_expiry: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!(store.client_auth("app", t0()).await.unwrap().unwrap().refresh_expiry, None);
}

#[tokio::test]
async fn keys_and_deployment_secrets() {
    let store = support::fresh_store().await;
    store.add_signing_key("k1", vec![1, 2], t0()).await.unwrap();
    store.add_signing_key("k2", vec![3], t0() + secs(1)).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), vec!["k2", "k1"], "newest first");
    assert_eq!(keys[1].seed, vec![1, 2]);
    assert!(!store.replace_signing_key_seed("k1", vec![9], vec![7]).await.unwrap(), "not the stored seed");
    assert!(store.replace_signing_key_seed("k1", vec![1, 2], vec![7]).await.unwrap());
    store.retire_signing_key("k1", t0()).await.unwrap();
    assert!(matches!(store.retire_signing_key("k1", t0()).await, Err(StoreError::NotFound)));
    assert!(!store.replace_signing_key_seed("k1", vec![7], vec![8]).await.unwrap(), "retired");
    assert_eq!(store.signing_keys().await.unwrap().iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), vec!["k2"]);

    assert_eq!(store.server_secret("s", vec![1], t0()).await.unwrap(), vec![1]);
    assert_eq!(store.server_secret("s", vec![2], t0()).await.unwrap(), vec![1], "the first stored wins");
    assert!(!store.replace_server_secret("s", vec![2], vec![3]).await.unwrap());
    assert!(store.replace_server_secret("s", vec![1], vec![3]).await.unwrap());
    store.server_secret("a", vec![4], t0()).await.unwrap();
    assert_eq!(store.server_secret_values().await.unwrap(), vec![("a".into(), vec![4]), ("s".into(), vec![3])]);
}

fn rotate(hash: u8, client: i64, new: u8, now: DateTime<Utc>) -> Rotate {
    Rotate {
        hash: [hash; 32],
        client,
        new_hash: [new; 32],
        new_expires: now + secs(3600),
        retry: Some(vec![new]),
        grace_since: now - secs(10),
        revoke_until: now + secs(600),
        now,
    }
}

#[tokio::test]
async fn refresh_rotation_outcomes() {
    let store = support::fresh_store().await;
    let a = tenant(&*store, "a").await;
    let app = client(&*store, "app", vec![a]).await;
    let other = client(&*store, "other", vec![a]).await;
    store.create_api_user(a, "svc", "hash".into(), t0()).await.unwrap();
    let user = store.api_user_auth("svc").await.unwrap().unwrap().id;
    let new = |hash: u8, family: &str, expires: DateTime<Utc>| NewRefresh {
        hash: [hash; 32],
        family: family.into(),
        client: app,
        tenant: a,
        api_user: Some(user),
        scopes: vec!["scim:read".into()],
        expires,
    };
    store.store_refresh(new(1, "f1", t0() + secs(100)), t0()).await.unwrap();

    assert_eq!(store.rotate_refresh(rotate(9, app, 10, t0())).await.unwrap(), Rotation::Unknown);
    assert_eq!(store.rotate_refresh(rotate(1, other, 10, t0())).await.unwrap(), Rotation::Unknown);
    let Rotation::Rotated(g) = store.rotate_refresh(rotate(1, app, 2, t0())).await.unwrap() else { panic!() };
    assert_eq!((g.family.as_str(), g.client_id.as_str(), g.username.as_deref()), ("f1", "app", Some("svc")));
    assert_eq!(
        (g.created.as_str(), g.expires.as_str()),
        ("2026-03-01T10:00:00.000000000Z", "2026-03-01T11:00:00.000000000Z")
    );
    let spent = store.refresh_token([1; 32]).await.unwrap().unwrap();
    assert!(spent.used && !spent.revoked);
    assert!(!store.refresh_token([2; 32]).await.unwrap().unwrap().used);

    // A retry within the grace period gets the kept answer, and changes nothing.
    let Rotation::Retried { retry, grant } = store.rotate_refresh(rotate(1, app, 3, t0() + secs(5))).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((retry, grant.family.as_str()), (vec![2], "f1"));
    assert!(store.refresh_token([3; 32]).await.unwrap().is_none());

    // Once the successor is spent, the kept answer goes: the old token is a replay.
    let Rotation::Rotated(_) = store.rotate_refresh(rotate(2, app, 4, t0() + secs(6))).await.unwrap() else { panic!() };
    assert_eq!(store.rotate_refresh(rotate(1, app, 5, t0() + secs(7))).await.unwrap(), Rotation::Replayed);
    assert!(store.refresh_token([4; 32]).await.unwrap().unwrap().revoked, "the whole family");
    assert_eq!(store.rotate_refresh(rotate(4, app, 6, t0() + secs(8))).await.unwrap(), Rotation::Revoked);
    let revoked = store.grant_status(a, "jti", Some("f1")).await.unwrap().unwrap();
    assert!(revoked.revoked && revoked.scim_enabled);

    // Outside the grace period a spent token is a replay too.
    store.store_refresh(new(20, "f2", t0() + secs(100)), t0()).await.unwrap();
    let Rotation::Rotated(_) = store.rotate_refresh(rotate(20, app, 21, t0())).await.unwrap() else { panic!() };
    assert_eq!(store.rotate_refresh(rotate(20, app, 22, t0() + secs(60))).await.unwrap(), Rotation::Replayed);

    store.store_refresh(new(30, "f3", t0() + secs(100)), t0()).await.unwrap();
    assert_eq!(store.rotate_refresh(rotate(30, app, 31, t0() + secs(100))).await.unwrap(), Rotation::Expired);
    assert!(!store.refresh_token([30; 32]).await.unwrap().unwrap().used, "nothing changed");

    // Disabling the API user ends its logins for good.
    store.store_refresh(new(40, "f4", t0() + secs(100)), t0()).await.unwrap();
    store.set_api_user_disabled(a, "svc", true, t0()).await.unwrap();
    assert_eq!(store.rotate_refresh(rotate(40, app, 41, t0())).await.unwrap(), Rotation::Revoked);
    store.set_api_user_disabled(a, "svc", false, t0()).await.unwrap();
    assert_eq!(store.rotate_refresh(rotate(40, app, 41, t0())).await.unwrap(), Rotation::Revoked, "still revoked");
    assert!(store.grant_status(a, "x", Some("f4")).await.unwrap().unwrap().revoked);
    assert!(store.grant_status(a, "x", Some("f3")).await.unwrap().unwrap().revoked, "every login of the user");
    assert!(!store.grant_status(a, "x", Some("another")).await.unwrap().unwrap().revoked);
    assert!(matches!(store.set_api_user_disabled(a, "nobody", true, t0()).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn grants_access_tokens_and_api_users() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let app = client(&*store, "app", vec![a]).await;
    store.create_api_user(a, "svc", "h1".into(), t0()).await.unwrap();
    assert!(
        matches!(store.create_api_user(b, "svc", "h".into(), t0()).await, Err(StoreError::Conflict(w)) if w == "username")
    );
    store.create_api_user(a, "two", "h2".into(), t0() + secs(1)).await.unwrap();
    let user = store.api_user_auth("svc").await.unwrap().unwrap();
    assert_eq!(
        (user.tenant, user.tenant_name.as_str(), user.password_hash.as_str(), user.disabled),
        (a, "a", "h1", false)
    );
    assert!(store.api_user_auth("nobody").await.unwrap().is_none());
    store.set_api_user_disabled(a, "two", true, t0()).await.unwrap();
    assert!(store.api_user_auth("two").await.unwrap().unwrap().disabled);
    let users = store.list_api_users(a).await.unwrap();
    assert_eq!(
        users.iter().map(|u| (u.username.as_str(), u.disabled.is_some())).collect::<Vec<_>>(),
        vec![("svc", false), ("two", true)]
    );
    assert!(store.list_api_users(b).await.unwrap().is_empty());
    assert!(matches!(store.set_api_user_password(b, "svc", "x".into(), t0()).await, Err(StoreError::NotFound)));

    // A password change ends the user's logins too.
    store
        .store_refresh(
            NewRefresh {
                hash: [1; 32],
                family: "fam".into(),
                client: app,
                tenant: a,
                api_user: Some(user.id),
                scopes: vec![],
                expires: t0() + secs(100),
            },
            t0(),
        )
        .await
        .unwrap();
    store.set_api_user_password(a, "svc", "h3".into(), t0()).await.unwrap();
    assert_eq!(store.api_user_auth("svc").await.unwrap().unwrap().password_hash, "h3");
    assert!(store.refresh_token([1; 32]).await.unwrap().unwrap().revoked);

    assert!(store.grant_status(TenantId(999), "j", None).await.unwrap().is_none());
    assert!(!store.grant_status(a, "j1", None).await.unwrap().unwrap().revoked);
    store.revoke_grant("j1", t0() + secs(10)).await.unwrap();
    store.revoke_grant("j1", t0() + secs(5)).await.unwrap();
    assert!(store.grant_status(a, "j1", None).await.unwrap().unwrap().revoked);

    let token = NewAccessToken {
        hash: [7; 32],
        jti: "j2".into(),
        family: Some("fam2".into()),
        client: app,
        tenant: a,
        subject: Some("svc".into()),
        scopes: vec!["scim:read".into(), "scim:write".into()],
        expires: t0() + secs(60),
    };
    store.store_access_token(token, t0()).await.unwrap();
    let row = store.access_token([7; 32]).await.unwrap().unwrap();
    assert_eq!((row.jti.as_str(), row.client_id.as_str(), row.tenant_name.as_str()), ("j2", "app", "a"));
    assert_eq!((row.scopes.len(), row.revoked, row.expires.as_str()), (2, false, "2026-03-01T10:01:00.000000000Z"));
    store.revoke_grant("fam2", t0() + secs(60)).await.unwrap();
    assert!(store.access_token([7; 32]).await.unwrap().unwrap().revoked, "revoked with its family");
    assert!(store.access_token([8; 32]).await.unwrap().is_none());

    // Purging: the access token and the revocations past their expiry, the refresh token
    // expired before the cutoff.
    let n = store.purge_oauth(t0() + secs(61), t0() + secs(101), t0()).await.unwrap();
    assert_eq!(n, 4, "one refresh token, two revocations (j1, fam2), one access token");
    assert!(store.refresh_token([1; 32]).await.unwrap().is_none());
    assert!(store.access_token([7; 32]).await.unwrap().is_none());
    assert!(
        store.grant_status(a, "nothing", Some("fam")).await.unwrap().unwrap().revoked,
        "until its last token's expiry"
    );
}

fn keys(threshold: i64) -> Vec<LockoutKey> {
    vec![LockoutKey { key: "app@10.0.0.1".into(), threshold }, LockoutKey { key: "app".into(), threshold: 10 }]
}

#[tokio::test]
async fn failed_logins_lock_and_a_success_forgets_them() {
    let store = support::fresh_store().await;
    for _ in 0..3 {
        assert_eq!(store.login_attempt(keys(3), 60, t0()).await.unwrap(), LoginAttempt::Allowed);
    }
    let locked = store.login_attempt(keys(3), 60, t0() + secs(1)).await.unwrap();
    assert_eq!(locked, LoginAttempt::Locked { until: "2026-03-01T10:01:00.000000000Z".into() });
    // Another address is not locked out by the first one's key.
    let other =
        vec![LockoutKey { key: "app@10.0.0.2".into(), threshold: 3 }, LockoutKey { key: "app".into(), threshold: 10 }];
    assert_eq!(store.login_attempt(other.clone(), 60, t0()).await.unwrap(), LoginAttempt::Allowed);
    // After the lockout a new count starts.
    assert_eq!(store.login_attempt(keys(3), 60, t0() + secs(61)).await.unwrap(), LoginAttempt::Allowed);
    store.login_succeeded(keys(3).into_iter().map(|k| k.key).collect()).await.unwrap();
    store.login_succeeded(vec!["app@10.0.0.2".into()]).await.unwrap();
    for _ in 0..3 {
        assert_eq!(store.login_attempt(keys(3), 60, t0() + secs(62)).await.unwrap(), LoginAttempt::Allowed);
    }
    assert!(matches!(store.login_attempt(keys(3), 60, t0() + secs(62)).await.unwrap(), LoginAttempt::Locked { .. }));
    // A key locked is never counted further; the shared key was counted 3 times since.
    let shared = vec![LockoutKey { key: "app".into(), threshold: 4 }];
    assert_eq!(store.login_attempt(shared.clone(), 60, t0() + secs(62)).await.unwrap(), LoginAttempt::Allowed);
    assert!(matches!(store.login_attempt(shared, 60, t0() + secs(63)).await.unwrap(), LoginAttempt::Locked { .. }));
    // Counts idle and no longer locked are purged: both keys left (a success removed the rest).
    let n = store.purge_oauth(t0() + secs(1000), t0(), t0() + secs(999)).await.unwrap();
    assert_eq!(n, 2);
}
