-- Every running Pishkhan process (node) registers itself and keeps a heartbeat, so an operator can
-- see which nodes serve a province's database. Instants are milliseconds since the Unix epoch, UTC,
-- as INTEGER on SQLite and BIGINT on PostgreSQL: one representation that compares and sorts the same
-- on both backends.
CREATE TABLE nodes (
    id           TEXT   PRIMARY KEY,
    hostname     TEXT   NOT NULL,
    listen       TEXT   NOT NULL,
    version      TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    stopped_at   BIGINT
);

CREATE INDEX nodes_last_seen_at ON nodes (last_seen_at);
