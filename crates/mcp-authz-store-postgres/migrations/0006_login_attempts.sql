-- SC-1, SEC-19: counters of failed logins per account, shared by every instance so that the
-- account lockout holds across them. `key` is the SHA-256 of the case-folded account name (no name
-- in clear). Unix seconds.
CREATE TABLE login_attempts (
    key          BYTEA  PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure BIGINT NOT NULL
);
CREATE INDEX login_attempts_last_failure ON login_attempts (last_failure);
