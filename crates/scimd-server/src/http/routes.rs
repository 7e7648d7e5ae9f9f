//! How a route is declared: each of its methods with its handler and its operation
//! ([`crate::operation::Operation`]) at once ([`on`]), added to a router through
//! [`Routes`], which records the route's operations in the one [`RouteTable`] under the
//! path the router matches it by (`/scim/v2/Users/{id}`). The request log reads a
//! request's operation there, by the matched route and the method, before anything else
//! runs; a method the route does not serve (405), a path no route serves and a route
//! declared elsewhere (Swagger UI's) are named from the path ([`Operation::unrouted`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};

use super::AppState;
use crate::operation::Operation;

/// A route's methods, each with its handler and its operation.
pub(super) struct Route {
    router: MethodRouter<AppState>,
    ops: Ops,
}

/// A route's operations.
#[derive(Debug, Clone)]
enum Ops {
    /// By method.
    Methods(Vec<(Method, Operation)>),
    /// The same for every method (answered or not).
    All(Operation),
}

/// A route whose `method` is answered by `handler` and is the operation `op`.
pub(super) fn on<H, T>(method: Method, op: Operation, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route { router: MethodRouter::new(), ops: Ops::Methods(Vec::new()) }.on(method, op, handler)
}

/// A route whose every method is the operation `op` (`router` answers them).
pub(super) fn all(op: Operation, router: MethodRouter<AppState>) -> Route {
    Route { router, ops: Ops::All(op) }
}

impl Route {
    /// Also `method`, answered by `handler`, as the operation `op`.
    pub(super) fn on<H, T>(mut self, method: Method, op: Operation, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a route's method is a standard one");
        self.router = self.router.on(filter, handler);
        if let Ops::Methods(ops) = &mut self.ops {
            ops.push((method, op));
        }
        self
    }

    /// The route with its method router changed by `f` (a layer of its own).
    pub(super) fn map(mut self, f: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>) -> Route {
        self.router = f(self.router);
        self
    }
}

/// Every declared route's operations, by the path the router matches it by. Its keys are
/// also the routes' labels in the metrics (shared, not copied per request).
#[derive(Debug, Default)]
pub(super) struct RouteTable(HashMap<Arc<str>, Ops>);

impl RouteTable {
    /// The route matched as `matched` (its label, when declared here) and the operation of
    /// a request to it with `method`, when the route names it.
    pub(super) fn lookup(&self, matched: &str, method: &Method) -> Option<(&Arc<str>, Option<Operation>)> {
        let (label, ops) = self.0.get_key_value(matched)?;
        // HEAD is a GET without the body: the same route answers it.
        let method = if method == Method::HEAD { &Method::GET } else { method };
        let op = match ops {
            Ops::All(op) => Some(*op),
            Ops::Methods(ops) => ops.iter().find(|(m, _)| m == method).map(|(_, op)| *op),
        };
        Some((label, op))
    }

    /// The declared routes' paths (as matched).
    #[cfg(test)]
    pub(super) fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|k| &**k)
    }
}

/// A router being built under `prefix` (where it will be nested), recording each route
/// in `table`.
pub(super) struct Routes<'t> {
    router: Router<AppState>,
    prefix: &'static str,
    table: &'t mut RouteTable,
}

impl<'t> Routes<'t> {
    pub(super) fn new(prefix: &'static str, table: &'t mut RouteTable) -> Routes<'t> {
        Routes { router: Router::new(), prefix, table }
    }

    /// Adds `route` at `path`.
    pub(super) fn route(mut self, path: &str, route: Route) -> Routes<'t> {
        self.table.0.insert(format!("{}{path}", self.prefix).into(), route.ops);
        self.router = self.router.route(path, route.router);
        self
    }

    /// Adds the routes `f` declares (another module's).
    pub(super) fn with(self, f: impl FnOnce(Routes<'t>) -> Routes<'t>) -> Routes<'t> {
        f(self)
    }

    /// The router.
    pub(super) fn into_router(self) -> Router<AppState> {
        self.router
    }
}
