//! The filter and attribute-path grammar (RFC 7644 §3.4.2.2, §3.5.2): text → the syntax
//! tree of `filter`, with the limits on length, depth and terms; and the tree written back
//! as text.

use super::*;
use crate::error::{ScimError, ScimResult};

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
