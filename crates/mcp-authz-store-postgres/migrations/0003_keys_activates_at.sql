-- SEC-15: a new signing key is published before it signs. A published key with `activates_at`
-- becomes the active key once that time has passed (the server activates it); NULL: only when
-- activated explicitly. Unix seconds.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;
