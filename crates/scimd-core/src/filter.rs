//! SCIM filters (RFC 7644 §3.4.2.2) and attribute paths: the syntax tree, the parser,
//! resolution against a [`Registry`](crate::schema::Registry) (the two-phase step: what the client typed →
//! a filter checked against the schema with canonical names, types and case rules),
//! and the in-memory evaluator, which is the oracle the SQL path is tested against.
//!
//! Semantics fixed here (the SQL compiler in `scimd-store` must match them):
//! - a comparison on a multi-valued attribute holds if it holds for *any* value;
//! - `ne` is exactly `not (eq)`, so it also holds when the attribute is absent;
//! - `eq null` is `not pr`, `ne null` is `pr`; other operators with `null` are invalid;
//! - strings of `caseExact: false` attributes compare on [`fold_case`]d values,
//!   `gt/ge/lt/le` compare strings byte-wise (code-point order) after folding;
//!   `userName` compares by [`crate::user_name`]'s rule instead (literals folded, stored
//!   names by their key);
//! - dateTime values compare as instants (via [`normalize_datetime`]);
//! - `co/sw/ew` apply to string-like types only (string, reference, binary);
//!   `gt/ge/lt/le` are invalid on boolean and binary;
//! - a complex multi-valued attribute compared without a sub-attribute means its
//!   `value` sub-attribute (`emails eq "x"` is `emails.value eq "x"`);
//! - inside `attr[...]`, all conditions must hold for the *same* element.
//!
//! This file holds the syntax tree and the limits; `parse` the grammar (and writing a
//! tree back as text), `resolve` the resolution against the schemas, `eval` the evaluator.

mod eval;
mod parse;
mod resolve;
#[cfg(test)]
mod tests;

pub use eval::matches;
pub use parse::{parse_attr_path, parse_filter, parse_patch_path};
pub use resolve::{check_filterable, resolve_attr, resolve_filter};

use crate::schema::{AttrType, Mutability, ResourceKind, Returned};

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8192;
/// Deepest nesting of `not`/parentheses/value paths accepted.
pub const MAX_FILTER_DEPTH: usize = 32;
/// Most comparisons (and `pr` tests) in one filter.
pub const MAX_FILTER_TERMS: usize = 100;

/// An attribute path as written: `[URN:]attr[.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// Schema URN prefix as written, if any (without the trailing `:`).
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// A filter as parsed, before it is checked against a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, CompareOp, CompValue),
    /// `attr[inner]`; the paths inside `inner` are relative to `attr`
    /// (their `urn` is `None` and `attr` names the sub-attribute).
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH path (RFC 7644 §3.5.2): `attrPath` or `valuePath[.subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// The `[...]` filter, if any.
    pub filter: Option<Filter>,
    /// The sub-attribute after `]` (`emails[type eq "work"].value`).
    pub sub_after_filter: Option<String>,
}

/// Where a resolved attribute's values are stored; the SQL compiler maps each
/// target to its table or column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The resource id.
    Id,
    /// `meta.created`
    MetaCreated,
    /// `meta.lastModified`
    MetaLastModified,
    /// `meta.resourceType`
    MetaResourceType,
    /// `meta.version`
    MetaVersion,
    /// `meta.location`
    MetaLocation,
    /// `meta` as a whole (only meaningful for `pr`, always present).
    Meta,
    /// An attribute kept in the attribute index under [`ResolvedAttr::key`].
    Indexed,
    /// `Group.members` (`sub` = None) or one of its sub-attributes.
    Members,
    /// `User.groups` (`sub` = None) or one of its sub-attributes.
    Groups,
}

/// An attribute path checked against the registry, with canonical names.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedAttr {
    /// Canonical extension URN when the attribute belongs to an extension schema.
    pub ext: Option<String>,
    /// Canonical top-level attribute name.
    pub name: String,
    /// Canonical sub-attribute name, if the path names one.
    pub sub: Option<String>,
    /// Type of the addressed (sub-)attribute.
    pub ty: AttrType,
    /// caseExact of the addressed (sub-)attribute.
    pub case_exact: bool,
    /// Whether the top-level attribute is multi-valued.
    pub multi_valued: bool,
    pub target: Target,
    /// The index key: lower-cased `[urn:]name[.sub]`, e.g. `emails.value`,
    /// `name.givenname`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber`.
    /// See [`index_key`].
    pub key: String,
}

impl ResolvedAttr {
    /// Whether this is `User.userName`, compared by [`crate::user_name`]'s rule (the only
    /// core attribute of that name: extension attributes carry their URN).
    pub fn is_user_name(&self) -> bool {
        self.ext.is_none() && self.sub.is_none() && self.key == USER_NAME_KEY
    }

    /// A string of this attribute in the form comparisons use: as is (caseExact),
    /// [`crate::user_name::fold`]ed (userName), else [`fold_case`]d.
    pub fn comparable(&self, s: &str) -> String {
        if self.case_exact {
            s.to_string()
        } else if self.is_user_name() {
            crate::user_name::fold(s)
        } else {
            fold_case(s)
        }
    }
}

/// The index key of `User.userName`.
pub const USER_NAME_KEY: &str = "username";

/// A filter checked against the registry; the input of the evaluator and of the SQL compiler.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedFilter {
    And(Box<ResolvedFilter>, Box<ResolvedFilter>),
    Or(Box<ResolvedFilter>, Box<ResolvedFilter>),
    Not(Box<ResolvedFilter>),
    /// The attribute has a (non-null, non-empty) value.
    Present(ResolvedAttr),
    /// `value` is already converted to the attribute's type: strings of caseExact=false
    /// attributes are [`fold_case`]d, dateTimes are [`normalize_datetime`]d strings,
    /// numbers are `Num`, booleans `Bool`. Never `Null` (null comparisons are rewritten
    /// to `Present`/`Not(Present)` during resolution). `op` is never `Ne` (rewritten to `Not(Eq)`).
    Compare(ResolvedAttr, CompareOp, CompValue),
    /// `attr[inner]`: `attr` is the multi-valued complex attribute (sub = None); the
    /// attributes in `inner` are its sub-attributes (sub = Some) and must all hold for one element.
    ValuePath(ResolvedAttr, Box<ResolvedFilter>),
}

/// The index key of an attribute: lower-cased `[urn:]name[.sub]`.
pub fn index_key(ext: Option<&str>, name: &str, sub: Option<&str>) -> String {
    let mut k = String::new();
    if let Some(u) = ext {
        k.push_str(&u.to_ascii_lowercase());
        k.push(':');
    }
    k.push_str(&name.to_ascii_lowercase());
    if let Some(s) = sub {
        k.push('.');
        k.push_str(&s.to_ascii_lowercase());
    }
    k
}

/// Case folding used for caseExact=false comparisons and for the index (Unicode lowercase).
pub fn fold_case(s: &str) -> String {
    s.to_lowercase()
}

/// Normalises an RFC 3339 / xsd:dateTime string to a fixed-width UTC form
/// (`YYYY-MM-DDTHH:MM:SS.fffffffffZ`) whose byte order is chronological.
/// Returns `None` if `s` is not a valid dateTime.
pub fn normalize_datetime(s: &str) -> Option<String> {
    let dt = chrono::DateTime::parse_from_rfc3339(s.trim()).ok()?;
    Some(dt.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
}
