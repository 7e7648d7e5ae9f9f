//! Tenants: creating and finding them, their SCIM switch, profile and audit settings.
//! Written once for both databases (see `db`).

use chrono::{DateTime, Utc};

use crate::db::{Db, Row};
use crate::{AuditSettings, Contacts, DetailsLevel, Stage, StoreError, StoreResult, Tenant, TenantId, normalized_time};

const SELECT: &str = "SELECT id, name, created, scim_enabled, audit_details, audit_events_days, audit_details_days, \
     stage, counterpart_id, contact_email, contact_mobile FROM tenants";

fn tenant(r: &impl Row) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: TenantId(r.get(0)?),
        name: r.get(1)?,
        created: r.get(2)?,
        scim_enabled: r.get(3)?,
        audit: AuditSettings {
            details: DetailsLevel::from_code(r.get(4)?),
            events_days: r.get(5)?,
            details_days: r.get(6)?,
        },
        stage: {
            let stage: String = r.get(7)?;
            Stage::parse(&stage).ok_or_else(|| StoreError::Internal(format!("tenant stage '{stage}'")))?
        },
        counterpart: r.get::<Option<i64>>(8)?.map(TenantId),
        contacts: Contacts { email: r.get(9)?, mobile: r.get(10)? },
    })
}

pub(crate) async fn create(
    db: &impl Db,
    name: String,
    scim_enabled: bool,
    stage: Stage,
    now: DateTime<Utc>,
) -> StoreResult<Tenant> {
    let created = normalized_time(now);
    let id = db
        .query_opt(
            "INSERT INTO tenants (name, created, scim_enabled, stage) VALUES (?, ?, ?, ?) RETURNING id",
            &[&name, &created, &scim_enabled, &stage.as_str()],
            |r| r.get(0),
        )
        .await?
        .ok_or_else(|| StoreError::Internal("no tenant id returned".into()))?;
    Ok(Tenant {
        id: TenantId(id),
        name,
        created,
        scim_enabled,
        audit: AuditSettings::default(),
        stage,
        counterpart: None,
        contacts: Contacts::default(),
    })
}

/// Links two tenants as each other's counterpart. Two statements: one transaction (the
/// PostgreSQL shell opens it).
pub(crate) async fn link_counterparts(db: &impl Db, integration: TenantId, production: TenantId) -> StoreResult<()> {
    for (a, b) in [(integration, production), (production, integration)] {
        let linked: Option<Option<i64>> =
            db.query_opt("SELECT counterpart_id FROM tenants WHERE id = ?", &[&a.0], |r| r.get(0)).await?;
        match linked {
            None => return Err(StoreError::NotFound),
            Some(Some(other)) if other != b.0 => {
                return Err(StoreError::Conflict("the tenant has a counterpart already".into()));
            }
            Some(_) => db.execute_one("UPDATE tenants SET counterpart_id = ? WHERE id = ?", &[&b.0, &a.0]).await?,
        }
    }
    Ok(())
}

pub(crate) async fn set_contacts(db: &impl Db, tenant: TenantId, c: Contacts) -> StoreResult<()> {
    db.execute_one(
        "UPDATE tenants SET contact_email = ?, contact_mobile = ? WHERE id = ?",
        &[&c.email, &c.mobile, &tenant.0],
    )
    .await
}

pub(crate) async fn by_name(db: &impl Db, name: &str) -> StoreResult<Option<Tenant>> {
    db.query_opt(&format!("{SELECT} WHERE name = ?"), &[&name], |r| tenant(r)).await
}

pub(crate) async fn by_id(db: &impl Db, id: TenantId) -> StoreResult<Option<Tenant>> {
    db.query_opt(&format!("{SELECT} WHERE id = ?"), &[&id.0], |r| tenant(r)).await
}

pub(crate) async fn all(db: &impl Db) -> StoreResult<Vec<Tenant>> {
    db.query(&format!("{SELECT} ORDER BY id"), &[], |r| tenant(r)).await
}

pub(crate) async fn set_scim_enabled(db: &impl Db, tenant: TenantId, enabled: bool) -> StoreResult<()> {
    db.execute_one("UPDATE tenants SET scim_enabled = ? WHERE id = ?", &[&enabled, &tenant.0]).await
}

pub(crate) async fn profile(db: &impl Db, tenant: TenantId) -> StoreResult<Option<String>> {
    let profile = db.query_opt("SELECT profile FROM tenants WHERE id = ?", &[&tenant.0], |r| r.get(0)).await?;
    Ok(profile.flatten())
}

pub(crate) async fn profiles(db: &impl Db) -> StoreResult<Vec<(TenantId, String)>> {
    db.query("SELECT id, profile FROM tenants WHERE profile IS NOT NULL ORDER BY id", &[], |r| {
        Ok((TenantId(r.get(0)?), r.get(1)?))
    })
    .await
}

pub(crate) async fn set_profile(db: &impl Db, tenant: TenantId, profile: Option<String>) -> StoreResult<()> {
    db.execute_one("UPDATE tenants SET profile = ? WHERE id = ?", &[&profile, &tenant.0]).await
}

pub(crate) async fn set_audit_settings(db: &impl Db, tenant: TenantId, a: AuditSettings) -> StoreResult<()> {
    db.execute_one(
        "UPDATE tenants SET audit_details = ?, audit_events_days = ?, audit_details_days = ? WHERE id = ?",
        &[&a.details.code(), &a.events_days, &a.details_days, &tenant.0],
    )
    .await
}

/// The codes of the resource types `names` if every one has one already (`None` if not).
pub(crate) async fn known_type_codes(
    db: &impl Db,
    tenant: TenantId,
    names: &[String],
) -> StoreResult<Option<Vec<(String, u8)>>> {
    let rows: Vec<(String, i64)> = db
        .query("SELECT name, code FROM type_codes WHERE tenant_id = ?", &[&tenant.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        match rows.iter().find(|(n, _)| n == name).and_then(|(_, c)| u8::try_from(*c).ok()) {
            Some(code) => out.push((name.clone(), code)),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// The codes of the resource types `names` (a tenant's declared types), giving the next
/// free code to a name that has none. Codes are never reused, so a name declared again
/// finds its rows. Two writers racing for one code: the loser's insert does nothing and
/// it takes the next one.
pub(crate) async fn type_codes(db: &impl Db, tenant: TenantId, names: &[String]) -> StoreResult<Vec<(String, u8)>> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut tries = 0;
        let code = loop {
            let found: Option<i64> = db
                .query_opt("SELECT code FROM type_codes WHERE tenant_id = ? AND name = ?", &[&tenant.0, name], |r| {
                    r.get(0)
                })
                .await?;
            if let Some(code) = found {
                break code;
            }
            tries += 1;
            if tries > 8 {
                return Err(StoreError::Conflict(format!("no code could be given to resource type '{name}'")));
            }
            db.execute(
                "INSERT INTO type_codes (tenant_id, name, code) \
                 SELECT ?, ?, COALESCE(MAX(code), 15) + 1 FROM type_codes WHERE tenant_id = ? \
                 ON CONFLICT DO NOTHING",
                &[&tenant.0, name, &tenant.0],
            )
            .await?;
        };
        let code = u8::try_from(code)
            .map_err(|_| StoreError::Conflict(format!("this tenant has used every resource type code ('{name}')")))?;
        out.push((name.clone(), code));
    }
    Ok(out)
}
