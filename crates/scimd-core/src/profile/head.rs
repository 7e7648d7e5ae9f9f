//! The few settings of a stored profile that are read often and for many tenants at once
//! (the paths every request is routed by, the token endpoint's settings, the preset's
//! name), read without building and validating the whole profile. They are read here, next
//! to [`Profile`], so that the profile's format has one reader: a field renamed in
//! `Profile` is renamed here, and the test below holds the two readers to the same answers.

use serde::Deserialize;

use super::{Profile, RefreshExpiry, TypeEndpoint};

/// A stored profile's head: what [`Profile`] says of these settings, and nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ProfileHead {
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub base_paths: Vec<String>,
    #[serde(default)]
    pub token_path: Option<String>,
    #[serde(default)]
    pub grant_all_client_scopes: bool,
    #[serde(default)]
    pub token_http_status_code: bool,
    #[serde(default)]
    pub refresh_expiry: Option<RefreshExpiry>,
    #[serde(default)]
    pub opaque_access_tokens: bool,
    #[serde(default)]
    pub private_key_jwt_only: bool,
    /// The declared resource types' endpoints (every request is routed by them).
    #[serde(default)]
    pub resource_types: Vec<TypeEndpoint>,
}

impl ProfileHead {
    /// The head of a stored profile (JSON); `None` if it cannot be read (a stored profile
    /// was validated when it was set, so this is a damaged row: it sets nothing).
    pub fn from_json(text: &str) -> Option<ProfileHead> {
        serde_json::from_str(text).ok()
    }

    /// The head of a whole profile.
    pub fn of(p: &Profile) -> ProfileHead {
        ProfileHead {
            preset: p.preset.clone(),
            base_paths: p.base_paths.clone(),
            token_path: p.token_path.clone(),
            grant_all_client_scopes: p.grant_all_client_scopes,
            token_http_status_code: p.token_http_status_code,
            refresh_expiry: p.refresh_expiry,
            opaque_access_tokens: p.opaque_access_tokens,
            private_key_jwt_only: p.private_key_jwt_only,
            resource_types: p.resource_types.iter().map(|t| TypeEndpoint { endpoint: t.endpoint.clone() }).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_reads_what_the_whole_profile_says() {
        let texts = [
            r#"{}"#,
            r#"{"preset": "x", "base_paths": ["/api", "/v1"], "token_path": "/t", "grant_all_client_scopes": true,
                "token_http_status_code": true, "refresh_expiry": "absolute", "opaque_access_tokens": true,
                "delete_deactivates": true, "private_key_jwt_only": true,
                "resource_types": [{"name": "Role", "endpoint": "/Roles", "schema": "urn:okta:scim:schemas:core:1.0:Role"}]}"#,
            r#"{"refresh_expiry": "sliding", "users": {"patch": false}}"#,
        ];
        for text in texts {
            let whole = Profile::from_json(text).unwrap();
            assert_eq!(ProfileHead::from_json(text), Some(ProfileHead::of(&whole)), "{text}");
        }
        assert_eq!(ProfileHead::from_json("not json"), None);
    }
}
