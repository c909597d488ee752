-- The portal search's synonym list (issue 6): what people call services → words the cards use.
-- One row; the text is the list as the admin wrote it (crates/search/src/synonyms.rs reads it).
CREATE TABLE search_synonyms (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
