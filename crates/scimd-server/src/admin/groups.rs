//! The operator's groups, shared by the command line and the admin HTTP API: for tenants
//! whose identity provider may not create groups (the locker preset's groups are
//! configured in the product), the operator creates, lists and deletes them;
//! the provider then puts users in them (`User.groups`), and access links name them.
//! Groups are made with the built-in Group schema, whatever the tenant's profile offers
//! over SCIM; a displayName names one group (a second group of that name is refused).
//! A group may be given its id (the one the product knew it by, so that references to it
//! still hold); otherwise one is generated.

use scimd_core::list::ListParams;
use scimd_core::schema::ResourceKind;
use scimd_store::{NewResource, StoreError, Tenant};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Admin, AdminError, AdminResult};

/// A group as the operator sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupView {
    pub id: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl GroupView {
    fn of(id: String, data: &str) -> GroupView {
        let doc: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        GroupView { id, display_name: text("displayName").unwrap_or_default(), external_id: text("externalId") }
    }
}

impl Admin {
    /// The groups of a tenant whose displayName is `name` (at most `count`).
    async fn groups_named(&self, t: &Tenant, name: &str, count: i64) -> AdminResult<Vec<GroupView>> {
        let quoted = serde_json::to_string(name).map_err(AdminError::internal)?;
        self.list_group_page(t, Some(format!("displayName eq {quoted}")), 1, count).await
    }

    async fn list_group_page(
        &self,
        t: &Tenant,
        filter: Option<String>,
        start_index: i64,
        count: i64,
    ) -> AdminResult<Vec<GroupView>> {
        let params = ListParams { filter, start_index: Some(start_index), count: Some(count), ..ListParams::default() };
        let items = self.list_resources(t, ResourceKind::Group, params).await?;
        Ok(items.into_iter().map(|r| GroupView::of(r.id, &r.data)).collect())
    }

    /// Creates a group (`displayName`, optionally `externalId` and its `id`: an id any
    /// resource of the tenant has already is refused).
    pub async fn create_group(
        &self,
        tenant: &str,
        display_name: &str,
        external_id: Option<&str>,
        id: Option<&str>,
    ) -> AdminResult<(Tenant, GroupView)> {
        if let Some(id) = id {
            scimd_core::resource_id::check(id).map_err(AdminError::invalid)?;
        }
        let t = self.tenant(tenant).await?;
        let name = display_name.trim();
        if name.is_empty() {
            return Err(AdminError::invalid("a group needs a displayName"));
        }
        if let Some(g) = self.groups_named(&t, name, 1).await?.into_iter().next() {
            return Err(AdminError::conflict(format!(
                "tenant '{tenant}' has a group named '{name}' already (id {})",
                g.id
            )));
        }
        let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name});
        if let Some(x) = external_id {
            body["externalId"] = json!(x);
        }
        let reg = scimd_core::builtin::standard_registry();
        let prepared = scimd_core::resource::prepare(&reg, ResourceKind::Group, &body)
            .map_err(|e| AdminError { status: e.status, message: e.detail })?;
        let new = NewResource {
            state: crate::service::state_of(&reg, ResourceKind::Group, prepared.doc),
            password_hash: None,
            members: Vec::new(),
            derived_gen: 0,
            event: None,
            writer: self.operator_writer(&t).await?,
        };
        let stored = match id {
            None => self.store.create(t.id, ResourceKind::Group, new, self.now()).await,
            Some(id) => self
                .store
                .create_with_ids(t.id, ResourceKind::Group, vec![(id.to_string(), new)], self.now())
                .await
                .map(|mut v| v.remove(0)),
        }
        .map_err(|e| match e {
            StoreError::Conflict(what) => AdminError::conflict(format!(
                "tenant '{tenant}' has a resource with {what} already (a user or a group)"
            )),
            StoreError::Scim(e) => AdminError { status: e.status, message: e.detail },
            e => AdminError::internal(e),
        })?;
        let view = GroupView::of(stored.id, &stored.data);
        Ok((t, view))
    }

    /// Every group of a tenant, oldest first.
    pub async fn list_groups(&self, tenant: &str) -> AdminResult<Vec<GroupView>> {
        let t = self.tenant(tenant).await?;
        let mut all = Vec::new();
        loop {
            let page = self.list_group_page(&t, None, all.len() as i64 + 1, 1000).await?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }

    /// A group by id, or else by displayName (which must name exactly one).
    pub(super) async fn group(&self, t: &Tenant, group: &str) -> AdminResult<GroupView> {
        if let Some(r) = self.store.get(t.id, ResourceKind::Group, group, false).await.map_err(AdminError::internal)? {
            return Ok(GroupView::of(r.id, &r.data));
        }
        match self.groups_named(t, group, 2).await?.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(AdminError::not_found(format!("no group with the id or displayName '{group}'"))),
            _ => Err(AdminError::conflict(format!("several groups are named '{group}': name the one meant by its id"))),
        }
    }

    /// Deletes a group, by id or displayName; its members and access links go with it.
    pub async fn delete_group(&self, tenant: &str, group: &str) -> AdminResult<(Tenant, GroupView)> {
        let t = self.tenant(tenant).await?;
        let found = self.group(&t, group).await?;
        let writer = self.operator_writer(&t).await?;
        match self.store.delete(t.id, ResourceKind::Group, &found.id, None, writer, None, self.now()).await {
            Ok(()) => Ok((t, found)),
            Err(StoreError::NotFound) => Err(AdminError::not_found(format!("no group with the id '{}'", found.id))),
            Err(StoreError::Scim(e)) => Err(AdminError { status: e.status, message: e.detail }),
            Err(e) => Err(AdminError::internal(e)),
        }
    }

    /// Who the operator writes the tenant's users and groups as (refused everything when
    /// its profile forbids local changes).
    async fn operator_writer(&self, t: &Tenant) -> AdminResult<scimd_store::Writer> {
        let stored = self.store.tenant_profile(t.id).await.map_err(AdminError::internal)?;
        let profile = match stored {
            Some(text) => scimd_core::profile::Profile::from_json(&text).map_err(AdminError::internal)?,
            None => scimd_core::profile::Profile::default(),
        };
        Ok(crate::service::operator_writer(&profile))
    }
}
