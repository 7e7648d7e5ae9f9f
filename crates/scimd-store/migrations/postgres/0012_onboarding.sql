-- scimd PostgreSQL schema, version 12. Never edit once landed: add a new migration.
--
-- Onboarding: a customer first integrates against a tenant in the `integration` stage;
-- once its go-live check is approved, a `production` tenant is made from it, and each
-- names the other as its counterpart. Tenants that existed before stages are production.
ALTER TABLE tenants ADD COLUMN stage TEXT NOT NULL DEFAULT 'production';
ALTER TABLE tenants ADD COLUMN counterpart_id BIGINT REFERENCES tenants (id) ON DELETE SET NULL;
-- Where the tenant's credentials go: the API system user's email (its set-password link,
-- the client id) and the mobile number the client secret is texted to (E.164).
ALTER TABLE tenants ADD COLUMN contact_email TEXT;
ALTER TABLE tenants ADD COLUMN contact_mobile TEXT;

-- An API system user's pending set-password link: SHA-256 (hex) of its one-time token,
-- and when it expires; the email it was sent to.
ALTER TABLE api_users ADD COLUMN email TEXT;
ALTER TABLE api_users ADD COLUMN invite_hash TEXT;
ALTER TABLE api_users ADD COLUMN invite_expires TEXT;
CREATE UNIQUE INDEX api_users_invite ON api_users (invite_hash);

-- Every email and text message sent (or printed, with no relay configured), never with
-- its secret: `text` has each secret and link replaced by a placeholder.
CREATE TABLE message_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    -- `email` or `sms`.
    channel     TEXT NOT NULL,
    -- What it carried: `api-user-password`, `client-id`, `client-secret`,
    -- `system-user-invite`, `golive-approved`, `golive-rejected`.
    kind        TEXT NOT NULL,
    -- The address, or the mobile number masked.
    recipient   TEXT NOT NULL,
    -- `sent`, `failed` or `printed` (no relay configured: the operator was shown it).
    outcome     TEXT NOT NULL,
    -- Why it failed, or the gateway that took it.
    detail      TEXT,
    text        TEXT NOT NULL,
    sent        TEXT NOT NULL
);
CREATE INDEX message_log_tenant ON message_log (tenant_id, id);

-- A customer's test runs submitted for the go-live check, and the operator's decisions.
CREATE TABLE golive_submissions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The run's UTC window, [window_from, window_to).
    window_from   TEXT NOT NULL,
    window_to     TEXT NOT NULL,
    -- What the customer says its run did (JSON).
    claimed       TEXT NOT NULL,
    -- `report` (from `scimd sync --report`) or `typed`.
    source        TEXT NOT NULL,
    submitted_by  TEXT NOT NULL,
    submitted     TEXT NOT NULL,
    -- `submitted`, `approved` or `rejected`.
    state         TEXT NOT NULL DEFAULT 'submitted',
    -- What the audit trail says the window did, frozen when decided (JSON): the trail
    -- ages out, the decision stays explainable.
    computed      TEXT,
    decided_by    TEXT,
    decided       TEXT,
    feedback      TEXT,
    production_id BIGINT REFERENCES tenants (id) ON DELETE SET NULL
);
CREATE INDEX golive_submissions_tenant ON golive_submissions (tenant_id, id);
