//! The [`TransferStore`] contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on PostgreSQL:
//! every kind read page by page in a fixed order, written into another database, read back
//! the same; the resources' attribute index and counts rebuilt from the entries given, so
//! filters and totals answer on the target; a tenant's rows read alone.

mod support;

use chrono::Utc;
use scimd_core::builtin::standard_registry;
use scimd_core::list::{ListParams, PageConfig};
use scimd_core::resource::{self, MemberValue};
use scimd_core::schema::ResourceKind;
use scimd_store::transfer::{Field, ImportRow, Owner, Selection};
use scimd_store::{ClientKeys, NewClient, NewResource, PRIVATE_KEY_JWT, ResourceState, Store, Trust};
use serde_json::{Value, json};

fn state(kind: ResourceKind, doc: Value) -> ResourceState {
    let reg = standard_registry();
    let doc = resource::prepare(&reg, kind, &doc).unwrap().doc;
    ResourceState {
        index: resource::index_entries(&reg, kind, &doc),
        unique_key: resource::unique_key(kind, &doc),
        display: resource::display_of(kind, &doc),
        doc,
    }
}

/// Every row of `selection`, kind by kind, read two at a time (pages end mid-kind).
async fn rows(store: &dyn Store, selection: &Selection, tenants: &[&str]) -> Vec<(usize, Vec<Field>)> {
    let mut out = Vec::new();
    for (i, kind) in store.kinds().iter().enumerate() {
        let passes: Vec<Selection> = match (kind.owner, selection) {
            (Owner::Deployment, Selection::Everything) => vec![Selection::Everything],
            (Owner::Deployment, _) => continue,
            (Owner::Tenant, _) => tenants.iter().map(|t| Selection::Tenant(t.to_string())).collect(),
            (Owner::Shared, s) => vec![s.clone()],
        };
        for pass in passes {
            let mut after = None;
            loop {
                let page = store.export_page(i, &pass, after, 2).await.unwrap();
                assert!(page.rows.len() <= 2);
                out.extend(page.rows.into_iter().map(|r| (i, r)));
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
    }
    out
}

/// Writes `rows` as an import does: the index of each resource from its document.
async fn write(store: &dyn Store, rows: &[(usize, Vec<Field>)]) {
    let reg = standard_registry();
    for (kind, fields) in rows {
        let resource = store.kinds()[*kind].name == "resource";
        let index = match (resource, fields.get(1), fields.get(11)) {
            (true, Some(Field::Int(rtype)), Some(Field::Text(data))) => {
                let k = if *rtype == 1 { ResourceKind::User } else { ResourceKind::Group };
                resource::index_entries(&reg, k, &serde_json::from_str(data).unwrap())
            }
            _ => Vec::new(),
        };
        store.import_rows(*kind, vec![ImportRow { fields: fields.clone(), index }]).await.unwrap();
    }
    for (kind, fields) in rows {
        store.import_links(*kind, vec![fields.clone()]).await.unwrap();
    }
}

async fn seed(store: &dyn Store) {
    let now = Utc::now();
    for name in ["acme", "globex"] {
        let t = store.create_tenant(name, true, now).await.unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            let doc = json!({"userName": format!("{name}-user{n}"), "externalId": format!("E{n}"), "active": n != 1});
            let new = NewResource {
                state: state(ResourceKind::User, doc),
                password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
                members: vec![],
                event: None,
                derived_gen: 0,
                writer: Default::default(),
            };
            ids.push(store.create(t.id, ResourceKind::User, new, now).await.unwrap().id);
        }
        let members = ids.iter().map(|i| MemberValue { value: i.clone(), kind: None }).collect();
        let group = NewResource {
            state: state(ResourceKind::Group, json!({"displayName": "staff"})),
            password_hash: None,
            members,
            event: None,
            derived_gen: 0,
            writer: Default::default(),
        };
        store.create(t.id, ResourceKind::Group, group, now).await.unwrap();
        store.create_token(t.id, [name.len() as u8; 32], now, None).await.unwrap();
        let trust = Trust {
            tenant: t.id,
            name: "idp".into(),
            issuer: format!("https://{name}.idp.example"),
            jwks_uri: None,
            audiences: vec!["api://scimd".into()],
            subjects: vec!["workload".into()],
            claims: [("tid".to_string(), name.to_string())].into(),
            scopes: vec!["scim".into()],
            accept_bearer: name == "acme",
            created: String::new(),
        };
        store.add_trust(trust, now).await.unwrap();
        // A client bound to the tenant's trust, and one with keys inline.
        for (id, keys) in [
            (format!("{name}-wif"), ClientKeys { trust: Some((t.id, "idp".into())), ..ClientKeys::default() }),
            (format!("{name}-signer"), ClientKeys { jwks: Some(r#"{"keys":[]}"#.into()), ..ClientKeys::default() }),
        ] {
            let client = NewClient {
                client_id: id,
                secret_hash: None,
                secret_expires: None,
                grant_types: vec!["client_credentials".into()],
                scopes: vec!["scim".into()],
                access_ttl_secs: 60,
                refresh_ttl_secs: 60,
                refresh_expiry: None,
                tenants: vec![t.id],
                keys: ClientKeys { auth_method: Some(PRIVATE_KEY_JWT.into()), ..keys },
            };
            store.create_client(client, now).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_row_reads_back_the_same_from_another_database() {
    let source = support::fresh_store().await;
    seed(&*source).await;
    let tenants = ["acme", "globex"];
    let all = rows(&*source, &Selection::Everything, &tenants).await;
    let names: Vec<&str> = all.iter().map(|(k, _)| source.kinds()[*k].name).collect();
    assert_eq!(names.iter().filter(|n| **n == "resource").count(), 8, "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "member").count(), 6);
    assert_eq!(names.iter().filter(|n| **n == "federation_trust").count(), 2);
    assert_eq!(names.iter().filter(|n| **n == "client_keys").count(), 4);

    let target = support::fresh_store().await;
    write(&*target, &all).await;
    assert_eq!(rows(&*target, &Selection::Everything, &tenants).await, all);

    // The index and counts were rebuilt: a filter and a total answer.
    let acme = target.tenant_by_name("acme").await.unwrap().unwrap();
    let params = ListParams { filter: Some("externalId eq \"E2\"".into()), ..ListParams::default() };
    let query = params.resolve(&standard_registry(), ResourceKind::User, &PageConfig::default()).unwrap();
    let page = target.list(acme.id, ResourceKind::User, &query, false).await.unwrap();
    assert_eq!((page.total, page.items.len()), (1, 1));
    assert!(page.items[0].data.contains("acme-user2"));
    let query =
        ListParams::default().resolve(&standard_registry(), ResourceKind::User, &PageConfig::default()).unwrap();
    assert_eq!(target.list(acme.id, ResourceKind::User, &query, false).await.unwrap().total, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_rows_are_read_alone() {
    let store = support::fresh_store().await;
    seed(&*store).await;
    let one = rows(&*store, &Selection::Tenants(vec!["globex".into()]), &["globex"]).await;
    assert!(!one.is_empty());
    for (kind, fields) in &one {
        let k = &store.kinds()[*kind];
        assert_ne!(k.owner, Owner::Deployment);
        if k.columns[0].0 == "tenant" || k.columns[0].0 == "name" {
            assert_eq!(fields[0], Field::Text("globex".into()), "{}", k.name);
        }
    }
    // A deployment's kind is not read for a tenant.
    let keys = store.kinds().iter().position(|k| k.owner == Owner::Deployment).unwrap();
    assert!(store.export_page(keys, &Selection::Tenant("globex".into()), None, 10).await.is_err());
}
