//! The admin HTTP API (`/admin/v1/…`): the operator commands over JSON, for provisioning
//! portals and scripts that cannot run the binary. Protected by an operator token (given
//! by configuration, or created by `scimd admin-token create`); tenant tokens are never
//! accepted. Errors are `{"status": N, "detail": "…"}`.

mod catalog;
mod events;
mod federation;
mod groups;
mod onboard;
mod places;
mod users;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AppState;
use super::routes::{RouteTable, Routes, all};
use crate::admin::{AdminError, ClientChange, ClientSpec};
use crate::auth::bearer;
use crate::operation::{AdminTarget, Operation};

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let mut res = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        error(self)
    }
}

fn error(e: AdminError) -> Response {
    if e.status >= 500 {
        tracing::error!(detail = %e.message, "internal error in the admin API");
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"status": 500, "detail": "internal server error"}),
        );
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &json!({"status": e.status, "detail": e.message}))
}

type AResult = Result<Response, AdminError>;

fn ok(status: StatusCode, body: &impl Serialize) -> AResult {
    Ok(json_response(status, body))
}

/// An authenticated operator. Extracting it checks the operator token.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
        let valid = match token {
            Some(t) => state.admin.operator_token_valid(t, state.http.admin_token.as_ref()).await.map_err(error)?,
            None => false,
        };
        if valid {
            return Ok(Operator);
        }
        let mut res = json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"status": 401, "detail": "the admin API needs an operator token: 'Authorization: Bearer <token>'"}),
        );
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scimd-admin\""));
        Err(res)
    }
}

/// A path's parameters; a value that does not parse is a JSON 400 like every other error.
pub(super) struct APath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for APath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(APath(v)),
            Err(e) => {
                Err(error(AdminError { status: 400, message: format!("the path is not valid: {}", e.body_text()) }))
            }
        }
    }
}

/// Query parameters; ones that do not parse are a JSON 400 like every other error.
pub(super) struct AQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for AQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(AQuery(v)),
            Err(e) => Err(error(AdminError {
                status: 400,
                message: format!("the query parameters are not valid: {}", e.body_text()),
            })),
        }
    }
}

pub(super) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, AdminError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|e| AdminError { status: 400, message: format!("the request body is not valid: {e}") })
}

/// A lifetime: seconds, or a duration such as `"20m"` or `"30d"`.
fn lifetime(v: Option<&Value>, what: &str) -> Result<Option<i64>, AdminError> {
    let bad = || AdminError { status: 400, message: format!("{what} must be seconds or a duration like \"20m\"") };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) => {
            humantime::parse_duration(s).ok().and_then(|d| i64::try_from(d.as_secs()).ok()).map(Some).ok_or_else(bad)
        }
        Some(_) => Err(bad()),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
    #[serde(default = "yes")]
    scim_enabled: bool,
    /// A preset's profile to start with (`visitor`, `staffing`, `workflow`).
    #[serde(default)]
    preset: Option<String>,
    /// `integration` (the default: a customer integrates first) or `production`.
    #[serde(default)]
    stage: Option<scimd_store::Stage>,
}

fn yes() -> bool {
    true
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantPatch {
    scim_enabled: Option<bool>,
    /// Replace the profile with a preset's.
    preset: Option<String>,
    audit_details: Option<scimd_store::DetailsLevel>,
    audit_events_days: Option<i64>,
    audit_details_days: Option<i64>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EventParams {
    from: Option<String>,
    to: Option<String>,
    client: Option<String>,
    status: Option<u16>,
    op: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Window {
    from: String,
    to: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ErrorParams {
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
}

fn query<T: DeserializeOwned>(q: Option<&str>) -> Result<T, AdminError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(q.unwrap_or("").as_bytes()).into_owned().collect();
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        let value = match k.as_str() {
            "status" | "before" | "limit" | "days" => v
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| AdminError { status: 400, message: format!("'{k}' must be a number") })?,
            _ => Value::String(v),
        };
        map.insert(k, value);
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| AdminError { status: 400, message: format!("bad query parameters: {e}") })
}

async fn audit_events(
    _: Operator,
    State(s): State<AppState>,
    APath(name): APath<String>,
    RawQuery(q): RawQuery,
) -> AResult {
    ok(StatusCode::OK, &s.admin.audit_events(Some(&name), event_filter(q.as_deref())?).await?)
}

/// Events no tenant could be attributed to (`/audit/events`, outside any tenant).
async fn unattributed_events(_: Operator, State(s): State<AppState>, RawQuery(q): RawQuery) -> AResult {
    ok(StatusCode::OK, &s.admin.audit_events(None, event_filter(q.as_deref())?).await?)
}

fn event_filter(q: Option<&str>) -> Result<crate::admin::EventFilter, AdminError> {
    let p: EventParams = query(q)?;
    Ok(crate::admin::EventFilter {
        from: p.from,
        to: p.to,
        client: p.client,
        status: p.status,
        op: p.op,
        before: p.before,
        limit: p.limit,
        ..Default::default()
    })
}

async fn audit_event(_: Operator, State(s): State<AppState>, APath((name, id)): APath<(String, i64)>) -> AResult {
    ok(StatusCode::OK, &s.admin.audit_event_details(Some(&name), id).await?)
}

async fn unattributed_event(_: Operator, State(s): State<AppState>, APath(id): APath<i64>) -> AResult {
    ok(StatusCode::OK, &s.admin.audit_event_details(None, id).await?)
}

async fn audit_summary(
    _: Operator,
    State(s): State<AppState>,
    APath(name): APath<String>,
    RawQuery(q): RawQuery,
) -> AResult {
    let w: Window = query(q.as_deref())?;
    ok(StatusCode::OK, &s.admin.audit_summary(&name, &w.from, &w.to).await?)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Days {
    #[serde(default = "thirty")]
    days: i64,
}

fn thirty() -> i64 {
    30
}

async fn deactivations(
    _: Operator,
    State(s): State<AppState>,
    APath(name): APath<String>,
    RawQuery(q): RawQuery,
) -> AResult {
    let d: Days = query(q.as_deref())?;
    ok(StatusCode::OK, &s.admin.deactivations(&name, d.days).await?)
}

async fn get_profile(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.profile(&name).await?)
}

async fn put_profile(_: Operator, State(s): State<AppState>, APath(name): APath<String>, b: Bytes) -> AResult {
    let v: Value = body(&b)?;
    let set = s.admin.set_profile(&name, Some(&v)).await?;
    profile_changed(&s, &name).await;
    ok(StatusCode::OK, &set)
}

async fn delete_profile(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    let set = s.admin.set_profile(&name, None).await?;
    profile_changed(&s, &name).await;
    ok(StatusCode::OK, &set)
}

/// A profile changed through this process applies here at once (other replicas within
/// their 5-second refresh). The portal's settings call it too.
pub(super) async fn profile_changed(s: &AppState, name: &str) {
    if let Ok(t) = s.admin.tenant(name).await {
        s.service.forget_profile(t.id);
    }
    if let Err(e) = s.mounts.refresh(&s.service).await {
        tracing::warn!(error = %e, "reading tenants' mounted paths failed");
    }
}

async fn errors(_: Operator, State(s): State<AppState>, RawQuery(q): RawQuery) -> AResult {
    let p: ErrorParams = query(q.as_deref())?;
    ok(StatusCode::OK, &s.admin.errors(None, p.from.as_deref(), p.to.as_deref(), p.limit.unwrap_or(100)).await?)
}

/// The internal errors of one tenant's requests.
async fn tenant_errors(
    _: Operator,
    State(s): State<AppState>,
    APath(name): APath<String>,
    RawQuery(q): RawQuery,
) -> AResult {
    let p: ErrorParams = query(q.as_deref())?;
    ok(StatusCode::OK, &s.admin.errors(Some(&name), p.from.as_deref(), p.to.as_deref(), p.limit.unwrap_or(100)).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewToken {
    expires_in_days: Option<u32>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApiUser {
    username: String,
    password: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiUserPatch {
    disabled: bool,
}

async fn list_tenants(_: Operator, State(s): State<AppState>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_tenants().await?)
}

async fn create_tenant(_: Operator, State(s): State<AppState>, b: Bytes) -> AResult {
    let t: NewTenant = body(&b)?;
    let stage = t.stage.unwrap_or(scimd_store::Stage::Integration);
    let created = match &t.preset {
        Some(p) => s.admin.create_tenant_with_preset(&t.name, t.scim_enabled, p, stage).await?,
        None => s.admin.create_staged_tenant(&t.name, t.scim_enabled, stage).await?,
    };
    if t.preset.is_some() {
        profile_changed(&s, &created.name).await;
    }
    ok(StatusCode::CREATED, &created)
}

async fn patch_tenant(_: Operator, State(s): State<AppState>, APath(name): APath<String>, b: Bytes) -> AResult {
    let p: TenantPatch = body(&b)?;
    if let Some(preset) = &p.preset {
        s.admin.set_preset(&name, preset).await?;
        profile_changed(&s, &name).await;
    }
    if p.audit_details.is_some() || p.audit_events_days.is_some() || p.audit_details_days.is_some() {
        s.admin.set_audit(&name, p.audit_details, p.audit_events_days, p.audit_details_days).await?;
    }
    if let Some(on) = p.scim_enabled {
        s.admin.set_scim(&name, on).await?;
        s.oauth.credentials_changed().await;
    }
    ok(StatusCode::OK, &s.admin.tenant_view(&name).await?)
}

async fn list_tokens(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_tokens(&name).await?)
}

async fn create_token(_: Operator, State(s): State<AppState>, APath(name): APath<String>, b: Bytes) -> AResult {
    let t: NewToken = body(&b)?;
    ok(StatusCode::CREATED, &s.admin.create_token(&name, t.expires_in_days).await?)
}

async fn revoke_token(_: Operator, State(s): State<AppState>, APath((name, id)): APath<(String, i64)>) -> AResult {
    s.admin.revoke_token(&name, id).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &json!({"revoked": id}))
}

async fn list_api_users(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_api_users(&name).await?)
}

async fn create_api_user(_: Operator, State(s): State<AppState>, APath(name): APath<String>, b: Bytes) -> AResult {
    let u: NewApiUser = body(&b)?;
    ok(StatusCode::CREATED, &s.admin.create_api_user(&name, &u.username, u.password).await?)
}

async fn patch_api_user(
    _: Operator,
    State(s): State<AppState>,
    APath((name, username)): APath<(String, String)>,
    b: Bytes,
) -> AResult {
    let p: ApiUserPatch = body(&b)?;
    s.admin.set_api_user_disabled(&name, &username, p.disabled).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &json!({"username": username, "disabled": p.disabled}))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: Option<String>,
}

/// A new password for an API user (the one sent, or a generated one, answered once).
async fn set_api_user_password(
    _: Operator,
    State(s): State<AppState>,
    APath((name, username)): APath<(String, String)>,
    b: Bytes,
) -> AResult {
    let p: NewPassword = if b.iter().all(u8::is_ascii_whitespace) { NewPassword::default() } else { body(&b)? };
    let u = s.admin.set_api_user_password(&name, &username, p.password).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &u)
}

async fn list_clients(_: Operator, State(s): State<AppState>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_clients().await?)
}

async fn create_client(_: Operator, State(s): State<AppState>, b: Bytes) -> AResult {
    let v: Value = body(&b)?;
    let strings = |name: &str, default: &[&str]| -> Result<Vec<String>, AdminError> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                Ok(a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            }
            Some(_) => Err(AdminError { status: 400, message: format!("'{name}' must be a list of strings") }),
        }
    };
    if let Some(k) = v.as_object().and_then(|o| {
        o.keys().find(|k| {
            ![
                "tenants",
                "grants",
                "scopes",
                "access_ttl",
                "refresh_ttl",
                "refresh_expiry",
                "secret_expires_in",
                "auth_method",
                "jwks",
                "jwks_uri",
                "trust",
            ]
            .contains(&k.as_str())
        })
    }) {
        return Err(AdminError { status: 400, message: format!("unknown field '{k}'") });
    }
    let text = |name: &str| -> Result<Option<String>, AdminError> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AdminError { status: 400, message: format!("'{name}' must be a string") }),
        }
    };
    let keys = match text("auth_method")? {
        None if ["jwks", "jwks_uri", "trust"].iter().any(|k| v.get(*k).is_some_and(|x| !x.is_null())) => {
            return Err(AdminError { status: 400, message: "keys need \"auth_method\": \"private_key_jwt\"".into() });
        }
        None => None,
        Some(auth_method) => Some(crate::admin::ClientKeysSpec {
            auth_method,
            jwks: v.get("jwks").filter(|j| !j.is_null()).map(Value::to_string),
            jwks_uri: text("jwks_uri")?,
            trust: text("trust")?,
        }),
    };
    let spec = ClientSpec {
        keys,
        tenants: strings("tenants", &[])?,
        grants: strings("grants", &["client_credentials"])?,
        scopes: strings("scopes", &["scim"])?,
        access_ttl_secs: lifetime(v.get("access_ttl"), "access_ttl")?.unwrap_or(3600),
        refresh_ttl_secs: lifetime(v.get("refresh_ttl"), "refresh_ttl")?.unwrap_or(30 * 86400),
        refresh_expiry: refresh_expiry(v.get("refresh_expiry"))?.flatten(),
        secret_expires_secs: lifetime(v.get("secret_expires_in"), "secret_expires_in")?,
    };
    ok(StatusCode::CREATED, &s.admin.create_client(spec).await?)
}

/// A client's `refresh_expiry` as sent: absent (`None`), `null` (the tenant profile's
/// choice: `Some(None)`), `"sliding"` or `"absolute"`.
fn refresh_expiry(v: Option<&Value>) -> Result<Option<Option<scimd_store::RefreshExpiry>>, AdminError> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if scimd_store::RefreshExpiry::parse(s).is_some() => {
            Ok(Some(scimd_store::RefreshExpiry::parse(s)))
        }
        Some(_) => Err(AdminError {
            status: 400,
            message: "'refresh_expiry' must be \"sliding\", \"absolute\" or null (the tenant profile's choice)".into(),
        }),
    }
}

/// Changes a client's lifetimes or refresh expiry.
async fn patch_client(_: Operator, State(s): State<AppState>, APath(id): APath<String>, b: Bytes) -> AResult {
    let v: Value = body(&b)?;
    if let Some(k) = v
        .as_object()
        .and_then(|o| o.keys().find(|k| !["access_ttl", "refresh_ttl", "refresh_expiry"].contains(&k.as_str())))
    {
        return Err(AdminError { status: 400, message: format!("unknown field '{k}'") });
    }
    let change = ClientChange {
        access_ttl_secs: lifetime(v.get("access_ttl"), "access_ttl")?,
        refresh_ttl_secs: lifetime(v.get("refresh_ttl"), "refresh_ttl")?,
        refresh_expiry: refresh_expiry(v.get("refresh_expiry"))?,
    };
    s.admin.update_client(&id, change).await?;
    let client = s.admin.list_clients().await?.into_iter().find(|c| c.client_id == id);
    ok(StatusCode::OK, &client)
}

async fn add_secret(_: Operator, State(s): State<AppState>, APath(id): APath<String>, b: Bytes) -> AResult {
    let v: Value = body(&b)?;
    let expires = lifetime(v.get("expires_in"), "expires_in")?;
    ok(StatusCode::CREATED, &s.admin.add_secret(&id, expires).await?)
}

async fn revoke_secret(_: Operator, State(s): State<AppState>, APath((id, secret)): APath<(String, i64)>) -> AResult {
    s.admin.revoke_secret(&id, secret).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &json!({"revoked": secret}))
}

async fn list_keys(_: Operator, State(s): State<AppState>) -> AResult {
    ok(StatusCode::OK, &s.admin.signing_keys().await?)
}

async fn rotate_key(_: Operator, State(s): State<AppState>) -> AResult {
    let key = s.admin.rotate_signing_key().await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::CREATED, &key)
}

async fn retire_key(_: Operator, State(s): State<AppState>, APath(kid): APath<String>) -> AResult {
    s.admin.retire_signing_key(&kid).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &json!({"retired": kid}))
}

async fn not_found() -> Response {
    error(AdminError { status: 404, message: "no such admin endpoint".into() })
}

/// The admin API's routes, to nest under `/admin/v1` (recorded in `table`).
pub(super) fn routes(table: &mut RouteTable) -> Router<AppState> {
    // The operator's work on the server, named apart from a tenant's places, access,
    // users and groups (whose routes name theirs).
    let admin = |m: MethodRouter<AppState>| all(Operation::Admin("admin", AdminTarget::Nothing), m);
    Routes::new("/admin/v1", table)
        .route("/tenants", admin(get(list_tenants).post(create_tenant)))
        .route("/tenants/{name}", admin(patch(patch_tenant)))
        .route("/tenants/{name}/profile", admin(get(get_profile).put(put_profile).delete(delete_profile)))
        .route("/tenants/{name}/tokens", admin(get(list_tokens).post(create_token)))
        .route("/tenants/{name}/tokens/{id}", admin(delete(revoke_token)))
        .route("/tenants/{name}/api-users", admin(get(list_api_users).post(create_api_user)))
        .route("/tenants/{name}/api-users/{username}", admin(patch(patch_api_user)))
        .route("/tenants/{name}/api-users/{username}/password", admin(axum::routing::post(set_api_user_password)))
        .route("/clients", admin(get(list_clients).post(create_client)))
        .route("/clients/{id}", admin(patch(patch_client)))
        .route("/clients/{id}/secrets", admin(axum::routing::post(add_secret)))
        .route("/clients/{id}/secrets/{secret}", admin(delete(revoke_secret)))
        .route("/tenants/{name}/audit/events", admin(get(audit_events)))
        .route("/tenants/{name}/audit/events/{id}", admin(get(audit_event)))
        .route("/tenants/{name}/audit/summary", admin(get(audit_summary)))
        .route("/tenants/{name}/deactivations", admin(get(deactivations)))
        .route("/tenants/{name}/audit/errors", admin(get(tenant_errors)))
        .route("/audit/events", admin(get(unattributed_events)))
        .route("/audit/events/{id}", admin(get(unattributed_event)))
        .route("/errors", admin(get(errors)))
        .route("/signing-keys", admin(get(list_keys).post(rotate_key)))
        .route("/signing-keys/{kid}", admin(delete(retire_key)))
        .with(places::routes)
        .with(groups::routes)
        .with(catalog::routes)
        .with(users::routes)
        .with(events::routes)
        .with(onboard::routes)
        .with(federation::routes)
        .into_router()
        .fallback(not_found)
}
