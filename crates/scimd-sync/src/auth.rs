//! Credentials for the target: a static bearer token, OAuth 2.0 client credentials (HTTP
//! Basic or form fields), or the password grant with refresh. This module owns getting a
//! valid access token: before it expires it is refreshed (or fetched again), after a 401
//! too, and when a refresh token is no longer accepted the client logs in again. Secrets
//! never appear in messages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::SyncError;

/// How the client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic` (RFC 6749 §2.3.1, the default).
    Basic,
    /// `client_id` and `client_secret` in the form.
    Form,
}

#[derive(Clone)]
pub enum Credentials {
    Bearer(String),
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        client_auth: ClientAuth,
        scope: Option<String>,
    },
    Password {
        token_url: String,
        client_id: String,
        client_secret: String,
        client_auth: ClientAuth,
        scope: Option<String>,
        username: String,
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer(…)"),
            Credentials::ClientCredentials { token_url, client_id, .. } => {
                write!(f, "ClientCredentials({client_id} at {token_url})")
            }
            Credentials::Password { token_url, client_id, username, .. } => {
                write!(f, "Password({username} with {client_id} at {token_url})")
            }
        }
    }
}

#[derive(Default)]
struct TokenState {
    access: Option<String>,
    /// When to stop using it: a little before it expires.
    renew_at: Option<Instant>,
    refresh: Option<String>,
}

/// Hands out access tokens.
pub struct Auth {
    creds: Credentials,
    http: reqwest::Client,
    state: Mutex<TokenState>,
    pub logins: AtomicU64,
    pub refreshes: AtomicU64,
}

impl Auth {
    pub fn new(creds: Credentials, http: reqwest::Client) -> Auth {
        Auth {
            creds,
            http,
            state: Mutex::new(TokenState::default()),
            logins: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
        }
    }

    /// A token to send now.
    pub async fn token(&self) -> Result<String, SyncError> {
        if let Credentials::Bearer(t) = &self.creds {
            return Ok(t.clone());
        }
        let mut st = self.state.lock().await;
        if let (Some(a), Some(at)) = (&st.access, st.renew_at)
            && Instant::now() < at
        {
            return Ok(a.clone());
        }
        self.renew(&mut st).await?;
        Ok(st.access.clone().unwrap_or_default())
    }

    /// The target refused `used` (401): the next [`Auth::token`] gets a new one. Several
    /// requests refused with the same token cause one renewal.
    pub async fn rejected(&self, used: &str) -> Result<(), SyncError> {
        if let Credentials::Bearer(_) = &self.creds {
            return Err(SyncError::Auth("the target refused the bearer token (401)".into()));
        }
        let mut st = self.state.lock().await;
        if st.access.as_deref() == Some(used) {
            st.renew_at = None;
        }
        Ok(())
    }

    async fn renew(&self, st: &mut TokenState) -> Result<(), SyncError> {
        if let (Some(refresh), Credentials::Password { .. }) = (st.refresh.clone(), &self.creds) {
            match self.request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await {
                Ok(v) => {
                    self.refreshes.fetch_add(1, Ordering::Relaxed);
                    return self.take(st, &v);
                }
                // An expired or revoked refresh token: log in again.
                Err(SyncError::Auth(_)) => st.refresh = None,
                Err(e) => return Err(e),
            }
        }
        let v = match &self.creds {
            Credentials::Bearer(_) => return Ok(()),
            Credentials::ClientCredentials { scope, .. } => {
                let mut form = vec![("grant_type", "client_credentials")];
                if let Some(s) = scope {
                    form.push(("scope", s));
                }
                self.request(&form).await?
            }
            Credentials::Password { scope, username, password, .. } => {
                let mut form =
                    vec![("grant_type", "password"), ("username", username.as_str()), ("password", password.as_str())];
                if let Some(s) = scope {
                    form.push(("scope", s));
                }
                self.request(&form).await?
            }
        };
        self.logins.fetch_add(1, Ordering::Relaxed);
        self.take(st, &v)
    }

    fn take(&self, st: &mut TokenState, v: &Value) -> Result<(), SyncError> {
        let access = v["access_token"]
            .as_str()
            .ok_or_else(|| SyncError::Auth("the token endpoint answered without an access_token".into()))?;
        let ttl = v["expires_in"].as_u64().unwrap_or(3600);
        // Renew when a quarter of its life is left (at most a minute early).
        let early = (ttl / 4).min(60);
        st.access = Some(access.to_string());
        st.renew_at = Some(Instant::now() + Duration::from_secs(ttl.saturating_sub(early)));
        if let Some(r) = v["refresh_token"].as_str() {
            st.refresh = Some(r.to_string());
        }
        Ok(())
    }

    /// A token request; `SyncError::Auth` when the endpoint refuses it (4xx).
    async fn request(&self, form: &[(&str, &str)]) -> Result<Value, SyncError> {
        let (url, id, secret, client_auth) = match &self.creds {
            Credentials::ClientCredentials { token_url, client_id, client_secret, client_auth, .. }
            | Credentials::Password { token_url, client_id, client_secret, client_auth, .. } => {
                (token_url, client_id, client_secret, *client_auth)
            }
            Credentials::Bearer(_) => unreachable!("no token requests with a static token"),
        };
        let mut form: Vec<(&str, &str)> = form.to_vec();
        let mut rq = self.http.post(url);
        match client_auth {
            ClientAuth::Basic => rq = rq.basic_auth(id, Some(secret)),
            ClientAuth::Form => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
        }
        let mut delay = Duration::from_millis(200);
        for attempt in 0..6 {
            let r = rq.try_clone().expect("a form body can be cloned").form(&form).send().await;
            match r {
                Ok(r) if r.status().is_success() => {
                    return r.json().await.map_err(|e| SyncError::Auth(format!("the token endpoint's answer: {e}")));
                }
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    if attempt == 5 {
                        return Err(SyncError::Target(format!("the token endpoint answered {}", r.status())));
                    }
                    delay = crate::answer::retry_delay(r.headers(), delay);
                }
                Ok(r) => {
                    let status = r.status();
                    let v: Value = r.json().await.unwrap_or_default();
                    return Err(SyncError::Auth(format!(
                        "the token endpoint refused the {} request ({status}: {} {})",
                        form.first().map(|(_, g)| *g).unwrap_or("token"),
                        v["error"].as_str().unwrap_or(""),
                        v["error_description"].as_str().unwrap_or("")
                    )));
                }
                Err(e) if attempt < 5 => eprintln!("scimd sync: the token endpoint is unreachable ({e}); retrying"),
                Err(e) => return Err(SyncError::Target(format!("the token endpoint is unreachable: {e}"))),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
        Err(SyncError::Target("the token endpoint kept failing".into()))
    }
}
