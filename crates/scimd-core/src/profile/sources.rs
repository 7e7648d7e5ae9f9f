//! Provisioning sources: the clients that provision one tenant, grouped by who they are
//! (an identity provider for employees, a sync script for contractors). A source is a
//! provisioning domain (RFC 7643 §3.1): its `externalId`s are matched among its own
//! resources only, and the resources it creates are its own to change. This module owns
//! the declaration, its validation and the lookup of a caller's source; the store applies
//! the rules.

use serde::{Deserialize, Serialize};

use super::Profile;
use crate::list::SourceScope;

/// Most sources a tenant declares.
pub const MAX_SOURCES: usize = 16;

/// One provisioning source of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceDecl {
    /// Lower-case letters, digits and `-`; stored with each resource the source creates.
    pub name: String,
    /// The callers in the source, as the audit trail names them: an OAuth client's id, or
    /// `token:<id>` for a long-lived token.
    pub clients: Vec<String>,
    /// The default source also finds (by `externalId`) and may change the resources no
    /// source owns: those made before sources were declared, or by the operator.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

/// Who a SCIM caller is among a tenant's sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The tenant declares no sources: every client writes every resource.
    Anyone,
    /// The caller's source.
    Source(SourceScope),
    /// The tenant declares sources and the caller is in none: it may read, not write.
    Unlisted,
}

impl Profile {
    /// Which source a caller (`Grant.client`) belongs to.
    pub fn source_of(&self, client: &str) -> Caller {
        if self.sources.is_empty() {
            return Caller::Anyone;
        }
        match self.sources.iter().find(|s| s.clients.iter().any(|c| c == client)) {
            Some(s) => Caller::Source(SourceScope { name: s.name.clone(), default: s.default }),
            None => Caller::Unlisted,
        }
    }

    pub(super) fn validate_sources(&self) -> Result<(), String> {
        if self.sources.len() > MAX_SOURCES {
            return Err(format!("sources: at most {MAX_SOURCES} sources, not {}", self.sources.len()));
        }
        let mut clients = std::collections::BTreeMap::new();
        for (i, s) in self.sources.iter().enumerate() {
            let valid = !s.name.is_empty()
                && s.name.len() <= 64
                && s.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(format!(
                    "sources: '{}' is not a source name (1 to 64 lower-case letters, digits and '-')",
                    s.name
                ));
            }
            if self.sources[..i].iter().any(|o| o.name == s.name) {
                return Err(format!("sources: '{}' is declared twice", s.name));
            }
            if s.clients.is_empty() {
                return Err(format!("sources: '{}' names no clients", s.name));
            }
            for c in &s.clients {
                if let Some(other) = clients.insert(c.as_str(), s.name.as_str()) {
                    return Err(format!("sources: client '{c}' is in both '{other}' and '{}'", s.name));
                }
            }
        }
        if self.sources.iter().filter(|s| s.default).count() > 1 {
            return Err("sources: at most one source is the default".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_is_found_in_its_source_and_declarations_are_checked() {
        let p = Profile::from_json(
            r#"{"sources": [{"name": "entra", "clients": ["c1"], "default": true},
                            {"name": "contractors", "clients": ["c2", "token:7"]}]}"#,
        )
        .unwrap();
        assert_eq!(p.source_of("c1"), Caller::Source(SourceScope { name: "entra".into(), default: true }));
        assert_eq!(p.source_of("token:7"), Caller::Source(SourceScope { name: "contractors".into(), default: false }));
        assert_eq!(p.source_of("c3"), Caller::Unlisted);
        assert_eq!(Profile::default().source_of("c1"), Caller::Anyone);
        let err = |text: &str| Profile::from_json(text).unwrap_err();
        assert!(err(r#"{"sources": [{"name": "Entra", "clients": ["c1"]}]}"#).contains("not a source name"));
        assert!(
            err(r#"{"sources": [{"name": "a", "clients": ["c1"]}, {"name": "a", "clients": ["c2"]}]}"#)
                .contains("declared twice")
        );
        assert!(
            err(r#"{"sources": [{"name": "a", "clients": ["c1"]}, {"name": "b", "clients": ["c1"]}]}"#)
                .contains("client 'c1' is in both 'a' and 'b'")
        );
        assert!(
            err(r#"{"sources": [{"name": "a", "clients": ["c1"], "default": true}, {"name": "b", "clients": ["c2"], "default": true}]}"#)
                .contains("at most one source is the default")
        );
        assert!(err(r#"{"sources": [{"name": "a", "clients": []}]}"#).contains("names no clients"));
        assert!(err(r#"{"sources": [{"name": "a", "client": ["c1"]}]}"#).contains("unknown field"));
    }
}
