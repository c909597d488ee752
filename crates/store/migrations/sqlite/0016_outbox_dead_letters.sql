-- A job that failed its last allowed attempt is no longer retried: it waits, dead-lettered, for
-- someone to look at it and replay it (issue 18). Milliseconds since the epoch.
ALTER TABLE outbox ADD COLUMN dead_at INTEGER;
CREATE INDEX outbox_dead ON outbox (dead_at);
