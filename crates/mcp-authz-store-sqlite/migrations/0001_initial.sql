-- mcp-authz SQLite schema, version 1.
--
-- Times are whole seconds since the Unix epoch (INTEGER). Codes and refresh tokens are keyed by the
-- 32-byte SHA-256 digest of the secret (BLOB): the secret itself is never stored. List-valued fields are
-- JSON arrays of strings (TEXT). Scopes are the space-delimited wire form ('' for the empty scope).

CREATE TABLE clients (
    client_id                  TEXT    NOT NULL PRIMARY KEY,
    kind                       TEXT    NOT NULL
        CHECK (kind IN ('dynamic', 'pre_registered', 'metadata_document')),
    fetched_at                 INTEGER,
    cache_expires_at           INTEGER,
    secret_hash                TEXT,
    secret_expires_at          INTEGER,
    redirect_uris              TEXT    NOT NULL,
    grant_types                TEXT    NOT NULL,
    token_endpoint_auth_method TEXT    NOT NULL,
    application_type           TEXT    NOT NULL,
    client_name                TEXT,
    allowed_resources          TEXT,
    allowed_scope              TEXT,
    metadata_json              TEXT    NOT NULL,
    created_at                 INTEGER NOT NULL,
    CHECK ((kind = 'metadata_document') = (fetched_at IS NOT NULL AND cache_expires_at IS NOT NULL))
);
CREATE INDEX clients_cache_expiry ON clients (cache_expires_at) WHERE kind = 'metadata_document';

CREATE TABLE grants (
    id             TEXT    NOT NULL PRIMARY KEY,
    client_id      TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    resources      TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX grants_client ON grants (client_id);
CREATE INDEX grants_subject ON grants (subject, created_at, id);
CREATE INDEX grants_expiry ON grants (expires_at);

CREATE TABLE codes (
    hash           BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    resources      TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    family_id      TEXT    NOT NULL,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    consumed_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX codes_client ON codes (client_id);
CREATE INDEX codes_subject ON codes (subject);
CREATE INDEX codes_expiry ON codes (expires_at);

CREATE TABLE refresh_tokens (
    hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    family_id  TEXT    NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);

CREATE TABLE consents (
    subject    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (subject, client_id)
) WITHOUT ROWID;

CREATE TABLE signing_keys (
    kid             TEXT    NOT NULL PRIMARY KEY,
    algorithm       TEXT    NOT NULL,
    private_key     BLOB    NOT NULL,
    public_jwk_json TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('published', 'active', 'retired')),
    retired_until   INTEGER,
    CHECK ((state = 'retired') = (retired_until IS NOT NULL))
);
-- At most one active key, on every process sharing the file.
CREATE UNIQUE INDEX one_active_key ON signing_keys (state) WHERE state = 'active';

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1))
);
