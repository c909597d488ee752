-- Applications (issue 7): one person's request for one service, carried through the workflow of
-- the card version it started with. The tracking code is the key. Jalali dates (deadlines) are
-- `YYYY/MM/DD` text; instants are milliseconds since the epoch.
CREATE TABLE applications (
    code            TEXT    PRIMARY KEY,
    service         TEXT    NOT NULL REFERENCES services (code),
    -- The card version (and so the workflow and the form) the application started with.
    service_version INTEGER NOT NULL,
    agency          TEXT    NOT NULL REFERENCES agencies (code),
    national_id     TEXT    NOT NULL,
    mobile          TEXT    NOT NULL,
    email           TEXT    NOT NULL DEFAULT '',
    -- online, centre, api
    channel         TEXT    NOT NULL,
    centre          TEXT    REFERENCES centres (code),
    -- Who filed it (an audit actor id) and, for a centre, the citizen's consent.
    filed_by        TEXT    NOT NULL,
    consent         TEXT,
    state           TEXT    NOT NULL,
    state_since     INTEGER NOT NULL,
    -- The day the current state's SLA ends; NULL when the state has none.
    deadline        TEXT,
    assignee        TEXT,
    escalated_at    INTEGER,
    -- granted, refused or withdrawn once a terminal state is reached.
    outcome         TEXT,
    -- The form answers, normalized, as JSON (form code → field → value).
    answers         TEXT    NOT NULL,
    fee_rials       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- Bumped on every change; an action names the revision it saw.
    revision        INTEGER NOT NULL
) STRICT;
CREATE INDEX applications_inbox ON applications (agency, outcome, deadline);
CREATE INDEX applications_person ON applications (national_id, created_at);
CREATE INDEX applications_centre ON applications (centre, created_at);

-- The history: the submission and every action, in order.
CREATE TABLE application_events (
    application TEXT    NOT NULL REFERENCES applications (code),
    seq         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    actor_role  TEXT    NOT NULL,
    comment     TEXT    NOT NULL,
    deadline    TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (application, seq)
) STRICT;

-- Files people attached; the bytes live in the object store under `object_key`.
CREATE TABLE application_documents (
    id           TEXT    PRIMARY KEY,
    application  TEXT    NOT NULL REFERENCES applications (code),
    event_seq    INTEGER NOT NULL,
    -- The card's required document it answers (its name), or '' for another attachment.
    requirement  TEXT    NOT NULL,
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    uploaded_by  TEXT    NOT NULL,
    at           INTEGER NOT NULL
) STRICT;
CREATE INDEX application_documents_of ON application_documents (application);

-- What must happen after a commit (notifications, deliveries to agency systems), written in the
-- same transaction as the change; workers claim due rows and retry with back-off.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    topic         TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    claimed_until INTEGER,
    done_at       INTEGER,
    last_error    TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (done_at, next_at);
