//! The `password` grant (RFC 6749 §4.3) for API system users: the password checked
//! (lockout counted first, a user out of the client's reach treated as unknown; a user
//! whose SCIM User of the same name is inactive refused), then a login — a refresh-token
//! family — and its first pair of tokens.

use chrono::{DateTime, TimeDelta, Utc};
use scimd_store::{ClientAuth, NewRefresh};

use super::issue::scopes_within;
use super::lockout::{self, Principal};
use super::{ClientCredentials, OAuth, OAuthError, OResult, TokenRequest, TokenResponse, random_id};
use crate::auth::hash_token;
use crate::hashing;

impl OAuth {
    /// The `password` grant, for an authenticated client.
    pub(super) async fn password(
        &self,
        client: &ClientAuth,
        req: &TokenRequest,
        creds: Option<&ClientCredentials>,
        requested: &Option<Vec<String>>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> OResult<TokenResponse> {
        let (Some(username), Some(password)) = (req.username.clone(), req.password.clone()) else {
            return Err(OAuthError::invalid_request("the password grant needs username and password"));
        };
        let scopes = scopes_within(requested, &client.scopes)?;
        let creds = creds.ok_or_else(OAuthError::invalid_client)?;
        let user = self.check_api_user(client, creds, &username, password).await?;
        // A user its identity provider deactivated does not sign in until it is active again.
        if self.store.user_inactive(user.tenant, &username).await? {
            return Err(OAuthError::invalid_grant("this user is inactive in its tenant"));
        }
        self.tenant_open(&user.tenant_name).await?;
        let shape = self.shape_for_client(client, user.tenant).await?;
        let scopes = if shape.grant_all_client_scopes { client.scopes.clone() } else { scopes };
        let family = random_id();
        let refresh = self.new_refresh_token();
        self.store
            .store_refresh(
                NewRefresh {
                    hash: hash_token(&refresh),
                    family: family.clone(),
                    client: client.row,
                    tenant: user.tenant,
                    api_user: Some(user.id),
                    scopes: scopes.clone(),
                    expires: now + TimeDelta::seconds(client.refresh_ttl_secs),
                },
                now,
            )
            .await?;
        let tenant = (user.tenant, user.tenant_name.as_str());
        let access = self.issue_access(issuer, client, &username, tenant, &scopes, Some(&family), now, &shape).await?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "bearer",
            expires_in: client.access_ttl_secs,
            scope: scopes.join(" "),
            refresh_token: Some(refresh),
            http_status_code: None,
            tenant: Some(user.tenant),
        })
    }

    /// Checks an API user's password for the password grant. Whatever fails (an unknown
    /// username, a user of a tenant this client may not reach, a disabled user, a wrong
    /// password) is answered alike and takes as long; a user out of the client's reach is
    /// treated as unknown, so guesses through another tenant's client neither count against
    /// nor lock out the user.
    pub(super) async fn check_api_user(
        &self,
        client: &ClientAuth,
        creds: &ClientCredentials,
        username: &str,
        password: String,
    ) -> OResult<scimd_store::ApiUserAuth> {
        let bad = || OAuthError::invalid_grant("wrong username or password");
        let user =
            self.store.api_user_auth(username).await?.filter(|u| client.tenants.iter().any(|(t, _)| *t == u.tenant));
        let name = match &user {
            Some(_) => format!("user:{username}"),
            None => format!("user:{username} via client:{}", client.client_id),
        };
        let who = Principal::new(self, name.clone(), creds.from);
        let checked = self.checks.once(lockout::Flights::key(&name, &password), async {
            self.attempt(&who, "invalid_grant").await?;
            let Some(user) = &user else {
                hashing::check_against_nothing(password).await?;
                return Ok(false);
            };
            let matched = hashing::first_match(password, vec![user.password_hash.clone()]).await?.is_some();
            if matched && !user.disabled {
                self.succeeded(&who).await?;
            }
            Ok(matched && !user.disabled)
        });
        match (checked.await?, user) {
            (true, Some(user)) => Ok(user),
            _ => Err(bad()),
        }
    }
}
