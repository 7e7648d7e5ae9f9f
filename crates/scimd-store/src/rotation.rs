//! The refresh-token rotation's decision, apart from the SQL that reads and writes the
//! tokens (`roles/oauth`): what a presented refresh token gets, from its stored state.
//! Both databases take the same decision, each inside the one transaction that also
//! writes its outcome (SQLite's writer thread; PostgreSQL's row lock on the token).

use crate::{RefreshGrant, Rotation};

/// What to do with a refresh token presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Answer this, and change nothing: no such token (or another client's), a revoked
    /// family, an expired token.
    Answer(Rotation),
    /// The token was spent already: a retry within the grace period gets the answer kept
    /// for it ([`spent`]); anything else is a replay, which revokes the whole family.
    Spent(RefreshGrant),
    /// The token is valid: spend it and store its successor in its family.
    Rotate(RefreshGrant),
}

/// The step for the stored token `grant` (if any) presented by client `client` at `now`
/// (a normalized time). A revoked family wins over a spent token, and a spent token over
/// an expired one: a replay of an expired token still revokes its family.
pub(crate) fn step(grant: Option<RefreshGrant>, client: i64, now: &str) -> Step {
    match grant {
        None => Step::Answer(Rotation::Unknown),
        Some(g) if g.client != client => Step::Answer(Rotation::Unknown),
        Some(g) if g.revoked => Step::Answer(Rotation::Revoked),
        Some(g) if g.used => Step::Spent(g),
        Some(g) if g.expires.as_str() <= now => Step::Answer(Rotation::Expired),
        Some(g) => Step::Rotate(g),
    }
}

/// The outcome for a spent token: the answer kept for a retry within the grace period
/// (`retry`, when its successor is still unused), else a replay.
pub(crate) fn spent(grant: RefreshGrant, retry: Option<Vec<u8>>) -> Rotation {
    match retry {
        Some(retry) => Rotation::Retried { grant, retry },
        None => Rotation::Replayed,
    }
}

/// The grant a rotation gives: the presented one's, with the new token's times.
pub(crate) fn rotated(grant: RefreshGrant, now: String, new_expires: String) -> Rotation {
    Rotation::Rotated(RefreshGrant { created: now, expires: new_expires, ..grant })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;

    const NOW: &str = "2026-01-01T00:00:00.000000000Z";
    const LATER: &str = "2026-01-02T00:00:00.000000000Z";

    fn grant() -> RefreshGrant {
        RefreshGrant {
            family: "f".into(),
            client: 7,
            client_id: "app".into(),
            tenant: TenantId(1),
            tenant_name: "acme".into(),
            username: None,
            scopes: vec!["scim".into()],
            created: NOW.into(),
            expires: LATER.into(),
            used: false,
            revoked: false,
        }
    }

    #[test]
    fn no_token_or_another_clients_is_unknown() {
        assert_eq!(step(None, 7, NOW), Step::Answer(Rotation::Unknown));
        assert_eq!(step(Some(grant()), 8, NOW), Step::Answer(Rotation::Unknown));
        // Even a revoked or spent token of another client says nothing more.
        let g = RefreshGrant { revoked: true, used: true, ..grant() };
        assert_eq!(step(Some(g), 8, NOW), Step::Answer(Rotation::Unknown));
    }

    #[test]
    fn revoked_wins_over_spent_and_spent_over_expired() {
        let g = RefreshGrant { revoked: true, used: true, expires: NOW.into(), ..grant() };
        assert_eq!(step(Some(g), 7, NOW), Step::Answer(Rotation::Revoked));
        let g = RefreshGrant { used: true, expires: NOW.into(), ..grant() };
        assert_eq!(step(Some(g.clone()), 7, LATER), Step::Spent(g));
    }

    #[test]
    fn a_token_expires_at_its_expiry() {
        assert_eq!(step(Some(grant()), 7, LATER), Step::Answer(Rotation::Expired));
        assert_eq!(step(Some(grant()), 7, NOW), Step::Rotate(grant()));
    }

    #[test]
    fn a_spent_token_is_a_retry_only_with_a_kept_answer() {
        let g = RefreshGrant { used: true, ..grant() };
        assert_eq!(spent(g.clone(), None), Rotation::Replayed);
        assert_eq!(spent(g.clone(), Some(vec![1])), Rotation::Retried { grant: g, retry: vec![1] });
    }

    #[test]
    fn a_rotation_gives_the_new_tokens_times() {
        let Rotation::Rotated(g) = rotated(grant(), LATER.into(), "2026-02-01T00:00:00.000000000Z".into()) else {
            panic!("rotated")
        };
        assert_eq!(
            (g.created.as_str(), g.expires.as_str(), g.family.as_str()),
            (LATER, "2026-02-01T00:00:00.000000000Z", "f")
        );
    }
}
