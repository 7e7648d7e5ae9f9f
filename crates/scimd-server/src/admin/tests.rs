//! The operator use cases' rules, tested where they live: each test drives [`Admin`]
//! over a real SQLite store in a temporary directory, with a clock that moves only when
//! told. The same rules are also exercised through the CLI and the admin API.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use scimd_store::Store;
use scimd_store::sqlite::{SqliteOptions, SqliteStore};

use super::*;
use crate::clock::ManualClock;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    admin: Admin,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("scimd.db");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(path.to_str().expect("utf-8 path"), SqliteOptions::default()).expect("store"));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap()));
    let admin = Admin::new(store.clone(), clock.clone());
    Fixture { _dir: dir, store, clock, admin }
}

fn status<T: std::fmt::Debug>(r: AdminResult<T>) -> u16 {
    r.expect_err("an operator error").status
}

#[tokio::test]
async fn tenant_names_are_trimmed_printable_and_unique() {
    let f = fixture();
    let t = f.admin.create_tenant("  acme  ", true).await.unwrap();
    assert_eq!(t.name, "acme");
    assert!(t.scim_enabled);
    assert_eq!(status(f.admin.create_tenant("acme", false).await), 409);
    assert_eq!(status(f.admin.create_tenant("   ", true).await), 400);
    assert_eq!(status(f.admin.create_tenant("a\u{7}b", true).await), 400);
    assert_eq!(status(f.admin.create_tenant(&"x".repeat(201), true).await), 400);
    assert_eq!(status(f.admin.tenant("nobody").await), 404);
    let names: Vec<String> = f.admin.list_tenants().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["acme"]);
}

#[tokio::test]
async fn a_tenant_shows_the_preset_its_profile_came_from() {
    let f = fixture();
    f.admin.create_tenant("plain", true).await.unwrap();
    assert_eq!(f.admin.tenant_view("plain").await.unwrap().preset, None);
    let preset = crate::presets::names().split(", ").next().expect("a preset").to_string();
    f.admin.create_tenant_with_preset("preset", true, &preset, scimd_store::Stage::Integration).await.unwrap();
    assert_eq!(f.admin.tenant_view("preset").await.unwrap().preset.as_deref(), Some(preset.as_str()));
    let err = f
        .admin
        .create_tenant_with_preset("other", true, "no-such-preset", scimd_store::Stage::Integration)
        .await
        .unwrap_err();
    assert_eq!(err.status, 400);
    assert!(err.message.contains(&preset), "the refusal lists the presets: {}", err.message);
    assert_eq!(status(f.admin.tenant("other").await), 404, "a refused preset creates no tenant");
}

#[tokio::test]
async fn a_long_lived_token_is_shown_once_and_stored_as_a_hash() {
    let f = fixture();
    f.admin.create_tenant("acme", true).await.unwrap();
    let created = f.admin.create_token("acme", Some(30)).await.unwrap();
    let now = f.clock.now();
    let found = f.store.token_tenant(hash_token(&created.token), now).await.unwrap();
    assert!(found.is_some(), "the token's hash finds its tenant");
    let listed = f.admin.list_tokens("acme").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!format!("{listed:?}").contains(&created.token), "a listing never shows the token");
    assert_eq!(listed[0].state, "active");

    f.admin.revoke_token("acme", created.id).await.unwrap();
    assert!(f.store.token_tenant(hash_token(&created.token), now).await.unwrap().is_none());
    assert_eq!(f.admin.list_tokens("acme").await.unwrap()[0].state, "revoked");
    assert_eq!(status(f.admin.revoke_token("acme", created.id + 1).await), 404);
}

#[tokio::test]
async fn a_token_ends_when_its_days_are_over() {
    let f = fixture();
    f.admin.create_tenant("acme", true).await.unwrap();
    let created = f.admin.create_token("acme", Some(1)).await.unwrap();
    f.clock.advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    assert!(f.store.token_tenant(hash_token(&created.token), f.clock.now()).await.unwrap().is_none());
    assert_eq!(f.admin.list_tokens("acme").await.unwrap()[0].state, "expired");
}

fn client(tenants: &[&str], grants: &[&str], scopes: &[&str]) -> ClientSpec {
    ClientSpec {
        tenants: tenants.iter().map(|s| s.to_string()).collect(),
        keys: None,
        grants: grants.iter().map(|s| s.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        access_ttl_secs: 3600,
        refresh_ttl_secs: 86400,
        refresh_expiry: None,
        secret_expires_secs: None,
    }
}

#[tokio::test]
async fn a_client_needs_known_grants_valid_scopes_and_existing_tenants() {
    let f = fixture();
    f.admin.create_tenant("acme", true).await.unwrap();
    assert_eq!(status(f.admin.create_client(client(&[], &[], &["scim"])).await), 400);
    assert_eq!(status(f.admin.create_client(client(&["nobody"], &[], &["scim"])).await), 404);
    assert_eq!(status(f.admin.create_client(client(&["acme"], &["implicit"], &["scim"])).await), 400);
    assert_eq!(status(f.admin.create_client(client(&["acme"], &[], &["bad\"scope"])).await), 400);
    let mut zero = client(&["acme"], &[], &["scim"]);
    zero.access_ttl_secs = 0;
    assert_eq!(status(f.admin.create_client(zero).await), 400);
    assert!(f.admin.list_clients().await.unwrap().is_empty(), "refused clients are not created");

    let made = f.admin.create_client(client(&["acme"], &["password"], &["scim", "scim"])).await.unwrap();
    let listed = f.admin.list_clients().await.unwrap();
    assert_eq!(listed.len(), 1);
    let text = format!("{listed:?}");
    assert!(text.contains(&made.client_id));
    assert!(!text.contains(&made.client_secret), "a listing never shows the secret");
    assert!(text.contains("refresh_token"), "the password grant brings refresh tokens: {text}");
}

#[test]
fn scopes_follow_the_oauth_grammar_and_drop_repeats() {
    assert_eq!(scope_tokens(&["scim  read", "scim"]).unwrap(), ["scim", "read"]);
    assert_eq!(scope_tokens(&["a:b/c"]).unwrap(), ["a:b/c"]);
    assert_eq!(scope_tokens::<&str>(&[]).unwrap_err().status, 400);
    assert_eq!(scope_tokens(&["back\\slash"]).unwrap_err().status, 400);
    assert_eq!(scope_tokens(&["caf\u{e9}"]).unwrap_err().status, 400);
}

#[test]
fn operator_times_are_rfc3339_with_any_offset() {
    let t = parse_time(" 2026-12-04T10:00:00+01:00 ", "since").unwrap();
    assert_eq!(t, Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap());
    let err = parse_time("yesterday", "since").unwrap_err();
    assert_eq!(err.status, 400);
    assert!(err.message.contains("since 'yesterday'"), "{}", err.message);
}

#[tokio::test]
async fn api_users_have_safe_names_and_long_passwords() {
    let f = fixture();
    f.admin.create_tenant("acme", true).await.unwrap();
    assert_eq!(status(f.admin.create_api_user("acme", "a:b", None).await), 400);
    assert_eq!(status(f.admin.create_api_user("acme", "  ", None).await), 400);
    assert_eq!(status(f.admin.create_api_user("acme", "sync", Some("short".into())).await), 400);
    assert_eq!(status(f.admin.create_api_user("acme", "zero\u{200b}width", None).await), 400);
    let made = f.admin.create_api_user("acme", " sync ", None).await.unwrap();
    assert_eq!(made.username, "sync");
    assert!(made.password.chars().count() >= 12, "a generated password is long enough");
    assert_eq!(status(f.admin.create_api_user("acme", "sync", None).await), 409);

    f.admin.set_api_user_disabled("acme", "sync", true).await.unwrap();
    assert!(f.admin.list_api_users("acme").await.unwrap()[0].disabled.is_some());
    assert_eq!(status(f.admin.set_api_user_disabled("acme", "nobody", true).await), 404);
    assert_eq!(status(f.admin.set_api_user_password("acme", "sync", Some("too short".into())).await), 400);
    let again = f.admin.set_api_user_password("acme", "sync", Some("a long enough one".into())).await.unwrap();
    assert_eq!(again.password, "a long enough one");
}

#[tokio::test]
async fn the_last_signing_key_cannot_be_retired() {
    let f = fixture();
    let first = f.admin.rotate_signing_key().await.unwrap();
    assert_eq!(status(f.admin.retire_signing_key(&first.kid).await), 409);
    assert_eq!(status(f.admin.retire_signing_key("no-such-kid").await), 404);
    f.clock.advance(TimeDelta::seconds(1));
    let second = f.admin.rotate_signing_key().await.unwrap();
    f.admin.retire_signing_key(&first.kid).await.unwrap();
    let kids: Vec<String> = f.admin.signing_keys().await.unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, [second.kid]);
}

#[tokio::test]
async fn operator_tokens_are_the_configured_one_or_a_created_one() {
    let f = fixture();
    let configured = hash_token("configured-operator-token");
    assert!(f.admin.operator_token_valid("configured-operator-token", Some(&configured)).await.unwrap());
    assert!(!f.admin.operator_token_valid("something else", Some(&configured)).await.unwrap());
    let made = f.admin.create_admin_token(Some(1)).await.unwrap();
    assert!(f.admin.operator_token_valid(&made.token, None).await.unwrap());
    f.clock.advance(TimeDelta::days(2));
    assert!(!f.admin.operator_token_valid(&made.token, None).await.unwrap(), "an expired operator token");
}
