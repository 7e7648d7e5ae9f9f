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

/// How long a browser has to come back from its provider.
const PENDING_SECS: i64 = 600;

/// A sign-in sent to the provider, kept sealed in the browser's cookie until it comes back.
#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    tenant: i64,
    state: String,
    nonce: String,
    verifier: String,
    /// Unix seconds.
    expires: i64,
}

fn unavailable() -> AdminError {
    AdminError::not_found("single sign-on is not set up for this company: sign in with your email and password")
}

fn oidc_err(e: crate::oidc::OidcError) -> AdminError {
    use crate::oidc::OidcError as E;
    let status = match &e {
        E::Refused(_) => 403,
        E::Settings(_) | E::Provider(_) => 502,
    };
    tracing::info!(target: "scimd::portal", error = %e, "single sign-on failed");
    AdminError { status, message: e.message().to_string() }
}

impl Portal {
    async fn sso_seal(&self) -> AdminResult<&crate::seal::Keyring> {
        self.sso_seal
            .get_or_try_init(|| async {
                let key = crate::secrets::portal_key(&*self.store, &*self.clock, &self.keyring).await?;
                Ok::<_, String>(crate::seal::Keyring::new(crate::seal::MasterKey::from_bytes(key), Vec::new()))
            })
            .await
            .map_err(AdminError::internal)
    }

    /// Starts a single sign-on to the tenant's provider: where to send the browser, and
    /// the sealed value of the cookie that brings the sign-in back (`sso_finish`).
    pub async fn sso_start(&self, tenant: &str, redirect_uri: &str) -> AdminResult<(SsoStart, String)> {
        let t = self.tenant(tenant).await.map_err(|_| unavailable())?;
        let s = self.store.sso(t.id).await.map_err(AdminError::internal)?.ok_or_else(unavailable)?;
        let rp = self.relying.as_ref().ok_or_else(unavailable)?;
        let provider = rp.discover(&s.issuer).await.map_err(oidc_err)?;
        let start = rp.start(&provider, &s.client_id, redirect_uri);
        let pending = Pending {
            tenant: t.id.0,
            state: start.state,
            nonce: start.nonce,
            verifier: start.verifier,
            expires: self.now().timestamp() + PENDING_SECS,
        };
        let text = serde_json::to_string(&pending).map_err(AdminError::internal)?;
        let sealed = self.sso_seal().await?.seal_text(&text);
        Ok((SsoStart { url: start.url }, sealed))
    }

    /// Finishes a single sign-on: the provider's answer (`code` or `error`, and `state`)
    /// checked against the browser's sealed cookie, the identity verified and admitted by
    /// the tenant's rules, then the system user it is (found by its SSO subject, else by
    /// its verified email in this tenant, else made now). The new session's token.
    pub async fn sso_finish(
        &self,
        sealed: &str,
        answer: SsoAnswer<'_>,
        redirect_uri: &str,
        from: Option<std::net::IpAddr>,
        user_agent: Option<&str>,
    ) -> AdminResult<String> {
        let expired = || AdminError { status: 400, message: "this sign-in has expired: start again".into() };
        let text = self.sso_seal().await?.open_text(sealed).map_err(|_| expired())?;
        let p: Pending = serde_json::from_str(&text).map_err(|_| expired())?;
        if p.expires < self.now().timestamp() || !crate::auth::same_secret(&p.state, answer.state) {
            return Err(expired());
        }
        if let Some(error) = answer.error {
            return Err(oidc_err(crate::oidc::authorization_error(error)));
        }
        let tenant = scimd_store::TenantId(p.tenant);
        let s = self.store.sso(tenant).await.map_err(AdminError::internal)?.ok_or_else(unavailable)?;
        let rp = self.relying.as_ref().ok_or_else(unavailable)?;
        let provider = rp.discover(&s.issuer).await.map_err(oidc_err)?;
        let secret = match &s.client_secret {
            Some(sealed) => Some(self.keyring.open_text(sealed).map_err(AdminError::internal)?),
            None => None,
        };
        let creds = crate::oidc::ClientCreds { id: s.client_id.clone(), secret };
        let exchange =
            crate::oidc::Exchange { redirect_uri, code: answer.code, verifier: &p.verifier, nonce: &p.nonce };
        let identity = rp.finish(&provider, &creds, &exchange, self.now()).await.map_err(oidc_err)?;
        if !crate::oidc::admits(&identity, &s.allowed_domains, &s.allowed_groups) {
            return Err(AdminError {
                status: 403,
                message: "your company's provider signed you in, but this portal admits only the email domains or \
                          groups your company chose: ask your administrator"
                    .into(),
            });
        }
        let id = self.sso_user(tenant, provider.issuer(), &identity).await?;
        self.start_session(
            scimd_store::Principal::SystemUser(id),
            scimd_store::SessionStage::SignedIn,
            from,
            user_agent,
        )
        .await
    }

    /// The system user an admitted identity is, made on its first sign-in.
    async fn sso_user(
        &self,
        tenant: scimd_store::TenantId,
        issuer: &str,
        i: &crate::oidc::Identity,
    ) -> AdminResult<i64> {
        let subject = format!("{issuer} {}", i.subject);
        let refused = |m: &str| AdminError { status: 403, message: m.to_string() };
        if let Some(u) = self.store.system_user_by_sso(tenant, &subject).await.map_err(AdminError::internal)? {
            return if u.disabled { Err(refused("your access to this portal is disabled")) } else { Ok(u.id) };
        }
        let Some(email) = &i.email else {
            return Err(refused("your provider did not give an email address, which this portal needs"));
        };
        let email = super::people::normalized_email(email)?;
        let link = scimd_store::SystemUserChange { sso_subject: Some(subject), ..Default::default() };
        match self.store.system_user_by_email(&email).await.map_err(AdminError::internal)? {
            Some(u) if u.tenant != tenant => Err(refused("this email signs in to another company's portal")),
            Some(u) if u.disabled => Err(refused("your access to this portal is disabled")),
            // An existing account is joined to the identity only on the provider's word that
            // the email is the person's (Entra ID, which does not say so, admits by group and
            // makes new accounts only): otherwise whoever can edit their email at the provider
            // could take over a colleague's account.
            Some(_) if !i.email_verified => Err(refused(
                "an account with your email already exists and your provider does not vouch for the email: ask \
                 your administrator to remove that account or to sign in with it",
            )),
            Some(u) => {
                self.store.change_system_user(tenant, u.id, link).await.map_err(AdminError::internal)?;
                Ok(u.id)
            }
            None => {
                let u = self
                    .store
                    .create_system_user(tenant, &email, None, "sso", self.now())
                    .await
                    .map_err(AdminError::internal)?;
                self.store.change_system_user(tenant, u.id, link).await.map_err(AdminError::internal)?;
                Ok(u.id)
            }
        }
    }
}

/// The provider's answer at the callback.
pub struct SsoAnswer<'a> {
    pub state: &'a str,
    pub code: &'a str,
    pub error: Option<&'a str>,
}
