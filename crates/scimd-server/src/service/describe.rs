//! Discovery (RFC 7644 §4) as the request's tenant sees it: `/ServiceProviderConfig`,
//! `/Schemas`, `/ResourceTypes`.

use super::*;

impl Service {
    pub async fn service_provider_config(&self, ctx: &Ctx) -> AppResult<Value> {
        let profile = &ctx.tenancy.profile;
        let max_page = self.page_config(profile).max_count;
        let mut spc = profile.service_provider_config(&self.config.spc, max_page);
        spc.security_events = !self.store.streams(Some(ctx.tenant)).await?.is_empty();
        // A Bulk request with `Prefer: respond-async` runs in the background, its outcome
        // told by the tenant's streams (`async_bulk`).
        spc.async_requests = spc.security_events && spc.bulk.is_some();
        let mut doc = discovery::service_provider_config_json(&spc, &ctx.base_url);
        if let (Some(re), Some(o)) = (discovery::roles_and_entitlements(self.registry(ctx)), doc.as_object_mut()) {
            o.insert("RolesAndEntitlements".into(), re);
        }
        Ok(doc)
    }

    /// The schemas of the resource types the tenant's profile offers (a tenant without
    /// Groups sees no Group schema).
    pub fn schemas(&self, ctx: &Ctx) -> Value {
        let offered = |k: ResourceKind| ctx.tenancy.access(k).offered;
        let all = discovery::schemas_json_of(self.registry(ctx), offered, &ctx.base_url);
        let n = all.len() as u64;
        list_response(n, 1, all)
    }

    pub fn schema(&self, ctx: &Ctx, urn: &str) -> AppResult<Value> {
        let reg = self.registry(ctx);
        let offered = |k: ResourceKind| ctx.tenancy.access(k).offered;
        reg.schema(urn)
            .filter(|s| discovery::schema_offered(reg, &s.id, offered))
            .map(|s| discovery::schema_json(s, &ctx.base_url))
            .ok_or_else(|| ScimError::not_found(format!("schema '{urn}' not found")).into())
    }

    /// The resource types the tenant's profile offers (discovery tells the truth).
    pub async fn resource_types(&self, ctx: &Ctx) -> AppResult<Value> {
        let profile = ctx.tenancy.clone();
        let reg = self.registry(ctx);
        let all: Vec<Value> = reg
            .resource_types
            .iter()
            .filter(|rt| profile.access(rt.kind).offered)
            .map(|rt| discovery::resource_type_json(reg, rt, &ctx.base_url))
            .collect();
        let n = all.len() as u64;
        Ok(list_response(n, 1, all))
    }

    pub async fn resource_type(&self, ctx: &Ctx, name: &str) -> AppResult<Value> {
        let profile = ctx.tenancy.clone();
        let reg = self.registry(ctx);
        reg.resource_types
            .iter()
            .filter(|rt| profile.access(rt.kind).offered)
            .find(|rt| rt.name.eq_ignore_ascii_case(name))
            .map(|rt| discovery::resource_type_json(reg, rt, &ctx.base_url))
            .ok_or_else(|| ScimError::not_found(format!("resource type '{name}' not found")).into())
    }
}
