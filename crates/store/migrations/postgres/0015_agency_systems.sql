-- API tokens of agencies' systems (issue 18): a public id to name a token by (the first twelve
-- characters of its hash; the token itself is never stored), when it was last used, and when it
-- stops working: set when the token is rotated (the old one keeps working for the overlap the
-- admin chose) or revoked (at once). Instants are milliseconds since the epoch.
ALTER TABLE api_tokens ADD COLUMN id TEXT;
UPDATE api_tokens SET id = substr(token_hash, 1, 12);
CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;

-- An agency system lists its agency's applications by when they last changed, page by page
-- (`GET /api/v1/applications?changed_after=…`): in that order, from a cursor.
CREATE INDEX applications_changed ON applications (agency, updated_at, code);
