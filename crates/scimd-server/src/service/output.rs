//! Writing responses: a stored resource rendered as its SCIM JSON (straight from the
//! stored text for default responses), its location, its ETag; parsing `If-Match`.

use super::*;

/// A resource ready to send: its JSON text, version and location.
#[derive(Debug)]
pub struct Rendered {
    pub body: Vec<u8>,
    pub version: i64,
    pub location: String,
}

/// What a PATCH answers.
pub enum Patched {
    /// 200 with the resource, as projected.
    Resource(Rendered),
    /// 204 No Content, with the new version (its ETag).
    NoContent { version: i64 },
}

/// Formats a stored (normalized, `YYYY-MM-DDTHH:MM:SS.fffffffffZ`) timestamp for output,
/// with millisecond precision.
fn out_time(normalized: &str) -> String {
    match normalized.get(..23) {
        Some(ms) if normalized.len() == 30 && normalized.ends_with('Z') => format!("{ms}Z"),
        _ => normalized.to_string(),
    }
}

/// The weak ETag of a version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Parses an `If-Match` / `If-None-Match` header value.
pub fn parse_etags(header: &str) -> IfMatch {
    if header.trim() == "*" {
        return IfMatch::Any;
    }
    IfMatch::Versions(
        header
            .split(',')
            .filter_map(|t| {
                let t = t.trim();
                let t = t.strip_prefix("W/").unwrap_or(t);
                t.trim_matches('"').parse().ok()
            })
            .collect(),
    )
}

impl Service {
    /// Whether members (groups) or groups (users) are loaded for a response.
    pub(super) fn related_for(&self, ctx: &Ctx, profile: &Profile, kind: ResourceKind, proj: &Projection) -> bool {
        !(kind == ResourceKind::Group && profile.hide_group_members) && self.wants_related(ctx, kind, proj)
    }

    /// Drops a group's members from a stored resource when the profile never returns them.
    pub(super) fn hidden(profile: &Profile, kind: ResourceKind, mut r: StoredResource) -> StoredResource {
        if kind == ResourceKind::Group && profile.hide_group_members {
            r.related = None;
        }
        r
    }

    /// The schemas the request's tenant sees.
    pub fn registry<'a>(&self, ctx: &'a Ctx) -> &'a Registry {
        &ctx.tenancy.registry
    }

    pub(super) fn location(ctx: &Ctx, kind: ResourceKind, id: &str) -> String {
        format!("{}{}/{}", ctx.base_url, ctx.tenancy.registry.type_endpoint(kind), id)
    }

    pub(super) fn plan<'a>(&self, ctx: &'a Ctx, kind: ResourceKind) -> &'a OutputPlan {
        ctx.tenancy.plans.iter().find(|p| p.kind() == kind).unwrap_or(&ctx.tenancy.plans[0])
    }

    /// A resource as a GET of the tenant's would write it (an event's full form).
    pub async fn render_for_event(
        &self,
        tenant: TenantId,
        base_url: &str,
        r: StoredResource,
        proj: &Projection,
    ) -> AppResult<Vec<u8>> {
        let tenancy = self.profile(tenant).await?;
        let kind = r.kind;
        let r = Self::hidden(&tenancy, kind, r);
        let ctx = Ctx {
            tenant,
            tenancy,
            base_url: base_url.to_string(),
            audit: None,
            bulk_op: None,
            subject: None,
            writer: scimd_store::Writer::Operator,
        };
        Ok(self.render(&ctx, kind, r, proj)?.body)
    }

    pub(super) fn render(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        r: StoredResource,
        proj: &Projection,
    ) -> AppResult<Rendered> {
        let mut body = Vec::with_capacity(r.data.len() + 320);
        let version = r.version;
        let location = self.render_into(&mut body, ctx, kind, r, proj)?;
        Ok(Rendered { body, version, location })
    }

    /// Writes a resource as the client sees it; returns its location. Default responses
    /// are written from the stored text (see `scimd_core::render`); others are built from
    /// the parsed document.
    pub(super) fn render_into(
        &self,
        out: &mut Vec<u8>,
        ctx: &Ctx,
        kind: ResourceKind,
        r: StoredResource,
        proj: &Projection,
    ) -> AppResult<String> {
        let reg = self.registry(ctx);
        let meta = Meta {
            created: out_time(&r.created),
            last_modified: out_time(&r.last_modified),
            location: Self::location(ctx, kind, &r.id),
            version: etag(r.version),
        };
        let related: Option<Vec<MemberRef>> = r.related.as_ref().map(|rows| {
            rows.iter()
                .map(|m: &MemberRow| MemberRef {
                    value: m.id.clone(),
                    display: m.display.clone(),
                    kind: m.kind,
                    location: Self::location(ctx, m.kind, &m.id),
                })
                .collect()
        });
        if proj.is_default() && self.plan(ctx, kind).write_default(out, &r.data, &r.id, &meta, related.as_deref()) {
            return Ok(meta.location);
        }
        let doc: Value = serde_json::from_str(&r.data).map_err(|e| {
            AppError::Internal(format!("the stored document of {} '{}' is not valid JSON: {e}", kind.name(), r.id))
        })?;
        let full = resource::full_resource(reg, kind, doc, &r.id, &meta, related.as_deref());
        serde_json::to_writer(&mut *out, &proj.project_owned(reg, kind, full))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(meta.location)
    }

    /// Writes a ListResponse of `items`, each with its kind and projection.
    pub(super) fn render_list(
        &self,
        ctx: &Ctx,
        total: u64,
        paging: Paging,
        items: Vec<(ResourceKind, StoredResource, &Projection)>,
    ) -> AppResult<Vec<u8>> {
        let mut out = Vec::with_capacity(160 + items.iter().map(|(_, r, _)| r.data.len() + 320).sum::<usize>());
        match paging {
            Paging::Index(start_index) => render::open_list(&mut out, total, start_index, items.len()),
            Paging::Cursor(next) => render::open_cursor_list(&mut out, total, next.as_deref(), items.len()),
        }
        for (i, (kind, r, proj)) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.render_into(&mut out, ctx, kind, r, proj)?;
        }
        render::close_list(&mut out);
        Ok(out)
    }

    pub(super) fn wants_related(&self, ctx: &Ctx, kind: ResourceKind, proj: &Projection) -> bool {
        let attr = match kind {
            ResourceKind::Group => "members",
            ResourceKind::User => "groups",
            ResourceKind::Custom(_) => return false,
        };
        proj.wants(self.registry(ctx), kind, attr)
    }

    /// Parses `attributes` / `excludedAttributes` for single-resource responses.
    pub fn projection(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> AppResult<Projection> {
        Ok(Projection::parse(self.registry(ctx), kind, attributes, excluded)?)
    }
}
