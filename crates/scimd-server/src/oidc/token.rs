//! The code exchange at the provider's token endpoint (RFC 6749 §4.1.3 with the PKCE
//! verifier of RFC 7636): a confidential client authenticates with HTTP Basic
//! (`client_secret_basic`, the method every provider supports), a public client names
//! itself in the form. Only the ID token of the answer is used.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::Value;

use super::provider::{Provider, read_json, unreachable};
use super::{ClientCreds, Exchange, OidcError, plain_code};

/// Exchanges the code; the raw ID token.
pub(super) async fn exchange(
    http: &reqwest::Client,
    provider: &Provider,
    client: &ClientCreds,
    exchange: &Exchange<'_>,
) -> Result<String, OidcError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", exchange.code),
        ("redirect_uri", exchange.redirect_uri),
        ("code_verifier", exchange.verifier),
    ];
    let mut request =
        http.post(provider.token_endpoint().clone()).header(ACCEPT, HeaderValue::from_static("application/json"));
    match &client.secret {
        Some(secret) => request = request.header(AUTHORIZATION, basic(&client.id, secret)?),
        None => form.push(("client_id", client.id.as_str())),
    }
    let response = request.form(&form).send().await.map_err(|e| unreachable(&e))?;
    let status = response.status();
    if status.is_success() {
        let body = read_json(response, "token answer").await?;
        return match body.get("id_token").and_then(Value::as_str) {
            Some(t) => Ok(t.to_string()),
            None => Err(OidcError::Provider("The identity provider answered without an ID token.".into())),
        };
    }
    // An OAuth error object when there is one (RFC 6749 §5.2).
    let error = match read_json(response, "token answer").await {
        Ok(body) => body.get("error").and_then(Value::as_str).map(String::from),
        Err(_) => None,
    };
    Err(match error.as_deref() {
        Some("invalid_grant") => OidcError::Refused(
            "The identity provider refused the sign-in code (invalid_grant): it may have expired or been used already; please sign in again."
                .into(),
        ),
        Some(e @ ("invalid_client" | "unauthorized_client")) => OidcError::Provider(format!(
            "The identity provider refused scimd's client ({e}); an administrator should check the client id and secret."
        )),
        None if status.as_u16() == 401 => OidcError::Provider(
            "The identity provider refused scimd's client (HTTP 401); an administrator should check the client id and secret."
                .into(),
        ),
        Some(e) => OidcError::Provider(format!("The identity provider refused the token request ({}).", plain_code(e))),
        None => OidcError::Provider(format!("The identity provider's token endpoint answered HTTP {}.", status.as_u16())),
    })
}

/// `Basic base64(id:secret)`, each form-encoded first as RFC 6749 §2.3.1 asks.
fn basic(id: &str, secret: &str) -> Result<HeaderValue, OidcError> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut value = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))))
        .map_err(|_| OidcError::Settings("The client id or secret cannot be sent.".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        let v = basic("portal app", "s3:cr/t+").unwrap();
        let decoded = STANDARD.decode(v.to_str().unwrap().strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "portal+app:s3%3Acr%2Ft%2B");
        assert!(v.is_sensitive());
    }
}
