-- Outputs (issue 19): what a person takes away when a workflow reaches its issuing state, and
-- the keys that sign them.
--
-- A signing key's public half, published at /api/v1/keys; its private half stays in the data
-- folder (signing.key, 0600). A key is never deleted: what it signed must stay checkable.
-- A revoked key's outputs show revoked.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT
);

-- An issued output. Never changed once written, except to record that it was revoked (with the
-- reason) or handed over at a centre. `payload` is the signed text the QR code carries; `code`
-- the short verification code people type; the PDF lives in document storage at `pdf_key`.
CREATE TABLE outputs (
    number TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    application TEXT NOT NULL REFERENCES applications(code),
    service TEXT NOT NULL,
    service_version INTEGER NOT NULL,
    agency TEXT NOT NULL,
    title TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    national_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    valid_until TEXT,
    key_id TEXT NOT NULL REFERENCES signing_keys(id),
    payload TEXT NOT NULL,
    pdf_key TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    revoked_by TEXT,
    handed_over_at INTEGER,
    handed_over_by TEXT
);
CREATE INDEX outputs_application ON outputs (application);

-- What the one taking an action wrote down (the workflow's asked fields), as JSON pairs.
ALTER TABLE application_events ADD COLUMN fields TEXT;
