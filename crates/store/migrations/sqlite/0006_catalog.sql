-- The catalogue (issue 5): service cards and forms, every version kept. A version's body is the
-- card or form as JSON (crates/domain: catalog::ServiceCard, forms::FormSchema); the columns
-- beside it are what lists and filters need. Each row of services/forms says which version is
-- the latest and which one the public sees.
CREATE TABLE services (
    code              TEXT    PRIMARY KEY,
    agency            TEXT    NOT NULL REFERENCES agencies (code),
    latest_version    INTEGER NOT NULL,
    -- draft, review, published, retired: the state of the latest version.
    status            TEXT    NOT NULL,
    -- The version the portal and the API show; NULL until first published, and after retiring.
    published_version INTEGER,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE service_versions (
    code       TEXT    NOT NULL REFERENCES services (code),
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    title_fa   TEXT    NOT NULL,
    category   TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (code, version)
) STRICT;

-- Every change of state (saved, sent for review, published, retired), by whom and when.
CREATE TABLE service_history (
    id      INTEGER PRIMARY KEY,
    code    TEXT    NOT NULL REFERENCES services (code),
    version INTEGER NOT NULL,
    event   TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX service_history_code ON service_history (code, id);

CREATE TABLE forms (
    code              TEXT    PRIMARY KEY,
    agency            TEXT    NOT NULL REFERENCES agencies (code),
    latest_version    INTEGER NOT NULL,
    status            TEXT    NOT NULL,
    published_version INTEGER,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE form_versions (
    code       TEXT    NOT NULL REFERENCES forms (code),
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    title_fa   TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (code, version)
) STRICT;
