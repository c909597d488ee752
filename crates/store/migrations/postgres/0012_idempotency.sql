-- Idempotency keys (issue 16): an agency system that times out and retries sends the same
-- `Idempotency-Key`; the first answer is kept here, written in the same transaction as the
-- filing or action it answers, so a retry finds it and nothing is done twice. `request_hash` is
-- the SHA-256 of the request (method, path, body): the same key with another request is refused.
-- Rows older than two days are swept. Instants are milliseconds since the epoch.
CREATE TABLE idempotency_keys (
    client       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    -- JSON: what the first request answered (a filing's code, state and deadline; an action's
    -- application).
    answer       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (client, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
