//! The texts of the onboarding's messages, one function per message. Each is written
//! with its secret (a link, a client secret) given as an argument, so the same function
//! writes the text sent and, with a placeholder, the text the message log keeps.

use super::Letterhead;

/// An email's subject and text.
pub struct Text {
    pub subject: String,
    pub body: String,
}

fn signed(h: &Letterhead, body: String) -> String {
    let help = match &h.support_email {
        Some(s) => format!("\nQuestions: {s}\n"),
        None => String::new(),
    };
    format!("Hello,\n\n{body}\n{help}\n-- \n{}\n", h.product)
}

/// To the API system user's email: its username and the link that sets its password.
pub fn api_user_password(h: &Letterhead, tenant: &str, username: &str, expires: &str, link: &str) -> Text {
    Text {
        subject: format!("{}: set the password of your SCIM API user for {tenant}", h.product),
        body: signed(
            h,
            format!(
                "A SCIM API system user was made for {tenant}.\n\n\
                 Username: {username}\n\n\
                 Set its password with this link. It works once, until {expires} (UTC):\n\
                 {link}\n\n\
                 This user signs in to the SCIM API only (the OAuth password grant); it has no \
                 access to the website."
            ),
        ),
    }
}

/// Where a client connects: the client id and the URLs.
pub struct ClientFacts<'a> {
    pub tenant: &'a str,
    pub client_id: &'a str,
    pub grants: &'a str,
    pub scim_url: &'a str,
    pub token_url: &'a str,
    /// Where the secret goes (a masked mobile number), or that it is handed over apart.
    pub secret_to: &'a str,
}

/// To the API system user's email: the client id (the secret goes by text message).
pub fn client_id(h: &Letterhead, c: &ClientFacts<'_>) -> Text {
    Text {
        subject: format!("{}: your OAuth client for {}", h.product, c.tenant),
        body: signed(
            h,
            format!(
                "An OAuth client was made for {tenant}.\n\n\
                 Client id:     {id}\n\
                 Grants:        {grants}\n\
                 Token URL:     {token}\n\
                 SCIM base URL: {scim}\n\n\
                 The client secret is sent apart, by text message to {to}.",
                tenant = c.tenant,
                id = c.client_id,
                grants = c.grants,
                token = c.token_url,
                scim = c.scim_url,
                to = c.secret_to,
            ),
        ),
    }
}

/// The text message holding a client secret: short, ASCII.
pub fn client_secret(h: &Letterhead, tenant: &str, secret: &str) -> String {
    format!("{}: the client secret for {tenant} is {secret}", h.product)
}

/// To a system user: the link that sets their password for the website.
pub fn system_user_invite(h: &Letterhead, tenant: &str, expires: &str, link: &str) -> Text {
    Text {
        subject: format!("{}: your access to the website for {tenant}", h.product),
        body: signed(
            h,
            format!(
                "You were given access to the {product} website for {tenant}.\n\n\
                 Choose your password with this link. It works once, until {expires} (UTC):\n\
                 {link}",
                product = h.product
            ),
        ),
    }
}

/// The go-live check passed: production follows.
pub fn golive_approved(h: &Letterhead, tenant: &str, production: &str) -> Text {
    Text {
        subject: format!("{}: production access for {tenant} granted", h.product),
        body: signed(
            h,
            format!(
                "Your test run checked out: production access is granted.\n\n\
                 Production tenant: {production}\n\n\
                 Its credentials follow in separate messages, delivered as before. The \
                 integration tenant {tenant} stays available for your tests."
            ),
        ),
    }
}

/// The go-live check did not pass: the operator's feedback.
pub fn golive_rejected(h: &Letterhead, tenant: &str, window: &str, feedback: &str) -> Text {
    Text {
        subject: format!("{}: your go-live check for {tenant} needs another round", h.product),
        body: signed(
            h,
            format!(
                "We checked your test run ({window}) and it is not ready for production yet.\n\n\
                 Feedback:\n{feedback}\n\n\
                 Please correct it, run a new realistic test and submit it again."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_product_and_the_secret_only_where_given() {
        let h = Letterhead { product: "Lockers Inc".into(), support_email: Some("help@lockers.test".into()) };
        let t = api_user_password(&h, "acme", "svc@acme.test", "2026-12-08 10:00", "[link]");
        assert!(t.subject.starts_with("Lockers Inc:"), "{}", t.subject);
        assert!(t.body.contains("[link]") && t.body.contains("help@lockers.test"), "{}", t.body);
        let sms = client_secret(&h, "acme", "[secret]");
        assert!(sms.is_ascii() && sms.len() < 160, "{sms}");
    }
}
