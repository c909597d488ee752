-- Outputs as Verifiable Credentials (issue 19): what the output printed, kept to say it again in
-- the credential; its entry in the revocation status list; and who supplied its PDF when the
-- agency's own system issued it (NULL when Pishkhan typeset it).
--
-- `fields` is JSON: [[label, value], ...], in the order printed.
-- `status_index` is the output's entry in the Bitstring Status List (/api/v1/status/{list}):
-- list = index / 131072. Numbered in order at insert; SQLite has one writer at a time, so the
-- trigger's MAX + 1 cannot race (PostgreSQL uses a sequence).
ALTER TABLE outputs ADD COLUMN fields TEXT;
ALTER TABLE outputs ADD COLUMN supplied_by TEXT;
ALTER TABLE outputs ADD COLUMN status_index INTEGER;
UPDATE outputs SET status_index = rowid - 1;
CREATE UNIQUE INDEX outputs_status_index ON outputs (status_index);
CREATE TRIGGER outputs_status_index AFTER INSERT ON outputs WHEN NEW.status_index IS NULL
BEGIN
    UPDATE outputs SET status_index = (SELECT COALESCE(MAX(status_index), -1) + 1 FROM outputs)
    WHERE number = NEW.number;
END;
