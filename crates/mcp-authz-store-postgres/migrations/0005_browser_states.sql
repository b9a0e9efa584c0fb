-- SC-1: browser sessions, pending authorization requests and upstream logins, shared by every
-- instance. `key` is the SHA-256 of the id the browser holds; `value` is the server's own
-- serialization; `owner` bounds how many records one peer or session may hold. Unix seconds.
CREATE TABLE browser_states (
    kind       TEXT   NOT NULL,
    key        BYTEA  NOT NULL,
    owner      TEXT   NOT NULL,
    value      BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX browser_states_owner ON browser_states (kind, owner, expires_at);
CREATE INDEX browser_states_expiry ON browser_states (expires_at);
