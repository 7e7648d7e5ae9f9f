//! The catalogs of a tenant's declared resource types (its Roles, Entitlements, …): the
//! operator loads a type's rows whole, shared by the command line and the admin HTTP API.
//! Every row is checked first against the type's schema (readOnly for clients, written
//! here), so a bad row changes nothing; then the rows are made what the file says: new
//! ids created with their ids, changed rows replaced, absent ones deleted.

use scimd_core::list::{ListParams, PageConfig};
use scimd_core::schema::{Mutability, Registry, ResourceKind};
use scimd_store::{Change, NewResource, StoreError, Tenant, Update, Writer};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Admin, AdminError, AdminResult};

/// The most rows one catalog may hold.
pub const MAX_CATALOG_ROWS: usize = 10_000;

/// What loading a catalog changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CatalogDiff {
    pub tenant: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// Makes every attribute of `urns` writable: the operator writes what clients only read.
fn writable(mut reg: Registry, urns: &[String]) -> Registry {
    fn open(a: &mut scimd_core::schema::AttrDef) {
        a.mutability = Mutability::ReadWrite;
        a.sub_attributes.iter_mut().for_each(open);
    }
    for s in reg.schemas.iter_mut().filter(|s| urns.contains(&s.id)) {
        s.attributes.iter_mut().for_each(open);
    }
    reg
}

impl Admin {
    /// The tenant, its registry and the kind of its declared type `type_name`.
    async fn catalog_type(&self, tenant: &str, type_name: &str) -> AdminResult<(Tenant, Registry, ResourceKind)> {
        let t = self.tenant(tenant).await?;
        let service = crate::service::Service::new(self.store.clone(), self.clock.clone(), Default::default());
        let tenancy = service.profile(t.id).await.map_err(|e| AdminError::internal(format!("{e:?}")))?;
        let reg = (*tenancy.registry).clone();
        let declared: Vec<&str> =
            reg.resource_types.iter().filter(|rt| rt.kind.is_custom()).map(|rt| rt.name.as_str()).collect();
        let Some(rt) =
            reg.resource_types.iter().find(|rt| rt.kind.is_custom() && rt.name.eq_ignore_ascii_case(type_name))
        else {
            return Err(AdminError::not_found(format!(
                "tenant '{tenant}' declares no resource type '{type_name}' (its profile declares: {})",
                if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
            )));
        };
        let kind = rt.kind;
        Ok((t, reg, kind))
    }

    /// Every row of a declared type, oldest first.
    async fn catalog_rows(&self, t: &Tenant, reg: &Registry, kind: ResourceKind) -> AdminResult<Vec<(String, Value)>> {
        let mut all = Vec::new();
        loop {
            let params =
                ListParams { start_index: Some(all.len() as i64 + 1), count: Some(1000), ..Default::default() };
            let query = params.resolve(reg, kind, &PageConfig::default()).map_err(|e| AdminError::invalid(e.detail))?;
            let page = self.store.list(t.id, kind, &query, false).await.map_err(AdminError::internal)?;
            if page.items.is_empty() {
                return Ok(all);
            }
            for r in page.items {
                let doc: Value = serde_json::from_str(&r.data).map_err(AdminError::internal)?;
                all.push((r.id, doc));
            }
        }
    }

    /// A declared type's rows, each its stored document with its `id`.
    pub async fn show_catalog(&self, tenant: &str, type_name: &str) -> AdminResult<Vec<Value>> {
        let (t, reg, kind) = self.catalog_type(tenant, type_name).await?;
        let rows = self.catalog_rows(&t, &reg, kind).await?;
        Ok(rows
            .into_iter()
            .map(|(id, doc)| {
                let mut o = Map::new();
                o.insert("id".into(), Value::String(id));
                if let Value::Object(d) = doc {
                    o.extend(d);
                }
                Value::Object(o)
            })
            .collect())
    }

    /// Makes a declared type's rows those of `rows` (a JSON array of resources, each with
    /// its `id`; or a ListResponse holding them): all of them checked first, so that one
    /// bad row changes nothing.
    pub async fn replace_catalog(&self, tenant: &str, type_name: &str, rows: &Value) -> AdminResult<CatalogDiff> {
        let (t, reg, kind) = self.catalog_type(tenant, type_name).await?;
        let items = match rows {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("Resources") {
                Some(Value::Array(a)) => a,
                _ => return Err(AdminError::invalid("a catalog is a JSON array of resources (or a ListResponse)")),
            },
            _ => return Err(AdminError::invalid("a catalog is a JSON array of resources (or a ListResponse)")),
        };
        if items.len() > MAX_CATALOG_ROWS {
            return Err(AdminError::invalid(format!(
                "a catalog holds at most {MAX_CATALOG_ROWS} rows, not {}",
                items.len()
            )));
        }
        let rt = reg.resource_type(kind).expect("the type was found in this registry");
        let mut urns = vec![rt.schema.clone()];
        urns.extend(rt.extensions.iter().map(|e| e.schema.clone()));
        let writer = writable(reg.clone(), &urns);
        let mut wanted: Vec<(String, Value)> = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(obj) = item.as_object() else {
                errors.push(format!("row {}: not a JSON object", i + 1));
                continue;
            };
            let Some(id) = obj.get("id").and_then(Value::as_str) else {
                errors.push(format!("row {}: needs its 'id'", i + 1));
                continue;
            };
            if let Err(e) = scimd_core::resource_id::check(id) {
                errors.push(format!("row {} (id '{id}'): {e}", i + 1));
                continue;
            }
            if wanted.iter().any(|(w, _)| w == id) {
                errors.push(format!("row {} (id '{id}'): the id is given twice", i + 1));
                continue;
            }
            let mut body = obj.clone();
            body.remove("id");
            body.remove("meta");
            if !body.contains_key("schemas") {
                body.insert("schemas".into(), Value::Array(vec![Value::String(rt.schema.clone())]));
            }
            match scimd_core::resource::prepare(&writer, kind, &Value::Object(body)) {
                Ok(p) => wanted.push((id.to_string(), p.doc)),
                Err(e) => errors.push(format!("row {} (id '{id}'): {}", i + 1, e.detail)),
            }
        }
        if !errors.is_empty() {
            return Err(AdminError::invalid(format!("the catalog was not loaded: {}", errors.join("; "))));
        }
        let current = self.catalog_rows(&t, &reg, kind).await?;
        let mut diff = CatalogDiff {
            tenant: t.name.clone(),
            type_name: rt.name.clone(),
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
            unchanged: 0,
        };
        let now = self.now();
        let mut new = Vec::new();
        for (id, doc) in &wanted {
            match current.iter().find(|(c, _)| c == id) {
                None => {
                    diff.added.push(id.clone());
                    let state = crate::service::state_of(&reg, kind, doc.clone());
                    new.push((
                        id.clone(),
                        NewResource {
                            state,
                            password_hash: None,
                            members: Vec::new(),
                            derived_gen: 0,
                            event: None,
                            writer: Writer::Operator,
                        },
                    ));
                }
                Some((_, old)) if old == doc => diff.unchanged += 1,
                Some(_) => diff.changed.push(id.clone()),
            }
        }
        for (id, _) in &current {
            if !wanted.iter().any(|(w, _)| w == id) {
                diff.removed.push(id.clone());
            }
        }
        let taken = |e: StoreError| match e {
            StoreError::Conflict(what) => AdminError::conflict(format!(
                "tenant '{}' has a resource with {what} already (ids are the tenant's, whatever the type)",
                t.name
            )),
            e => AdminError::internal(e),
        };
        if !new.is_empty() {
            self.store.create_with_ids(t.id, kind, new, now).await.map_err(taken)?;
        }
        for id in &diff.changed {
            let doc = wanted.iter().find(|(w, _)| w == id).map(|(_, d)| d.clone()).unwrap_or(Value::Null);
            let state = crate::service::state_of(&reg, kind, doc);
            let update = Update {
                if_match: None,
                mutate: Box::new(move |_| {
                    Ok(Change {
                        state: state.clone(),
                        password_hash: None,
                        member_ops: Vec::new(),
                        deactivates: false,
                        derived_gen: 0,
                    })
                }),
                related: false,
                event: None,
                write: scimd_core::events::Write::Replace,
                writer: Writer::Operator,
            };
            self.store.update(t.id, kind, id, update, now).await.map_err(AdminError::internal)?;
        }
        for id in &diff.removed {
            match self.store.delete(t.id, kind, id, None, Writer::Operator, None, now).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(AdminError::internal(e)),
            }
        }
        Ok(diff)
    }
}
