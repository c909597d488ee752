-- Inquiry services (استعلام) agencies register (issue 18): what each asks and answers, in the
-- form standard, who may ask and for which services, its timeout and the cache time the agency
-- allows — the whole definition as JSON, checked by the app before it is stored. Each call is
-- logged in the audit chain (`exchange.inquiry`), found again by the application or consent it
-- named: hence the index on the log's target.
CREATE TABLE inquiry_services (
    code       TEXT    PRIMARY KEY,
    agency     TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX inquiry_services_agency ON inquiry_services (agency);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);
