//! A tenant's single sign-on: its OpenID Connect provider (issuer, client id, client
//! secret sealed under the master key) and whom it admits (email domains, groups).

use scimd_store::SsoSettings;
use serde::Serialize;

use super::Portal;
use crate::admin::{AdminError, AdminResult};

/// A tenant's SSO settings as shown (the client secret never: only whether there is one).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SsoView {
    pub issuer: String,
    pub client_id: String,
    pub has_secret: bool,
    pub allowed_domains: Vec<String>,
    pub allowed_groups: Vec<String>,
}

/// What an SSO sign-in needs kept between its start and the provider's answer.
#[derive(Debug, Clone)]
pub struct SsoStart {
    /// Where to send the browser.
    pub url: String,
}

fn words(s: &str) -> Vec<String> {
    s.split([' ', ',', '\n', '\r', '\t']).map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect()
}

impl Portal {
    pub async fn sso_settings(&self, tenant: &str) -> AdminResult<Option<SsoView>> {
        let t = self.tenant(tenant).await?;
        let s = self.store.sso(t.id).await.map_err(AdminError::internal)?;
        Ok(s.map(|s| SsoView {
            issuer: s.issuer,
            client_id: s.client_id,
            has_secret: s.client_secret.is_some(),
            allowed_domains: s.allowed_domains,
            allowed_groups: s.allowed_groups,
        }))
    }

    /// Sets the tenant's SSO. An empty `secret` keeps the one stored; domains and groups
    /// are lists separated by spaces or commas. At least one of them is needed: SSO
    /// admits nobody otherwise.
    pub async fn set_sso(
        &self,
        tenant: &str,
        issuer: &str,
        client_id: &str,
        secret: Option<&str>,
        domains: &str,
        groups: &str,
    ) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        let issuer = issuer.trim().trim_end_matches('/').to_string();
        let https = issuer.starts_with("https://");
        let loopback =
            ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"].iter().any(|p| issuer.starts_with(p));
        if !(https || (loopback && self.settings.sso_allow_http_loopback)) {
            return Err(AdminError::invalid("the issuer must be an https:// URL (the provider's issuer identifier)"));
        }
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(AdminError::invalid(
                "the client id is needed (from the application registered at the provider)",
            ));
        }
        let (allowed_domains, allowed_groups) = (words(domains), words(groups));
        if allowed_domains.is_empty() && allowed_groups.is_empty() {
            return Err(AdminError::invalid("name at least one email domain or group whose people may sign in"));
        }
        let old = self.store.sso(t.id).await.map_err(AdminError::internal)?;
        let client_secret = match secret.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(self.keyring.seal_text(s)),
            None => old.and_then(|o| o.client_secret),
        };
        let s =
            SsoSettings { issuer, client_id: client_id.to_string(), client_secret, allowed_domains, allowed_groups };
        self.store.set_sso(t.id, Some(s), self.now()).await.map_err(AdminError::internal)
    }

    pub async fn remove_sso(&self, tenant: &str) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        self.store.set_sso(t.id, None, self.now()).await.map_err(AdminError::internal)
    }
}
