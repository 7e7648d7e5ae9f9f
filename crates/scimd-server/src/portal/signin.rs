//! Signing in and sessions. A password is counted against guessing before it is checked,
//! under the same rule and settings as the token endpoint's (`oauth::lockout`): per
//! caller address and in total. An operator's session waits for the second factor; each
//! step gives a new session token (the old one stops working), so a token seen before the
//! sign-in is worth nothing after it. A session ends when unused for `session_idle`, at
//! `session_max` after its sign-in, at sign-out, or when revoked.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use scimd_store::{NewSession, Principal, SessionRow, SessionStage};
use serde::Serialize;

use super::token_hash;
use super::totp::{self, Enrolment};
use super::{Person, Portal};
use crate::admin::{AdminError, AdminResult};
use crate::auth::generate_token;
use crate::oauth::OAuthError;
use crate::oauth::lockout::Principal as Counted;

/// What a right password leads to.
#[derive(Debug)]
pub enum PasswordStep {
    /// An operator: the second factor comes next, with this (new) session token.
    SecondFactor { token: String },
    /// A system user, signed in with this session token.
    SignedIn { token: String },
}

/// What the second-factor page asks for.
#[derive(Debug)]
pub enum SecondFactor {
    /// The first sign-in: set up an authenticator with this, then enter a code.
    Enrol(Enrolment),
    /// A code from the authenticator.
    Code,
}

/// A signed-in session and its person.
#[derive(Debug, Clone)]
pub struct Signed {
    pub person: Person,
    /// The session's id in the store (SHA-256 of its token), to revoke it.
    pub id_hash: String,
    /// The session's anti-forgery token.
    pub csrf: String,
}

/// A session as its person sees it in the list of their sessions.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub created: String,
    pub last_seen: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

fn wrong() -> AdminError {
    AdminError { status: 401, message: "the email or username, or the password, is wrong".into() }
}

fn lockout_error(e: OAuthError) -> AdminError {
    match e {
        OAuthError::Client { status, description, .. } => AdminError { status, message: description },
        OAuthError::Internal(m) => AdminError::internal(m),
    }
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

impl Portal {
    /// Checks a password. `login` is an operator's username or a system user's email.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        from: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> AdminResult<PasswordStep> {
        let login = login.trim();
        if login.is_empty() || password.is_empty() {
            return Err(wrong());
        }
        let counted = Counted::new(self.lockout()?, format!("portal:{}", login.to_lowercase()), from);
        self.lockout()?.attempt(&counted, "sign_in").await.map_err(lockout_error)?;
        let (principal, hash) = if login.contains('@') {
            let email = login.to_lowercase();
            match self.store.system_user_by_email(&email).await.map_err(AdminError::internal)? {
                Some(u) if !u.disabled => (Some(Principal::SystemUser(u.id)), u.password_hash),
                _ => (None, None),
            }
        } else {
            match self.store.operator_by_name(login).await.map_err(AdminError::internal)? {
                Some(o) if !o.disabled => (Some(Principal::Operator(o.id)), Some(o.password_hash)),
                _ => (None, None),
            }
        };
        let matched = match hash {
            Some(h) => crate::hashing::first_match(password.to_string(), vec![h])
                .await
                .map_err(crate::admin::hash_error)?
                .is_some(),
            // Spend what a check costs: the answer's time says nothing about who exists.
            None => {
                crate::hashing::check_against_nothing(password.to_string()).await.map_err(crate::admin::hash_error)?;
                false
            }
        };
        let Some(principal) = principal.filter(|_| matched) else {
            tracing::info!(target: "scimd::portal", "portal sign-in refused: wrong credentials");
            return Err(wrong());
        };
        self.lockout()?.succeeded(&counted).await.map_err(lockout_error)?;
        match principal {
            Principal::Operator(_) => {
                let token = self.start_session(principal, SessionStage::SecondFactor, from, user_agent).await?;
                Ok(PasswordStep::SecondFactor { token })
            }
            Principal::SystemUser(_) => {
                let token = self.start_session(principal, SessionStage::SignedIn, from, user_agent).await?;
                Ok(PasswordStep::SignedIn { token })
            }
        }
    }

    /// The session waiting for its second factor, what the page asks for, and the
    /// session's anti-forgery token. A first sign-in makes the operator's seed here.
    pub async fn pending(&self, token: &str) -> AdminResult<Option<(SecondFactor, String)>> {
        let Some((row, op)) = self.pending_operator(token).await? else {
            return Ok(None);
        };
        if op.totp_confirmed {
            return Ok(Some((SecondFactor::Code, row.csrf)));
        }
        let seed = match self.seed_of(&op) {
            Some(s) => s,
            None => {
                let seed = totp::new_seed();
                let b32 = totp_rs::Secret::from(seed.clone()).to_base32();
                let sealed = self.keyring.seal_text(&b32);
                self.store.set_operator_totp(op.id, Some(sealed), false, 0).await.map_err(AdminError::internal)?;
                seed
            }
        };
        let e = totp::enrolment(&seed, "scimd", &op.username).ok_or_else(|| AdminError::internal("TOTP enrolment"))?;
        Ok(Some((SecondFactor::Enrol(e), row.csrf)))
    }

    /// The operator's TOTP seed, opened from its sealed base32 form.
    fn seed_of(&self, op: &scimd_store::Operator) -> Option<Vec<u8>> {
        let b32 = self.keyring.open_text(op.totp_seed.as_deref()?).ok()?;
        totp_rs::Secret::try_from_base32(&b32).ok().map(|s| s.as_bytes().to_vec())
    }

    async fn pending_operator(&self, token: &str) -> AdminResult<Option<(SessionRow, scimd_store::Operator)>> {
        let row = self.store.session(&token_hash(token), self.now()).await.map_err(AdminError::internal)?;
        let Some(row) = row.filter(|r| r.stage == SessionStage::SecondFactor) else {
            return Ok(None);
        };
        let Principal::Operator(id) = row.principal else {
            return Ok(None);
        };
        let op = self.store.operator(id).await.map_err(AdminError::internal)?;
        Ok(op.filter(|o| !o.disabled).map(|o| (row, o)))
    }

    /// Checks the second factor of a session waiting for it; the new session token.
    pub async fn second_factor(
        &self,
        token: &str,
        code: &str,
        from: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> AdminResult<String> {
        let expired = || AdminError { status: 401, message: "the sign-in has expired: sign in again".into() };
        let (row, op) = self.pending_operator(token).await?.ok_or_else(expired)?;
        let counted = Counted::new(self.lockout()?, format!("portal-totp:{}", op.username), from);
        self.lockout()?.attempt(&counted, "sign_in").await.map_err(lockout_error)?;
        let seed = self.seed_of(&op).ok_or_else(expired)?;
        let now = self.now();
        let wrong_code =
            || AdminError { status: 401, message: "the code is wrong: enter the code your app shows now".into() };
        let step = totp::step_of(&seed, code, now.timestamp().max(0) as u64).ok_or_else(wrong_code)?;
        if !self.store.use_totp_step(op.id, step).await.map_err(AdminError::internal)? {
            return Err(AdminError {
                status: 401,
                message: "this code was used already: wait for the next one".into(),
            });
        }
        if !op.totp_confirmed {
            let sealed = op.totp_seed.clone();
            self.store.set_operator_totp(op.id, sealed, true, step).await.map_err(AdminError::internal)?;
        }
        self.lockout()?.succeeded(&counted).await.map_err(lockout_error)?;
        let new = self.new_session(row.principal, SessionStage::SignedIn, from, user_agent);
        if !self.store.rotate_session(&row.id_hash, new.1, now).await.map_err(AdminError::internal)? {
            return Err(expired());
        }
        Ok(new.0)
    }

    /// The signed-in session of `token` and its person; `None` when there is none (unknown,
    /// expired, revoked, waiting for its second factor, or its person disabled).
    pub async fn signed(&self, token: &str) -> AdminResult<Option<Signed>> {
        let now = self.now();
        let row = self.store.session(&token_hash(token), now).await.map_err(AdminError::internal)?;
        let Some(row) = row.filter(|r| r.stage == SessionStage::SignedIn) else {
            return Ok(None);
        };
        let max = Duration::from_std(self.settings.session_max).unwrap_or_default();
        let started = parse(&row.created).unwrap_or(now);
        if started + max <= now {
            self.store.delete_session(&row.id_hash).await.map_err(AdminError::internal)?;
            return Ok(None);
        }
        let person = match row.principal {
            Principal::Operator(id) => match self.store.operator(id).await.map_err(AdminError::internal)? {
                Some(o) if !o.disabled => Person::Operator { id, username: o.username },
                _ => return Ok(None),
            },
            Principal::SystemUser(id) => match self.store.system_user(id).await.map_err(AdminError::internal)? {
                Some(u) if !u.disabled => {
                    let Some(tenant) = self.store.tenant_by_id(u.tenant).await.map_err(AdminError::internal)? else {
                        return Ok(None);
                    };
                    Person::SystemUser { id, email: u.email, tenant }
                }
                _ => return Ok(None),
            },
        };
        // Noted at most once a minute: reading a page is not a write each time.
        if parse(&row.last_seen).is_none_or(|seen| now - seen >= Duration::seconds(60)) {
            let idle = Duration::from_std(self.settings.session_idle).unwrap_or_default();
            let expires = (now + idle).min(started + max);
            self.store.touch_session(&row.id_hash, now, expires).await.map_err(AdminError::internal)?;
        }
        Ok(Some(Signed { person, id_hash: row.id_hash, csrf: row.csrf }))
    }

    /// Ends the session of `token` (signing out); a session waiting for its second factor too.
    pub async fn sign_out(&self, token: &str) -> AdminResult<()> {
        self.store.delete_session(&token_hash(token)).await.map_err(AdminError::internal)?;
        Ok(())
    }

    /// The person's sessions; `current`: the id of the one asking.
    pub async fn sessions_of(&self, person: &Person, current: &str) -> AdminResult<Vec<SessionView>> {
        let rows = self.store.sessions(principal(person), self.now()).await.map_err(AdminError::internal)?;
        Ok(rows
            .into_iter()
            .filter(|r| r.stage == SessionStage::SignedIn)
            .map(|r| SessionView {
                current: r.id_hash == current,
                id: r.id_hash,
                created: r.created,
                last_seen: r.last_seen,
                address: r.address,
                user_agent: r.user_agent,
            })
            .collect())
    }

    /// Ends one of the person's own sessions (by its id), or with `None` all but `keep`.
    pub async fn end_sessions(&self, person: &Person, id: Option<&str>, keep: &str) -> AdminResult<u64> {
        let p = principal(person);
        match id {
            Some(id) => {
                let mine = self.store.sessions(p, self.now()).await.map_err(AdminError::internal)?;
                if !mine.iter().any(|s| s.id_hash == id) {
                    return Err(AdminError::not_found("no such session"));
                }
                Ok(self.store.delete_session(id).await.map_err(AdminError::internal)? as u64)
            }
            None => self.store.delete_sessions(p, Some(keep.to_string())).await.map_err(AdminError::internal),
        }
    }

    fn new_session(
        &self,
        principal: Principal,
        stage: SessionStage,
        from: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> (String, NewSession) {
        let token = generate_token();
        let idle = Duration::from_std(self.settings.session_idle).unwrap_or_default();
        let max = Duration::from_std(self.settings.session_max).unwrap_or_default();
        let session = NewSession {
            id_hash: token_hash(&token),
            principal,
            stage,
            csrf: generate_token(),
            expires: self.now() + idle.min(max),
            address: from.map(|a| a.to_string()),
            user_agent: user_agent.map(|u| u.chars().take(200).collect()),
        };
        (token, session)
    }

    pub(super) async fn start_session(
        &self,
        principal: Principal,
        stage: SessionStage,
        from: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> AdminResult<String> {
        let (token, session) = self.new_session(principal, stage, from, user_agent);
        self.store.add_session(session, self.now()).await.map_err(AdminError::internal)?;
        Ok(token)
    }
}

fn principal(person: &Person) -> Principal {
    match person {
        Person::Operator { id, .. } => Principal::Operator(*id),
        Person::SystemUser { id, .. } => Principal::SystemUser(*id),
    }
}
