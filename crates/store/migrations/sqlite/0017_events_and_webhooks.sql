-- Events for agencies' systems (issue 18): what happened to an application, typed, kept in the
-- order it was committed. A system pulls its agency's events from a cursor
-- (`GET /api/v1/events?after=…`), and each registered webhook follows the same feed. On SQLite
-- one writer commits at a time, so ids are already in commit order and `tx` stays 0.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    tx         INTEGER NOT NULL DEFAULT 0,
    agency     TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_feed ON events (agency, tx, id);

-- One webhook per agency: where its events are sent, the secret they are signed with (sealed;
-- the previous one signs too until `previous_until`, so the agency can switch without a gap),
-- and how far along the feed deliveries have been queued (`cursor_tx`, `cursor_id`).
CREATE TABLE webhooks (
    agency          TEXT    PRIMARY KEY,
    url             TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    previous_secret TEXT,
    previous_until  INTEGER,
    cursor_tx       INTEGER NOT NULL DEFAULT 0,
    cursor_id       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
