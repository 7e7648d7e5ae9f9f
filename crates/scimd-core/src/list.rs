//! List and search parameters (RFC 7644 §3.4.2, §3.4.3): reading them from a query
//! string or a SearchRequest body, checking them against the registry, and the
//! ListResponse message.

use serde_json::{Value, json};

use crate::cursor::{self, CursorSeal};
use crate::error::{ScimError, ScimResult, ScimType};
use crate::filter::{ResolvedAttr, ResolvedFilter, parse_attr_path, parse_filter, resolve_attr, resolve_filter};
use crate::projection::Projection;
use crate::schema::{AttrType, Registry, ResourceKind};

pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Page sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageConfig {
    pub default_count: u64,
    pub max_count: u64,
}

impl Default for PageConfig {
    fn default() -> Self {
        PageConfig { default_count: 100, max_count: 1000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// A list request checked against the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<ResolvedFilter>,
    pub sort: Option<(ResolvedAttr, SortOrder)>,
    /// 1-based.
    pub start_index: u64,
    pub count: u64,
    pub projection: Projection,
    /// Cursor pagination (RFC 9865): the page after this position of the default order
    /// (`Some(0)`: the first page); `None`: index pagination.
    pub after: Option<i64>,
    /// The filter's canonical text (empty without one): what cursors are bound to, with
    /// the tenant and the resource type (see [`crate::cursor`]).
    pub filter_text: String,
    /// The caller's provisioning source, when it has one: comparisons on `externalId`
    /// match only its resources (RFC 7643 §3.1). The store applies it; the in-memory
    /// evaluator, which sees one resource at a time, does not.
    pub external_id_scope: Option<SourceScope>,
}

/// A provisioning source as a query or a write names it: its name, and whether it is the
/// tenant's default source (which also sees the resources no source owns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceScope {
    pub name: String,
    pub default: bool,
}

/// List parameters as the client sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
    /// RFC 9865 `cursor`: empty for the first page, else a `nextCursor` handed out.
    pub cursor: Option<String>,
}

fn int_param(name: &str, v: &str) -> ScimResult<i64> {
    v.trim().parse::<i64>().map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer, got '{v}'")))
}

fn int_value(name: &str, v: &Value) -> ScimResult<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ScimError::invalid_value(format!("'{name}' must be an integer, got {n}"))),
        Value::String(s) => int_param(name, s).map(Some),
        other => Err(ScimError::invalid_value(format!("'{name}' must be an integer, got {other}"))),
    }
}

fn str_list(name: &str, v: &Value) -> ScimResult<Vec<String>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ScimError::invalid_value(format!("'{name}' must be an array of strings")))
            })
            .collect(),
        _ => Err(ScimError::invalid_value(format!("'{name}' must be an array of strings"))),
    }
}

fn opt_str(name: &str, v: &Value) -> ScimResult<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ScimError::invalid_value(format!("'{name}' must be a string"))),
    }
}

/// The query parameters of a list request (RFC 7644 §3.4.2, and RFC 9865's `cursor`), as
/// they are written; names are matched case-insensitively.
pub const LIST_QUERY: &[&str] =
    &["filter", "sortBy", "sortOrder", "startIndex", "count", "cursor", "attributes", "excludedAttributes"];

/// The query parameters of a request on one resource, or of a create (RFC 7644 §3.9).
pub const RESOURCE_QUERY: &[&str] = &["attributes", "excludedAttributes"];

/// The 400 for a query parameter the endpoint does not know. A parameter silently ignored
/// is worse than a refusal: `GET /Users?userName=x` answered with every user looks like an
/// answer, and a sync job acting on it would act on the whole list.
fn unknown_param(name: &str, accepted: &[&str]) -> ScimError {
    let takes = if accepted.is_empty() {
        "this endpoint takes no query parameters".to_string()
    } else {
        format!("this endpoint accepts {}", accepted.join(", "))
    };
    let hint = if accepted.contains(&"filter") {
        format!(" (to select by an attribute, send filter={name} eq \"…\")")
    } else {
        String::new()
    };
    ScimError::invalid_value(format!("unknown query parameter '{name}': {takes}{hint}"))
}

/// Refuses (400 `invalidValue`, naming it and what is accepted) the first query parameter
/// whose name is not one of `accepted` (case-insensitively).
pub fn check_query_names(pairs: &[(String, String)], accepted: &[&str]) -> ScimResult<()> {
    match pairs.iter().find(|(k, _)| !accepted.iter().any(|a| a.eq_ignore_ascii_case(k))) {
        Some((k, _)) => Err(unknown_param(k, accepted)),
        None => Ok(()),
    }
}

/// `value` as a filter literal for an attribute of type `ty`: booleans and numbers bare
/// when they read as such, everything else a JSON string (the filter's string syntax).
fn filter_literal(ty: AttrType, value: &str) -> String {
    match ty {
        AttrType::Boolean if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") => {
            value.to_ascii_lowercase()
        }
        AttrType::Integer | AttrType::Decimal if value.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            value.trim().to_string()
        }
        _ => Value::String(value.to_string()).to_string(),
    }
}

impl ListParams {
    /// From query-string pairs; parameter names are matched case-insensitively, and one
    /// that is not a list parameter is refused (400 `invalidValue`).
    pub fn from_query(pairs: &[(String, String)]) -> ScimResult<ListParams> {
        Self::read_query(pairs, None)
    }

    /// From query-string pairs, where a parameter named after a simple attribute of `kind`
    /// (`userName`, `externalId`, `name.familyName`…) is an equality filter on it:
    /// `?userName=x` is `filter=userName eq "x"`, and with a `filter` too both must match.
    /// For clients that look a user up as `GET /Users?userName=x`; any other unknown
    /// parameter is still refused.
    pub fn from_query_with_attributes(
        pairs: &[(String, String)],
        reg: &Registry,
        kind: ResourceKind,
    ) -> ScimResult<ListParams> {
        Self::read_query(pairs, Some((reg, kind)))
    }

    fn read_query(pairs: &[(String, String)], attrs: Option<(&Registry, ResourceKind)>) -> ScimResult<ListParams> {
        let mut p = ListParams::default();
        let mut equal = Vec::new();
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(v.clone()),
                "sortby" => p.sort_by = Some(v.clone()),
                "sortorder" => p.sort_order = Some(v.clone()),
                "startindex" => p.start_index = Some(int_param("startIndex", v)?),
                "count" => p.count = Some(int_param("count", v)?),
                "attributes" => p.attributes.push(v.clone()),
                "excludedattributes" => p.excluded_attributes.push(v.clone()),
                "cursor" => p.cursor = Some(v.clone()),
                _ => {
                    let simple = attrs.and_then(|(reg, kind)| {
                        let path = parse_attr_path(k).ok()?;
                        resolve_attr(reg, kind, &path).filter(|a| a.ty != AttrType::Complex)
                    });
                    match simple {
                        Some(a) => equal.push(format!("{k} eq {}", filter_literal(a.ty, v))),
                        None => return Err(unknown_param(k, LIST_QUERY)),
                    }
                }
            }
        }
        if !equal.is_empty() {
            if let Some(f) = p.filter.take().filter(|f| !f.trim().is_empty()) {
                equal.insert(0, format!("({f})"));
            }
            p.filter = Some(equal.join(" and "));
        }
        Ok(p)
    }

    /// From a SearchRequest body (`POST …/.search`).
    pub fn from_search_body(body: &Value) -> ScimResult<ListParams> {
        let Value::Object(o) = body else {
            return Err(ScimError::invalid_syntax("a SearchRequest must be a JSON object"));
        };
        let mut p = ListParams::default();
        for (k, v) in o {
            match k.to_ascii_lowercase().as_str() {
                "schemas" => {
                    let ok = v.as_array().is_some_and(|a| {
                        a.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_URN)))
                    });
                    if !ok {
                        return Err(ScimError::invalid_syntax(format!(
                            "'schemas' of a search must be [\"{SEARCH_URN}\"]"
                        )));
                    }
                }
                "filter" => p.filter = opt_str("filter", v)?,
                "sortby" => p.sort_by = opt_str("sortBy", v)?,
                "sortorder" => p.sort_order = opt_str("sortOrder", v)?,
                "startindex" => p.start_index = int_value("startIndex", v)?,
                "count" => p.count = int_value("count", v)?,
                "attributes" => p.attributes = str_list("attributes", v)?,
                "excludedattributes" => p.excluded_attributes = str_list("excludedAttributes", v)?,
                "cursor" => p.cursor = opt_str("cursor", v)?,
                _ => {}
            }
        }
        Ok(p)
    }

    /// Checks the parameters against the registry for `kind`, where cursors are not
    /// offered (a cursor is refused).
    pub fn resolve(&self, reg: &Registry, kind: ResourceKind, page: &PageConfig) -> ScimResult<ListQuery> {
        self.resolve_paged(reg, kind, page, None)
    }

    /// Checks the parameters against the registry for `kind`; a cursor is opened with
    /// `cursors` (the server's key and the tenant asking).
    pub fn resolve_paged(
        &self,
        reg: &Registry,
        kind: ResourceKind,
        page: &PageConfig,
        cursors: Option<&CursorSeal<'_>>,
    ) -> ScimResult<ListQuery> {
        let (filter, filter_text) = match self.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(f) => {
                let parsed = parse_filter(f)?;
                (Some(resolve_filter(reg, kind, &parsed)?), parsed.to_string())
            }
            None => (None, String::new()),
        };
        let order = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("ascending") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("descending") => SortOrder::Descending,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder must be 'ascending' or 'descending', got '{o}'"
                )));
            }
        };
        let sort = match self.sort_by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                let path = parse_attr_path(s)
                    .map_err(|_| ScimError::invalid_value(format!("sortBy '{s}' is not an attribute path")))?;
                let mut attr = resolve_attr(reg, kind, &path)
                    .ok_or_else(|| ScimError::invalid_value(format!("sortBy: unknown attribute '{s}'")))?;
                crate::filter::check_filterable(reg, kind, &attr.name)?;
                if attr.ty == AttrType::Complex {
                    let value = reg
                        .find_attr(kind, attr.ext.as_deref(), &attr.name)
                        .and_then(|(_, d)| d.sub("value").cloned())
                        .ok_or_else(|| {
                            ScimError::invalid_value(format!("sortBy: '{s}' is complex; name a sub-attribute"))
                        })?;
                    attr.sub = Some(value.name.clone());
                    attr.ty = value.ty;
                    attr.case_exact = value.case_exact;
                    attr.key = format!("{}.value", attr.key);
                }
                Some((attr, order))
            }
        };
        let start_index = self.start_index.unwrap_or(1).max(1) as u64;
        let count = match self.count {
            None => page.default_count,
            Some(c) if c < 0 => 0,
            Some(c) => (c as u64).min(page.max_count),
        };
        let projection = Projection::from_lists(reg, kind, &self.attributes, &self.excluded_attributes)?;
        let after = match &self.cursor {
            None => None,
            Some(_) if self.start_index.is_some() => {
                return Err(ScimError::invalid_value(
                    "'cursor' and 'startIndex' cannot be used together: choose cursor or index pagination",
                ));
            }
            Some(_) if sort.is_some() => {
                return Err(ScimError::invalid_value(
                    "cursor pagination follows the default order: 'sortBy' needs index pagination (startIndex)",
                ));
            }
            Some(c) => match cursors {
                Some(seal) => Some(cursor::open(seal, kind, &filter_text, c)?),
                None if c.trim().is_empty() => Some(0),
                None => {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidCursor,
                        "cursor pagination is not offered here: send no cursor",
                    ));
                }
            },
        };
        Ok(ListQuery { filter, sort, start_index, count, projection, after, filter_text, external_id_scope: None })
    }
}

/// A ListResponse message.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::standard_registry;

    #[test]
    fn query_and_body() {
        let reg = standard_registry();
        let p = ListParams::from_query(&[
            ("StartIndex".into(), "0".into()),
            ("COUNT".into(), "5000".into()),
            ("filter".into(), "userName eq \"a\"".into()),
        ])
        .unwrap();
        let q = p.resolve(&reg, ResourceKind::User, &PageConfig::default()).unwrap();
        assert_eq!((q.start_index, q.count), (1, 1000));
        assert!(q.filter.is_some());
        assert!(ListParams::from_query(&[("count".into(), "ten".into())]).is_err());
        let p = ListParams::from_search_body(
            &json!({"schemas": [SEARCH_URN], "attributes": ["userName"], "count": "3", "sortBy": "emails"}),
        )
        .unwrap();
        let q = p.resolve(&reg, ResourceKind::User, &PageConfig::default()).unwrap();
        assert_eq!(q.count, 3);
        assert_eq!(q.sort.unwrap().0.key, "emails.value");
        assert!(ListParams::from_search_body(&json!({"schemas": ["urn:x"]})).is_err());
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn unknown_query_parameters_are_refused_by_name() {
        let e = ListParams::from_query(&pairs(&[("count", "2"), ("userName", "ada")])).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
        assert!(e.detail.contains("'userName'") && e.detail.contains("filter, sortBy"), "{}", e.detail);
        let ok = pairs(&[("FILTER", "userName eq \"a\""), ("excludedAttributes", "members"), ("Cursor", "")]);
        assert!(ListParams::from_query(&ok).is_ok());
        assert!(check_query_names(&pairs(&[("Attributes", "id")]), RESOURCE_QUERY).is_ok());
        let e = check_query_names(&pairs(&[("count", "1")]), RESOURCE_QUERY).unwrap_err();
        assert!(e.detail.contains("accepts attributes, excludedAttributes"), "{}", e.detail);
        let e = check_query_names(&pairs(&[("x", "")]), &[]).unwrap_err();
        assert!(e.detail.contains("takes no query parameters"), "{}", e.detail);
    }

    #[test]
    fn simple_attributes_as_equality_filters() {
        let reg = standard_registry();
        let read = |list: &[(&str, &str)]| {
            ListParams::from_query_with_attributes(&pairs(list), &reg, ResourceKind::User).map(|p| p.filter)
        };
        assert_eq!(read(&[("userName", "ada")]).unwrap().as_deref(), Some("userName eq \"ada\""));
        assert_eq!(
            read(&[("filter", "active eq true or title pr"), ("active", "TRUE"), ("name.familyName", "O\"Neil")])
                .unwrap()
                .as_deref(),
            Some("(active eq true or title pr) and active eq true and name.familyName eq \"O\\\"Neil\"")
        );
        // Complex attributes and names that are no attribute stay unknown.
        assert!(read(&[("name", "x")]).unwrap_err().detail.contains("unknown query parameter 'name'"));
        assert!(read(&[("userNames", "x")]).is_err());
        // The filters built resolve like a client's.
        let p =
            ListParams::from_query_with_attributes(&pairs(&[("userName", "a b")]), &reg, ResourceKind::User).unwrap();
        assert!(p.resolve(&reg, ResourceKind::User, &PageConfig::default()).unwrap().filter.is_some());
    }
}
