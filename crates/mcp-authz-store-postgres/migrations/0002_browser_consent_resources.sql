-- Remembered consents name the resources the user approved (REQUIREMENTS SEC-13). Consents stored
-- before this migration get none, so they cover no request and the user is asked again.
ALTER TABLE consents ADD COLUMN resources TEXT[] NOT NULL DEFAULT '{}';
