-- Searches that found nothing (issue 17), counted so editors can add the synonyms people need.
-- Anonymous: the query's words as the analyzer reads them, how often, first and last time; never
-- who searched or from where. Each node counts in memory and adds its counts every heartbeat.
-- Instants are milliseconds since the epoch.
CREATE TABLE search_misses (
    query    TEXT    PRIMARY KEY,
    count    INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX search_misses_count ON search_misses (count);

-- Where a person finds each service centre (issue 17): its city, address, phone and opening hours,
-- shown on the portal beside the services it files.
ALTER TABLE centres ADD COLUMN city TEXT REFERENCES cities (code);
ALTER TABLE centres ADD COLUMN address_fa TEXT NOT NULL DEFAULT '';
ALTER TABLE centres ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE centres ADD COLUMN hours_fa TEXT NOT NULL DEFAULT '';

-- A reviewer who sends a card back to its editor says why: the note stays in the card's history.
ALTER TABLE service_history ADD COLUMN note TEXT NOT NULL DEFAULT '';
