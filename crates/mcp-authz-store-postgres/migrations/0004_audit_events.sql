-- OB-1: audit events, one row per security-relevant act. Never a token, code, secret or password:
-- only identifiers, scope, resources, the peer address, the outcome and a reason. Purged by age
-- (the retention setting), not by expiry. Times in Unix seconds.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    client_id TEXT,
    subject TEXT,
    username TEXT,
    scope TEXT NOT NULL,
    resources TEXT[] NOT NULL,
    peer TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_client ON audit_events (client_id, id);
CREATE INDEX audit_events_subject ON audit_events (subject, id);
