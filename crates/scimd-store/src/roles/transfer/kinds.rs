//! The kinds of rows carried by export and import, in the order an import writes them
//! (what a row refers to before it): for each, its columns, the statement reading them by
//! natural keys, its position (the key pages are read by) and the statement writing a row
//! back. See the parent module for how they are run.

use super::{KindSql, Scope, Special};
use crate::transfer::{Kind, Owner, Ty};

const T: Ty = Ty::Text;
const I: Ty = Ty::Int;
const B: Ty = Ty::Bool;
const BY: Ty = Ty::Bytes;
const R: Ty = Ty::Real;

macro_rules! kind {
    ($name:literal, $owner:ident, [$(($col:literal, $ty:ident)),* $(,)?], $sql:expr) => {
        Kind { name: $name, owner: Owner::$owner, columns: &[$(($col, $ty)),*], sql: $sql }
    };
}

pub(super) static KINDS: [Kind; 29] = [
    kind!(
        "tenant",
        Tenant,
        [
            ("name", T),
            ("created", T),
            ("scim_enabled", B),
            ("audit_details", I),
            ("audit_events_days", I),
            ("audit_details_days", I),
            ("profile", T),
            ("places_gen", I),
            ("places_done", I),
            ("stage", T),
            ("counterpart", T),
            ("contact_email", T),
            ("contact_mobile", T),
        ],
        KindSql {
            cols: "t.name, t.created, t.scim_enabled, t.audit_details, t.audit_events_days, t.audit_details_days, \
                   t.profile, t.places_gen, t.places_done, t.stage, c.name, t.contact_email, t.contact_mobile",
            from: "tenants t LEFT JOIN tenants c ON c.id = t.counterpart_id",
            scope: Scope::Tenant,
            order: &[("t.id", I)],
            insert: "INSERT INTO tenants (name, created, scim_enabled, audit_details, audit_events_days, \
                     audit_details_days, profile, places_gen, places_done, stage, contact_email, contact_mobile) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12],
            // A counterpart outside the import is left unlinked.
            links: Some((
                "UPDATE tenants SET counterpart_id = (SELECT id FROM tenants WHERE name = ?) WHERE name = ?",
                &[10, 0],
            )),
            special: Special::None,
        }
    ),
    kind!(
        "place",
        Tenant,
        [
            ("tenant", T),
            ("level", I),
            ("key", T),
            ("name", T),
            ("parent_level", I),
            ("parent_key", T),
            ("rules", T),
            ("created", T),
            ("last_modified", T),
        ],
        KindSql {
            cols: "t.name, p.level, p.key, p.name, q.level, q.key, p.rules, p.created, p.last_modified",
            from: "places p JOIN tenants t ON t.id = p.tenant_id LEFT JOIN places q ON q.id = p.parent_id",
            scope: Scope::Tenant,
            // A parent is of a level above its children's: parents come first.
            order: &[("p.level", I), ("p.key", T)],
            insert: "INSERT INTO places (tenant_id, level, key, name, parent_id, rules, created, last_modified) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, (SELECT q.id FROM places q JOIN \
                     tenants t ON t.id = q.tenant_id WHERE t.name = ? AND q.level = ? AND q.key = ?), ?, ?, ?)",
            params: &[0, 1, 2, 3, 0, 4, 5, 6, 7, 8],
            links: None,
            special: Special::None,
        }
    ),
    // Before the resources: a declared type's rows are stored under its code.
    kind!(
        "type_code",
        Tenant,
        [("tenant", T), ("name", T), ("code", I)],
        KindSql {
            cols: "t.name, c.name, c.code",
            from: "type_codes c JOIN tenants t ON t.id = c.tenant_id",
            scope: Scope::Tenant,
            order: &[("c.tenant_id", I), ("c.name", T)],
            insert: "INSERT INTO type_codes (tenant_id, name, code) VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?)",
            params: &[0, 1, 2],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "resource",
        Tenant,
        [
            ("tenant", T),
            ("rtype", I),
            ("id", T),
            ("version", I),
            ("created", T),
            ("last_modified", T),
            ("unique_key", T),
            ("display", T),
            ("display_fold", T),
            ("password_hash", T),
            ("derived_gen", I),
            ("data", T),
            ("source", T),
        ],
        KindSql {
            cols: "t.name, r.rtype, r.scim_id, r.version, r.created, r.last_modified, r.unique_key, r.display, \
                   r.display_fold, r.password_hash, r.derived_gen, r.data, r.source",
            from: "resources r JOIN tenants t ON t.id = r.tenant_id",
            scope: Scope::Tenant,
            order: &[("r.rtype", I), ("r.scim_id", T)],
            insert: "INSERT INTO resources (tenant_id, rtype, scim_id, version, created, last_modified, unique_key, \
                     display, display_fold, password_hash, derived_gen, data, source) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            links: None,
            special: Special::Resource,
        }
    ),
    kind!(
        "member",
        Tenant,
        [("tenant", T), ("group", T), ("member_rtype", I), ("member", T), ("origins", I)],
        KindSql {
            cols: "t.name, g.scim_id, m.rtype, m.scim_id, x.origins",
            from: "members x JOIN tenants t ON t.id = x.tenant_id JOIN resources g ON g.id = x.group_id \
                   JOIN resources m ON m.id = x.member_id",
            scope: Scope::Tenant,
            order: &[("g.scim_id", T), ("m.rtype", I), ("m.scim_id", T)],
            insert: "INSERT INTO members (group_id, member_id, tenant_id, origins) VALUES (\
                     (SELECT r.id FROM resources r JOIN tenants t ON t.id = r.tenant_id WHERE t.name = ? AND r.rtype = 2 \
                     AND r.scim_id = ?), (SELECT r.id FROM resources r JOIN tenants t ON t.id = r.tenant_id WHERE \
                     t.name = ? AND r.rtype = ? AND r.scim_id = ?), (SELECT id FROM tenants WHERE name = ?), ?)",
            params: &[0, 1, 0, 2, 3, 0, 4],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "access_link",
        Tenant,
        [("tenant", T), ("group", T), ("place_level", I), ("place_key", T), ("created", T)],
        KindSql {
            cols: "t.name, g.scim_id, p.level, p.key, a.created",
            from: "access_links a JOIN tenants t ON t.id = a.tenant_id JOIN resources g ON g.id = a.group_id \
                   JOIN places p ON p.id = a.place_id",
            scope: Scope::Tenant,
            order: &[("g.scim_id", T), ("p.level", I), ("p.key", T)],
            insert: "INSERT INTO access_links (group_id, place_id, tenant_id, created) VALUES (\
                     (SELECT r.id FROM resources r JOIN tenants t ON t.id = r.tenant_id WHERE t.name = ? AND r.rtype = 2 \
                     AND r.scim_id = ?), (SELECT p.id FROM places p JOIN tenants t ON t.id = p.tenant_id WHERE \
                     t.name = ? AND p.level = ? AND p.key = ?), (SELECT id FROM tenants WHERE name = ?), ?)",
            params: &[0, 1, 0, 2, 3, 0, 4],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "api_token",
        Tenant,
        [("tenant", T), ("hash", BY), ("created", T), ("expires", T), ("revoked", T)],
        KindSql {
            cols: "t.name, a.hash, a.created, a.expires, a.revoked",
            from: "api_tokens a JOIN tenants t ON t.id = a.tenant_id",
            scope: Scope::Tenant,
            order: &[("a.hash", BY)],
            insert: "INSERT INTO api_tokens (tenant_id, hash, created, expires, revoked) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "api_user",
        Tenant,
        [
            ("tenant", T),
            ("username", T),
            ("password_hash", T),
            ("created", T),
            ("disabled", T),
            ("email", T),
            ("invite_hash", T),
            ("invite_expires", T),
        ],
        KindSql {
            cols: "t.name, u.username, u.password_hash, u.created, u.disabled, u.email, u.invite_hash, u.invite_expires",
            from: "api_users u JOIN tenants t ON t.id = u.tenant_id",
            scope: Scope::Tenant,
            order: &[("u.username", T)],
            insert: "INSERT INTO api_users (tenant_id, username, password_hash, created, disabled, email, invite_hash, \
                     invite_expires) VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "oauth_client",
        Shared,
        [
            ("client_id", T),
            ("grant_types", T),
            ("scopes", T),
            ("access_ttl", I),
            ("refresh_ttl", I),
            ("created", T),
            ("disabled", T),
            ("refresh_expiry", T),
        ],
        KindSql {
            cols: "c.client_id, c.grant_types, c.scopes, c.access_ttl, c.refresh_ttl, c.created, c.disabled, \
                   c.refresh_expiry",
            from: "oauth_clients c",
            scope: Scope::Shared(CLIENT_OF),
            order: &[("c.client_id", T)],
            insert: "INSERT INTO oauth_clients (client_id, grant_types, scopes, access_ttl, refresh_ttl, created, \
                     disabled, refresh_expiry) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "client_secret",
        Shared,
        [("client_id", T), ("hash", T), ("created", T), ("expires", T), ("revoked", T)],
        KindSql {
            cols: "c.client_id, s.hash, s.created, s.expires, s.revoked",
            from: "client_secrets s JOIN oauth_clients c ON c.id = s.client",
            scope: Scope::Shared(CLIENT_OF),
            order: &[("c.client_id", T), ("s.id", I)],
            insert: "INSERT INTO client_secrets (client, hash, created, expires, revoked) \
                     VALUES ((SELECT id FROM oauth_clients WHERE client_id = ?), ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "client_tenant",
        Tenant,
        [("tenant", T), ("client_id", T)],
        KindSql {
            cols: "t.name, c.client_id",
            from: "client_tenants x JOIN tenants t ON t.id = x.tenant_id JOIN oauth_clients c ON c.id = x.client",
            scope: Scope::Tenant,
            order: &[("c.client_id", T)],
            insert: "INSERT INTO client_tenants (client, tenant_id) \
                     VALUES ((SELECT id FROM oauth_clients WHERE client_id = ?), (SELECT id FROM tenants WHERE name = ?))",
            params: &[1, 0],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "federation_trust",
        Tenant,
        [
            ("tenant", T),
            ("name", T),
            ("issuer", T),
            ("jwks_uri", T),
            ("audiences", T),
            ("subjects", T),
            ("claims", T),
            ("scopes", T),
            ("accept_bearer", B),
            ("created", T),
        ],
        KindSql {
            cols: "t.name, f.name, f.issuer, f.jwks_uri, f.audiences, f.subjects, f.claims, f.scopes, \
                   f.accept_bearer, f.created",
            from: "federation_trusts f JOIN tenants t ON t.id = f.tenant_id",
            scope: Scope::Tenant,
            order: &[("t.name", T), ("f.name", T)],
            insert: "INSERT INTO federation_trusts (tenant_id, name, issuer, jwks_uri, audiences, subjects, claims, \
                     scopes, accept_bearer, created) VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, \
                     ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            links: None,
            special: Special::None,
        }
    ),
    // How a client authenticates beyond a secret (private_key_jwt), for the clients that
    // do: written onto the client row, its trust's tenant by name.
    kind!(
        "client_keys",
        Shared,
        [("client_id", T), ("auth_method", T), ("jwks", T), ("jwks_uri", T), ("trust_tenant", T), ("trust_name", T)],
        KindSql {
            cols: "c.client_id, c.auth_method, c.jwks, c.jwks_uri, k.name, c.trust_name",
            from: "(SELECT * FROM oauth_clients WHERE auth_method IS NOT NULL) c LEFT JOIN tenants k ON k.id = c.trust_tenant",
            scope: Scope::Shared(CLIENT_OF),
            order: &[("c.client_id", T)],
            insert: "UPDATE oauth_clients SET auth_method = ?, jwks = ?, jwks_uri = ?, \
                     trust_tenant = (SELECT id FROM tenants WHERE name = ?), trust_name = ? WHERE client_id = ?",
            params: &[1, 2, 3, 4, 5, 0],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "admin_token",
        Deployment,
        [("hash", BY), ("created", T), ("expires", T), ("revoked", T)],
        KindSql {
            cols: "a.hash, a.created, a.expires, a.revoked",
            from: "admin_tokens a",
            scope: Scope::Deployment,
            order: &[("a.hash", BY)],
            insert: "INSERT INTO admin_tokens (hash, created, expires, revoked) VALUES (?, ?, ?, ?)",
            params: &[0, 1, 2, 3],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "signing_key",
        Deployment,
        [("kid", T), ("seed", BY), ("created", T), ("retired", T)],
        KindSql {
            cols: "k.kid, k.seed, k.created, k.retired",
            from: "signing_keys k",
            scope: Scope::Deployment,
            order: &[("k.kid", T)],
            insert: "INSERT INTO signing_keys (kid, seed, created, retired) VALUES (?, ?, ?, ?)",
            params: &[0, 1, 2, 3],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "server_secret",
        Deployment,
        [("name", T), ("value", BY), ("created", T)],
        KindSql {
            cols: "s.name, s.value, s.created",
            from: "server_secrets s",
            scope: Scope::Deployment,
            order: &[("s.name", T)],
            insert: "INSERT INTO server_secrets (name, value, created) VALUES (?, ?, ?)",
            params: &[0, 1, 2],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "revoked_grant",
        Deployment,
        [("id", T), ("expires", T)],
        KindSql {
            cols: "g.id, g.expires",
            from: "revoked_grants g",
            scope: Scope::Deployment,
            order: &[("g.id", T)],
            insert: "INSERT INTO revoked_grants (id, expires) VALUES (?, ?)",
            params: &[0, 1],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "portal_operator",
        Deployment,
        [
            ("username", T),
            ("password_hash", T),
            ("totp_seed", T),
            ("totp_confirmed", B),
            ("totp_last_step", I),
            ("disabled", B),
            ("created", T),
        ],
        KindSql {
            cols: "o.username, o.password_hash, o.totp_seed, o.totp_confirmed, o.totp_last_step, o.disabled, o.created",
            from: "portal_operators o",
            scope: Scope::Deployment,
            order: &[("o.username", T)],
            insert: "INSERT INTO portal_operators (username, password_hash, totp_seed, totp_confirmed, totp_last_step, \
                     disabled, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "portal_user",
        Tenant,
        [
            ("tenant", T),
            ("email", T),
            ("password_hash", T),
            ("invite_hash", T),
            ("invite_expires", T),
            ("sso_subject", T),
            ("disabled", B),
            ("created_by", T),
            ("created", T),
        ],
        KindSql {
            cols: "t.name, u.email, u.password_hash, u.invite_hash, u.invite_expires, u.sso_subject, u.disabled, \
                   u.created_by, u.created",
            from: "portal_users u JOIN tenants t ON t.id = u.tenant_id",
            scope: Scope::Tenant,
            order: &[("u.email", T)],
            insert: "INSERT INTO portal_users (tenant_id, email, password_hash, invite_hash, invite_expires, \
                     sso_subject, disabled, created_by, created) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "portal_sso",
        Tenant,
        [
            ("tenant", T),
            ("issuer", T),
            ("client_id", T),
            ("client_secret", T),
            ("allowed_domains", T),
            ("allowed_groups", T),
            ("updated", T),
        ],
        KindSql {
            cols: "t.name, s.issuer, s.client_id, s.client_secret, s.allowed_domains, s.allowed_groups, s.updated",
            from: "portal_sso s JOIN tenants t ON t.id = s.tenant_id",
            scope: Scope::Tenant,
            order: &[("s.tenant_id", I)],
            insert: "INSERT INTO portal_sso (tenant_id, issuer, client_id, client_secret, allowed_domains, \
                     allowed_groups, updated) VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "event_counter",
        Tenant,
        [("tenant", T), ("last_seq", I), ("full_form", B)],
        KindSql {
            cols: "t.name, e.last_seq, e.full_form",
            from: "event_counters e JOIN tenants t ON t.id = e.tenant_id",
            scope: Scope::Tenant,
            order: &[("e.tenant_id", I)],
            insert: "INSERT INTO event_counters (tenant_id, last_seq, full_form) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?)",
            params: &[0, 1, 2],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "event_stream",
        Tenant,
        [
            ("tenant", T),
            ("id", T),
            ("method", T),
            ("url", T),
            ("audience", T),
            ("full_form", B),
            ("kinds", T),
            ("events", T),
            ("secret", T),
            ("token_hash", T),
            ("paused", B),
            ("done_seq", I),
            ("next_attempt", I),
            ("attempts", I),
            ("failing_since", I),
            ("last_error", T),
            ("delivered", I),
            ("rejected", I),
            ("dropped", I),
            ("created", T),
            ("updated", T),
        ],
        KindSql {
            // Leases are not carried: the target's delivery takes the stream up afresh.
            cols: "t.name, s.id, s.method, s.url, s.audience, s.full_form, s.kinds, s.events, s.secret, s.token_hash, \
                   s.paused, s.done_seq, s.next_attempt, s.attempts, s.failing_since, s.last_error, s.delivered, \
                   s.rejected, s.dropped, s.created, s.updated",
            from: "event_streams s JOIN tenants t ON t.id = s.tenant_id",
            scope: Scope::Tenant,
            order: &[("s.id", T)],
            insert: "INSERT INTO event_streams (tenant_id, id, method, url, audience, full_form, kinds, events, \
                     secret, token_hash, paused, done_seq, next_attempt, attempts, failing_since, last_error, \
                     delivered, rejected, dropped, created, updated) VALUES ((SELECT id FROM tenants WHERE name = ?), \
                     ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "event",
        Tenant,
        [
            ("tenant", T),
            ("seq", I),
            ("jti", T),
            ("time_ms", I),
            ("rtype", I),
            ("scim_id", T),
            ("external_id", T),
            ("version", I),
            ("event", T),
            ("payload", T),
            ("txn", T),
            ("data", T),
            ("created", T),
        ],
        KindSql {
            cols: "t.name, e.seq, e.jti, e.time_ms, e.rtype, e.scim_id, e.external_id, e.version, e.event, e.payload, \
                   e.txn, e.data, e.created",
            from: "events e JOIN tenants t ON t.id = e.tenant_id",
            scope: Scope::Tenant,
            order: &[("e.seq", I)],
            insert: "INSERT INTO events (tenant_id, seq, jti, time_ms, rtype, scim_id, external_id, version, event, \
                     payload, txn, data, created) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "event_ack",
        Tenant,
        [("tenant", T), ("stream", T), ("seq", I)],
        KindSql {
            cols: "t.name, a.stream_id, a.seq",
            from: "event_acks a JOIN event_streams s ON s.id = a.stream_id JOIN tenants t ON t.id = s.tenant_id",
            scope: Scope::Tenant,
            order: &[("a.stream_id", T), ("a.seq", I)],
            insert: "INSERT INTO event_acks (stream_id, seq) VALUES (?, ?)",
            params: &[1, 2],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "user_name_issue",
        Tenant,
        [
            ("tenant", T),
            ("user_id", T),
            ("user_name", T),
            ("kept_key", T),
            ("other_id", T),
            ("problem", T),
            ("found", T),
        ],
        KindSql {
            cols: "t.name, u.user_id, u.user_name, u.kept_key, u.other_id, u.problem, u.found",
            from: "user_name_issues u JOIN tenants t ON t.id = u.tenant_id",
            scope: Scope::Tenant,
            order: &[("u.user_id", T)],
            insert: "INSERT INTO user_name_issues (tenant_id, user_id, user_name, kept_key, other_id, problem, found) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "golive_submission",
        Tenant,
        [
            ("tenant", T),
            ("window_from", T),
            ("window_to", T),
            ("claimed", T),
            ("source", T),
            ("submitted_by", T),
            ("submitted", T),
            ("state", T),
            ("computed", T),
            ("decided_by", T),
            ("decided", T),
            ("feedback", T),
            ("production", T),
        ],
        KindSql {
            cols: "t.name, g.window_from, g.window_to, g.claimed, g.source, g.submitted_by, g.submitted, g.state, \
                   g.computed, g.decided_by, g.decided, g.feedback, p.name",
            from: "golive_submissions g JOIN tenants t ON t.id = g.tenant_id LEFT JOIN tenants p ON p.id = g.production_id",
            scope: Scope::Tenant,
            order: &[("g.id", I)],
            insert: "INSERT INTO golive_submissions (tenant_id, window_from, window_to, claimed, source, submitted_by, \
                     submitted, state, computed, decided_by, decided, feedback, production_id) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
                     (SELECT id FROM tenants WHERE name = ?))",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "message",
        Shared,
        [
            ("tenant", T),
            ("channel", T),
            ("kind", T),
            ("recipient", T),
            ("outcome", T),
            ("detail", T),
            ("text", T),
            ("sent", T),
        ],
        KindSql {
            cols: "t.name, m.channel, m.kind, m.recipient, m.outcome, m.detail, m.text, m.sent",
            from: "message_log m LEFT JOIN tenants t ON t.id = m.tenant_id",
            scope: Scope::Shared(TENANT_IN),
            order: &[("m.id", I)],
            insert: "INSERT INTO message_log (tenant_id, channel, kind, recipient, outcome, detail, text, sent) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6, 7],
            links: None,
            special: Special::None,
        }
    ),
    kind!(
        "audit_event",
        Shared,
        [
            ("tenant", T),
            ("time", I),
            ("request_id", T),
            ("client", T),
            ("method", T),
            ("path", T),
            ("rtype", T),
            ("resource_id", T),
            ("op", T),
            ("status", I),
            ("scim_type", T),
            ("duration_ms", R),
            ("deactivated", B),
            ("client_request_id", T),
            ("request_headers", T),
            ("request_body", T),
            ("response_headers", T),
            ("response_body", T),
        ],
        KindSql {
            cols: "t.name, e.time, e.request_id, e.client, e.method, e.path, e.rtype, e.resource_id, e.op, e.status, \
                   e.scim_type, e.duration_ms, e.deactivated, e.client_request_id, d.request_headers, d.request_body, \
                   d.response_headers, d.response_body",
            from: "{events} e LEFT JOIN tenants t ON t.id = e.tenant_id LEFT JOIN {audit}api_event_details d \
                   ON d.event = e.id",
            scope: Scope::Shared(TENANT_IN),
            order: &[("e.id", I)],
            // An event without a tenant is stored with tenant 0 (`TenantId::NONE`).
            insert: "INSERT INTO {audit}api_events (tenant_id, time, request_id, client, method, path, rtype, \
                     resource_id, op, status, scim_type, duration_ms, deactivated, client_request_id{id}) VALUES \
                     (coalesce((SELECT id FROM tenants WHERE name = ?), 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{idp})\
                     {returning}",
            params: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
            links: None,
            special: Special::AuditEvent,
        }
    ),
    kind!(
        "error",
        Shared,
        [("tenant", T), ("time", T), ("request_id", T), ("method", T), ("path", T), ("detail", T), ("backtrace", T),],
        KindSql {
            cols: "t.name, e.time, e.request_id, e.method, e.path, e.detail, e.backtrace",
            from: "{audit}error_log e LEFT JOIN tenants t ON t.id = e.tenant_id",
            scope: Scope::Shared(TENANT_IN),
            order: &[("e.id", I)],
            insert: "INSERT INTO {audit}error_log (tenant_id, time, request_id, method, path, detail, backtrace) \
                     VALUES ((SELECT id FROM tenants WHERE name = ?), ?, ?, ?, ?, ?, ?)",
            params: &[0, 1, 2, 3, 4, 5, 6],
            links: None,
            special: Special::None,
        }
    ),
];

/// Clients serving one of the tenants named.
const CLIENT_OF: &str =
    "c.id IN (SELECT ct.client FROM client_tenants ct JOIN tenants tt ON tt.id = ct.tenant_id WHERE tt.name {in})";
/// Rows of one of the tenants named.
const TENANT_IN: &str = "t.name {in}";
