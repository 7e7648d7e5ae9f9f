//! Redaction of stored payloads: which names hold secrets ([`Secrets`], from a tenant's
//! schemas and the protocol's credential fields) and how a body, a form or a query is
//! rid of them before the audit trail keeps it.
//!
//! A body is judged by what it is, never by its `Content-Type` (a client can send JSON
//! labelled as a form): JSON is tried first, then a well-formed form; anything else is
//! withheld, since it cannot be checked. Names are matched case-insensitively under every
//! spelling SCIM allows (`password`, `urn:…:User:password`, the extension object of a
//! schema, a PATCH path with a filter or a sub-attribute), at any depth; when in doubt, a
//! value is redacted rather than kept.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use scimd_core::schema::{AttrDef, Mutability, Registry, Returned};
use serde_json::{Map, Value};

/// What replaces a secret in stored payloads.
pub const REDACTED: &str = "[REDACTED]";

/// Fields of the OAuth and admin protocols that hold credentials (clients' secrets, API
/// users' passwords, tokens, assertions), wherever they appear.
const PROTOCOL_SECRETS: &[&str] = &[
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "id_token",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
    "token",
    "secret",
    "bearer_token",
];

/// The names whose values are secrets in one tenant's payloads: every attribute and
/// sub-attribute of its schemas that is `writeOnly` or `returned: never`, and the
/// protocol's credential fields. Names are kept lowercased, without their schema: a
/// name is a secret under any schema's URN (a false match only redacts more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    names: HashSet<String>,
}

fn is_secret_attr(a: &AttrDef) -> bool {
    a.mutability == Mutability::WriteOnly || a.returned == Returned::Never
}

impl Secrets {
    /// The secrets of a registry's schemas, and the protocol's.
    pub fn of(registry: &Registry) -> Secrets {
        let mut names: HashSet<String> = PROTOCOL_SECRETS.iter().map(|s| s.to_string()).collect();
        let attrs = registry.schemas.iter().flat_map(|s| &s.attributes).chain(&registry.common);
        for a in attrs {
            if is_secret_attr(a) {
                names.insert(a.name.to_ascii_lowercase());
            }
            for sub in a.sub_attributes.iter().filter(|s| is_secret_attr(s)) {
                names.insert(sub.name.to_ascii_lowercase());
            }
        }
        Secrets { names }
    }

    /// The secrets of the built-in schemas (tenants without schemas of their own, and
    /// requests whose tenant is not known).
    pub fn builtin() -> Arc<Secrets> {
        static BUILTIN: OnceLock<Arc<Secrets>> = OnceLock::new();
        BUILTIN.get_or_init(|| Arc::new(Secrets::of(&scimd_core::builtin::standard_registry()))).clone()
    }

    fn is_name(&self, word: &str) -> bool {
        let word = word.trim();
        !word.is_empty() && self.names.iter().any(|n| n.eq_ignore_ascii_case(word))
    }

    /// How an attribute path (a JSON key, a form field, a PATCH `path`) stands to the
    /// secrets: whether it names one (`password`, `urn:…:User:password`,
    /// `keys[type eq "x"].secretKey`), and whether a filter in it mentions one (its text
    /// may then hold a guess at the secret).
    fn judge_path(&self, path: &str) -> PathJudgement {
        let mut attr = String::with_capacity(path.len());
        let mut filters = String::new();
        let mut depth = 0usize;
        for c in path.chars() {
            match c {
                '[' => depth += 1,
                ']' if depth > 0 => depth -= 1,
                _ if depth > 0 => filters.push(c),
                _ => attr.push(c),
            }
        }
        // An unbalanced bracket leaves part of a filter in `attr`: judged by its words too.
        let names = if depth > 0 || attr.contains(['"', ' ']) {
            self.mentions(&attr)
        } else {
            // Attribute names hold no ':': what follows the last one is the attribute.
            let attr = attr.rsplit(':').next().unwrap_or(&attr);
            attr.split('.').any(|segment| self.is_name(segment))
        };
        PathJudgement { names, filter_mentions: depth > 0 || self.mentions(&filters) }
    }

    /// Whether a text (a filter) mentions a secret's name anywhere.
    pub fn mentions(&self, text: &str) -> bool {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-'))
            .any(|word| self.is_name(word))
    }

    /// Whether the value of `key` (in a JSON object, a form or a query) is to be redacted.
    fn redacts_value(&self, key: &str, value: Option<&str>) -> bool {
        let key = key.trim();
        let j = self.judge_path(key);
        j.names || j.filter_mentions || (key.eq_ignore_ascii_case("filter") && value.is_some_and(|v| self.mentions(v)))
    }
}

struct PathJudgement {
    /// The path names a secret attribute (or a sub-attribute of one).
    names: bool,
    /// A filter in the path mentions a secret (or could not be read).
    filter_mentions: bool,
}

fn key_is(k: &str, name: &str) -> bool {
    k.trim().eq_ignore_ascii_case(name)
}

/// Replaces every secret in a JSON value, at any depth: values under a secret's name
/// (any spelling), filters that mention one, the `value` of a PATCH operation whose
/// `path` names one (and the path itself when its filter mentions one), and JSON
/// documents carried as strings.
pub fn redact_json(v: &mut Value, secrets: &Secrets) {
    match v {
        Value::Object(map) => redact_object(map, secrets),
        Value::Array(items) => items.iter_mut().for_each(|x| redact_json(x, secrets)),
        Value::String(s) => {
            if let Some(redacted) = redact_embedded(s, secrets) {
                *s = redacted;
            }
        }
        _ => {}
    }
}

/// A text carried inside a value (a JSON string, a form field) that is itself a
/// document: JSON is judged as JSON; a structure that cannot be read (broken JSON, an
/// encoded form) is redacted whole when it mentions a secret's name. `None`: keep as is.
fn redact_embedded(text: &str, secrets: &Secrets) -> Option<String> {
    if text.trim_start().starts_with(['{', '['])
        && let Ok(mut inner) = serde_json::from_str::<Value>(text)
    {
        let before = inner.clone();
        redact_json(&mut inner, secrets);
        return (inner != before).then(|| inner.to_string());
    }
    let structured = text.contains(['{', '[', '"', '=', '&']);
    (structured && secrets.mentions(text)).then(|| REDACTED.to_string())
}

fn redact_object(map: &mut Map<String, Value>, secrets: &Secrets) {
    let op_path = map
        .iter()
        .find(|(k, _)| key_is(k, "path"))
        .map(|(_, p)| match p.as_str() {
            Some(p) => secrets.judge_path(p),
            None => PathJudgement { names: false, filter_mentions: false },
        })
        .unwrap_or(PathJudgement { names: false, filter_mentions: false });
    for (k, v) in map.iter_mut() {
        let redact = secrets.redacts_value(k, v.as_str())
            || (key_is(k, "value") && (op_path.names || op_path.filter_mentions))
            || (key_is(k, "path") && op_path.filter_mentions);
        if redact {
            *v = Value::String(REDACTED.into());
        } else {
            redact_json(v, secrets);
        }
    }
}

/// Whether a text is an `application/x-www-form-urlencoded` form (or a query string):
/// no spaces, controls or raw non-ASCII (a form encodes them), and field names that are
/// names. A JSON document sent as a form is none: it would otherwise be kept as the name
/// of one field.
fn is_form(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_graphic())
        && form_urlencoded::parse(text.as_bytes())
            .all(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || "_.:$-[] ".contains(c)))
}

/// A form (or query string) with its secrets redacted, under the same rules as JSON
/// (and values that are JSON redacted as JSON); `None` when the text is not a form.
pub fn redact_form(form: &str, secrets: &Secrets) -> Option<String> {
    if !is_form(form) {
        return None;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes()).into_owned().collect();
    let op_path = pairs.iter().find(|(k, _)| key_is(k, "path")).map(|(_, p)| secrets.judge_path(p));
    let op_secret = op_path.as_ref().is_some_and(|j| j.names || j.filter_mentions);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        let redact = secrets.redacts_value(k, Some(v))
            || (key_is(k, "value") && op_secret)
            || (key_is(k, "path") && op_path.as_ref().is_some_and(|j| j.filter_mentions));
        if redact {
            out.append_pair(k, REDACTED);
        } else if let Some(redacted) = redact_embedded(v, secrets) {
            out.append_pair(k, &redacted);
        } else {
            out.append_pair(k, v);
        }
    }
    Some(out.finish())
}

/// A query string as it may be stored: redacted, or withheld when it is not a form.
pub fn redact_query(query: &str, secrets: &Secrets) -> String {
    redact_form(query, secrets)
        .unwrap_or_else(|| format!("[{} bytes withheld: not a form, so not checked]", query.len()))
}

/// A body as it may be stored, whatever its `Content-Type` claims: JSON redacted, else a
/// form redacted, else withheld (it cannot be checked for secrets). `None`: no body.
pub fn redact_body(body: &[u8], secrets: &Secrets) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
        redact_json(&mut v, secrets);
        return Some(v.to_string());
    }
    if let Some(form) = std::str::from_utf8(body).ok().and_then(|text| redact_form(text.trim_end(), secrets)) {
        return Some(form);
    }
    Some(format!("[{} bytes withheld: not JSON or a form, so not checked for secrets]", body.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const VAULT: &str = "urn:example:vault:1.0:User";

    /// A tenant whose extension declares a secret attribute and a secret sub-attribute.
    fn tenant_secrets() -> Secrets {
        let profile = scimd_core::profile::Profile::from_json(
            &json!({"extensions": [{"resource_type": "User", "schema": {"id": VAULT, "attributes": [
                {"name": "recoveryCode", "type": "string", "returned": "never"},
                {"name": "pin", "type": "string", "returned": "never"},
                {"name": "keys", "type": "complex", "multiValued": true, "subAttributes": [
                    {"name": "id", "type": "string"},
                    {"name": "secretKey", "type": "string", "returned": "never"}]}]}}]})
            .to_string(),
        )
        .unwrap();
        Secrets::of(&profile.registry().unwrap())
    }

    #[test]
    fn a_tenants_schemas_add_their_secrets_and_only_theirs() {
        let t = tenant_secrets();
        for name in ["password", "recoverycode", "PIN", "secretKey", "client_secret"] {
            assert!(t.is_name(name), "{name}");
        }
        for name in ["keys", "id", "userName", "value"] {
            assert!(!t.is_name(name), "{name}");
        }
        assert!(!Secrets::builtin().is_name("recoveryCode"));
    }

    #[test]
    fn every_spelling_of_a_secret_is_redacted() {
        let t = tenant_secrets();
        let mut v = json!({
            "userName": "ada",
            format!("{USER}:password"): "s1",
            format!("{}:PASSWORD", USER.to_uppercase()): "s2",
            VAULT: {"recoveryCode": "s3", "keys": [{"id": "k1", "SecretKey": "s4"}]},
            format!("{VAULT}:pin"): "s5",
            "Operations": [
                {"op": "replace", "path": format!("{VAULT}:keys[id eq \"k1\"].secretKey"), "value": "s6"},
                {"op": "replace", "path": "keys[secretKey eq \"s7\"].id", "value": "k9"},
                {"op": "add", "value": {format!("{USER}:password"): "s8", "title": "Boss"}},
                {"op": "add", "path": "emails[type eq \"work\"].value", "value": "ada@example.com"}
            ],
            "wrapped": "{\"password\": \"s9\", \"kept\": 1}",
            "broken": "{\"password\": \"s10\"",
        });
        redact_json(&mut v, &t);
        let s = v.to_string();
        for secret in ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "k9", "s8", "s9", "s10"] {
            assert!(
                !s.contains(&format!("\"{secret}\"")) && !s.contains(&format!("\\\"{secret}\\\"")),
                "{secret}: {s}"
            );
        }
        for kept in ["ada", "k1", "Boss", "ada@example.com", "emails[type eq \\\"work\\\"].value", "kept"] {
            assert!(s.contains(kept), "{kept}: {s}");
        }
    }

    #[test]
    fn bodies_are_judged_by_what_they_hold() {
        let b = Secrets::builtin();
        // JSON labelled as anything is JSON.
        let r = redact_body(br#"{"userName": "ada", "password": "hunter2"}"#, &b).unwrap();
        assert!(r.contains("ada") && !r.contains("hunter2"), "{r}");
        // A form, with URN-qualified and JSON-valued fields.
        let r = redact_body(
            b"urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser%3Apassword=hunter2&data=%7B%22password%22%3A%22hunter3%22%7D&user=ada\r\n",
            &b,
        )
        .unwrap();
        assert!(r.contains("ada") && !r.contains("hunter2") && !r.contains("hunter3"), "{r}");
        // Neither (broken JSON, text): withheld.
        for body in [&br#"{"password": "hunter2""#[..], b"password: hunter2", b"\xff\xfepassword=hunter2"] {
            let r = redact_body(body, &b).unwrap();
            assert!(r.contains("withheld") && !r.contains("hunter2"), "{r}");
        }
        assert!(redact_query("{\"password\":\"hunter2\"}", &b).contains("withheld"));
        let q = redact_query(
            "filter=urn%3Aexample%3Avault%3A1.0%3AUser%3ArecoveryCode+eq+%22guess%22&count=2",
            &tenant_secrets(),
        );
        assert!(!q.contains("guess") && q.contains("count=2"), "{q}");
    }

    /// Secret names of `tenant_secrets`, with the schema each belongs to and its parent
    /// (for a sub-attribute).
    const PLANTED: &[(&str, Option<&str>, &str)] = &[
        (USER, None, "password"),
        (VAULT, None, "recoveryCode"),
        (VAULT, None, "pin"),
        (VAULT, Some("keys"), "secretKey"),
        ("", None, "client_secret"),
        ("", None, "refresh_token"),
    ];

    /// Ordinary member names of the random documents (never a secret's, nor `path`,
    /// `value` or `filter`, which are judged with their neighbours).
    const ORDINARY: &[&str] =
        &["userName", "displayName", "name", "emails", "type", "primary", "active", "Operations", "op", "data", "id"];

    fn random_case(s: &str, mask: u64) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect()
    }

    fn document() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z0-9 ]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(ORDINARY), inner), 0..5)
                    .prop_map(|members| Value::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    /// Puts a fragment (a member, or a value when it has no key) into the `spot`-th object
    /// or array of a document (counted in document order, modulo their number).
    fn plant(doc: &mut Value, spot: usize, fragment: (Option<String>, Value)) {
        fn count(v: &Value) -> usize {
            match v {
                Value::Object(m) => 1 + m.values().map(count).sum::<usize>(),
                Value::Array(a) => 1 + a.iter().map(count).sum::<usize>(),
                _ => 0,
            }
        }
        fn visit(v: &mut Value, index: &mut usize, fragment: &mut Option<(Option<String>, Value)>) {
            if fragment.is_none() {
                return;
            }
            let here = *index == 0;
            match v {
                Value::Object(m) if here => {
                    let (key, value) = fragment.take().expect("not planted yet");
                    m.insert(key.unwrap_or_else(|| "data".into()), value);
                }
                Value::Array(a) if here => {
                    let (key, value) = fragment.take().expect("not planted yet");
                    a.push(match key {
                        Some(k) => json!({k: value}),
                        None => value,
                    });
                }
                Value::Object(m) => {
                    *index -= 1;
                    m.values_mut().for_each(|x| visit(x, index, fragment));
                }
                Value::Array(a) => {
                    *index -= 1;
                    a.iter_mut().for_each(|x| visit(x, index, fragment));
                }
                _ => {}
            }
        }
        if !doc.is_object() {
            *doc = json!({"data": doc.take()});
        }
        let mut index = spot % count(doc);
        visit(doc, &mut index, &mut Some(fragment));
    }

    /// The member or value carrying `secret` under the chosen spelling of a secret name.
    fn fragment(which: usize, spelling: u8, mask: u64, secret: &str) -> (Option<String>, Value) {
        let (schema, parent, name) = PLANTED[which % PLANTED.len()];
        let name = random_case(name, mask);
        let path = match parent {
            Some(p) => format!("{p}.{name}"),
            None => name.clone(),
        };
        let qualified = if schema.is_empty() { path.clone() } else { format!("{}:{path}", random_case(schema, !mask)) };
        let filtered = match parent {
            Some(p) => format!("{p}[id eq \"x\"].{name}"),
            None => path.clone(),
        };
        match spelling % 8 {
            0 => (Some(name), json!(secret)),
            1 => (Some(qualified), json!(secret)),
            2 if !schema.is_empty() => (
                Some(random_case(schema, mask)),
                match parent {
                    Some(p) => json!({p: [{"id": "x", name: secret}]}),
                    None => json!({name: secret}),
                },
            ),
            3 => (None, json!({"op": "replace", "path": qualified, "value": secret})),
            4 => (None, json!({"op": "replace", "path": filtered, "value": [secret]})),
            5 => (None, json!({"op": "add", "value": {qualified: secret}})),
            6 => (Some(random_case("filter", mask)), json!(format!("{qualified} eq \"{secret}\""))),
            _ => (Some(name), json!({"nested": [secret]})),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Random JSON bodies with a secret planted anywhere, under any spelling, sent
        /// with any content type (or wrapped in a form field): the stored text never
        /// holds the secret, and what is not secret is still there.
        #[test]
        fn a_planted_secret_never_survives(
            mut doc in document(),
            spot in 0usize..64,
            which in 0usize..64,
            spelling in any::<u8>(),
            mask in any::<u64>(),
            secret in "[A-Za-z0-9]{12,20}",
            as_form in any::<bool>(),
        ) {
            let secret = format!("S3CRET{secret}");
            plant(&mut doc, spot, fragment(which, spelling, mask, &secret));
            let mut doc = match doc {
                Value::Object(mut m) => {
                    m.insert("displayName".into(), json!("KEPT-MARKER"));
                    Value::Object(m)
                }
                other => other,
            };
            let text = doc.take().to_string();
            let body = if as_form {
                form_urlencoded::Serializer::new(String::new()).append_pair("data", &text).finish()
            } else {
                text
            };
            let stored = redact_body(body.as_bytes(), &tenant_secrets()).unwrap();
            prop_assert!(!stored.contains(&secret), "{secret} kept in {stored}");
            prop_assert!(stored.contains("KEPT-MARKER"), "over-redacted: {stored}");
        }
    }
}
