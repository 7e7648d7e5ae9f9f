//! Tenants' own paths: [`Mounts`] keeps the base paths and token paths tenants' profiles
//! mount, and rewrites a request that arrived at one to the built-in route before the
//! router sees it ([`Remount`], noting where it arrived in [`Mounted`]); an endpoint name
//! written in another case (`/users`) is rewritten to the routed one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;

use super::router::BUILT_IN_PREFIXES;
use crate::service::Service;

/// Where a request arrived when a tenant profile's base path or token path mounted it:
/// its URI was rewritten to the built-in route before routing.
#[derive(Debug, Clone)]
pub struct Mounted {
    /// The path as the client sent it.
    pub original: String,
    /// The custom base path (or token path) it matched.
    pub base: String,
}

/// The custom paths tenants' profiles mount (base paths of SCIM APIs, token paths), as
/// last read from the store. Refreshed every 5 seconds by [`crate::serve`], at once when
/// this process's admin API changes a profile, and before answering a request for a path
/// nothing serves: a tenant created a moment ago, by the command line or on another
/// replica, answers at its paths on its first request. Such rereads are at least
/// [`MISS_REFRESH`] apart (a request for an unknown path may wait that long for its 404),
/// and one serves every request that was waiting for it, so a scan of unknown paths costs
/// at most one read of the tenants' profiles per [`MISS_REFRESH`].
#[derive(Debug, Default)]
pub struct Mounts {
    /// Longest first, so that `/api/v2` wins over `/api`.
    bases: std::sync::RwLock<Vec<String>>,
    tokens: std::sync::RwLock<Vec<String>>,
    /// The endpoints of the resource types any tenant declares (`/Roles`), so that a path
    /// no tenant declares keeps its 404 before any authentication.
    endpoints: std::sync::RwLock<Vec<String>>,
    /// When the last reread caused by an unknown path started.
    last_miss: tokio::sync::Mutex<Option<std::time::Instant>>,
}

/// The least time between two rereads of the profiles caused by unknown paths.
pub const MISS_REFRESH: std::time::Duration = std::time::Duration::from_millis(500);

impl Mounts {
    /// [`Mounts::rewrite`], after rereading the profiles first when the path is one no
    /// mount knows (see the type's documentation).
    pub async fn rewrite_fresh(&self, service: &Service, token_path: &str, req: Request) -> Request {
        let path = req.uri().path();
        if !self.knows(path) && !BUILT_IN_PREFIXES.iter().any(|p| path.starts_with(p)) && path != token_path {
            let arrived = std::time::Instant::now();
            let mut last = self.last_miss.lock().await;
            // A reread that started after this request arrived has seen what it needs.
            if last.is_none_or(|started| started < arrived) {
                if let Some(started) = *last {
                    tokio::time::sleep(MISS_REFRESH.saturating_sub(started.elapsed())).await;
                }
                *last = Some(std::time::Instant::now());
                if let Err(e) = self.refresh(service).await {
                    tracing::warn!(error = %e, "reading tenants' mounted paths failed");
                }
            }
        }
        self.rewrite(token_path, req)
    }

    /// Whether some tenant declares a resource type at `endpoint` (`/Roles`, any case),
    /// rereading the profiles first (as for an unknown path) when none is known to.
    pub async fn declares_fresh(&self, service: &Service, endpoint: &str) -> bool {
        if self.declares(endpoint) {
            return true;
        }
        let arrived = std::time::Instant::now();
        let mut last = self.last_miss.lock().await;
        if last.is_none_or(|started| started < arrived) {
            if let Some(started) = *last {
                tokio::time::sleep(MISS_REFRESH.saturating_sub(started.elapsed())).await;
            }
            *last = Some(std::time::Instant::now());
            if let Err(e) = self.refresh(service).await {
                tracing::warn!(error = %e, "reading tenants' mounted paths failed");
            }
        }
        self.declares(endpoint)
    }

    fn declares(&self, endpoint: &str) -> bool {
        self.endpoints.read().expect("mounts").iter().any(|e| e.eq_ignore_ascii_case(endpoint))
    }

    /// Whether `path` is under a mounted base path or is a mounted token path.
    fn knows(&self, path: &str) -> bool {
        self.base_of(path).is_some() || self.tokens.read().expect("mounts").iter().any(|t| path == t.as_str())
    }

    /// The mounted base path `path` is under, if any.
    fn base_of(&self, path: &str) -> Option<String> {
        self.bases
            .read()
            .expect("mounts")
            .iter()
            .find(|b| path == b.as_str() || path.strip_prefix(b.as_str()).is_some_and(|r| r.starts_with('/')))
            .cloned()
    }

    /// Reads every tenant's profile and keeps the paths they mount.
    pub async fn refresh(&self, service: &Service) -> Result<(), String> {
        let mut bases = Vec::new();
        let mut tokens = Vec::new();
        let mut endpoints = Vec::new();
        // Only the profiles' heads: cheap to read for many tenants every few seconds. An
        // unreadable stored profile mounts nothing (the service reports it).
        for p in service.profile_heads().await.map_err(|e| e.to_string())? {
            bases.extend(p.base_paths.into_iter().filter(|b| b != "/scim/v2"));
            tokens.extend(p.token_path);
            endpoints.extend(p.resource_types.into_iter().map(|t| t.endpoint));
        }
        endpoints.sort();
        endpoints.dedup();
        *self.endpoints.write().expect("mounts") = endpoints;
        bases.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        bases.dedup();
        tokens.sort();
        tokens.dedup();
        *self.bases.write().expect("mounts") = bases;
        *self.tokens.write().expect("mounts") = tokens;
        Ok(())
    }

    /// Rewrites a request that arrived at a mounted path to the built-in route
    /// (`/scim/v2…`, or the token endpoint), noting where it arrived.
    pub fn rewrite(&self, token_path: &str, mut req: Request) -> Request {
        let path = req.uri().path();
        if path.starts_with("/admin/") {
            return req;
        }
        let mut target = None;
        if let Some(rest) = path.strip_prefix("/scim/v2") {
            // The built-in mount: only an endpoint name in another case is rewritten.
            match canonical_endpoint(rest) {
                Some(rest) => target = Some((format!("/scim/v2{rest}"), None)),
                None => return req,
            }
        } else if let Some(base) = self.base_of(path) {
            let rest = &path[base.len()..];
            let rest = canonical_endpoint(rest).unwrap_or_else(|| rest.to_string());
            target = Some((format!("/scim/v2{rest}"), Some(base)));
        } else if let Some(t) = self.tokens.read().expect("mounts").iter().find(|t| path == t.as_str()) {
            target = Some((token_path.to_string(), Some(t.clone())));
        }
        let Some((new_path, base)) = target else { return req };
        let original = path.to_string();
        let pq = match req.uri().query() {
            Some(q) => format!("{new_path}?{q}"),
            None => new_path,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
                if let Some(base) = base {
                    req.extensions_mut().insert(Mounted { original, base });
                }
            }
        }
        req
    }
}

/// The application as served: each request goes through [`Mounts::rewrite_fresh`] before
/// the router sees it.
#[derive(Clone)]
pub struct Remount {
    pub inner: Router,
    pub mounts: Arc<Mounts>,
    pub service: Arc<Service>,
    pub token_path: Arc<str>,
}

impl tower::Service<Request> for Remount {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let req = this.mounts.rewrite_fresh(&this.service, &this.token_path, req).await;
            tower::ServiceExt::oneshot(this.inner, req).await
        })
    }
}

/// The SCIM endpoints, as routed.
pub(super) const ENDPOINTS: &[&str] =
    &["Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig", "Bulk", "Me"];

/// `rest` (the path after a SCIM base) with its endpoint name in the routed case, when a
/// client wrote it in another (`/users`, as the locker system's documents do);
/// `None` when it needs no change.
pub(super) fn canonical_endpoint(rest: &str) -> Option<String> {
    let seg = rest.strip_prefix('/')?;
    let name = seg.split('/').next().unwrap_or(seg);
    let canonical = ENDPOINTS.iter().find(|e| e.eq_ignore_ascii_case(name) && **e != name)?;
    Some(format!("/{canonical}{}", &seg[name.len()..]))
}
