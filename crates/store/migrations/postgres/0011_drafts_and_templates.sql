-- Drafts (issue 7): an application being filled, online by a citizen or at a counter by an
-- operator, kept between pages and visits until it is filed (then deleted). Answers are what the
-- person typed (form code → field → text), not yet checked; documents are files already in the
-- object store under drafts/, listed as JSON. Instants are milliseconds since the epoch.
CREATE TABLE application_drafts (
    id          TEXT    PRIMARY KEY,
    -- Who edits it: a citizen's or an operator's audit actor id.
    owner       TEXT    NOT NULL,
    service     TEXT    NOT NULL REFERENCES services (code),
    -- Whose application it will be.
    national_id TEXT    NOT NULL,
    -- At a counter: where, and the citizen's consent.
    centre      TEXT    REFERENCES centres (code),
    consent     TEXT,
    email       TEXT    NOT NULL DEFAULT '',
    answers     TEXT    NOT NULL,
    documents   TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (owner, service, national_id)
);
CREATE INDEX application_drafts_owner ON application_drafts (owner, updated_at);

-- The Persian texts of notifications, as the province's admins edited them; a key without a row
-- uses the built-in text.
CREATE TABLE notification_templates (
    key         TEXT    PRIMARY KEY,
    body        TEXT    NOT NULL,
    updated_by  TEXT    NOT NULL,
    updated_at  BIGINT NOT NULL
);
