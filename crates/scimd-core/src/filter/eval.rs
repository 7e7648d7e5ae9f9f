//! The in-memory evaluator of a resolved filter: the semantics every other evaluation
//! (the SQL in `scimd-store`) is tested against.

use serde_json::Value;

use super::*;

fn get_ci<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    let m = obj.as_object()?;
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The value of the top-level attribute of `attr` in `resource`.
fn top_value<'v>(attr: &ResolvedAttr, resource: &'v Value) -> Option<&'v Value> {
    let root = match &attr.ext {
        Some(u) => get_ci(resource, u)?,
        None => resource,
    };
    get_ci(root, &attr.name)
}

/// The elements of a (possibly multi-valued) value.
fn elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

/// The values addressed by `attr` (the sub-attribute values of every element, or the elements).
fn addressed<'v>(attr: &ResolvedAttr, resource: &'v Value) -> Vec<&'v Value> {
    let Some(top) = top_value(attr, resource) else { return Vec::new() };
    match &attr.sub {
        None => elements(top),
        Some(sub) => elements(top).into_iter().filter_map(|el| get_ci(el, sub)).flat_map(elements).collect(),
    }
}

fn compare_value(attr: &ResolvedAttr, x: &Value, op: CompareOp, lit: &CompValue) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering>;
    match (attr.ty, lit) {
        (AttrType::String | AttrType::Reference | AttrType::Binary, CompValue::Str(l)) => {
            let Some(s) = x.as_str() else { return false };
            if s.is_empty() {
                return false;
            }
            // A stored userName compares by its key (trimmed), as the index keeps it.
            let s = if attr.is_user_name() { crate::user_name::key(s) } else { attr.comparable(s) };
            match op {
                CompareOp::Co => return s.contains(l.as_str()),
                CompareOp::Sw => return s.starts_with(l.as_str()),
                CompareOp::Ew => return s.ends_with(l.as_str()),
                _ => ord = Some(s.as_str().cmp(l.as_str())),
            }
        }
        (AttrType::DateTime, CompValue::Str(l)) => {
            let Some(s) = x.as_str().and_then(normalize_datetime) else { return false };
            ord = Some(s.as_str().cmp(l.as_str()));
        }
        (AttrType::Boolean, CompValue::Bool(l)) => {
            let Some(b) = x.as_bool() else { return false };
            ord = Some(b.cmp(l));
        }
        (AttrType::Integer | AttrType::Decimal, CompValue::Num(l)) => {
            let Some(n) = x.as_f64() else { return false };
            ord = n.partial_cmp(l);
        }
        _ => return false,
    }
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Evaluates `f` on one element of a value path.
fn matches_element(f: &ResolvedFilter, el: &Value) -> bool {
    match f {
        ResolvedFilter::And(a, b) => matches_element(a, el) && matches_element(b, el),
        ResolvedFilter::Or(a, b) => matches_element(a, el) || matches_element(b, el),
        ResolvedFilter::Not(a) => !matches_element(a, el),
        ResolvedFilter::Present(attr) => attr.sub.as_deref().and_then(|s| get_ci(el, s)).is_some_and(is_present),
        ResolvedFilter::Compare(attr, op, lit) => attr
            .sub
            .as_deref()
            .and_then(|s| get_ci(el, s))
            .is_some_and(|v| elements(v).into_iter().any(|x| compare_value(attr, x, *op, lit))),
        ResolvedFilter::ValuePath(..) => false,
    }
}

/// Evaluates a resolved filter against a resource in its full JSON form (as returned
/// to clients with every attribute: `id`, `meta`, extension objects under their URN
/// keys, `members`/`groups` arrays). Attribute names in `resource` are canonical.
pub fn matches(filter: &ResolvedFilter, resource: &Value) -> bool {
    match filter {
        ResolvedFilter::And(a, b) => matches(a, resource) && matches(b, resource),
        ResolvedFilter::Or(a, b) => matches(a, resource) || matches(b, resource),
        ResolvedFilter::Not(a) => !matches(a, resource),
        ResolvedFilter::Present(attr) => addressed(attr, resource).into_iter().any(is_present),
        ResolvedFilter::Compare(attr, op, lit) => {
            addressed(attr, resource).into_iter().any(|x| compare_value(attr, x, *op, lit))
        }
        ResolvedFilter::ValuePath(attr, inner) => match top_value(attr, resource) {
            Some(top) => elements(top).into_iter().any(|el| is_present(el) && matches_element(inner, el)),
            None => false,
        },
    }
}
