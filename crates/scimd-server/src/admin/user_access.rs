//! A user's effective access in one answer, the user named by SCIM id or userName (as a
//! person reading a page or an operator typing a command would name them): the banks and
//! lockers their groups give them, and the locations the rules give them.

use scimd_core::schema::ResourceKind;
use scimd_store::UserAccess;
use serde::Serialize;
use serde_json::Value;

use super::{Admin, AdminError, AdminResult, UserPlaces};

/// What a user may use, and where the rules place them.
#[derive(Debug, Clone, Serialize)]
pub struct EffectiveAccess {
    pub id: String,
    #[serde(rename = "userName")]
    pub user_name: String,
    pub active: bool,
    pub access: UserAccess,
    pub places: UserPlaces,
}

impl Admin {
    /// The effective access of a user, by SCIM id or userName.
    pub async fn effective_access(&self, tenant: &str, user: &str) -> AdminResult<EffectiveAccess> {
        let t = self.tenant(tenant).await?;
        let by_id = self.store.get(t.id, ResourceKind::User, user, false).await.map_err(AdminError::internal)?;
        let user_name = match &by_id {
            Some(r) => {
                let doc: Value = serde_json::from_str(&r.data).map_err(AdminError::internal)?;
                doc.get("userName").and_then(Value::as_str).unwrap_or(user).to_string()
            }
            None => user.to_string(),
        };
        let access = self.user_access(tenant, &user_name).await?;
        let places = self.user_places(tenant, &user_name).await?;
        let quoted = serde_json::to_string(&user_name).map_err(AdminError::internal)?;
        let params = scimd_core::list::ListParams {
            filter: Some(format!("userName eq {quoted}")),
            count: Some(1),
            ..Default::default()
        };
        let found = self
            .list_resources(&t, ResourceKind::User, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::not_found(format!("no user with the userName '{user_name}'")))?;
        let doc: Value = serde_json::from_str(&found.data).map_err(AdminError::internal)?;
        let active = doc.get("active").and_then(Value::as_bool).unwrap_or(true);
        Ok(EffectiveAccess { id: found.id, user_name, active, access, places })
    }
}
