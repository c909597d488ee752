-- Once only (issue 18): a document Pishkhan fetched from an agency's inquiry service, with the
-- person's consent, instead of a scan. `provenance` names where it came from (JSON: the inquiry,
-- its agency, the call's id in the exchange log, the log entry's target); the document's bytes
-- are the agency's answer as received, so its SHA-256 is the one the log entry holds. Empty for
-- an uploaded file.
ALTER TABLE application_documents ADD COLUMN provenance TEXT;
