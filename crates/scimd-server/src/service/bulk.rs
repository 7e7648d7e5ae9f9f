//! Bulk (RFC 7644 §3.7): a BulkRequest's operations run through the same use cases as
//! single requests (so profiles, validation, ETags and the audit trail apply to each),
//! with `bulkId` references resolved in any order — an operation waits until the
//! resource it names is created, however late in the request — `failOnErrors`, the
//! server's `maxOperations`, and a status per operation. Consecutive creates that are
//! ready run concurrently (their writes share group commits); other operations run one
//! after another, in the request's order.
//!
//! A request is checked as a whole first ([`Service::bulk_plan`]), then run
//! (`bulk_run`): at once for a synchronous request, later for an asynchronous one
//! (`async_bulk`), which records each operation's outcome as it happens and may start
//! again with some operations already done.

use std::collections::{HashMap, HashSet};

use scimd_core::ScimError;
use scimd_core::error::ScimType;
use scimd_core::schema::ResourceKind;
use scimd_store::IfMatch;
use serde_json::{Map, Value, json};

use super::{AppError, AppResult, Ctx, Service};

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// Creates run at most this many at a time.
const CONCURRENT_CREATES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One operation, as sent.
pub(super) struct Op {
    method: Method,
    pub(super) path: String,
    bulk_id: Option<String>,
    version: Option<String>,
    data: Value,
}

/// A BulkRequest that passed the checks of the request as a whole.
pub(crate) struct Plan {
    ops: Vec<Op>,
    fail_on_errors: Option<u64>,
}

/// Whether a Bulk response operation reports a success.
fn succeeded(result: &Value) -> bool {
    result.get("status").and_then(Value::as_str).is_some_and(|s| s.starts_with('2'))
}

/// The id a successful operation's `location` ends with.
fn located_id(result: &Value) -> Option<String> {
    let location = result.get("location").and_then(Value::as_str)?;
    location.rsplit('/').next().filter(|id| !id.is_empty()).map(str::to_string)
}

/// What an operation's outcome is about, for its completion event: the resource type,
/// and the resource's id, or the collection's path (`/Users`) when it named none (a
/// failed POST), or the path as sent when it is no resource type's; and the resource's
/// version when the outcome gave one.
pub(super) fn outcome_subject(op: &Op, result: &Value) -> (ResourceKind, String, Option<i64>) {
    let version = result
        .get("version")
        .and_then(Value::as_str)
        .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok());
    let (kind, subject) = match target(&op.path) {
        Ok((kind, _)) if located_id(result).is_some() => (kind, located_id(result).unwrap_or_default()),
        Ok((kind, Some(id))) if !id.starts_with("bulkId:") && !id.contains('/') => (kind, id),
        Ok((kind, _)) => (kind, kind.endpoint().to_string()),
        Err(_) => (ResourceKind::User, format!("/{}", op.path.trim_start_matches('/'))),
    };
    (kind, subject, version)
}

fn get_ci<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn parse_op(i: usize, v: &Value) -> Result<Op, ScimError> {
    let Value::Object(o) = v else {
        return Err(ScimError::invalid_syntax(format!("operation {i} is not an object")));
    };
    let method = match get_ci(o, "method").and_then(Value::as_str).map(str::to_ascii_uppercase).as_deref() {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        other => {
            return Err(ScimError::invalid_syntax(format!(
                "operation {i}: 'method' must be POST, PUT, PATCH or DELETE, got {}",
                other.unwrap_or("nothing")
            )));
        }
    };
    let path = get_ci(o, "path")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_syntax(format!("operation {i} has no 'path'")))?
        .to_string();
    let bulk_id = get_ci(o, "bulkId").and_then(Value::as_str).map(str::to_string);
    if method == Method::Post && bulk_id.is_none() {
        return Err(ScimError::invalid_syntax(format!("operation {i}: a POST needs a 'bulkId'")));
    }
    let version = get_ci(o, "version").and_then(Value::as_str).map(str::to_string);
    let data = get_ci(o, "data").cloned().unwrap_or(Value::Null);
    if matches!(method, Method::Post | Method::Put | Method::Patch) && !data.is_object() {
        return Err(ScimError::invalid_syntax(format!("operation {i}: {} needs a 'data' object", method.name())));
    }
    Ok(Op { method, path, bulk_id, version, data })
}

/// The `bulkId`s an operation refers to (`"bulkId:x"` in its path or anywhere in its data).
fn refs(op: &Op) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                if let Some(id) = s.strip_prefix("bulkId:") {
                    out.push(id.to_string());
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for seg in op.path.split('/') {
        if let Some(id) = seg.strip_prefix("bulkId:") {
            out.push(id.to_string());
        }
    }
    walk(&op.data, &mut out);
    out
}

/// Replaces the references by the ids they resolved to.
fn substitute(op: &mut Op, ids: &HashMap<String, String>) {
    fn walk(v: &mut Value, ids: &HashMap<String, String>) {
        match v {
            Value::String(s) => {
                if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                    *s = id.clone();
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, ids)),
            Value::Object(o) => o.values_mut().for_each(|x| walk(x, ids)),
            _ => {}
        }
    }
    op.path = op
        .path
        .split('/')
        .map(|seg| seg.strip_prefix("bulkId:").and_then(|b| ids.get(b)).map_or(seg.to_string(), Clone::clone))
        .collect::<Vec<_>>()
        .join("/");
    walk(&mut op.data, ids);
}

/// The resource type and id (if any) of an operation's path.
fn target(path: &str) -> Result<(ResourceKind, Option<String>), ScimError> {
    let p = path.trim_start_matches('/');
    let (head, id) = match p.split_once('/') {
        Some((h, id)) => (h, Some(id.to_string()).filter(|s| !s.is_empty())),
        None => (p, None),
    };
    let kind = if head.eq_ignore_ascii_case("Users") {
        ResourceKind::User
    } else if head.eq_ignore_ascii_case("Groups") {
        ResourceKind::Group
    } else {
        return Err(ScimError::invalid_path(format!("'{path}' is not a /Users or /Groups path")));
    };
    Ok((kind, id))
}

fn if_match(version: &Option<String>) -> Option<IfMatch> {
    version.as_deref().map(super::parse_etags)
}

/// The result of one operation in the response. A failure is noted for the audit trail:
/// an event of its own, like the event a successful operation writes with its change.
fn result(ctx: &Ctx, op: &Op, r: Result<(u16, Option<(String, i64)>), AppError>) -> (Value, bool) {
    let mut out = Map::new();
    out.insert("method".into(), json!(op.method.name()));
    if let Some(b) = &op.bulk_id {
        out.insert("bulkId".into(), json!(b));
    }
    match r {
        Ok((status, loc)) => {
            if let Some((location, version)) = loc {
                out.insert("location".into(), json!(location));
                out.insert("version".into(), json!(format!("W/\"{version}\"")));
            }
            out.insert("status".into(), json!(status.to_string()));
            (Value::Object(out), true)
        }
        Err(e) => {
            let e = match e {
                AppError::Scim(e) => e,
                AppError::Internal(detail) => {
                    tracing::error!(%detail, "internal error in a bulk operation");
                    ScimError::new(500, None, "internal server error")
                }
            };
            if let Some(slot) = &ctx.audit {
                let scim_type = e.scim_type.map(|t| t.as_str());
                slot.failed_op(ctx.tenant, e.status, scim_type, (op.method.name(), &op.path));
            }
            out.insert("status".into(), json!(e.status.to_string()));
            out.insert("response".into(), e.to_json());
            (Value::Object(out), false)
        }
    }
}

impl Service {
    /// Runs one operation (its references already substituted).
    async fn bulk_one(&self, ctx: &Ctx, op: &Op) -> Result<(u16, Option<(String, i64)>), AppError> {
        let (kind, id) = target(&op.path)?;
        let ctx = Ctx { bulk_op: Some((op.method.name().to_string(), op.path.clone())), ..ctx.clone() };
        let proj = self.projection(&ctx, kind, Some("id"), None)?;
        let need_id = || {
            id.clone().ok_or_else(|| {
                AppError::Scim(ScimError::invalid_path(format!(
                    "{} needs the resource's id in its path",
                    op.method.name()
                )))
            })
        };
        match op.method {
            Method::Post => {
                if id.is_some() {
                    return Err(ScimError::invalid_path("a POST goes to /Users or /Groups").into());
                }
                let r = self.create(&ctx, kind, &op.data, &proj).await?;
                Ok((201, Some((r.location, r.version))))
            }
            Method::Put => {
                let r = self.replace(&ctx, kind, &need_id()?, &op.data, if_match(&op.version), &proj).await?;
                Ok((200, Some((r.location, r.version))))
            }
            Method::Patch => {
                let r = self.patch(&ctx, kind, &need_id()?, &op.data, if_match(&op.version), &proj).await?;
                Ok((200, Some((r.location, r.version))))
            }
            Method::Delete => {
                let id = need_id()?;
                self.delete(&ctx, kind, &id, if_match(&op.version)).await?;
                Ok((204, None))
            }
        }
    }

    /// A BulkRequest; the BulkResponse.
    pub async fn bulk(&self, ctx: &Ctx, body: &Value) -> AppResult<Value> {
        let plan = self.bulk_plan(ctx, body)?;
        let results = self.bulk_run(ctx, plan, Vec::new(), None).await?;
        let operations: Vec<Value> = results.into_iter().flatten().collect();
        Ok(json!({"schemas": [BULK_RESPONSE], "Operations": operations}))
    }

    /// Checks a BulkRequest as a whole: what refuses it entirely (no Bulk offered, a
    /// malformed request, too many operations, a malformed operation, a bulkId used
    /// twice) is an error here, before any operation runs.
    pub(crate) fn bulk_plan(&self, ctx: &Ctx, body: &Value) -> AppResult<Plan> {
        let Some(cfg) = self.config.spc.bulk.clone() else {
            return Err(ScimError::new(501, None, "this server does not offer Bulk").into());
        };
        let Value::Object(o) = body else {
            return Err(ScimError::invalid_syntax("a BulkRequest must be a JSON object").into());
        };
        let schemas_ok = get_ci(o, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))));
        if !schemas_ok && (get_ci(o, "schemas").is_some() || ctx.tenancy.registry.strict) {
            return Err(
                ScimError::invalid_syntax(format!("'schemas' of a Bulk request must be [\"{BULK_REQUEST}\"]")).into()
            );
        }
        let fail_on_errors = match get_ci(o, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(0) => None,
                Some(n) => Some(n),
                None => return Err(ScimError::invalid_value("'failOnErrors' must be a positive integer").into()),
            },
        };
        let Some(Value::Array(raw)) = get_ci(o, "Operations") else {
            return Err(ScimError::invalid_syntax("a Bulk request needs an 'Operations' array").into());
        };
        if raw.len() as u64 > cfg.max_operations {
            return Err(ScimError::new(
                413,
                Some(ScimType::TooMany),
                format!(
                    "{} operations; this server takes at most {} in one Bulk request",
                    raw.len(),
                    cfg.max_operations
                ),
            )
            .into());
        }
        let ops = raw.iter().enumerate().map(|(i, v)| parse_op(i, v)).collect::<Result<Vec<_>, _>>()?;
        let mut seen = HashSet::new();
        for op in &ops {
            if let Some(b) = &op.bulk_id
                && !seen.insert(b.clone())
            {
                return Err(ScimError::invalid_value(format!("bulkId '{b}' is used twice")).into());
            }
        }
        Ok(Plan { ops, fail_on_errors })
    }

    /// Runs a checked request's operations; the result of each (`None`: not run, after
    /// `failOnErrors` stopped the request). `done`: operations an earlier run of an
    /// asynchronous request recorded, with their results, which do not run again.
    /// `progress`: where an asynchronous request records each outcome as it happens.
    pub(super) async fn bulk_run(
        &self,
        ctx: &Ctx,
        plan: Plan,
        done: Vec<(usize, Value)>,
        progress: Option<&super::async_bulk::AsyncRun>,
    ) -> AppResult<Vec<Option<Value>>> {
        let Plan { mut ops, fail_on_errors } = plan;
        let declared: HashSet<String> = ops.iter().filter_map(|o| o.bulk_id.clone()).collect();
        let mut resolved: HashMap<String, String> = HashMap::new();
        let mut failed: HashSet<String> = HashSet::new();
        let mut results: Vec<Option<Value>> = vec![None; ops.len()];
        let mut errors = 0u64;
        for (i, v) in done.into_iter().filter(|(i, _)| *i < ops.len()) {
            let ok = succeeded(&v);
            if let Some(b) = ops[i].bulk_id.clone() {
                if let Some(id) = located_id(&v).filter(|_| ok && ops[i].method == Method::Post) {
                    resolved.insert(b, id);
                } else if !ok {
                    failed.insert(b);
                }
            }
            errors += u64::from(!ok);
            results[i] = Some(v);
        }
        let mut pending: Vec<usize> = (0..ops.len()).filter(|&i| results[i].is_none()).collect();
        let stop = |errors: u64| fail_on_errors.is_some_and(|n| errors >= n);
        'passes: while !pending.is_empty() {
            let mut waiting = Vec::new();
            let mut progressed = false;
            let mut creates: Vec<usize> = Vec::new();
            for &i in &pending {
                if stop(errors) {
                    break 'passes;
                }
                let r = refs(&ops[i]);
                let dead = r.iter().find(|b| failed.contains(*b) || !declared.contains(*b)).cloned();
                if let Some(b) = dead {
                    let detail = if declared.contains(&b) {
                        format!("the operation with bulkId '{b}' failed")
                    } else {
                        format!("no operation of this request has bulkId '{b}'")
                    };
                    let (v, _) =
                        result(ctx, &ops[i], Err(ScimError::new(409, Some(ScimType::InvalidValue), detail).into()));
                    self.settle(ctx, progress, &ops, i, v, &mut results).await?;
                    errors += 1;
                    if let Some(own) = &ops[i].bulk_id {
                        failed.insert(own.clone());
                    }
                    progressed = true;
                    continue;
                }
                if r.iter().any(|b| !resolved.contains_key(b)) {
                    waiting.push(i);
                    continue;
                }
                substitute(&mut ops[i], &resolved);
                progressed = true;
                if ops[i].method == Method::Post {
                    creates.push(i);
                    // With failOnErrors, one at a time: no operation may start after the
                    // error that ends the request. Asynchronously too: an operation is
                    // recorded done right after it ran, so a crash repeats at most one.
                    let batch = if fail_on_errors.is_some() || progress.is_some() { 1 } else { CONCURRENT_CREATES };
                    if creates.len() < batch {
                        continue;
                    }
                }
                // Creates gathered so far go first, then this operation.
                let run = self.run_creates(ctx, progress, &ops, &mut creates, &mut results, &mut resolved, &mut failed);
                errors += run.await?;
                if ops[i].method != Method::Post {
                    let (v, ok) = result(ctx, &ops[i], self.bulk_one(ctx, &ops[i]).await);
                    self.settle(ctx, progress, &ops, i, v, &mut results).await?;
                    if !ok {
                        errors += 1;
                    }
                }
            }
            let run = self.run_creates(ctx, progress, &ops, &mut creates, &mut results, &mut resolved, &mut failed);
            errors += run.await?;
            if !progressed {
                // Nothing could run: the rest refer to each other in a circle.
                for i in waiting {
                    let detail = "the bulkId references of this operation cannot be resolved (a circle)";
                    let (v, _) =
                        result(ctx, &ops[i], Err(ScimError::new(409, Some(ScimType::InvalidValue), detail).into()));
                    self.settle(ctx, progress, &ops, i, v, &mut results).await?;
                }
                break;
            }
            pending = waiting;
        }
        Ok(results)
    }

    /// An operation's result, kept for the response, and recorded at once when the
    /// request is asynchronous.
    async fn settle(
        &self,
        ctx: &Ctx,
        progress: Option<&super::async_bulk::AsyncRun>,
        ops: &[Op],
        i: usize,
        v: Value,
        results: &mut [Option<Value>],
    ) -> AppResult<()> {
        if let Some(p) = progress {
            self.record_outcome(ctx, p, &ops[i], i, &v).await?;
        }
        results[i] = Some(v);
        Ok(())
    }

    /// Runs the gathered creates concurrently; returns how many failed.
    #[allow(clippy::too_many_arguments)]
    async fn run_creates(
        &self,
        ctx: &Ctx,
        progress: Option<&super::async_bulk::AsyncRun>,
        ops: &[Op],
        creates: &mut Vec<usize>,
        results: &mut [Option<Value>],
        resolved: &mut HashMap<String, String>,
        failed: &mut HashSet<String>,
    ) -> AppResult<u64> {
        if creates.is_empty() {
            return Ok(0);
        }
        let batch = std::mem::take(creates);
        let outcomes = futures_util::future::join_all(batch.iter().map(|&i| self.bulk_one(ctx, &ops[i]))).await;
        let mut errors = 0;
        for (i, r) in batch.into_iter().zip(outcomes) {
            let id = r
                .as_ref()
                .ok()
                .and_then(|(_, loc)| loc.as_ref())
                .and_then(|(l, _)| l.rsplit('/').next())
                .map(str::to_string);
            let (v, ok) = result(ctx, &ops[i], r);
            self.settle(ctx, progress, ops, i, v, results).await?;
            let bulk_id = ops[i].bulk_id.clone().unwrap_or_default();
            match (ok, id) {
                (true, Some(id)) => {
                    resolved.insert(bulk_id, id);
                }
                _ => {
                    errors += 1;
                    failed.insert(bulk_id);
                }
            }
        }
        Ok(errors)
    }
}
