//! The operator's places and access use cases, shared by the command line and
//! the admin HTTP API: the places tree (import, list, create, rename, delete), location
//! rules, access links between groups and places (a locker, a bank, or everything under a
//! section or location), and the questions asked of them (a user's banks and lockers, a
//! place's users, a user's locations).

use scimd_core::list::ListParams;
use scimd_core::places::{self, Level, LocationRules, PlaceSpec, Tree};
use scimd_core::schema::ResourceKind;
use scimd_store::{AccessLink, ImportReport, PlaceRow, StoreError, Tenant, UserAccess};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Admin, AdminError, AdminResult};

/// A store error of a places call: a client mistake keeps its status and detail.
fn places_err(what: impl FnOnce() -> String) -> impl FnOnce(StoreError) -> AdminError {
    move |e| match e {
        StoreError::NotFound => AdminError::not_found(what()),
        StoreError::Conflict(m) => AdminError::conflict(m),
        StoreError::Scim(e) => AdminError { status: e.status, message: e.detail },
        e => AdminError::internal(e),
    }
}

/// A user's locations and home location, as decided by the current rules.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserPlaces {
    pub locations: Vec<String>,
    pub home: Option<String>,
}

/// A page of a place's users.
#[derive(Debug, Clone, Serialize)]
pub struct BankUsers {
    #[serde(rename = "totalResults")]
    pub total: u64,
    #[serde(rename = "startIndex")]
    pub start_index: u64,
    pub users: Vec<Value>,
}

impl Admin {
    /// Creates or updates a whole tree; re-importing the same tree changes nothing.
    pub async fn import_places(&self, tenant: &str, tree: &Value) -> AdminResult<ImportReport> {
        let t = self.tenant(tenant).await?;
        let tree: Tree = serde_json::from_value(tree.clone())
            .map_err(|e| AdminError::invalid(format!("the places file is not valid: {e}")))?;
        let specs = tree.flatten().map_err(AdminError::invalid)?;
        self.store.import_places(t.id, specs, self.now()).await.map_err(places_err(String::new))
    }

    /// Every place of a tenant, flat, by level and key.
    pub async fn list_places(&self, tenant: &str) -> AdminResult<Vec<PlaceRow>> {
        let t = self.tenant(tenant).await?;
        self.store.list_places(t.id).await.map_err(AdminError::internal)
    }

    /// The tenant's places as a tree (the import file's shape, with names and rules).
    pub async fn places_tree(&self, tenant: &str) -> AdminResult<Value> {
        let rows = self.list_places(tenant).await?;
        let children = |level: Level, parent: &str| -> Vec<&PlaceRow> {
            rows.iter().filter(|p| p.level == level && p.parent.as_deref() == Some(parent)).collect()
        };
        let node = |p: &PlaceRow| json!({"key": p.key, "name": p.name});
        let mut locations = Vec::new();
        for l in rows.iter().filter(|p| p.level == Level::Location) {
            let mut loc = node(l);
            if let Some(r) = &l.rules {
                loc["rules"] = serde_json::from_str(r).unwrap_or(Value::Null);
            }
            let mut sections = Vec::new();
            for s in children(Level::Section, &l.key) {
                let mut sec = node(s);
                let mut banks = Vec::new();
                for b in children(Level::Bank, &s.key) {
                    let mut bank = node(b);
                    bank["lockers"] = children(Level::Locker, &b.key).into_iter().map(node).collect();
                    banks.push(bank);
                }
                sec["banks"] = Value::Array(banks);
                sections.push(sec);
            }
            loc["sections"] = Value::Array(sections);
            locations.push(loc);
        }
        Ok(json!({ "locations": locations }))
    }

    pub async fn create_place(
        &self,
        tenant: &str,
        level: Level,
        key: &str,
        name: Option<&str>,
        parent: Option<&str>,
    ) -> AdminResult<PlaceRow> {
        let t = self.tenant(tenant).await?;
        places::check_label(&format!("{} key", level.name()), key).map_err(AdminError::invalid)?;
        if let Some(n) = name {
            places::check_label(&format!("{} name", level.name()), n).map_err(AdminError::invalid)?;
        }
        let spec = PlaceSpec {
            level,
            key: key.to_string(),
            name: name.unwrap_or(key).to_string(),
            parent: parent.map(str::to_string),
        };
        self.store.create_place(t.id, spec, self.now()).await.map_err(|e| match e {
            StoreError::Conflict(_) => {
                AdminError::conflict(format!("there is a {} with the key '{key}' already", level.name()))
            }
            e => places_err(String::new)(e),
        })
    }

    pub async fn rename_place(&self, tenant: &str, level: Level, key: &str, name: &str) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        places::check_label(&format!("{} name", level.name()), name).map_err(AdminError::invalid)?;
        self.store
            .rename_place(t.id, level, key, name, self.now())
            .await
            .map_err(places_err(|| format!("no {} with the key '{key}'", level.name())))
    }

    /// Deletes a place (and with `cascade` everything under it); returns how many.
    pub async fn delete_place(&self, tenant: &str, level: Level, key: &str, cascade: bool) -> AdminResult<u64> {
        let t = self.tenant(tenant).await?;
        self.store
            .delete_place(t.id, level, key, cascade, self.now())
            .await
            .map_err(places_err(|| format!("no {} with the key '{key}'", level.name())))
    }

    /// Sets (or with `None` clears) a location's rules; returns them as stored.
    pub async fn set_location_rules(
        &self,
        tenant: &str,
        location: &str,
        rules: Option<&Value>,
    ) -> AdminResult<(Tenant, Value)> {
        let t = self.tenant(tenant).await?;
        let text = match rules {
            Some(v) => {
                let r = LocationRules::from_json(&v.to_string()).map_err(AdminError::invalid)?;
                if r.primary {
                    let state = self.store.places_state(t.id).await.map_err(AdminError::internal)?;
                    let others = places::parse_rules(&state.rules).map_err(AdminError::internal)?;
                    places::check_one_primary(location, &r, &others).map_err(AdminError::conflict)?;
                }
                Some(serde_json::to_string(&r).map_err(AdminError::internal)?)
            }
            None => None,
        };
        self.store
            .set_location_rules(t.id, location, text.clone(), self.now())
            .await
            .map_err(places_err(|| format!("no location with the key '{location}'")))?;
        let shown = text.map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)).unwrap_or(Value::Null);
        Ok((t, shown))
    }

    pub async fn location_rules(&self, tenant: &str, location: &str) -> AdminResult<Value> {
        let rows = self.list_places(tenant).await?;
        let l = rows
            .iter()
            .find(|p| p.level == Level::Location && p.key == location)
            .ok_or_else(|| AdminError::not_found(format!("no location with the key '{location}'")))?;
        Ok(l.rules.as_deref().map(|r| serde_json::from_str(r).unwrap_or(Value::Null)).unwrap_or(Value::Null))
    }

    /// Gives a group's members access to a place (a locker, a bank, or everything under a
    /// section or location); false if the group had it already.
    pub async fn grant_access(
        &self,
        tenant: &str,
        group: &str,
        level: Level,
        place: &str,
    ) -> AdminResult<(Tenant, bool)> {
        let t = self.tenant(tenant).await?;
        let id = self.group(&t, group).await?.id;
        let created =
            self.store.grant_access(t.id, &id, level, place, self.now()).await.map_err(places_err(String::new))?;
        Ok((t, created))
    }

    /// Takes it away; false if the group did not have it.
    pub async fn revoke_access(
        &self,
        tenant: &str,
        group: &str,
        level: Level,
        place: &str,
    ) -> AdminResult<(Tenant, bool)> {
        let t = self.tenant(tenant).await?;
        let id = self.group(&t, group).await?.id;
        let existed =
            self.store.revoke_access(t.id, &id, level, place, self.now()).await.map_err(places_err(String::new))?;
        Ok((t, existed))
    }

    pub async fn access_links(&self, tenant: &str) -> AdminResult<Vec<AccessLink>> {
        let t = self.tenant(tenant).await?;
        self.store.access_links(t.id).await.map_err(AdminError::internal)
    }

    /// The banks and lockers a user (by userName) may use.
    pub async fn user_access(&self, tenant: &str, user_name: &str) -> AdminResult<UserAccess> {
        let t = self.tenant(tenant).await?;
        self.store
            .user_access(t.id, &scimd_core::user_name::key(user_name))
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("no user with the userName '{user_name}'")))
    }

    /// The active users that may use a place (the whole of it): a page of `count` from
    /// `start_index` (1-based).
    pub async fn place_users(
        &self,
        tenant: &str,
        level: Level,
        key: &str,
        start_index: u64,
        count: u64,
    ) -> AdminResult<BankUsers> {
        let t = self.tenant(tenant).await?;
        let start_index = start_index.max(1);
        let (total, users) = self
            .store
            .place_users(t.id, level, key, start_index - 1, count.min(10_000))
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("no {} with the key '{key}'", level.name())))?;
        let users = users.into_iter().map(|(id, user_name)| json!({"id": id, "userName": user_name})).collect();
        Ok(BankUsers { total, start_index, users })
    }

    /// A user's locations and home location under the tenant's current rules.
    pub async fn user_places(&self, tenant: &str, user_name: &str) -> AdminResult<UserPlaces> {
        let t = self.tenant(tenant).await?;
        let quoted = serde_json::to_string(user_name).map_err(AdminError::internal)?;
        let params =
            ListParams { filter: Some(format!("userName eq {quoted}")), count: Some(1), ..ListParams::default() };
        let user = self
            .list_resources(&t, ResourceKind::User, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::not_found(format!("no user with the userName '{user_name}'")))?;
        let doc: Value = serde_json::from_str(&user.data).map_err(AdminError::internal)?;
        let state = self.store.places_state(t.id).await.map_err(AdminError::internal)?;
        let rules = places::parse_rules(&state.rules).map_err(AdminError::internal)?;
        let d = places::derive(&rules, &doc);
        Ok(UserPlaces { locations: d.locations, home: d.home })
    }
}
