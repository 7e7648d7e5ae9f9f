//! Resolution: a filter as the client typed it, checked against the schemas of a
//! [`Registry`], with canonical names, types and case rules, and its literals converted.

use super::*;
use crate::error::{ScimError, ScimResult};
use crate::schema::{AttrDef, AttrHome, Registry};

/// A resolved attribute together with its definitions.
struct Found<'r> {
    attr: ResolvedAttr,
    /// Definition of the top-level attribute.
    top: &'r AttrDef,
    /// Definition of the addressed (sub-)attribute.
    addressed: &'r AttrDef,
}

fn target_of(home: AttrHome<'_>, kind: ResourceKind, top: &AttrDef, sub: Option<&str>) -> Target {
    match home {
        AttrHome::Common => match top.name.as_str() {
            "id" => Target::Id,
            "meta" => match sub {
                None => Target::Meta,
                Some("created") => Target::MetaCreated,
                Some("lastModified") => Target::MetaLastModified,
                Some("resourceType") => Target::MetaResourceType,
                Some("version") => Target::MetaVersion,
                Some(_) => Target::MetaLocation,
            },
            _ => Target::Indexed,
        },
        AttrHome::Core(_) if kind == ResourceKind::Group && top.name == "members" => Target::Members,
        AttrHome::Core(_) if kind == ResourceKind::User && top.name == "groups" => Target::Groups,
        _ => Target::Indexed,
    }
}

fn find<'r>(reg: &'r Registry, kind: ResourceKind, path: &AttrPath) -> Option<Found<'r>> {
    let (home, top) = reg.find_attr(kind, path.urn.as_deref(), &path.attr)?;
    let ext = match home {
        AttrHome::Extension(s) => Some(s.id.clone()),
        _ => None,
    };
    let (addressed, sub) = match &path.sub {
        None => (top, None),
        Some(s) => {
            if top.ty != AttrType::Complex {
                return None;
            }
            let sd = top.sub(s)?;
            (sd, Some(sd.name.clone()))
        }
    };
    let target = target_of(home, kind, top, sub.as_deref());
    let key = index_key(ext.as_deref(), &top.name, sub.as_deref());
    Some(Found {
        attr: ResolvedAttr {
            ext,
            name: top.name.clone(),
            sub,
            ty: addressed.ty,
            case_exact: addressed.case_exact,
            multi_valued: top.multi_valued,
            target,
            key,
        },
        top,
        addressed,
    })
}

/// Resolves a path against the registry for `kind`; `None` if it names no attribute.
pub fn resolve_attr(reg: &Registry, kind: ResourceKind, path: &AttrPath) -> Option<ResolvedAttr> {
    find(reg, kind, path).map(|f| f.attr)
}

/// The sub-attribute `sub` of the value-path parent `parent`.
fn find_sub<'r>(parent: &ResolvedAttr, parent_def: &'r AttrDef, path: &AttrPath) -> ScimResult<Found<'r>> {
    if path.urn.is_some() || path.sub.is_some() {
        return Err(ScimError::invalid_filter(format!(
            "'{path}' inside '{}[...]' must be a sub-attribute name of '{}'",
            parent.name, parent.name
        )));
    }
    let sd = parent_def
        .sub(&path.attr)
        .ok_or_else(|| ScimError::invalid_filter(format!("'{}' has no sub-attribute '{}'", parent.name, path.attr)))?;
    Ok(Found {
        attr: ResolvedAttr {
            ext: parent.ext.clone(),
            name: parent.name.clone(),
            sub: Some(sd.name.clone()),
            ty: sd.ty,
            case_exact: sd.case_exact,
            multi_valued: parent.multi_valued,
            target: parent.target.clone(),
            key: format!("{}.{}", parent.key, sd.name.to_ascii_lowercase()),
        },
        top: parent_def,
        addressed: sd,
    })
}

/// 400 `invalidFilter` when a declared type does not let filters name `top`.
pub fn check_filterable(reg: &Registry, kind: ResourceKind, top: &str) -> ScimResult<()> {
    match reg.resource_type(kind) {
        Some(rt) if !rt.is_filterable(top) => Err(ScimError::invalid_filter(format!(
            "'{top}' is not filterable on {} (filterable: {})",
            rt.endpoint.trim_start_matches('/'),
            rt.filterable.as_deref().unwrap_or_default().join(", ")
        ))),
        _ => Ok(()),
    }
}

struct Resolver<'r> {
    reg: &'r Registry,
    kind: ResourceKind,
}

impl<'r> Resolver<'r> {
    fn attr(&self, path: &AttrPath, parent: Option<(&ResolvedAttr, &'r AttrDef)>) -> ScimResult<Found<'r>> {
        let found = match parent {
            Some((p, def)) => find_sub(p, def, path)?,
            None => find(self.reg, self.kind, path).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "unknown attribute '{path}' for resource type {}",
                    self.reg.type_name(self.kind)
                ))
            })?,
        };
        if found.addressed.returned == Returned::Never
            || found.addressed.mutability == Mutability::WriteOnly
            || found.top.returned == Returned::Never
        {
            return Err(ScimError::invalid_filter(format!("attribute '{path}' cannot be used in a filter")));
        }
        if parent.is_none() {
            check_filterable(self.reg, self.kind, &found.top.name)?;
        }
        Ok(found)
    }

    fn resolve(&self, f: &Filter, parent: Option<(&ResolvedAttr, &'r AttrDef)>) -> ScimResult<ResolvedFilter> {
        Ok(match f {
            Filter::And(a, b) => {
                ResolvedFilter::And(Box::new(self.resolve(a, parent)?), Box::new(self.resolve(b, parent)?))
            }
            Filter::Or(a, b) => {
                ResolvedFilter::Or(Box::new(self.resolve(a, parent)?), Box::new(self.resolve(b, parent)?))
            }
            Filter::Not(a) => ResolvedFilter::Not(Box::new(self.resolve(a, parent)?)),
            Filter::Present(path) => ResolvedFilter::Present(self.attr(path, parent)?.attr),
            Filter::Compare(path, op, value) => {
                let found = self.attr(path, parent)?;
                let mut attr = found.attr;
                if attr.ty == AttrType::Complex {
                    // `emails eq "x"` means `emails.value eq "x"`.
                    let Some(v) = found.addressed.sub("value").filter(|_| attr.sub.is_none()) else {
                        return Err(ScimError::invalid_filter(format!(
                            "'{path}' is a complex attribute: compare one of its sub-attributes"
                        )));
                    };
                    attr.sub = Some(v.name.clone());
                    attr.ty = v.ty;
                    attr.case_exact = v.case_exact;
                    attr.key = format!("{}.value", attr.key);
                    if attr.target == Target::Meta {
                        return Err(ScimError::invalid_filter(format!("'{path}' cannot be compared")));
                    }
                }
                match (op, value) {
                    (CompareOp::Eq, CompValue::Null) => ResolvedFilter::Not(Box::new(ResolvedFilter::Present(attr))),
                    (CompareOp::Ne, CompValue::Null) => ResolvedFilter::Present(attr),
                    (_, CompValue::Null) => {
                        return Err(ScimError::invalid_filter(format!(
                            "'{path} {} null': null can only be compared with eq or ne",
                            op.as_str()
                        )));
                    }
                    _ => {
                        let v = convert_literal(&attr, path, *op, value)?;
                        if *op == CompareOp::Ne {
                            ResolvedFilter::Not(Box::new(ResolvedFilter::Compare(attr, CompareOp::Eq, v)))
                        } else {
                            ResolvedFilter::Compare(attr, *op, v)
                        }
                    }
                }
            }
            Filter::ValuePath(path, inner) => {
                if parent.is_some() {
                    return Err(ScimError::invalid_filter("value filters cannot be nested"));
                }
                let found = self.attr(path, None)?;
                if found.attr.sub.is_some() || found.top.ty != AttrType::Complex || !found.top.multi_valued {
                    return Err(ScimError::invalid_filter(format!(
                        "'{path}[...]': a value filter needs a multi-valued complex attribute"
                    )));
                }
                let inner = self.resolve(inner, Some((&found.attr, found.top)))?;
                ResolvedFilter::ValuePath(found.attr, Box::new(inner))
            }
        })
    }
}

fn string_like(ty: AttrType) -> bool {
    matches!(ty, AttrType::String | AttrType::Reference | AttrType::Binary)
}

/// Converts a literal to the attribute's type (see [`ResolvedFilter::Compare`]).
fn convert_literal(attr: &ResolvedAttr, path: &AttrPath, op: CompareOp, v: &CompValue) -> ScimResult<CompValue> {
    let bad = |what: &str| ScimError::invalid_filter(format!("'{path} {} {v}': {what}", op.as_str()));
    if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) && !string_like(attr.ty) {
        return Err(bad(&format!("'{}' applies to strings, and '{path}' is a {}", op.as_str(), attr.ty.as_str())));
    }
    if matches!(op, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
        && matches!(attr.ty, AttrType::Boolean | AttrType::Binary)
    {
        return Err(bad(&format!("'{path}' is a {} and cannot be ordered", attr.ty.as_str())));
    }
    Ok(match attr.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            let s = match v {
                CompValue::Str(s) => s.clone(),
                CompValue::Num(n) => n.to_string(),
                CompValue::Bool(b) => b.to_string(),
                CompValue::Null => unreachable!("null handled by the caller"),
            };
            CompValue::Str(attr.comparable(&s))
        }
        AttrType::Boolean => match v {
            CompValue::Bool(b) => CompValue::Bool(*b),
            CompValue::Str(s) if s.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            CompValue::Str(s) if s.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            _ => return Err(bad("expected true or false")),
        },
        AttrType::Integer | AttrType::Decimal => match v {
            CompValue::Num(n) => CompValue::Num(*n),
            CompValue::Str(s) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => CompValue::Num(n),
                _ => return Err(bad("expected a number")),
            },
            _ => return Err(bad("expected a number")),
        },
        AttrType::DateTime => match v {
            CompValue::Str(s) => {
                CompValue::Str(normalize_datetime(s).ok_or_else(|| bad("expected an RFC 3339 date-time"))?)
            }
            _ => return Err(bad("expected an RFC 3339 date-time string")),
        },
        AttrType::Complex => return Err(bad("complex attributes cannot be compared")),
    })
}

/// Checks a parsed filter against the registry (unknown attributes, operator/type
/// combinations, literal types) and produces the canonical form. Errors: 400 `invalidFilter`.
pub fn resolve_filter(reg: &Registry, kind: ResourceKind, filter: &Filter) -> ScimResult<ResolvedFilter> {
    Resolver { reg, kind }.resolve(filter, None)
}
