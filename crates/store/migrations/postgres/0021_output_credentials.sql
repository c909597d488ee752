-- Outputs as Verifiable Credentials (issue 19): what the output printed, kept to say it again in
-- the credential; its entry in the revocation status list; and who supplied its PDF when the
-- agency's own system issued it (NULL when Pishkhan typeset it).
--
-- `fields` is JSON: [[label, value], ...], in the order printed.
-- `status_index` is the output's entry in the Bitstring Status List (/api/v1/status/{list}):
-- list = index / 131072. A sequence numbers them, so concurrent issues never share one.
ALTER TABLE outputs ADD COLUMN fields TEXT;
ALTER TABLE outputs ADD COLUMN supplied_by TEXT;
CREATE SEQUENCE output_status_index MINVALUE 0 START 0;
ALTER TABLE outputs ADD COLUMN status_index BIGINT NOT NULL DEFAULT nextval('output_status_index');
ALTER SEQUENCE output_status_index OWNED BY outputs.status_index;
CREATE UNIQUE INDEX outputs_status_index ON outputs (status_index);
