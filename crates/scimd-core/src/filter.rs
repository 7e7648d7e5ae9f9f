//! SCIM filters (RFC 7644 §3.4.2.2) and attribute paths: the syntax tree, the parser,
//! resolution against a [`Registry`] (the two-phase step: what the client typed →
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
//! Longer than the 800 lines a file should have: the grammar, its resolution against the
//! schemas and the evaluator share one AST and are read together. Splitting it by concern
//! comes with the store written once and the server split by concern (the next
//! restructuring).

use crate::error::{ScimError, ScimResult};
use serde_json::Value;

use crate::schema::{AttrDef, AttrHome, AttrType, Mutability, Registry, ResourceKind, Returned};

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

// ------------------------------------------------------------------------- parser

/// Which error a syntax problem is reported as (filters vs PATCH paths).
#[derive(Clone, Copy)]
enum Mode {
    Filter,
    Path,
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
    mode: Mode,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$'
}

fn is_path_char(c: char) -> bool {
    is_name_char(c) || c == ':' || c == '.'
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => chars.all(is_name_char),
        _ => false,
    }
}

impl<'a> Parser<'a> {
    fn new(s: &'a str, mode: Mode) -> Self {
        Parser { s, pos: 0, depth: 0, terms: 0, mode }
    }

    fn err(&self, msg: impl Into<String>) -> ScimError {
        let msg = msg.into();
        match self.mode {
            Mode::Filter => ScimError::invalid_filter(msg),
            Mode::Path => ScimError::invalid_path(msg),
        }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        self.pos > start
    }

    /// What is at the current position, for error messages.
    fn found(&self) -> String {
        if self.eof() {
            return "the end of the filter".to_string();
        }
        let word: String = self.rest().chars().take_while(|c| !c.is_whitespace()).take(20).collect();
        format!("'{word}'")
    }

    /// Consumes `kw` (case-insensitive) if it is a whole word here.
    fn keyword(&mut self, kw: &str) -> bool {
        let r = self.rest();
        if r.len() >= kw.len() && r.is_char_boundary(kw.len()) && r[..kw.len()].eq_ignore_ascii_case(kw) {
            let next = r[kw.len()..].chars().next();
            if next.is_none_or(|c| !is_name_char(c) && c != ':' && c != '.' && c != '[') {
                self.pos += kw.len();
                return true;
            }
        }
        false
    }

    fn enter(&mut self) -> ScimResult<()> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.err(format!("the filter is nested more than {MAX_FILTER_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn expect(&mut self, c: char, what: &str) -> ScimResult<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected '{c}' {what} at offset {}, found {}", self.pos, self.found())))
        }
    }

    fn parse_or(&mut self, in_value_path: bool) -> ScimResult<Filter> {
        let mut left = self.parse_and(in_value_path)?;
        loop {
            let save = self.pos;
            if self.skip_ws() && self.keyword("or") {
                let right = self.parse_and(in_value_path)?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn parse_and(&mut self, in_value_path: bool) -> ScimResult<Filter> {
        let mut left = self.parse_unary(in_value_path)?;
        loop {
            let save = self.pos;
            if self.skip_ws() && self.keyword("and") {
                let right = self.parse_unary(in_value_path)?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn parse_unary(&mut self, in_value_path: bool) -> ScimResult<Filter> {
        self.skip_ws();
        if self.eof() {
            return Err(self.err(format!("expected an expression at offset {}, found the end of the filter", self.pos)));
        }
        let save = self.pos;
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                self.pos += 1;
                self.enter()?;
                let inner = self.parse_or(in_value_path)?;
                self.expect(')', "to close 'not ('")?;
                self.depth -= 1;
                return Ok(Filter::Not(Box::new(inner)));
            }
            // An attribute that happens to be called "not…": fall through.
            self.pos = save;
        }
        if self.peek() == Some('(') {
            self.pos += 1;
            self.enter()?;
            let inner = self.parse_or(in_value_path)?;
            self.expect(')', "to close '('")?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.parse_attr_expr(in_value_path)
    }

    fn parse_path_token(&mut self) -> ScimResult<AttrPath> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_path_char(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        let tok = &self.s[start..self.pos];
        if tok.is_empty() {
            return Err(self.err(format!("expected an attribute name at offset {start}, found {}", self.found())));
        }
        split_path(tok).ok_or_else(|| self.err(format!("'{tok}' at offset {start} is not a valid attribute path")))
    }

    fn parse_attr_expr(&mut self, in_value_path: bool) -> ScimResult<Filter> {
        let start = self.pos;
        let path = self.parse_path_token()?;
        if self.peek() == Some('[') {
            if in_value_path {
                return Err(self.err(format!("value filters cannot be nested (offset {})", self.pos)));
            }
            if path.sub.is_some() {
                return Err(self.err(format!(
                    "'{path}[' at offset {start}: a value filter applies to an attribute, not a sub-attribute"
                )));
            }
            self.pos += 1;
            self.enter()?;
            let inner = self.parse_or(true)?;
            self.expect(']', "to close the value filter")?;
            self.depth -= 1;
            // Entra ID: `emails[type eq "work"].value eq "x"`.
            if self.peek() == Some('.') {
                self.pos += 1;
                let sub_start = self.pos;
                while let Some(c) = self.peek() {
                    if is_name_char(c) {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                let sub = &self.s[sub_start..self.pos];
                if !valid_name(sub) {
                    return Err(self.err(format!("expected a sub-attribute name after ']. ' at offset {sub_start}")));
                }
                let sub_path = AttrPath { urn: None, attr: sub.to_string(), sub: None };
                let cond = self.parse_condition(sub_path)?;
                return Ok(Filter::ValuePath(path, Box::new(Filter::And(Box::new(inner), Box::new(cond)))));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.parse_condition(path)
    }

    /// `SP "pr"` or `SP compareOp SP compValue` after a path.
    fn parse_condition(&mut self, path: AttrPath) -> ScimResult<Filter> {
        if !self.skip_ws() {
            return Err(self.err(format!(
                "expected a space and an operator after '{path}' at offset {}, found {}",
                self.pos,
                self.found()
            )));
        }
        self.terms += 1;
        if self.terms > MAX_FILTER_TERMS {
            return Err(self.err(format!("the filter has more than {MAX_FILTER_TERMS} conditions")));
        }
        let op_start = self.pos;
        if self.keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let ops = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ];
        let Some(op) = ops.iter().find(|(k, _)| self.keyword(k)).map(|(_, o)| *o) else {
            return Err(self.err(format!(
                "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '{path}' at offset {op_start}, found {}",
                self.found()
            )));
        };
        if !self.skip_ws() {
            return Err(self.err(format!(
                "expected a space and a value after '{path} {}' at offset {}",
                op.as_str(),
                self.pos
            )));
        }
        let value = self.parse_value()?;
        Ok(Filter::Compare(path, op, value))
    }

    fn parse_value(&mut self) -> ScimResult<CompValue> {
        let start = self.pos;
        match self.peek() {
            Some('"') => {
                let bytes = self.s.as_bytes();
                let mut i = self.pos + 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                if i >= bytes.len() {
                    return Err(self.err(format!("the string starting at offset {start} is not terminated")));
                }
                let lit = &self.s[start..=i];
                let v: String = serde_json::from_str(lit)
                    .map_err(|e| self.err(format!("invalid string at offset {start}: {e}")))?;
                self.pos = i + 1;
                Ok(CompValue::Str(v))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                let lit = &self.s[start..self.pos];
                // JSON number syntax, converted with Rust's correctly rounded parser
                // (serde_json's default float parsing is not exact in the last digit).
                let valid = serde_json::from_str::<serde_json::Number>(lit).is_ok();
                match lit.parse::<f64>().ok().filter(|_| valid) {
                    Some(n) if n.is_finite() => Ok(CompValue::Num(n)),
                    _ => Err(self.err(format!("'{lit}' at offset {start} is not a valid number"))),
                }
            }
            _ => {
                if self.keyword("true") {
                    Ok(CompValue::Bool(true))
                } else if self.keyword("false") {
                    Ok(CompValue::Bool(false))
                } else if self.keyword("null") {
                    Ok(CompValue::Null)
                } else {
                    Err(self.err(format!(
                        "expected a value (a \"string\", number, true, false or null) at offset {start}, found {}",
                        self.found()
                    )))
                }
            }
        }
    }
}

/// Splits `[urn:]attr[.sub]`; the attribute is the segment after the last colon.
fn split_path(tok: &str) -> Option<AttrPath> {
    let (urn, rest) = match tok.rfind(':') {
        Some(i) => (Some(tok[..i].to_string()), &tok[i + 1..]),
        None => (None, tok),
    };
    if urn.as_deref().is_some_and(|u| u.is_empty() || u.ends_with(':')) {
        return None;
    }
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    if !valid_name(attr) || sub.is_some_and(|s| !valid_name(s)) {
        return None;
    }
    Some(AttrPath { urn, attr: attr.to_string(), sub: sub.map(str::to_string) })
}

/// Parses a filter expression. Errors are 400 `invalidFilter` naming the problem and
/// its byte offset. Enforces [`MAX_FILTER_LEN`], [`MAX_FILTER_DEPTH`] and [`MAX_FILTER_TERMS`].
pub fn parse_filter(input: &str) -> ScimResult<Filter> {
    if input.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter(format!("the filter is longer than {MAX_FILTER_LEN} bytes")));
    }
    if input.trim().is_empty() {
        return Err(ScimError::invalid_filter("the filter is empty"));
    }
    let mut p = Parser::new(input, Mode::Filter);
    let f = p.parse_or(false)?;
    p.skip_ws();
    if !p.eof() {
        return Err(p.err(format!("unexpected {} at offset {}: expected 'and', 'or' or the end", p.found(), p.pos)));
    }
    Ok(f)
}

/// Parses an attribute path `[URN:]attr[.sub]` (used by `attributes=`, `sortBy`).
pub fn parse_attr_path(input: &str) -> ScimResult<AttrPath> {
    let t = input.trim();
    split_path(t).ok_or_else(|| ScimError::invalid_path(format!("'{t}' is not a valid attribute path")))
}

/// Parses a PATCH `path`. Errors are 400 `invalidPath`.
pub fn parse_patch_path(input: &str) -> ScimResult<PatchPath> {
    if input.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_path(format!("the path is longer than {MAX_FILTER_LEN} bytes")));
    }
    let mut p = Parser::new(input.trim(), Mode::Path);
    let attr = p.parse_path_token()?;
    let mut filter = None;
    let mut sub_after_filter = None;
    if p.peek() == Some('[') {
        if attr.sub.is_some() {
            return Err(ScimError::invalid_path(format!(
                "'{attr}[': a value filter applies to an attribute, not a sub-attribute"
            )));
        }
        p.pos += 1;
        p.enter()?;
        let inner = p.parse_or(true).map_err(|e| ScimError::invalid_path(e.detail))?;
        p.expect(']', "to close the value filter")?;
        filter = Some(inner);
        if p.peek() == Some('.') {
            p.pos += 1;
            let start = p.pos;
            while let Some(c) = p.peek() {
                if is_name_char(c) {
                    p.pos += 1;
                } else {
                    break;
                }
            }
            let sub = &p.s[start..p.pos];
            if !valid_name(sub) {
                return Err(ScimError::invalid_path(format!(
                    "expected a sub-attribute name after '].' at offset {start}"
                )));
            }
            sub_after_filter = Some(sub.to_string());
        }
    }
    if !p.eof() {
        return Err(ScimError::invalid_path(format!("unexpected {} at offset {} in path '{input}'", p.found(), p.pos)));
    }
    Ok(PatchPath { attr, filter, sub_after_filter })
}

// ------------------------------------------------------------------------- display

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        write!(f, "{}", self.attr)?;
        if let Some(s) = &self.sub {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for CompValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompValue::Str(s) => write!(f, "{}", serde_json::to_string(s).map_err(|_| std::fmt::Error)?),
            CompValue::Num(n) => write!(f, "{n}"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Null => write!(f, "null"),
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::And(a, b) => write!(f, "({a}) and ({b})"),
            Filter::Or(a, b) => write!(f, "({a}) or ({b})"),
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::Compare(p, op, v) => write!(f, "{p} {} {v}", op.as_str()),
            Filter::ValuePath(p, inner) => write!(f, "{p}[{inner}]"),
        }
    }
}

// ------------------------------------------------------------------------- resolution

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

struct Resolver<'r> {
    reg: &'r Registry,
    kind: ResourceKind,
}

impl<'r> Resolver<'r> {
    fn attr(&self, path: &AttrPath, parent: Option<(&ResolvedAttr, &'r AttrDef)>) -> ScimResult<Found<'r>> {
        let found = match parent {
            Some((p, def)) => find_sub(p, def, path)?,
            None => find(self.reg, self.kind, path).ok_or_else(|| {
                ScimError::invalid_filter(format!("unknown attribute '{path}' for resource type {}", self.kind.name()))
            })?,
        };
        if found.addressed.returned == Returned::Never
            || found.addressed.mutability == Mutability::WriteOnly
            || found.top.returned == Returned::Never
        {
            return Err(ScimError::invalid_filter(format!("attribute '{path}' cannot be used in a filter")));
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

// ------------------------------------------------------------------------- evaluator

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::builtin::standard_registry;
    use crate::schema::{AttrDef, ExtensionRef, SchemaDef};

    fn p(s: &str) -> Filter {
        parse_filter(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn path(attr: &str) -> AttrPath {
        AttrPath { urn: None, attr: attr.into(), sub: None }
    }

    #[test]
    fn precedence_and_grouping() {
        let f = p("a eq 1 or b eq 2 and c eq 3");
        assert!(matches!(f, Filter::Or(_, ref r) if matches!(**r, Filter::And(..))));
        let f = p("(a eq 1 or b eq 2) and c eq 3");
        assert!(matches!(f, Filter::And(ref l, _) if matches!(**l, Filter::Or(..))));
        let f = p("NOT (a PR) AND b Eq \"x\"");
        assert!(matches!(f, Filter::And(ref l, _) if matches!(**l, Filter::Not(..))));
        // An attribute whose name starts with a keyword is still an attribute.
        assert_eq!(p("notes eq \"x\""), Filter::Compare(path("notes"), CompareOp::Eq, CompValue::Str("x".into())));
        assert_eq!(p("order pr"), Filter::Present(path("order")));
    }

    #[test]
    fn urn_paths_split_at_the_last_colon() {
        let f = p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m\"");
        let Filter::Compare(ap, ..) = f else { panic!() };
        assert_eq!(ap.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!((ap.attr.as_str(), ap.sub.as_deref()), ("manager", Some("value")));
    }

    #[test]
    fn entra_value_path_with_sub_attribute() {
        let f = p("emails[type eq \"work\"].value eq \"x@y\"");
        let Filter::ValuePath(ap, inner) = f else { panic!() };
        assert_eq!(ap.attr, "emails");
        assert!(matches!(*inner, Filter::And(..)));
    }

    #[test]
    fn literals() {
        assert_eq!(
            p("a eq \"q\\\"\\u00e9\\n\""),
            Filter::Compare(path("a"), CompareOp::Eq, CompValue::Str("q\"é\n".into()))
        );
        assert_eq!(p("a gt -1.5e2"), Filter::Compare(path("a"), CompareOp::Gt, CompValue::Num(-150.0)));
        assert_eq!(p("a eq TRUE"), Filter::Compare(path("a"), CompareOp::Eq, CompValue::Bool(true)));
        assert_eq!(p("a eq null"), Filter::Compare(path("a"), CompareOp::Eq, CompValue::Null));
    }

    #[test]
    fn syntax_errors_name_the_problem() {
        for (f, needle) in [
            ("", "empty"),
            ("userName", "operator"),
            ("userName equals \"x\"", "operator"),
            ("userName eq", "value"),
            ("userName eq \"x", "not terminated"),
            ("(userName eq \"x\"", "')'"),
            ("userName eq \"x\" extra", "unexpected"),
            ("emails[type eq \"w\"", "']'"),
            ("emails[type[value eq 1] eq 1]", "nested"),
            ("a eq 1x", "unexpected"),
        ] {
            let e = parse_filter(f).unwrap_err();
            assert_eq!(e.scim_type, Some(crate::ScimType::InvalidFilter), "{f}");
            assert!(e.detail.contains(needle), "{f}: {}", e.detail);
        }
        let deep = format!("{}a pr{}", "(".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
        assert!(parse_filter(&deep).unwrap_err().detail.contains("nested"));
        let many = vec!["a pr"; MAX_FILTER_TERMS + 1].join(" or ");
        assert!(parse_filter(&many).unwrap_err().detail.contains("conditions"));
    }

    #[test]
    fn patch_paths() {
        let pp = parse_patch_path("members[value eq \"2819c223\"]").unwrap();
        assert_eq!(pp.attr.attr, "members");
        assert!(pp.filter.is_some() && pp.sub_after_filter.is_none());
        let pp = parse_patch_path("emails[type eq \"work\"].value").unwrap();
        assert_eq!(pp.sub_after_filter.as_deref(), Some("value"));
        assert_eq!(parse_patch_path("name.givenName").unwrap().attr.sub.as_deref(), Some("givenName"));
        for bad in ["", "emails[", "emails[type eq \"w\"].", "a b", "1abc"] {
            assert_eq!(parse_patch_path(bad).unwrap_err().scim_type, Some(crate::ScimType::InvalidPath), "{bad:?}");
        }
    }

    /// The standard registry plus an extension with numeric attributes.
    fn numeric_registry() -> Registry {
        let mut reg = standard_registry();
        let urn = "urn:example:scimd:test:1.0:User";
        let mut score = AttrDef::new("score", AttrType::Decimal);
        score.description = "test".into();
        reg.schemas.push(SchemaDef {
            id: urn.into(),
            name: "Test".into(),
            description: "test".into(),
            attributes: vec![
                AttrDef::new("level", AttrType::Integer),
                score,
                AttrDef::new("since", AttrType::DateTime),
            ],
        });
        reg.resource_types[0].extensions.push(ExtensionRef { schema: urn.into(), required: false });
        reg
    }

    fn eval(reg: &Registry, f: &str, r: &serde_json::Value) -> bool {
        matches(&resolve_filter(reg, ResourceKind::User, &p(f)).unwrap(), r)
    }

    #[test]
    fn numbers_datetimes_and_null_rules() {
        let reg = numeric_registry();
        let u = json!({"userName": "u", "id": "1",
            "urn:example:scimd:test:1.0:User": {"level": 3, "score": 2.5, "since": "2024-01-02T03:04:05+02:00"},
            "meta": {"created": "2024-01-01T00:00:00Z"}});
        let x = "urn:example:scimd:test:1.0:User";
        assert!(eval(&reg, &format!("{x}:level gt 2"), &u));
        assert!(!eval(&reg, &format!("{x}:level gt 3"), &u));
        assert!(eval(&reg, &format!("{x}:level ge \"3\""), &u), "numeric strings are accepted");
        assert!(eval(&reg, &format!("{x}:score lt 2.6 and {x}:score gt 2.4"), &u));
        assert!(eval(&reg, &format!("{x}:since eq \"2024-01-02T01:04:05Z\""), &u), "same instant, other offset");
        assert!(eval(&reg, &format!("{x}:since lt \"2024-01-02T01:04:06Z\""), &u));
        assert!(eval(&reg, "meta.created ge \"2024-01-01T00:00:00.000Z\"", &u));
        assert!(eval(&reg, "title eq null", &u) && !eval(&reg, "title ne null", &u));
        assert!(eval(&reg, "title ne \"x\"", &u), "ne holds when the attribute is absent");
        let bad = |f: &str| resolve_filter(&reg, ResourceKind::User, &p(f)).unwrap_err().scim_type;
        assert_eq!(bad(&format!("{x}:level co \"3\"")), Some(crate::ScimType::InvalidFilter));
        assert_eq!(bad(&format!("{x}:level eq \"three\"")), Some(crate::ScimType::InvalidFilter));
        assert_eq!(bad("active gt true"), Some(crate::ScimType::InvalidFilter));
        assert_eq!(bad("name eq \"x\""), Some(crate::ScimType::InvalidFilter));
        assert_eq!(bad("password pr"), Some(crate::ScimType::InvalidFilter));
        assert_eq!(bad("userName lt null"), Some(crate::ScimType::InvalidFilter));
    }

    fn arb_path() -> impl Strategy<Value = AttrPath> {
        (
            prop::option::of(prop::sample::select(vec![
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ])),
            "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
            prop::option::of("[a-zA-Z][a-zA-Z0-9]{0,6}"),
        )
            .prop_filter("not a keyword", |(_, a, _)| {
                ![
                    "and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "true", "false",
                    "null",
                ]
                .contains(&a.to_ascii_lowercase().as_str())
            })
            .prop_map(|(u, a, s)| AttrPath { urn: u.map(str::to_string), attr: a, sub: s })
    }

    fn arb_value() -> impl Strategy<Value = CompValue> {
        prop_oneof![
            any::<String>().prop_map(CompValue::Str),
            (-1.0e12f64..1.0e12).prop_map(CompValue::Num),
            any::<bool>().prop_map(CompValue::Bool),
            Just(CompValue::Null),
        ]
    }

    fn arb_op() -> impl Strategy<Value = CompareOp> {
        prop::sample::select(vec![
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ])
    }

    fn arb_leaf(in_vp: bool) -> BoxedStrategy<Filter> {
        let path = if in_vp {
            "[a-zA-Z][a-zA-Z0-9]{0,6}"
                .prop_filter("not a keyword", |a| {
                    !["and", "or", "not", "pr"].contains(&a.to_ascii_lowercase().as_str())
                })
                .prop_map(|a| AttrPath { urn: None, attr: a, sub: None })
                .boxed()
        } else {
            arb_path().boxed()
        };
        prop_oneof![
            (path.clone(), arb_op(), arb_value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
            path.prop_map(Filter::Present),
        ]
        .boxed()
    }

    fn arb_filter() -> impl Strategy<Value = Filter> {
        let leaf = prop_oneof![
            3 => arb_leaf(false),
            1 => (arb_path().prop_map(|p| AttrPath { sub: None, ..p }), arb_leaf(true).prop_recursive(2, 6, 2, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                    inner.prop_map(|a| Filter::Not(Box::new(a))),
                ]
            }))
                .prop_map(|(p, f)| Filter::ValuePath(p, Box::new(f))),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Filter::Not(Box::new(a))),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]
        #[test]
        fn display_round_trips(f in arb_filter()) {
            let text = f.to_string();
            prop_assert_eq!(parse_filter(&text), Ok(f), "{}", text);
        }

        #[test]
        fn parsers_never_panic(s in any::<String>()) {
            let _ = parse_filter(&s);
            let _ = parse_patch_path(&s);
            let _ = parse_attr_path(&s);
        }

        #[test]
        fn parsers_never_panic_on_filter_like_text(s in "[a-z\\[\\]()\" .:=\\\\]{0,60}") {
            let _ = parse_filter(&s);
            let _ = parse_patch_path(&s);
        }
    }
}
