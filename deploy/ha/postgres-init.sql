-- Optional: create the KBS tables beforehand (the KBS creates missing tables
-- on first use when its role may). Same layout as upstream's Helm chart
-- (postgres-initkv.sql) plus trustee-c's expiry column, so upstream Trustee
-- and trustee-c can share the data.
CREATE TABLE IF NOT EXISTS kbs (value BYTEA, key TEXT PRIMARY KEY, expires_at BIGINT);
CREATE TABLE IF NOT EXISTS repository (value BYTEA, key TEXT PRIMARY KEY, expires_at BIGINT);
CREATE TABLE IF NOT EXISTS kbs_protocol_session (value BYTEA, key TEXT PRIMARY KEY, expires_at BIGINT);
CREATE TABLE IF NOT EXISTS attestation_service_policy (value BYTEA, key TEXT PRIMARY KEY, expires_at BIGINT);
CREATE TABLE IF NOT EXISTS reference_value (value BYTEA, key TEXT PRIMARY KEY, expires_at BIGINT);
-- Expired sessions are deleted by every replica's cleaner (every 60 s); this
-- index keeps that cheap.
CREATE INDEX IF NOT EXISTS kbs_protocol_session_expires ON kbs_protocol_session (expires_at);
