-- mcp-authz PostgreSQL schema, version 1.
--
-- Times are whole seconds since the Unix epoch (BIGINT), always compared against the caller's `now`.
-- Identifiers use the "C" collation so that ORDER BY matches byte order on every server locale.
-- Codes and refresh tokens are stored only as their SHA-256 digests (BYTEA, 32 bytes).

CREATE TABLE clients (
    client_id                  TEXT COLLATE "C" PRIMARY KEY,
    kind                       TEXT NOT NULL
                               CHECK (kind IN ('dynamic', 'pre_registered', 'metadata_document')),
    fetched_at                 BIGINT,
    cache_expires_at           BIGINT,
    secret_hash                TEXT,
    secret_expires_at          BIGINT,
    redirect_uris              TEXT[] NOT NULL,
    grant_types                TEXT[] NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    application_type           TEXT NOT NULL,
    client_name                TEXT,
    allowed_resources          TEXT[],
    allowed_scope              TEXT,
    metadata_json              TEXT NOT NULL,
    created_at                 BIGINT NOT NULL,
    CHECK ((kind = 'metadata_document') = (fetched_at IS NOT NULL AND cache_expires_at IS NOT NULL))
);
CREATE INDEX clients_cache_expiry ON clients (cache_expires_at) WHERE kind = 'metadata_document';

CREATE TABLE codes (
    hash           BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
    client_id      TEXT COLLATE "C" NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    resources      TEXT[] NOT NULL,
    scope          TEXT NOT NULL,
    subject        TEXT COLLATE "C" NOT NULL,
    family_id      TEXT COLLATE "C" NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT
);
CREATE INDEX codes_client ON codes (client_id);
CREATE INDEX codes_subject ON codes (subject);
CREATE INDEX codes_expiry ON codes (expires_at);

CREATE TABLE grants (
    id             TEXT COLLATE "C" PRIMARY KEY,
    client_id      TEXT COLLATE "C" NOT NULL,
    subject        TEXT COLLATE "C" NOT NULL,
    scope          TEXT NOT NULL,
    resources      TEXT[] NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT
                   CHECK (revoked_reason IN ('code_replay', 'refresh_token_reuse', 'client', 'subject', 'requested')),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX grants_client ON grants (client_id);
CREATE INDEX grants_subject ON grants (subject, created_at, id);
CREATE INDEX grants_expiry ON grants (expires_at);

-- ON DELETE CASCADE is a safety net only: purge deletes a grant's tokens explicitly (to count them).
CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
    family_id  TEXT COLLATE "C" NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);

CREATE TABLE consents (
    subject    TEXT COLLATE "C" NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (subject, client_id)
);

CREATE TABLE signing_keys (
    kid             TEXT COLLATE "C" PRIMARY KEY,
    algorithm       TEXT NOT NULL,
    private_key     BYTEA NOT NULL,
    public_jwk_json TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('published', 'active', 'retired')),
    retired_until   BIGINT,
    CHECK ((state = 'retired') = (retired_until IS NOT NULL))
);
-- At most one active key, on every instance sharing the database.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE state = 'active';

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
);
